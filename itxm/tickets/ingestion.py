"""Upsert of tickets and their history: the one write path behind every way tickets arrive.

Idempotent: a ticket is matched by (source, source id); sending the same ticket again changes nothing,
and a ticket older than the stored one (by the source's update time) is ignored as stale. Groups,
services, categories, agents and callers named by tickets are created when the organisation does not
know them yet, so no ticket is lost for want of reference data.

Speed (benchmarks/ticket_ingest.py): rows are built as plain tuples in the form the database stores
(datetimes as SQLite's text, see itxm.bulk) and compared with the stored rows read the same way, so
that neither model objects nor Django's value converters are made per row.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from itxm.bulk import (
    datetime_adapter,
    estimated_rows,
    fewer_checkpoints,
    insert_rows,
    paused_gc,
    refresh_statistics,
    update_rows,
)
from itxm.org.models import Agent, Category, Employee, Group, Service
from itxm.tickets.journeys import stored_facts
from itxm.tickets.models import EventKind, Ticket, TicketEvent, TicketState
from itxm.tickets.records import TicketRecord
from itxm.tickets.signals import tickets_changed
from itxm.validation import ImportReport, RowError

BATCH = 2000
# PostgreSQL: analyse the tables after a delivery of at least this many new or changed tickets that also
# adds at least ANALYZE_SHARE of what the table held (autovacuum catches up with smaller changes).
ANALYZE_AFTER = 5000
ANALYZE_SHARE = 0.2
RESOLVED_STATES = {TicketState.RESOLVED, TicketState.CLOSED}

JOURNEY_FIELDS = ("ping_pongs", "waiting_seconds", "first_contact_resolution")
# Ticket columns compared to decide whether a stored ticket changed, in TicketRecord terms.
COMPARED = (
    "number",
    "kind",
    "state",
    "short_description",
    "opened_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "source_updated_at",
    "priority",
    "impact",
    "urgency",
    "channel",
    "category_id",
    "service_id",
    "caller_id",
    "group_id",
    "assignee_id",
    "reassignment_count",
    "reopen_count",
    "source_made_sla",
    *JOURNEY_FIELDS,
)
STORED_FIELDS = ("source", "source_id", *COMPARED)
JOURNEY = slice(COMPARED.index(JOURNEY_FIELDS[0]), None)
EVENT_FIELDS = ("ticket_id", "seq", "at", "kind", "from_value", "to_value", "group_id")
STATE, RESOLVED, SOURCE_UPDATED = (
    COMPARED.index("state"),
    COMPARED.index("resolved_at"),
    COMPARED.index("source_updated_at"),
)
REFERENCE_MODELS: dict[str, type[Model]] = {
    "group": Group,
    "service": Service,
    "category": Category,
    "assignee": Agent,
    "caller": Employee,
}


@dataclass
class TicketIngestReport(ImportReport):
    kind: str = "tickets"
    stale: int = 0
    resolved_ticket_ids: list[int] = field(default_factory=list)
    references_created: dict[str, int] = field(default_factory=dict)
    invitations: Any = None  # the surveys' InvitationReport for the resolutions, when there were any

    def as_dict(self) -> dict:
        return super().as_dict() | {
            "stale": self.stale,
            "references_created": self.references_created,
            "resolved_tickets": len(self.resolved_ticket_ids),
            "survey_invitations": self.invitations.created if self.invitations else 0,
        }


class References:
    """External ids of reference data mapped to primary keys, creating what is missing."""

    def __init__(self, report: TicketIngestReport):
        self.known: dict[str, dict[str, int]] = {name: {} for name in REFERENCE_MODELS}
        self.report = report

    def resolve(self, name: str, keys: set[str]) -> None:
        known = self.known[name]
        missing = keys - known.keys()
        missing.discard(None)
        if not missing:
            return
        model = REFERENCE_MODELS[name]
        known.update(_ids_by_external_id(model, missing))
        new = missing - known.keys()
        if new:
            model.objects.bulk_create(
                [model(external_id=key, name=key) for key in sorted(new)], ignore_conflicts=True, batch_size=500
            )
            known.update(_ids_by_external_id(model, new))
            self.report.references_created[name] = self.report.references_created.get(name, 0) + len(new)

    def id(self, name: str, key: str | None) -> int | None:
        return None if key is None else self.known[name][key]


def _ids_by_external_id(model: type[Model], keys: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(keys)
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), 5000):
            condition, params = _in(ordered[start : start + 5000])
            cursor.execute(f"SELECT external_id, id FROM {_table(model)} WHERE external_id {condition}", params)  # noqa: S608
            found.update(cursor.fetchall())
    return found


def ingest_tickets(
    source: str,
    records: Iterable[tuple[int, TicketRecord]],
    errors: Iterable[RowError] = (),
    progress: Callable[[int], None] | None = None,
) -> TicketIngestReport:
    """Upsert validated tickets (with the line each came from); ``errors`` are carried into the report."""
    report = TicketIngestReport(errors=list(errors))
    references = References(report)
    resolutions: list[tuple[int, datetime]] = []
    with paused_gc(), fewer_checkpoints():
        for chunk in _chunks(_unique(records, report), BATCH):
            with transaction.atomic():
                _ingest_chunk(source, chunk, references, report, resolutions)
            if progress:
                progress(len(chunk))
        report.errors.sort(key=lambda error: error.line)
        _refresh_statistics(report)
        report.resolved_ticket_ids = [ticket_id for ticket_id, _ in resolutions]
        if resolutions:
            report.invitations = _invite(resolutions)
    return report


def _refresh_statistics(report: TicketIngestReport) -> None:
    written = report.created + report.updated
    if written >= ANALYZE_AFTER and written >= ANALYZE_SHARE * estimated_rows(Ticket):
        refresh_statistics(Ticket, TicketEvent)


def _invite(resolutions: list[tuple[int, datetime]]):
    """The surveys' invitations for the new resolutions. Those the surveys would skip as too old (or
    dated in the future) are counted here, by the surveys' own rule, instead of being loaded one by one:
    an import of history resolves thousands of tickets nobody will be asked about."""
    from itxm.surveys import config  # surveys build on tickets, not the reverse
    from itxm.surveys.services import SKIP_TOO_OLD, invite_for_resolutions

    now = timezone.now()
    oldest, newest = now - config.max_resolution_age(), now + config.lease()
    recent = [ticket_id for ticket_id, resolved_at in resolutions if oldest <= resolved_at <= newest]
    invitations = invite_for_resolutions(recent, now)
    if len(recent) < len(resolutions):
        invitations.skipped[SKIP_TOO_OLD] += len(resolutions) - len(recent)
    return invitations


def _unique(records: Iterable[tuple[int, TicketRecord]], report: TicketIngestReport):
    """Within one delivery the same ticket may come twice; the later one (by update time) wins."""
    latest: dict[str, tuple[int, TicketRecord]] = {}
    for item in records:
        record = item[1]
        seen = latest.get(record.source_id)
        if seen is None:
            latest[record.source_id] = item
        elif _not_older(record.updated_at, seen[1].updated_at):
            report.unchanged += 1
            latest[record.source_id] = item
        else:
            report.stale += 1
    return latest.values()


def _not_older(candidate, current) -> bool:
    return candidate is None or current is None or candidate >= current


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _ingest_chunk(
    source: str, chunk: list, references: References, report: TicketIngestReport, resolutions: list
) -> None:
    groups = _resolve_references(chunk, references)
    to_db = datetime_adapter() if connection.vendor == "sqlite" else _as_is
    existing = _stored_tickets(source, [record.source_id for _, record in chunk])
    new, changed, event_plans = [], [], {}
    for _, record in chunk:
        values = _column_values(record, references, to_db)
        stored = existing.get(record.source_id)
        if stored is None:
            new.append((record, values))
            continue
        ticket_id, stored_values = stored[0], stored[1:]
        if record.history is None:  # no history sent: keep the facts read from the last one
            values = (*values[: JOURNEY.start], *stored_values[JOURNEY])
        if not _not_older(values[SOURCE_UPDATED], stored_values[SOURCE_UPDATED]):
            report.stale += 1
            continue
        if record.history is not None:
            event_plans[ticket_id] = _event_rows(record, groups, to_db)
        if values != stored_values:
            changed.append((*values, ticket_id))
            if _newly_resolved(values, stored_values):
                resolutions.append((ticket_id, record.resolved_at))
        elif ticket_id not in event_plans:
            report.unchanged += 1
    created_ids = _create(source, new, groups, to_db, report, resolutions)
    replaced = _update(changed, event_plans, report)
    touched = [*created_ids, *(row[-1] for row in changed), *replaced]
    if touched:
        tickets_changed.send(sender=Ticket, ticket_ids=touched)


def _newly_resolved(values: tuple, stored_values: tuple | None) -> bool:
    """A resolution people can be asked about: resolved now, and not the resolution already stored."""
    resolved = values[RESOLVED] is not None and values[STATE] in RESOLVED_STATES
    return resolved and (stored_values is None or values[RESOLVED] != stored_values[RESOLVED])


def _resolve_references(chunk: list, references: References) -> dict[str, int]:
    """Ids of every reference the chunk names, created when missing; returns the groups' ids."""
    records = [record for _, record in chunk]
    for name in REFERENCE_MODELS:
        references.resolve(name, {getattr(record, name) for record in records})
    assigned = {
        event.to_value
        for record in records
        if record.history
        for event in record.history
        if event.kind == EventKind.ASSIGNMENT and event.to_value
    }
    references.resolve("group", assigned)
    return references.known["group"]


