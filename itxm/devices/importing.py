"""Import of the device inventory from CSV, XLSX and JSON (see docs/devices.md for the columns).

Upsert by serial number, or by host name for a device without one: loading the same file twice changes
nothing. A row with a serial that is new but whose host name matches a device known without a serial
(enrolled by its agent, or imported before) completes that device instead of making a second one.
A blank cell never erases what is known (the agent may know it better); a bad row is reported with
its line, field and reason and never stops the valid rows around it.
"""

from collections.abc import Callable, Iterable
from typing import IO

from django.db import transaction

from itxm import tabular, validation
from itxm.devices.models import Device, Source
from itxm.org.models import Employee
from itxm.validation import ImportReport, RowError, upsert


def positive_int(value) -> int | None:
    if validation.blank(value):
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_integer() or number < 0 or number > 2**31 - 1:
        raise ValueError(f"{value!r} is not a whole number ≥ 0")
    return int(number)


def _text(max_length: int) -> Callable:
    return lambda value: validation.text(value, max_length)


# field, parser, accepted column names (lower case)
COLUMNS: tuple[tuple[str, Callable, tuple[str, ...]], ...] = (
    ("hostname", _text(255), ("hostname", "host name", "host", "computer name", "name")),
    ("serial", _text(100), ("serial", "serial number", "serial_number", "serialnumber")),
    ("manufacturer", _text(200), ("manufacturer", "vendor", "make")),
    ("model", _text(200), ("model",)),
    ("os_name", _text(200), ("os_name", "os", "operating system")),
    ("os_build", _text(200), ("os_build", "os build", "os version", "build")),
    ("cpu", _text(200), ("cpu", "processor")),
    ("ram_mb", positive_int, ("ram_mb", "ram", "memory_mb", "ram (mb)")),
    ("disk_gb", positive_int, ("disk_gb", "disk", "disk (gb)")),
    ("purchase_date", validation.a_date, ("purchase_date", "purchase date", "purchased")),
    ("warranty_end", validation.a_date, ("warranty_end", "warranty end", "warranty", "warranty_end_date")),
    ("primary_user", _text(254), ("primary_user", "primary user", "user", "employee")),
)
FIELDS = tuple(name for name, _, _ in COLUMNS)


def import_devices(rows: Iterable[tabular.Row], progress: Callable[[int], None] | None = None) -> ImportReport:
    report = ImportReport("devices")
    parsed = _parse(rows, report, progress)
    with transaction.atomic():
        _resolve_users(parsed, report)
        _upsert(parsed, report)
    report.errors.sort(key=lambda error: error.line)
    return report


def import_devices_file(
    stream: IO[bytes], filename: str, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """A CSV, XLSX (first sheet, or a sheet named "devices"), JSON array or NDJSON file of devices."""
    fmt = tabular.detect_format(filename)
    sheet = None
    if fmt == "xlsx":
        sheet = "devices" if "devices" in tabular.xlsx_sheet_names(stream) else None
        stream.seek(0)
    if fmt == "json":
        document = tabular.load_json(stream)
        if isinstance(document, dict) and isinstance(document.get("devices"), list):
            document = document["devices"]
        if not isinstance(document, list):
            raise tabular.UnreadableFile('a JSON file must hold an array of devices (or {"devices": [...]})')
        return import_devices(tabular.json_items(document), progress)
    return import_devices(tabular.read_rows(stream, fmt, sheet), progress)


def _key(values: dict) -> tuple[str, str]:
    return ("serial", values["serial"]) if values["serial"] else ("hostname", values["hostname"].lower())


def _parse(rows, report: ImportReport, progress) -> dict[tuple[str, str], tuple[int, dict]]:
    parsed: dict[tuple[str, str], tuple[int, dict]] = {}
    for row in rows:
        if progress:
            progress(1)
        values, errors = _parse_row(row)
        if not errors:
            key = _key(values)
            if key in parsed:
                errors = [RowError(row.line, key[0], f"{key[1]!r} appears again (first on line {parsed[key][0]})")]
            else:
                parsed[key] = (row.line, values)
        report.errors.extend(errors)
    return parsed


def _parse_row(row: tabular.Row) -> tuple[dict, list[RowError]]:
    for marker in ("__unparsable__", "__not_an_object__"):
        if marker in row.values:
            return {}, [RowError(row.line, "", f"not a JSON object: {row.values[marker]}")]
    if "__extra__" in row.values:
        return {}, [RowError(row.line, "", "more values than columns in the header")]
    cells = {str(name).strip().lower(): value for name, value in row.values.items()}
    values, errors = {}, []
    for name, parse, aliases in COLUMNS:
        raw = next((cells[alias] for alias in aliases if alias in cells), None)
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            errors.append(RowError(row.line, name, str(exc)))
    if not errors and not values["serial"] and not values["hostname"]:
        errors.append(RowError(row.line, "hostname", "a host name or a serial number is required"))
    return values, errors


def _resolve_users(parsed: dict, report: ImportReport) -> None:
    wanted = {values["primary_user"] for _, values in parsed.values() if values["primary_user"]}
    known = dict(Employee.objects.filter(external_id__in=wanted).values_list("external_id", "id"))
    by_email = {v.lower() for v in wanted - set(known)}
    for email, pk in Employee.objects.filter(email__in=by_email).values_list("email", "id"):
        known.setdefault(email.lower(), pk)
    for key, (line, values) in list(parsed.items()):
        name = values.pop("primary_user")
        if not name:
            continue
        pk = known.get(name) or known.get(name.lower())
        if pk is None:
            report.errors.append(RowError(line, "primary_user", f"no employee with external id or e-mail {name!r}"))
            del parsed[key]
            continue
        values["primary_user_id"] = pk


def _existing(parsed: dict) -> dict[tuple[str, str], Device]:
    serials = [key[1] for key in parsed if key[0] == "serial"]
    found: dict[tuple[str, str], Device] = {("serial", d.serial): d for d in Device.objects.filter(serial__in=serials)}
    hostnames = {values["hostname"].lower() for key, (_, values) in parsed.items() if key not in found}
    unserialised = {}
    for device in Device.objects.filter(serial="").order_by("id"):
        if device.hostname.lower() in hostnames:
            unserialised.setdefault(device.hostname.lower(), device)
    for key, (_, values) in parsed.items():
        if key not in found and values["hostname"].lower() in unserialised:
            found[key] = unserialised.pop(values["hostname"].lower())
    return found


def _upsert(parsed: dict, report: ImportReport) -> None:
    # Empty cells leave what is stored alone: the agent may know more than the spreadsheet.
    known = {
        key: {name: value for name, value in values.items() if value not in (None, "")}
        for key, (_line, values) in parsed.items()
    }
    upsert(Device, known, _existing(parsed), report, source=Source.IMPORT)
