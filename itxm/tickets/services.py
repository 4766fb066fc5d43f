"""Ticket operations the API, the CLI and connectors call."""

import json
import re
from collections.abc import Callable
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import msgspec
from msgspec import Raw

from itxm import tabular
from itxm.bulk import paused_gc, update_rows
from itxm.org.scopes import Permission, Scope
from itxm.tickets.ingestion import TicketIngestReport, ingest_tickets
from itxm.tickets.journeys import Change, journey_facts
from itxm.tickets.mapping import Mapping, records_from_rows
from itxm.tickets.models import Ticket, TicketEvent
from itxm.tickets.records import parse_ticket, parse_usual_json, split_array
from itxm.validation import RowError

SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")


class IngestError(ValueError):
    """The delivery as a whole cannot be taken; the message says why."""


def check_source(source: str) -> str:
    if not SOURCE_NAME.match(source or ""):
        raise IngestError("source must be 1–50 lower-case letters, digits, '.', '_' or '-', e.g. servicenow")
    return source


def ingest_payload(scope: Scope, source: str, body: bytes, content_type: str = "") -> TicketIngestReport:
    """Tickets in the canonical shape, as a JSON array or NDJSON (one ticket per line)."""
    scope.require(Permission.IMPORT)
    check_source(source)
    stripped = body.lstrip()
    if not stripped:
        raise IngestError("the body is empty: send a JSON array of tickets or NDJSON")
    if "ndjson" in content_type or "jsonl" in content_type or not stripped.startswith(b"["):
        lines = enumerate(body.split(b"\n"), start=1)
        return _ingest_items(source, ((number, line) for number, line in lines if line.strip()))
    try:
        items = split_array(body)
    except msgspec.DecodeError:  # json reads a little more (NaN), and its messages are the ones people know
        items = _json_array(body)
    return _ingest_items(source, enumerate(items, start=1))


def _json_array(body: bytes) -> list:
    try:
        with paused_gc():  # a large array: see itxm.bulk.paused_gc
            return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(f"not valid JSON: {exc}") from exc


def _decoded(item: bytes | Raw):
    try:
        return msgspec.json.decode(item)
    except msgspec.DecodeError as exc:
        return {"__unparsable__": str(exc)}


def ingest_rows(source: str, rows, progress: Callable[[int], None] | None = None) -> TicketIngestReport:
    """Tickets from ``tabular`` rows (the line each came from, and its values)."""
    return _ingest_items(source, ((row.line, row.values) for row in rows), progress)


def _ingest_items(source: str, items, progress: Callable[[int], None] | None = None) -> TicketIngestReport:
    """Validate (line, canonical ticket) pairs and ingest the valid ones; the others become row errors."""
    errors: list[RowError] = []

    def valid_records():
        for line, values in items:
            if values.__class__ is Raw or values.__class__ is bytes:  # an item of an array or an NDJSON line
                record = parse_usual_json(values)
                if record is not None:
                    yield line, record
                    continue
                values = _decoded(values)
            if values.__class__ is dict and "__unparsable__" in values:
                errors.append(RowError(line, "", f"not valid JSON: {values['__unparsable__']}"))
                continue
            if values.__class__ is not dict or "__not_an_object__" in values:
                errors.append(RowError(line, "", "not a JSON object"))
                continue
            record, row_errors = parse_ticket(values, line)
            if record is None:
                errors.extend(row_errors)
            else:
                yield line, record

    report = ingest_tickets(source, valid_records(), progress=progress)
    report.errors = sorted(report.errors + errors, key=lambda error: error.line)
    return report


def import_ticket_file(
    path: Path, mapping: Mapping, source: str | None = None, progress: Callable[[int], None] | None = None
) -> TicketIngestReport:
    """Tickets from a CSV, XLSX or NDJSON export (optionally .gz) through a column mapping."""
    source = check_source(source or mapping.source)
    fmt = tabular.detect_format(path.name)
    with tabular.open_file(path) as stream:
        records, errors = records_from_rows(mapping, tabular.read_rows(stream, fmt))
        report = ingest_tickets(source, records, progress=progress)
    report.errors = sorted(report.errors + errors, key=lambda error: error.line)
    return report


def refresh_journey_facts(source: str | None = None) -> int:
    """Recompute the journey facts of tickets from their stored history, for loads that wrote events
    directly (the demo). Returns the number of tickets updated."""
    tickets = Ticket.objects.all() if source is None else Ticket.objects.filter(source=source)
    events = (
        TicketEvent.objects.filter(ticket__in=tickets)
        .order_by("ticket_id", "seq")
        .values_list("ticket_id", "at", "kind", "from_value", "to_value")
    )
    changes_by_ticket = {
        ticket_id: [Change(*row[1:]) for row in rows] for ticket_id, rows in groupby(events, key=itemgetter(0))
    }
    rows = []
    for ticket_id, channel, state, resolved, closed, updated, reopens in tickets.values_list(
        "id", "channel", "state", "resolved_at", "closed_at", "source_updated_at", "reopen_count"
    ):
        facts = journey_facts(
            changes_by_ticket.get(ticket_id, ()), channel, state, resolved or closed or updated, reopens
        )
        rows.append((facts.ping_pongs, facts.waiting_seconds, facts.first_contact_resolution, ticket_id))
    return update_rows(Ticket, ("ping_pongs", "waiting_seconds", "first_contact_resolution"), rows)