def _column_values(record: TicketRecord, references: References, to_db: Callable) -> tuple:
    """The record's values in ``COMPARED`` order and in the database's form, references as ids."""
    known = references.known
    category, service, caller, group, assignee = (
        record.category,
        record.service,
        record.caller,
        record.group,
        record.assignee,
    )
    times = record.db_times if to_db is not _as_is else None
    if times is None:
        times = tuple(
            to_db(moment)
            for moment in (
                record.opened_at,
                record.first_response_at,
                record.resolved_at,
                record.closed_at,
                record.updated_at,
            )
        )
    # The source's own last update ends an open wait, so that re-sending a ticket changes nothing.
    end = record.resolved_at or record.closed_at or record.updated_at
    journey = stored_facts(record.history or (), record.channel, record.state, end, record.reopen_count)
    return (
        record.number,
        record.kind,
        record.state,
        record.short_description,
        *times,
        record.priority,
        record.impact,
        record.urgency,
        record.channel,
        None if category is None else known["category"][category],
        None if service is None else known["service"][service],
        None if caller is None else known["caller"][caller],
        None if group is None else known["group"][group],
        None if assignee is None else known["assignee"][assignee],
        record.reassignment_count,
        record.reopen_count,
        record.made_sla,
        *journey,
    )


def _event_rows(record: TicketRecord, groups: dict[str, int], to_db: Callable) -> list[tuple]:
    """(seq, at, kind, from, to, group id) of the record's history, in the database's form."""
    assignment, texts = EventKind.ASSIGNMENT, to_db is not _as_is
    return [
        (
            seq,
            (event.db_at or to_db(event.at)) if texts else event.at,
            event.kind,
            event.from_value,
            event.to_value,
            groups[event.to_value] if event.kind == assignment and event.to_value else None,
        )
        for seq, event in enumerate(record.history or (), start=1)
    ]


