"""ITXM's own SLA verdicts: the engine (itxm.tickets.sla) run over stored tickets and definitions,
kept beside the verdict the source sent, with compliance for any scope and period."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.db import transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from itxm.bulk import insert_rows
from itxm.org.scopes import Scope
from itxm.tickets import sla
from itxm.tickets.models import EventKind, SlaDefinition, Ticket, TicketEvent, TicketSla
from itxm.tickets.signals import tickets_changed

CHUNK = 2000
VERDICT_FIELDS = (
    "ticket_id",
    "definition_id",
    "elapsed_seconds",
    "target_seconds",
    "paused_seconds",
    "percent_used",
    "breached",
    "met",
    "deadline",
    "evaluated_at",
)


def engine_definition(definition: SlaDefinition) -> sla.SlaDefinition:
    return sla.SlaDefinition(
        name=definition.name,
        target=definition.target,
        target_seconds=definition.target_minutes * 60,
        schedule=definition.calendar.schedule(),
        kinds=frozenset(definition.kinds) or None,
        priorities=frozenset(int(p) for p in definition.priorities) or None,
        service_ids=frozenset(definition.services.values_list("id", flat=True)) or None,
        group_ids=frozenset(definition.groups.values_list("id", flat=True)) or None,
        pause_states=frozenset(definition.pause_states),
        on_reopen=definition.on_reopen,
    )


def evaluate_slas(ticket_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """(Re)compute the verdict of every active SLA on the given tickets (default: all). Safe to repeat."""
    now = now or timezone.now()
    definitions = [
        (d.pk, engine_definition(d)) for d in SlaDefinition.objects.filter(is_active=True).select_related("calendar")
    ]
    tickets = Ticket.objects.order_by("id")
    if ticket_ids is not None:
        tickets = tickets.filter(id__in=list(ticket_ids))
    ids = tickets.values_list("id", flat=True).iterator(chunk_size=CHUNK)
    written = 0
    while chunk := list(islice(ids, CHUNK)):
        with transaction.atomic():
            TicketSla.objects.filter(ticket_id__in=chunk).delete()
            written += insert_rows(TicketSla, VERDICT_FIELDS, _verdicts(chunk, definitions, now))
            tickets_changed.send(sender=TicketSla, ticket_ids=chunk)
    return written


def pending_ticket_ids(now: datetime | None = None) -> list[int]:
    """Tickets whose verdicts may be out of date: never evaluated, changed in the source since, or still
    running (their clocks move with time)."""
    if not SlaDefinition.objects.filter(is_active=True).exists():
        return []
    latest = TicketSla.objects.filter(ticket_id=OuterRef("pk")).order_by("-evaluated_at").values("evaluated_at")[:1]
    tickets = Ticket.objects.annotate(evaluated=Subquery(latest))
    running = Q(resolved_at__isnull=True) & ~Q(state__in=sla.STOP_STATES)
    stale = Q(evaluated__isnull=True) | Q(source_updated_at__gt=F("evaluated")) | running
    return list(tickets.filter(stale).values_list("id", flat=True))


def evaluate_pending_slas(now: datetime | None = None) -> int:
    ids = pending_ticket_ids(now)
    return evaluate_slas(ids, now) if ids else 0


def _verdicts(ticket_ids: list[int], definitions: list, now: datetime):
    states = defaultdict(list)
    for ticket_id, at, state in (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind=EventKind.STATE)
        .order_by("ticket_id", "seq")
        .values_list("ticket_id", "at", "to_value")
    ):
        states[ticket_id].append((at, state))
    for ticket in Ticket.objects.filter(id__in=ticket_ids).only(
        "id", "kind", "priority", "service_id", "group_id", "opened_at", "first_response_at", "resolved_at"
    ):
        timeline = sla.Timeline(
            opened_at=ticket.opened_at,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
            states=states.get(ticket.id, ()),
            now=now,
        )
        for definition_id, definition in definitions:
            if definition.matches(ticket):
                result = sla.evaluate(definition, timeline)
                yield (
                    ticket.id,
                    definition_id,
                    result.elapsed_seconds,
                    result.target_seconds,
                    result.paused_seconds,
                    result.percent_used,
                    result.breached,
                    result.met,
                    result.deadline,
                    now,
                )


@dataclass(frozen=True)
class Compliance:
    verdicts: int
    met: int
    breached: int
    running: int
    compliance: float | None
    source_verdicts: int
    source_compliance: float | None
    disagreements: int


def verdicts(scope: Scope, start: datetime | None = None, end: datetime | None = None, definition_id=None) -> QuerySet:
    """ITXM's verdicts of tickets opened in [start, end), inside the scope."""
    qs = scope.apply(TicketSla.objects.all())
    if start:
        qs = qs.filter(ticket__opened_at__gte=start)
    if end:
        qs = qs.filter(ticket__opened_at__lt=end)
    return qs.filter(definition_id=definition_id) if definition_id else qs


def compliance(scope: Scope, start=None, end=None, definition_id=None) -> Compliance:
    ours = verdicts(scope, start, end, definition_id)
    met, breached = ours.filter(met=True).count(), ours.filter(breached=True).count()
    total = ours.count()
    tickets = _tickets_in(scope, start, end)
    source = tickets.exclude(source_made_sla=None)
    source_met = source.filter(source_made_sla=True).count()
    return Compliance(
        verdicts=total,
        met=met,
        breached=breached,
        running=total - met - breached,
        compliance=_share(met, met + breached),
        source_verdicts=source.count(),
        source_compliance=_share(source_met, source.count()),
        disagreements=disagreements(scope, start, end).count(),
    )


def _tickets_in(scope: Scope, start, end) -> QuerySet:
    tickets = scope.apply(Ticket.objects.all())
    if start:
        tickets = tickets.filter(opened_at__gte=start)
    if end:
        tickets = tickets.filter(opened_at__lt=end)
    return tickets


def disagreements(scope: Scope, start=None, end=None) -> QuerySet:
    """Tickets where the source's SLA verdict and ITXM's differ: the source says met while one of ITXM's
    SLAs is breached, or the source says breached while every SLA ITXM decided was met."""
    tickets = _tickets_in(scope, start, end).exclude(source_made_sla=None).filter(slas__isnull=False).distinct()
    breached_here = Q(slas__breached=True)
    said_met_but_breached = tickets.filter(source_made_sla=True).filter(breached_here)
    said_breached_but_met = tickets.filter(source_made_sla=False).exclude(
        id__in=TicketSla.objects.filter(Q(breached=True) | Q(met__isnull=True)).values("ticket_id")
    )
    return scope.marking_people((said_met_but_breached | said_breached_but_met).distinct().order_by("-opened_at"))


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
