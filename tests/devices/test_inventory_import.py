import io

from itxm.devices.importing import import_devices_file
from itxm.devices.models import Device, Source

CSV = b"""hostname,serial,manufacturer,model,os,ram_mb,disk_gb,purchase_date,warranty_end,primary_user
PC001,SN-1,Dell,Latitude 5440,Windows 11,16384,512,2024-01-10,2027-01-10,E1
PC002,SN-2,Lenovo,ThinkPad T14,Windows 11,lots,512,2024-02-01,2027-02-01,
PC003,,HP,EliteBook 840,Ubuntu 24.04,8192,256,2023-05-05,not-a-date,
PC004,SN-4,Apple,MacBook Air,macOS 14,16384,256,,,nobody@example.com
PC005,SN-1,Dell,Latitude 5440,Windows 11,16384,512,,,
,,Dell,,,,,,,
"""


def load(data: bytes, name: str = "devices.csv"):
    return import_devices_file(io.BytesIO(data), name)


def test_bad_rows_are_reported_and_good_rows_kept(org):
    report = load(CSV)

    assert report.created == 1
    assert {(e.line, e.field) for e in report.errors} == {
        (3, "ram_mb"),
        (4, "warranty_end"),
        (5, "primary_user"),
        (6, "serial"),
        (7, "hostname"),
    }
    pc1 = Device.objects.get(serial="SN-1")
    assert pc1.hostname == "PC001" and pc1.primary_user == org["caller"] and pc1.ram_mb == 16384
    assert str(pc1.warranty_end) == "2027-01-10" and pc1.source == Source.IMPORT


def test_importing_the_same_file_twice_changes_nothing(org):
    load(CSV)
    again = load(CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert Device.objects.count() == 1


def test_a_device_without_serial_is_matched_by_host_name_and_a_blank_cell_keeps_the_value(db):
    load(b"hostname,os_build,ram_mb\npc-x,22631,8192\n")
    report = load(b"hostname,serial,os_build,ram_mb\nPC-X,SN-X,,16384\n")

    device = Device.objects.get()
    assert (report.created, report.updated) == (0, 1)
    assert (device.serial, device.os_build, device.ram_mb) == ("SN-X", "22631", 16384)


def test_json_and_ndjson_files_load_the_same_way(db):
    load(b'{"devices": [{"hostname": "A", "serial": "S-A"}]}', "inventory.json")
    report = load(b'{"hostname": "B", "serial": "S-B"}\nnot json\n', "inventory.ndjson")
    assert report.created == 1 and report.errors[0].line == 2
    assert sorted(Device.objects.values_list("serial", flat=True)) == ["S-A", "S-B"]