def _as_is(value):
    return value


# Reads and writes in plain SQL: table and column names are the model's, values travel as parameters.


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values: list) -> tuple[str, list]:
    """``IN (...)`` for SQLite, ``= ANY(%s)`` with one array for PostgreSQL."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [values]
    return f"IN ({', '.join(['%s'] * len(values))})", values


def _columns(model: type[Model], names) -> str:
    """The columns as stored: on SQLite, datetimes as their text (a cast has no declared type, so the
    driver does not parse it into a datetime)."""
    fields = [model._meta.get_field(name) for name in names]
    if connection.vendor != "sqlite":
        return ", ".join(field.column for field in fields)
    return ", ".join(
        f"CAST({field.column} AS TEXT)" if field.get_internal_type() == "DateTimeField" else field.column
        for field in fields
    )


def _stored_tickets(source: str, source_ids: list[str]) -> dict[str, tuple]:
    """source id -> (id, *COMPARED values) of the stored tickets, as the database holds them."""
    condition, params = _in(source_ids)
    columns = _columns(Ticket, ("source_id", "id", *COMPARED))
    sql = f"SELECT {columns} FROM {_table(Ticket)} WHERE source = %s AND source_id {condition}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [source, *params])
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _create(
    source: str, new: list, groups: dict[str, int], to_db: Callable, report: TicketIngestReport, resolutions: list
) -> list[int]:
    if not new:
        return []
    first_id = _next_id() if connection.vendor == "sqlite" else None
    insert_rows(Ticket, STORED_FIELDS, [(source, r.source_id, *v) for r, v in new], adapted=True, copy=True)
    ids = _new_ids(source, [r.source_id for r, _ in new], first_id)
    events = []
    for record, values in new:
        ticket_id = ids[record.source_id]
        if record.history:
            events.extend([(ticket_id, *row) for row in _event_rows(record, groups, to_db)])
        if _newly_resolved(values, None):
            resolutions.append((ticket_id, record.resolved_at))
    insert_rows(TicketEvent, EVENT_FIELDS, events, adapted=True, copy=True)
    report.created += len(new)
    return list(ids.values())


def _next_id() -> int:
    """SQLite: the lowest id the next insert can get. The transaction holds the database's write lock
    (transaction_mode IMMEDIATE; and no other writer can commit under an open write), so the tickets
    inserted next are exactly those with a higher id."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_table(Ticket)}")  # noqa: S608
        return cursor.fetchone()[0]


