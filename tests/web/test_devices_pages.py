"""The device pages: fleet health, models, one device, anomalies, proactive alerts.

Devices are the organisation's equipment: administrators, analysts and viewers see them, suppliers and
service owners do not (``Device.scope_fields``); a primary user (a person) shows only to readers who
may see people. Health comes from the real scoring (``services.score_health`` over daily rollups).
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation
from django.utils.translation import trans_real
from openpyxl import load_workbook

from itxm.devices import health, services
from itxm.devices.models import (
    Anomaly,
    AnomalyStatus,
    DailyRollup,
    Device,
    DeviceHealth,
    InventoryChange,
    ProactiveAlert,
)
from itxm.tickets.models import Connector, OutboundTicket

LAST_DAY = date(2026, 3, 20)
FIRST_DAY = LAST_DAY - timedelta(days=6)
PAGES = ["/devices/", "/devices/models/", "/devices/anomalies/", "/devices/alerts/"]


@pytest.fixture(autouse=True)
def fresh_page_results():
    # Each test's data is rolled back and ids can come again: results kept for another test must not answer.
    services.forget_page_results()
    yield
    services.forget_page_results()


def rollup(device, day, metric, value, count=1):
    return DailyRollup(device=device, day=day, metric=metric, count=count, minimum=value, maximum=value, mean=value,
                       total=value, p50=value, p95=value, last=value)  # fmt: skip


@pytest.fixture
def fleet(org):
    """Ten laptops over seven days: five Latitude 5440 of which three took a driver on day 4 and then
    boot in 192 s and crash twice a day; five ThinkPads that boot in 40 s. PC-LAT-1's primary user is
    a person (Ayşe Yılmaz)."""
    laptops = []
    for n in range(1, 6):
        laptops.append(Device.objects.create(
            hostname=f"PC-LAT-{n}", serial=f"SN-LAT-{n}", manufacturer="Dell", model="Latitude 5440",
            os_name="Windows 11", os_build="22631.3007", cpu="Intel Core i5", ram_mb=16384, disk_gb=512,
            purchase_date=date(2024, 1, 15), warranty_end=date(2027, 1, 15),
            primary_user=org["caller"] if n == 1 else None,
        ))  # fmt: skip
    for n in range(1, 6):
        laptops.append(Device.objects.create(hostname=f"PC-TP-{n}", serial=f"SN-TP-{n}", model="ThinkPad T14"))
    changed = laptops[:3]
    rows = []
    for offset in range(7):
        day = FIRST_DAY + timedelta(days=offset)
        for device in laptops:
            bad = device in changed and offset >= 3
            rows += [
                rollup(device, day, "boot_seconds", 192.0 if bad else 40.0),
                rollup(device, day, "crashes", 2.0 if bad else 0.0),
                rollup(device, day, "disk_free_pct", 50.0),
            ]
    DailyRollup.objects.bulk_create(rows)
    for device in changed:
        InventoryChange.objects.create(
            device=device, changed_at=datetime.combine(FIRST_DAY + timedelta(days=3), datetime.min.time(), UTC),
            kind="driver", name="Intel Iris Xe Graphics", old_value="31.0.101.4502", new_value="31.0.101.4887",
        )  # fmt: skip
    services.score_health(FIRST_DAY, LAST_DAY)
    anomaly = Anomaly.objects.create(
        key="model:Latitude 5440:driver:Intel Iris Xe Graphics:31.0.101.4887:crashes",
        kind=Anomaly.Kind.MODEL_CHANGE, metric="crashes", device_model="Latitude 5440",
        summary="Latitude 5440: crashes a day rose", detected_on=LAST_DAY,
        evidence={
            "metric": "crashes", "statistic": "total",
            "change": {"kind": "driver", "name": "Intel Iris Xe Graphics", "new_value": "31.0.101.4887",
                       "old_values": ["31.0.101.4502"], "first_day": (FIRST_DAY + timedelta(days=3)).isoformat(),
                       "last_day": (FIRST_DAY + timedelta(days=3)).isoformat()},
            "before": {"with_change": 0.0, "without_change": 0.0}, "after": {"with_change": 2.0, "without_change": 0.0},
            "effect": 2.0, "p_value": 0.0005, "devices_with_change": 3, "devices_without_change": 2,
            "window_days": {"before": 14, "after_until": LAST_DAY.isoformat()},
            "affected_device_ids": [d.pk for d in changed],
        },
    )  # fmt: skip
    connector = Connector.objects.create(name="servicenow", kind="servicenow", base_url="https://acme.example")
    ticket = OutboundTicket.objects.create(
        connector=connector, correlation_id="itxm-alert-1", status="created", remote_number="INC0099001",
        remote_url="https://acme.example/INC0099001",
    )  # fmt: skip
    opened = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
    ProactiveAlert.objects.create(device=laptops[0], rule="repeated_crashes", opened_at=opened, outbound_ticket=ticket,
                                  evidence={"crashes": 6.0, "from": "2026-03-18", "until": "2026-03-20"})  # fmt: skip
    ProactiveAlert.objects.create(device=laptops[1], rule="anomaly", opened_at=opened,
                                  evidence={"anomaly_ids": [anomaly.pk]})  # fmt: skip
    ProactiveAlert.objects.create(
        device=laptops[6], rule="battery_weak", opened_at=opened - timedelta(days=3), closed_at=opened,
        evidence={"battery_health_pct": 55.0, "day": "2026-03-17"},
    )  # fmt: skip
    return {"laptops": laptops, "changed": changed, "anomaly": anomaly}


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def csv_rows(client, path: str, table: str) -> list[list[str]]:
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}export=csv&table={table}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(client, path: str, table: str) -> list[tuple]:
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}export=xlsx&table={table}")
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def device_page(fleet, n=0) -> str:
    return f"/devices/{fleet['laptops'][n].pk}/"


def anomaly_page(fleet) -> str:
    return f"/devices/anomalies/{fleet['anomaly'].pk}/"


# --- who sees what ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin", "analyst", "viewer"])
def test_roles_that_see_devices_get_every_page_with_the_fleet(users, client_for, fleet, role):
    client = client_for(users[role])
    overview = page(client, "/devices/")
    assert "PC-LAT-1" in overview and 'data-chart="health_trend"' in overview
    assert "Latitude 5440" in page(client, "/devices/models/")
    assert "Intel Iris Xe Graphics" in page(client, "/devices/anomalies/")
    assert "INC0099001" in page(client, "/devices/alerts/")
    device = page(client, device_page(fleet))
    assert "SN-LAT-1" in device and "What makes the score" in device
    assert "PC-LAT-2" in page(client, anomaly_page(fleet))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["alpha", "zeta", "owner"])
def test_suppliers_and_service_owners_see_no_device_anywhere(users, client_for, fleet, role):
    client = client_for(users[role])
    for path in PAGES:
        text = page(client, path)
        assert "PC-LAT" not in text and "PC-TP" not in text and "INC0099001" not in text
        assert "not to suppliers or service owners" in text
    assert "PC-LAT" not in page(client, "/devices/?q=SN-LAT-1")
    assert client.get(device_page(fleet)).status_code == 404
    assert client.get(anomaly_page(fleet)).status_code == 404
    # Nothing leaks through the downloads either.
    assert len(csv_rows(client, "/devices/alerts/?status=all", "alerts")) == 1
    assert len(csv_rows(client, "/devices/anomalies/?status=all", "anomalies")) == 1
    assert len(csv_rows(client, "/devices/models/", "models")) == 1


@pytest.mark.django_db
def test_a_device_or_anomaly_that_does_not_exist_is_a_404(users, client_for, fleet):
    client = client_for(users["analyst"])
    assert client.get("/devices/999999/").status_code == 404
    assert client.get("/devices/anomalies/999999/").status_code == 404


@pytest.mark.django_db
def test_the_primary_user_shows_only_to_readers_who_may_see_people(users, client_for, fleet):
    search = "/devices/?q=PC-LAT-1"
    analyst, viewer = client_for(users["analyst"]), client_for(users["viewer"])
    for path in ("/devices/", device_page(fleet), anomaly_page(fleet), search):
        assert "Ayşe Yılmaz" in page(analyst, path), path
        text = page(viewer, path)
        assert "Ayşe Yılmaz" not in text and "Primary user" not in text, path
    for path, table in (("/devices/", "worst"), (anomaly_page(fleet), "affected"), (search, "found")):
        assert "Primary user" in csv_rows(analyst, path, table)[0]
        rows = csv_rows(viewer, path, table)
        assert "Primary user" not in rows[0] and not any("Ayşe Yılmaz" in cell for row in rows for cell in row)


# --- empty states -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_fresh_installation_explains_what_to_do(users, client_for):
    client = client_for(users["analyst"])
    assert "itxm devices import FILE" in page(client, "/devices/")
    assert "itxm devices import FILE" in page(client, "/devices/models/")
    assert "No anomaly found" in page(client, "/devices/anomalies/")
    assert "No proactive alert is open" in page(client, "/devices/alerts/")
    assert "No device has this host name" in page(client, "/devices/?q=PC-404")


@pytest.mark.django_db
def test_a_device_without_telemetry_says_so(users, client_for, org):
    bare = Device.objects.create(hostname="PC-NEW", serial="SN-NEW")
    text = page(client_for(users["analyst"]), f"/devices/{bare.pk}/")
    assert "No health score yet" in text and "No anomaly has listed this device." in text
    assert "No proactive rule has fired on this device." in text


# --- figures ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_fleet_page_shows_scores_bands_and_lost_time_from_the_rollups(users, client_for, fleet):
    client = client_for(users["analyst"])
    text = page(client, "/devices/")
    assert 'data-chart="health_bands"' in text and 'data-chart="lost_weeks"' in text
    worst = csv_rows(client, "/devices/", "worst")
    assert worst[0][:3] == ["Host name", "Model", "OS build"]
    # The three laptops that took the driver are the worst; their slow boot is their weakest component.
    assert {row[0] for row in worst[1:4]} == {"PC-LAT-1", "PC-LAT-2", "PC-LAT-3"}
    assert all(row[5] == "Boot time: 3.2 min" for row in worst[1:4])
    lost = csv_rows(client, "/devices/", "lost_time")
    assert lost[0] == ["Week of", "Days in the period", "Slow boots", "Crashes", "Total"]
    # 3 laptops × 4 days: boots 132 s beyond the good 60 s, and 2 crashes at 10 minutes each.
    boots = sum(float(row[2]) for row in lost[1:])
    crashes = sum(float(row[3]) for row in lost[1:])
    assert boots == pytest.approx(3 * 4 * 132 / 3600, abs=0.11)
    assert crashes == pytest.approx(3 * 4 * 2 * 10 / 60, abs=0.11)


@pytest.mark.django_db
def test_the_models_table_has_health_crash_rate_and_boot_time(users, client_for, fleet):
    client = client_for(users["analyst"])
    rows = {row[0]: row for row in csv_rows(client, "/devices/models/", "models")[1:]}
    assert set(rows) == {"Latitude 5440", "ThinkPad T14"}
    latitude, thinkpad = rows["Latitude 5440"], rows["ThinkPad T14"]
    assert latitude[1] == "5" and thinkpad[1] == "5"
    assert float(latitude[2]) < float(thinkpad[2]) == 100.0
    # 3 of 5 laptops crash twice a day on 4 of 7 days: 24 crashes over 35 device-days.
    assert float(latitude[4]) == pytest.approx(100 * 24 / 35, abs=0.1)
    assert float(thinkpad[5]) == 40.0
    sheet = xlsx_rows(client, "/devices/models/", "models")
    assert sheet[0][0] == "Model" and {row[0] for row in sheet[1:]} == set(rows)


@pytest.mark.django_db
def test_the_device_page_explains_each_component_in_words(users, client_for, fleet):
    text = page(client_for(users["analyst"]), device_page(fleet))
    assert "boot takes 3.2 min, slower than 70 % of the fleet (frustrating: good up to 60 s" in text
    assert "2 crashes in the day" in text
    assert "Dell Latitude 5440" in text and "16.0 GB" in text and "22631.3007" in text
    assert "INC0099001" in text and 'href="https://acme.example/INC0099001"' in text


@pytest.mark.django_db
def test_the_anomaly_shows_its_evidence_and_affected_devices(users, client_for, fleet):
    client = client_for(users["analyst"])
    text = page(client, "/devices/anomalies/")
    assert "Latitude 5440: crashes a day rose from 0.00 to 2.00 on 3 devices after driver Intel Iris Xe Graphics " \
           "31.0.101.4502 → 31.0.101.4887" in text  # fmt: skip
    assert "Other devices of the model" in text
    listed = csv_rows(client, "/devices/anomalies/", "anomalies")
    assert len(listed) == 2 and listed[1][2] == "Latitude 5440" and listed[1][7] == "3"
    detail = page(client, anomaly_page(fleet))
    assert 'data-chart="anomaly_daily"' in detail
    affected = csv_rows(client, anomaly_page(fleet), "affected")
    assert [row[0] for row in affected[1:]] == ["PC-LAT-1", "PC-LAT-2", "PC-LAT-3"]
    assert [row[0] for row in xlsx_rows(client, anomaly_page(fleet), "affected")[1:]] == [
        "PC-LAT-1", "PC-LAT-2", "PC-LAT-3"]  # fmt: skip
    device_rows = csv_rows(client, device_page(fleet, 1), "device_anomalies")
    assert len(device_rows) == 2 and "Intel Iris Xe Graphics" in device_rows[1][6]


@pytest.mark.django_db
def test_alerts_list_rule_device_and_ticket(users, client_for, fleet):
    client = client_for(users["analyst"])
    rows = csv_rows(client, "/devices/alerts/", "alerts")
    assert rows[0] == ["Rule", "Device", "Model", "Evidence", "Opened", "Closed", "Ticket in the ITSM tool"]
    by_device = {row[1]: row for row in rows[1:]}
    assert set(by_device) == {"PC-LAT-1", "PC-LAT-2"}
    assert by_device["PC-LAT-1"][0] == "Repeated crashes" and by_device["PC-LAT-1"][6] == "INC0099001"
    assert by_device["PC-LAT-2"][0] == "Listed by an anomaly" and by_device["PC-LAT-2"][6] == ""
    sheet = xlsx_rows(client, "/devices/alerts/?status=all", "alerts")
    assert len(sheet) == 4 and isinstance(sheet[1][4], datetime)
    device_alerts = csv_rows(client, device_page(fleet), "device_alerts")
    assert [row[0] for row in device_alerts[1:]] == ["Repeated crashes"]


@pytest.mark.django_db
def test_a_ticket_address_that_is_not_http_is_not_a_link(users, client_for, fleet):
    OutboundTicket.objects.update(remote_url="javascript:alert(1)")
    text = page(client_for(users["analyst"]), "/devices/alerts/")
    assert "INC0099001" in text and "javascript:" not in text


@pytest.mark.django_db
def test_filters_change_what_the_pages_show(users, client_for, fleet):
    client = client_for(users["analyst"])
    only_thinkpads = csv_rows(client, "/devices/?model=ThinkPad+T14", "worst")
    assert {row[1] for row in only_thinkpads[1:]} == {"ThinkPad T14"} and len(only_thinkpads) == 6
    assert {row[4] for row in csv_rows(client, "/devices/?model=ThinkPad+T14", "lost_time")[1:]} == {"0.0"}
    assert sum(float(row[4]) for row in csv_rows(client, "/devices/", "lost_time")[1:]) > 4
    closed = csv_rows(client, "/devices/alerts/?status=closed", "alerts")
    assert [(row[0], row[1]) for row in closed[1:]] == [("Battery worn out", "PC-TP-2")]
    by_rule = csv_rows(client, "/devices/alerts/?status=all&rule=anomaly", "alerts")
    assert [row[1] for row in by_rule[1:]] == ["PC-LAT-2"]
    assert len(csv_rows(client, "/devices/anomalies/?status=closed", "anomalies")) == 1
    fleet["anomaly"].status = AnomalyStatus.CLOSED
    fleet["anomaly"].save()
    assert len(csv_rows(client, "/devices/anomalies/?status=closed", "anomalies")) == 2
    week = page(client, "/devices/?days=7")
    assert "Daily scores from 03/14/2026 to 03/20/2026" in week
    assert "Daily scores from 02/19/2026 to 03/20/2026" in page(client, "/devices/?days=1")  # not a choice: 30
    found = csv_rows(client, "/devices/?q=SN-TP-3", "found")
    assert [row[0] for row in found[1:]] == ["PC-TP-3"]


@pytest.mark.django_db
def test_long_alert_lists_show_in_pages_and_download_whole(users, client_for, org):
    laptops = Device.objects.bulk_create(Device(hostname=f"PC-{n:03d}", serial=f"SN-{n:03d}") for n in range(60))
    ProactiveAlert.objects.bulk_create(
        ProactiveAlert(device=device, rule="disk_low", evidence={"disk_free_pct": 5.0}) for device in laptops
    )
    client = client_for(users["admin"])
    first, second = page(client, "/devices/alerts/"), page(client, "/devices/alerts/?page=2")
    assert first.count('<td class="text"><a href="/devices/') == 50
    assert second.count('<td class="text"><a href="/devices/') == 10 and "Rows 51–60 of 60" in second
    assert len(csv_rows(client, "/devices/alerts/?page=2", "alerts")) == 61
    assert page(client, "/devices/alerts/?page=zzz").count('<td class="text"><a href="/devices/') == 50


# --- language -----------------------------------------------------------------------------------------------

# Turkish for the explanation messages, used where the catalogue does not hold them yet.
TURKISH = {
    "boot takes %(value)s": "açılış %(value)s sürüyor",
    "slower than %(share)s of the fleet": "filonun %(share)s kadarından daha yavaş",
    "faster than %(share)s of the fleet": "filonun %(share)s kadarından daha hızlı",
    "like most of the fleet": "filonun çoğu gibi",
    "good up to %(good)s, frustrating from %(frustrating)s": (
        "%(good)s değerine kadar iyi, %(frustrating)s değerinden itibaren can sıkıcı"
    ),
    "good from %(good)s, frustrating down to %(frustrating)s": (
        "%(good)s ve üzeri iyi, %(frustrating)s ve altı can sıkıcı"
    ),
    "%(value)s of the disk is free": "diskin %(value)s kadarı boş",
    "health rating\x04good": "iyi",
    "health rating\x04average": "orta",
    "health rating\x04frustrating": "can sıkıcı",
    "unit\x04%(number)s %%": "%%%(number)s",
    "unit\x04%(number)s min": "%(number)s dk",
    "unit\x04%(number)s s": "%(number)s sn",
}


@pytest.fixture
def turkish_explanations(monkeypatch):
    catalogue = trans_real.translation("tr")._catalog
    for msgid, msgstr in TURKISH.items():
        if msgid not in catalogue:
            monkeypatch.setitem(catalogue._catalogs[0], msgid, msgstr)


@pytest.mark.django_db
def test_the_explanations_are_written_in_the_readers_language(users, client_for, fleet, turkish_explanations):
    client = client_for(users["analyst"])
    client.cookies["django_language"] = "tr"
    text = page(client, device_page(fleet))
    assert '<html lang="tr">' in text
    stored = DeviceHealth.objects.get(device=fleet["laptops"][0], day=LAST_DAY).components["boot"]
    boot = next(c for c in health.COMPONENTS if c.key == "boot")
    with translation.override("tr"):
        turkish = health.explain(boot, stored["value"], stored["better_share"], stored["worse_share"])
    with translation.override("en"):
        english = health.explain(boot, stored["value"], stored["better_share"], stored["worse_share"])
    assert turkish != english and "3,2" in turkish
    assert turkish in text and english not in text
    assert "açılış 3,2 dk sürüyor" in text
    # The stored figures hold no words: the same day reads in English for an English reader.
    client.cookies["django_language"] = "en"
    assert english in page(client, device_page(fleet))


@pytest.mark.django_db
def test_every_device_page_renders_in_turkish(users, client_for, fleet):
    client = client_for(users["analyst"])
    client.cookies["django_language"] = "tr"
    for path in [*PAGES, device_page(fleet), anomaly_page(fleet), "/devices/?q=PC-LAT", "/devices/alerts/?status=all"]:
        text = page(client, path)
        assert '<html lang="tr">' in text, path
    # Numbers are written the Turkish way in the sentences built from the evidence.
    assert "Intel Iris Xe Graphics" in page(client, "/devices/anomalies/")
    assert "2,00" in page(client, "/devices/anomalies/")


@pytest.mark.django_db
def test_a_device_worse_than_its_own_history_is_shown_with_its_days(users, client_for, fleet):
    laptop = fleet["laptops"][5]
    regression = Anomaly.objects.create(
        key=f"device:{laptop.pk}:boot_seconds", kind=Anomaly.Kind.DEVICE_REGRESSION, metric="boot_seconds",
        device_model=laptop.model, device=laptop, summary="PC-TP-1: boot time", detected_on=LAST_DAY,
        evidence={"metric": "boot_seconds", "statistic": "mean", "baseline": {"median": 20.0, "spread": 5.0},
                  "recent": {"mean": 40.0, "days": 7}, "z": 4.0, "affected_device_ids": [laptop.pk],
                  "changes": [{"kind": "firmware", "name": "BIOS", "old_value": "1.2", "new_value": "1.3",
                               "day": FIRST_DAY.isoformat()}]},
    )  # fmt: skip
    client = client_for(users["analyst"])
    listed = page(client, "/devices/anomalies/?kind=device_regression")
    assert "PC-TP-1: boot time 40 s over the last 7 days against 20 s before" in listed
    assert "firmware BIOS 1.2 → 1.3" in listed and "Intel Iris Xe Graphics" not in listed
    detail = page(client, f"/devices/anomalies/{regression.pk}/")
    assert 'data-chart="anomaly_daily"' in detail and "PC-TP-1" in detail
    assert [row[0] for row in csv_rows(client, f"/devices/anomalies/{regression.pk}/", "affected")[1:]] == ["PC-TP-1"]
    assert "PC-TP-1: boot time 40 s" in page(client, f"/devices/{laptop.pk}/")
