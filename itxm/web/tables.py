"""Tables as data: one definition renders on the page and exports to CSV and XLSX, so every table on
every page can be downloaded as it is shown (same rows, same scope, same columns)."""

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

from itxm.web.templatetags.itxm_web import STATUS_LABELS

# What a cell holds, for formatting on the page (template tag ``cell``) and for number formats in XLSX.
KINDS = ("text", "int", "number", "percent", "signed", "hours", "money", "date", "status")
XLSX_FORMATS = {"int": "#,##0", "number": "#,##0.0", "percent": "0.0", "signed": "+0.0;-0.0;0", "hours": "#,##0.0",
                "money": "#,##0", "date": "yyyy-mm-dd"}  # fmt: skip
# Decimals a CSV keeps, as the page shows them (an XLSX keeps every digit and shows these by its formats).
CSV_DECIMALS = {"int": 0, "number": 1, "percent": 1, "signed": 1, "hours": 1, "money": 0}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    link: str | None = None  # key of the row value holding this cell's URL
    help: str = ""  # shown as the header's title

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Table:
    name: str  # unique on its page: ?export=csv&table=<name>
    title: str
    columns: Sequence[Column]
    rows: list[dict] = field(default_factory=list)
    empty: str = ""  # what to say when there are no rows

    def cells(self) -> list[list[tuple[Column, object, str | None]]]:
        return [[(col, row.get(col.key), row.get(col.link) if col.link else None) for col in self.columns]
                for row in self.rows]  # fmt: skip

    def values(self) -> Iterable[list]:
        for row in self.rows:
            yield [_plain(_worded(col, row.get(col.key))) for col in self.columns]


def _worded(col: Column, value):
    """A status as the page words it, in the reader's language ("met" is "karşılandı" in Turkish)."""
    if col.kind == "status" and value is not None:
        return STATUS_LABELS.get(str(value), value)
    return value


def _plain(value):
    """Exports hold numbers as numbers and everything else as text; a moment as the page shows it, in the
    time zone of the installation (ITXM_TIME_ZONE), to the second (spreadsheets take no time zones)."""
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).replace(tzinfo=None, microsecond=0)
    if value is None or isinstance(value, bool | int | float | date):
        return value
    return str(value)


def _file_name(table: Table, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", table.name).strip("-") or "table"
    return f"itxm-{stem}.{suffix}"


def csv_response(table: Table) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(table, "csv")}"'
    response.write("\ufeff")  # so spreadsheet programs read the Turkish letters as UTF-8
    writer = csv.writer(response)
    writer.writerow([str(col.label) for col in table.columns])
    for values in table.values():
        shown = [_shown(col, value) for col, value in zip(table.columns, values, strict=True)]
        writer.writerow(["" if value is None else _csv_safe(value) for value in shown])
    return response


def _shown(col: Column, value):
    """A float rounded as the page shows it (-1.777… is -1.8): a CSV has no number formats."""
    if isinstance(value, float) and col.kind in CSV_DECIMALS:
        return round(value, CSV_DECIMALS[col.kind]) if CSV_DECIMALS[col.kind] else round(value)
    return value


def _csv_safe(value):
    """Text that a spreadsheet would run as a formula is kept as text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def xlsx_bytes(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", str(table.title))[:31] or "ITXM"
    sheet.append([str(col.label) for col in table.columns])
    for values in table.values():
        sheet.append(values)
    for index, col in enumerate(table.columns, start=1):
        if number_format := XLSX_FORMATS.get(col.kind):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(table: Table) -> HttpResponse:
    response = HttpResponse(
        xlsx_bytes(table), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_file_name(table, "xlsx")}"'
    return response


EXPORTS: dict[str, Callable[[Table], HttpResponse]] = {"csv": csv_response, "xlsx": xlsx_response}