def _new_ids(source: str, source_ids: list[str], first_id: int | None) -> dict[str, int]:
    with connection.cursor() as cursor:
        if first_id is not None:
            cursor.execute(f"SELECT source_id, id FROM {_table(Ticket)} WHERE id >= %s", [first_id])  # noqa: S608
        else:
            condition, params = _in(source_ids)
            sql = f"SELECT source_id, id FROM {_table(Ticket)} WHERE source = %s AND source_id {condition}"  # noqa: S608
            cursor.execute(sql, [source, *params])
        return dict(cursor.fetchall())


def _update(changed: list[tuple], event_plans: dict[int, list[tuple]], report: TicketIngestReport) -> list[int]:
    """Write the changed rows and the histories that differ from the stored ones; returns the ids of
    tickets whose history was replaced."""
    update_rows(Ticket, COMPARED, changed, adapted=True)
    report.updated += len(changed)
    if not event_plans:
        return []
    stored: dict[int, list[tuple]] = {ticket_id: [] for ticket_id in event_plans}
    condition, params = _in(list(event_plans))
    sql = (
        f"SELECT {_columns(TicketEvent, EVENT_FIELDS)} "  # noqa: S608
        f"FROM {_table(TicketEvent)} WHERE ticket_id {condition} ORDER BY ticket_id, seq"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            stored[row[0]].append(row[1:])
    replaced = [ticket_id for ticket_id, rows in event_plans.items() if rows != stored[ticket_id]]
    changed_ids = {row[-1] for row in changed}
    report.updated += sum(1 for ticket_id in replaced if ticket_id not in changed_ids)
    report.unchanged += sum(
        1 for ticket_id in event_plans if ticket_id not in replaced and ticket_id not in changed_ids
    )
    if replaced:
        condition, params = _in(replaced)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_table(TicketEvent)} WHERE ticket_id {condition}", params)  # noqa: S608
        rows = [(t, *row) for t in replaced for row in event_plans[t]]
        insert_rows(TicketEvent, EVENT_FIELDS, rows, adapted=True, copy=True)
    return replaced
