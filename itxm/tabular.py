"""Rows from CSV, XLSX, JSON and NDJSON files, each with the line a person would look for.

Every import in ITXM reads its files through here, so that an error report can say "line 17" and
mean the same thing whatever the format: the line of a CSV or NDJSON file (the header is line 1),
the row of a spreadsheet, the position of an item in a JSON array (from 1).
"""

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

FORMATS = ("csv", "xlsx", "json", "ndjson")


class UnreadableFile(ValueError):
    """The file as a whole cannot be read: wrong format, broken encoding, no header."""


@dataclass(frozen=True)
class Row:
    line: int
    values: dict


def detect_format(name: str) -> str:
    path = Path(name)
    if path.suffix.lower() == ".gz":
        path = path.with_suffix("")
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "jsonl":
        suffix = "ndjson"
    if suffix not in FORMATS:
        raise UnreadableFile(f"cannot tell the format of {name!r}: use one of .{', .'.join(FORMATS)}")
    return suffix


def open_file(path: Path) -> IO[bytes]:
    """A file opened for reading, decompressed on the fly when its name ends in .gz."""
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def read_rows(stream: IO[bytes], fmt: str, sheet: str | None = None) -> Iterator[Row]:
    readers = {"csv": _csv_rows, "xlsx": _xlsx_rows, "json": _json_rows, "ndjson": _ndjson_rows}
    if fmt not in readers:
        raise UnreadableFile(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        return _xlsx_rows(stream, sheet)
    return readers[fmt](stream)


def _text(stream: IO[bytes]) -> io.TextIOWrapper:
    # utf-8-sig: spreadsheets saved as CSV often start with a byte-order mark.
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def _csv_rows(stream: IO[bytes]) -> Iterator[Row]:
    text = _text(stream)
    try:
        sample = text.read(64 * 1024)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"the file is not UTF-8 text: {exc}") from exc
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(_chain(sample, text), dialect)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise UnreadableFile("the file is empty: a header line is needed") from None
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        row = dict(zip(header, values, strict=False))
        if len(values) > len(header):
            row["__extra__"] = values[len(header) :]
        yield Row(reader.line_num, row)


def _chain(first: str, rest: io.TextIOWrapper) -> Iterator[str]:
    yield from io.StringIO(first + rest.readline()).readlines() if first else []
    yield from rest


def _xlsx_rows(stream: IO[bytes], sheet: str | None) -> Iterator[Row]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableFile(f"not a readable XLSX workbook: {exc}") from exc
    if sheet is not None and sheet not in book.sheetnames:
        raise UnreadableFile(f"the workbook has no sheet {sheet!r}")
    rows = book[sheet or book.sheetnames[0]].iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise UnreadableFile("the sheet is empty: a header row is needed")
    names = [str(cell).strip() if cell is not None else "" for cell in header]
    for number, cells in enumerate(rows, start=2):
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        yield Row(number, {name: cell for name, cell in zip(names, cells, strict=False) if name})


def xlsx_sheet_names(stream: IO[bytes]) -> list[str]:
    import openpyxl

    try:
        return openpyxl.load_workbook(stream, read_only=True).sheetnames
    except Exception as exc:
        raise UnreadableFile(f"not a readable XLSX workbook: {exc}") from exc


def _json_rows(stream: IO[bytes]) -> Iterator[Row]:
    document = load_json(stream)
    if not isinstance(document, list):
        raise UnreadableFile("a JSON file must hold an array of objects")
    yield from json_items(document)


def load_json(stream: IO[bytes]):
    try:
        return json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"not valid JSON: {exc}") from exc


def json_items(items: list) -> Iterator[Row]:
    for number, item in enumerate(items, start=1):
        yield Row(number, item if isinstance(item, dict) else {"__not_an_object__": item})


def _ndjson_rows(stream: IO[bytes]) -> Iterator[Row]:
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Row(number, {"__unparsable__": str(exc)})
            continue
        yield Row(number, item if isinstance(item, dict) else {"__not_an_object__": item})
