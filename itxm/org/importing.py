"""Import of the organisation (suppliers, groups, services, categories, locations, agents, employees)
from CSV, XLSX and JSON.

Upsert by external id (by name for locations): loading the same file twice changes nothing. Each row is
validated on its own; a bad row is reported with its line, field and reason and never stops the
valid rows around it from loading.
"""

import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

from django.db import models, transaction

from itxm import tabular, validation
from itxm.org.models import (
    Agent,
    Category,
    Department,
    Employee,
    Group,
    Language,
    Location,
    Service,
    Supplier,
)
from itxm.validation import ImportReport, RowError, upsert

LANGUAGES = {
    "en": Language.ENGLISH,
    "en-gb": Language.ENGLISH,
    "en-us": Language.ENGLISH,
    "english": Language.ENGLISH,
    "tr": Language.TURKISH,
    "tr-tr": Language.TURKISH,
    "turkish": Language.TURKISH,
    "türkçe": Language.TURKISH,
    "turkce": Language.TURKISH,
}


def time_zone(value) -> str:
    name = validation.text(value, 64)
    if name and name not in zoneinfo.available_timezones():
        raise ValueError(f"{name!r} is not a time zone name (e.g. Europe/Istanbul)")
    return name


def required_text(max_length: int = 200) -> Callable:
    def parse(value):
        result = validation.text(value, max_length)
        if not result:
            raise ValueError("is required")
        return result

    return parse


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    """A column naming another object: by external id (must exist) or by name (created when new)."""

    column: str
    field: str
    model: type[models.Model]
    by: str = "external_id"
    create_missing: bool = False


@dataclass(frozen=True)
class Spec:
    model: type[models.Model]
    key: str
    columns: tuple[Column, ...]
    references: tuple[Reference, ...] = ()


EXTERNAL_ID = Column("external_id", required_text(100), ("id", "external id"))
NAME = Column("name", required_text(200), ("full name",))

SPECS: dict[str, Spec] = {
    "suppliers": Spec(Supplier, "external_id", (EXTERNAL_ID, NAME)),
    "services": Spec(
        Service, "external_id", (EXTERNAL_ID, NAME, Column("description", lambda v: validation.text(v, 5000)))
    ),
    "locations": Spec(
        Location,
        "name",
        (
            NAME,
            Column("country", validation.country_code),
            Column("time_zone", time_zone, ("timezone", "tz")),
        ),
    ),
    "groups": Spec(
        Group,
        "external_id",
        (
            EXTERNAL_ID,
            NAME,
            Column("email", validation.email, ("e-mail",)),
            Column("supplier", validation.text),
        ),
        (Reference("supplier", "supplier_id", Supplier),),
    ),
    "categories": Spec(
        Category,
        "external_id",
        (EXTERNAL_ID, NAME, Column("service", validation.text)),
        (Reference("service", "service_id", Service),),
    ),
    "agents": Spec(
        Agent,
        "external_id",
        (EXTERNAL_ID, NAME, Column("email", validation.email, ("e-mail",)), Column("group", validation.text)),
        (Reference("group", "group_id", Group),),
    ),
    "employees": Spec(
        Employee,
        "external_id",
        (
            EXTERNAL_ID,
            NAME,
            Column("email", validation.email, ("e-mail", "mail")),
            Column("department", validation.text),
            Column("location", validation.text),
            Column("country", validation.country_code),
            Column("language", lambda v: validation.choice(v, LANGUAGES, Language.ENGLISH), ("lang",)),
            Column("cost_per_hour", lambda v: validation.decimal(v, Decimal(0)), ("cost per hour", "hourly_cost")),
            Column("opted_out", validation.boolean, ("opt_out", "opted out")),
        ),
        (
            Reference("department", "department_id", Department, by="name", create_missing=True),
            Reference("location", "location_id", Location, by="name", create_missing=True),
        ),
    ),
}
# The order in which a workbook's sheets or a JSON document's sections load: references first.
KIND_ORDER = ("suppliers", "services", "locations", "groups", "categories", "agents", "employees")


class UnknownKind(ValueError):
    pass


def import_org(kind: str, rows: Iterable[tabular.Row], progress: Callable[[int], None] | None = None) -> ImportReport:
    if kind not in SPECS:
        raise UnknownKind(f"unknown kind {kind!r}: use one of {', '.join(KIND_ORDER)}")
    spec = SPECS[kind]
    report = ImportReport(kind)
    parsed = _parse_rows(spec, rows, report, progress)
    with transaction.atomic():
        _resolve_references(spec, parsed, report)
        _upsert(spec, parsed, report)
    report.errors.sort(key=lambda error: error.line)
    return report


