"""Reads of tickets, each inside the caller's scope."""

from django.db.models import QuerySet

from itxm.org.scopes import Scope
from itxm.tickets.models import Ticket


def tickets(scope: Scope, filters: dict | None = None) -> QuerySet:
    qs = scope.apply(Ticket.objects.select_related("category", "service", "group", "assignee"))
    filters = {k: v for k, v in (filters or {}).items() if v is not None}
    lookups = {"opened_from": "opened_at__gte", "opened_to": "opened_at__lt"}
    return qs.filter(**{lookups.get(k, k): v for k, v in filters.items()})


def ticket(scope: Scope, ticket_id: int) -> Ticket:
    return scope.get(tickets(scope).prefetch_related("events"), ticket_id)


def count(scope: Scope) -> int:
    return scope.apply(Ticket.objects.all()).count()
