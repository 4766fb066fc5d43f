"""Tables exported as CSV and XLSX (itxm/web/tables.py): the same words as on the page."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.test import override_settings
from django.utils import translation
from openpyxl import load_workbook

from itxm.web.tables import Column, Table, csv_response, xlsx_bytes


def xla_table() -> Table:
    columns = [Column("name", "XLA"), Column("status", "Status", "status"), Column("score", "Score", "number")]
    rows = [{"name": "Service desk", "status": "met", "score": 80.0},
            {"name": "ERP", "status": "breached", "score": 14.3},
            {"name": "New", "status": None, "score": None}]  # fmt: skip
    return Table("xlas", "XLAs", columns, rows)


def test_a_status_downloads_in_the_readers_language_as_on_the_page():
    with translation.override("tr"):
        text = csv_response(xla_table()).content.decode("utf-8-sig")
        sheet = load_workbook(io.BytesIO(xlsx_bytes(xla_table()))).active

    rows = list(csv.reader(io.StringIO(text)))
    assert [row[1] for row in rows[1:]] == ["karşılandı", "ihlal edildi", ""]
    assert [cell.value for cell in sheet["B"]][1:] == ["karşılandı", "ihlal edildi", None]
    assert [cell.value for cell in sheet["C"]][1:] == [80.0, 14.3, None]  # numbers stay numbers


def test_a_status_downloads_in_english_for_an_english_reader():
    with translation.override("en"):
        rows = list(csv.reader(io.StringIO(csv_response(xla_table()).content.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["met", "breached", ""]


@override_settings(TIME_ZONE="Europe/Istanbul")
def test_a_moment_downloads_in_the_installations_time_zone_as_on_the_page():
    opened = datetime(2026, 11, 24, 8, 51, 59, 893966, tzinfo=UTC)  # stored in UTC
    table = Table("alerts", "Alerts", [Column("opened", "Opened")], [{"opened": opened}])
    rows = list(csv.reader(io.StringIO(csv_response(table).content.decode("utf-8-sig"))))
    assert rows[1] == ["2026-11-24 11:51:59"]  # Istanbul is UTC+3; no microseconds
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table))).active
    assert sheet["A2"].value == datetime(2026, 11, 24, 11, 51, 59)


def test_a_csv_rounds_numbers_as_the_page_shows_them_and_an_xlsx_keeps_every_digit():
    columns = [Column("effect", "Effect", "signed"), Column("tickets", "Tickets", "int"), Column("note", "Note")]
    table = Table("drivers", "Drivers", columns, [{"effect": -1.7770173395169555, "tickets": 12.6, "note": 0.123456}])
    rows = list(csv.reader(io.StringIO(csv_response(table).content.decode("utf-8-sig"))))
    assert rows[1] == ["-1.8", "13", "0.123456"]  # a text column's number is not a shown figure: left as it is
    sheet = load_workbook(io.BytesIO(xlsx_bytes(table))).active
    assert sheet["A2"].value == pytest.approx(-1.7770173395169555, rel=1e-12)  # the sheet shows -1.8 by its format