def import_org_file(
    stream: IO[bytes], filename: str, kind: str | None = None, progress: Callable[[int], None] | None = None
) -> list[ImportReport]:
    """Import one file. A workbook's sheets and a JSON object's keys name the kinds they hold;
    a CSV, NDJSON or JSON array holds ``kind`` (default: guessed from the file name, else employees)."""
    fmt = tabular.detect_format(filename)
    if fmt == "xlsx" and kind is None:
        sheets = tabular.xlsx_sheet_names(stream)
        kinds = [k for k in KIND_ORDER if k in sheets]
        if kinds:
            reports = []
            for sheet in kinds:
                stream.seek(0)
                reports.append(import_org(sheet, tabular.read_rows(stream, "xlsx", sheet), progress))
            return reports
        stream.seek(0)
    if fmt == "json" and kind is None:
        document = tabular.load_json(stream)
        if isinstance(document, dict):
            unknown = sorted(set(document) - set(SPECS))
            if unknown:
                raise UnknownKind(f"unknown sections {unknown}: use {', '.join(KIND_ORDER)}")
            return [
                import_org(k, tabular.json_items(_as_list(document[k], k)), progress)
                for k in KIND_ORDER
                if k in document
            ]
        return [import_org(guess_kind(filename), tabular.json_items(document), progress)]
    return [import_org(kind or guess_kind(filename), tabular.read_rows(stream, fmt), progress)]


def _as_list(section, kind: str) -> list:
    if not isinstance(section, list):
        raise tabular.UnreadableFile(f"section {kind!r} must be an array of objects")
    return section


def guess_kind(filename: str) -> str:
    lowered = filename.lower()
    return next((k for k in KIND_ORDER if k in lowered or k.rstrip("s") in lowered), "employees")


def _parse_rows(spec: Spec, rows, report: ImportReport, progress) -> dict[str, tuple[int, dict]]:
    parsed: dict[str, tuple[int, dict]] = {}
    for row in rows:
        if progress:
            progress(1)
        values, errors = _parse_row(spec, row)
        if not errors:
            key = values[spec.key]
            if key in parsed:
                errors = [RowError(row.line, spec.key, f"{key!r} appears again (first on line {parsed[key][0]})")]
            else:
                parsed[key] = (row.line, values)
        report.errors.extend(errors)
    return parsed


def _parse_row(spec: Spec, row: tabular.Row) -> tuple[dict, list[RowError]]:
    for marker in ("__unparsable__", "__not_an_object__"):
        if marker in row.values:
            return {}, [RowError(row.line, "", f"not a JSON object: {row.values[marker]}")]
    if "__extra__" in row.values:
        return {}, [RowError(row.line, "", "more values than columns in the header")]
    cells = {str(name).strip().lower(): value for name, value in row.values.items()}
    values, errors = {}, []
    for column in spec.columns:
        raw = next((cells[n] for n in (column.name, *column.aliases) if n in cells), None)
        try:
            values[column.name] = column.parse(raw)
        except ValueError as exc:
            errors.append(RowError(row.line, column.name, str(exc)))
    return values, errors


def _resolve_references(spec: Spec, parsed: dict[str, tuple[int, dict]], report: ImportReport) -> None:
    for ref in spec.references:
        names = {values[ref.column] for _, values in parsed.values() if values[ref.column]}
        known = dict(ref.model.objects.filter(**{f"{ref.by}__in": names}).values_list(ref.by, "id"))
        if ref.create_missing:
            known |= _create_missing(ref, names - set(known), parsed)
        for key, (line, values) in list(parsed.items()):
            name = values.pop(ref.column)
            if name and name not in known:
                report.errors.append(RowError(line, ref.column, f"no {ref.model._meta.verbose_name} {name!r}"))
                del parsed[key]
                continue
            values[ref.field] = known.get(name)


def _create_missing(ref: Reference, names: set[str], parsed) -> dict[str, int]:
    if not names:
        return {}
    countries = {values.get("location"): values.get("country", "") for _, values in parsed.values()}
    new = []
    for name in sorted(names):
        extra = {"country": countries.get(name, "")} if ref.model is Location else {}
        new.append(ref.model(**{ref.by: name}, **extra))
    ref.model.objects.bulk_create(new)
    return dict(ref.model.objects.filter(**{f"{ref.by}__in": names}).values_list(ref.by, "id"))


def _upsert(spec: Spec, parsed: dict[str, tuple[int, dict]], report: ImportReport) -> None:
    existing = spec.model.objects.in_bulk(list(parsed), field_name=spec.key)
    upsert(spec.model, {key: values for key, (_line, values) in parsed.items()}, existing, report)
