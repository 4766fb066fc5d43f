"""Upsert of tickets and their history: the one write path behind every way tickets arrive.

Idempotent: a ticket is matched by (source, source id); sending the same ticket again changes nothing,
and a ticket older than the stored one (by the source's update time) is ignored as stale. Groups,
services, categories, agents and callers named by tickets are created when the organisation does not
know them yet, so no ticket is lost for want of reference data.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import transaction
from django.db.models import Model

from itxm.bulk import insert_rows, refresh_statistics, update_rows
from itxm.org.models import Agent, Category, Employee, Group, Service
from itxm.tickets.journeys import journey_facts
from itxm.tickets.models import EventKind, Ticket, TicketEvent, TicketState
from itxm.tickets.records import TicketRecord
from itxm.tickets.signals import tickets_changed
from itxm.validation import ImportReport, RowError

BATCH = 2000
ANALYZE_AFTER = 5000
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
        missing = {key for key in keys if key not in known}
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
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(model.objects.filter(external_id__in=chunk).values_list("external_id", "id"))
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
    for chunk in _chunks(_unique(records, report), BATCH):
        with transaction.atomic():
            _ingest_chunk(source, chunk, references, report)
        if progress:
            progress(len(chunk))
    report.errors.sort(key=lambda error: error.line)
    if report.created + report.updated >= ANALYZE_AFTER:
        refresh_statistics(Ticket, TicketEvent)
    if report.resolved_ticket_ids:
        from itxm.surveys.services import invite_for_resolutions  # surveys build on tickets, not the reverse

        report.invitations = invite_for_resolutions(report.resolved_ticket_ids)
    return report


def _unique(records: Iterable[tuple[int, TicketRecord]], report: TicketIngestReport):
    """Within one delivery the same ticket may come twice; the later one (by update time) wins."""
    latest: dict[str, tuple[int, TicketRecord]] = {}
    for line, record in records:
        seen = latest.get(record.source_id)
        if seen is None or _not_older(record.updated_at, seen[1].updated_at):
            if seen is not None:
                report.unchanged += 1
            latest[record.source_id] = (line, record)
        else:
            report.stale += 1
    return latest.values()


def _not_older(candidate: datetime | None, current: datetime | None) -> bool:
    return candidate is None or current is None or candidate >= current


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _ingest_chunk(source: str, chunk: list, references: References, report: TicketIngestReport) -> None:
    _resolve_references(chunk, references)
    source_ids = [record.source_id for _, record in chunk]
    existing = {
        row[1]: row
        for row in Ticket.objects.filter(source=source, source_id__in=source_ids).values_list(
            "id", "source_id", *COMPARED
        )
    }
    new, changed, event_plans = [], [], {}
    for _, record in chunk:
        values = _column_values(record, references)
        stored = existing.get(record.source_id)
        if stored is not None and record.history is None:  # no history sent: keep the facts read from the last one
            values = (*values[: JOURNEY.start], *stored[2:][JOURNEY])
        if stored is None:
            new.append((record, values))
            continue
        ticket_id, stored_values = stored[0], stored[2:]
        if not _not_older(record.updated_at, stored_values[SOURCE_UPDATED]):
            report.stale += 1
            continue
        if record.history is not None:
            event_plans[ticket_id] = _event_rows(record, references)
        if values != stored_values:
            changed.append((*values, ticket_id))
            if _newly_resolved(values, stored_values):
                report.resolved_ticket_ids.append(ticket_id)
        elif ticket_id not in event_plans:
            report.unchanged += 1
    created_ids = _create(source, new, references, report)
    _update(changed, event_plans, report)
    touched = [*created_ids, *(row[-1] for row in changed), *event_plans]
    if touched:
        tickets_changed.send(sender=Ticket, ticket_ids=touched)


def _newly_resolved(values: tuple, stored_values: tuple | None) -> bool:
    """A resolution people can be asked about: resolved now, and not the resolution already stored."""
    resolved = values[RESOLVED] is not None and values[STATE] in RESOLVED_STATES
    return resolved and (stored_values is None or values[RESOLVED] != stored_values[RESOLVED])


def _resolve_references(chunk: list, references: References) -> None:
    wanted: dict[str, set[str]] = {name: set() for name in REFERENCE_MODELS}
    for _, record in chunk:
        for name in REFERENCE_MODELS:
            if (key := getattr(record, name)) is not None:
                wanted[name].add(key)
        for event in record.history or ():
            if event.kind == EventKind.ASSIGNMENT and event.to_value:
                wanted["group"].add(event.to_value)
    for name, keys in wanted.items():
        references.resolve(name, keys)


def _column_values(record: TicketRecord, references: References) -> tuple:
    """The record's values in ``COMPARED`` order, references as ids."""
    ids = references.id
    return (
        record.number,
        record.kind,
        record.state,
        record.short_description,
        record.opened_at,
        record.first_response_at,
        record.resolved_at,
        record.closed_at,
        record.updated_at,
        record.priority,
        record.impact,
        record.urgency,
        record.channel,
        ids("category", record.category),
        ids("service", record.service),
        ids("caller", record.caller),
        ids("group", record.group),
        ids("assignee", record.assignee),
        record.reassignment_count,
        record.reopen_count,
        record.made_sla,
        *_journey(record),
    )


