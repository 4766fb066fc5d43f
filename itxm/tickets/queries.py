"""Reads of tickets, each inside the caller's scope."""

from django.db.models import QuerySet

from itxm.org.scopes import Scope
from itxm.tickets.models import EventKind, Ticket

# What a reader restricted to some groups reads for any other group in a ticket's history (the journeys
# pages say "another group" too): a ticket of its own may have passed through another supplier's group.
HIDDEN_GROUP = "(another group)"


def tickets(scope: Scope, filters: dict | None = None) -> QuerySet:
    qs = scope.marking_people(scope.apply(Ticket.objects.select_related("category", "service", "group", "assignee")))
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    lookups = {"opened_from": "opened_at__gte", "opened_to": "opened_at__lt"}
    return qs.filter(**{lookups.get(k, k): v for k, v in filters.items()})


def ticket(scope: Scope, ticket_id: int) -> Ticket:
    found = scope.get(tickets(scope).prefetch_related("events"), ticket_id)
    if scope.group_ids is not None:
        _hide_other_groups(found, scope.group_ids)
    return found


def _hide_other_groups(found: Ticket, own: frozenset[int]) -> None:
    """Name only the reader's own groups in the assignment history (in memory: nothing is saved). An
    assignment's group is the one it went to; the one it came from is the previous assignment's."""
    previous = None
    for event in found.events.all():  # in order (TicketEvent.Meta.ordering)
        if event.kind != EventKind.ASSIGNMENT:
            continue
        if event.from_value and previous not in own:
            event.from_value = HIDDEN_GROUP
        if event.to_value and event.group_id not in own:
            event.to_value = HIDDEN_GROUP
        previous = event.group_id


def count(scope: Scope) -> int:
    return scope.apply(Ticket.objects.all()).count()