def _journey(record: TicketRecord) -> tuple[int, int, bool]:
    # The source's own last update ends an open wait, so that re-sending a ticket changes nothing.
    end = record.resolved_at or record.closed_at or record.updated_at
    facts = journey_facts(record.history or (), record.channel, record.state, end, record.reopen_count)
    return facts.ping_pongs, facts.waiting_seconds, facts.first_contact_resolution


def _event_rows(record: TicketRecord, references: References) -> list[tuple]:
    return [
        (
            seq,
            event.at,
            event.kind,
            event.from_value,
            event.to_value,
            references.id("group", event.to_value) if event.kind == EventKind.ASSIGNMENT and event.to_value else None,
        )
        for seq, event in enumerate(record.history or (), start=1)
    ]


def _create(source: str, new: list, references: References, report: TicketIngestReport) -> list[int]:
    if not new:
        return []
    insert_rows(Ticket, STORED_FIELDS, ((source, r.source_id, *v) for r, v in new))
    ids = dict(
        Ticket.objects.filter(source=source, source_id__in=[r.source_id for r, _ in new]).values_list("source_id", "id")
    )
    events = []
    for record, values in new:
        ticket_id = ids[record.source_id]
        events.extend((ticket_id, *row) for row in _event_rows(record, references))
        if _newly_resolved(values, None):
            report.resolved_ticket_ids.append(ticket_id)
    insert_rows(TicketEvent, EVENT_FIELDS, events)
    report.created += len(new)
    return list(ids.values())


def _update(changed: list[tuple], event_plans: dict[int, list[tuple]], report: TicketIngestReport) -> None:
    update_rows(Ticket, COMPARED, changed)
    report.updated += len(changed)
    if not event_plans:
        return
    stored: dict[int, list[tuple]] = {ticket_id: [] for ticket_id in event_plans}
    for row in (
        TicketEvent.objects.filter(ticket_id__in=list(event_plans))
        .order_by("ticket_id", "seq")
        .values_list(*EVENT_FIELDS)
    ):
        stored[row[0]].append(row[1:])
    replaced = [ticket_id for ticket_id, rows in event_plans.items() if rows != stored[ticket_id]]
    changed_ids = {row[-1] for row in changed}
    report.updated += sum(1 for ticket_id in replaced if ticket_id not in changed_ids)
    report.unchanged += sum(
        1 for ticket_id in event_plans if ticket_id not in replaced and ticket_id not in changed_ids
    )
    if replaced:
        TicketEvent.objects.filter(ticket_id__in=replaced).delete()
        insert_rows(TicketEvent, EVENT_FIELDS, ((t, *row) for t in replaced for row in event_plans[t]))
