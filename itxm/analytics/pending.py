"""What changed since the facts were last computed: tickets and invitations, queued by signals."""

from collections.abc import Iterable
from functools import cache

from django.db import connection

from itxm.analytics.models import PendingFact
from itxm.bulk import insert_rows


def mark(kind: str, object_ids: Iterable[int]) -> None:
    object_ids = set(object_ids)
    if len(object_ids) == 1:  # one survey answer: the busiest caller, where compiling bulk_create cost most
        _mark_one(kind, object_ids.pop())
        return
    # Plain rows: ingestion queues every ticket it writes, and model objects cost more than the insert.
    insert_rows(PendingFact, ("kind", "object_id"), [(kind, i) for i in object_ids], ignore_conflicts=True)


@cache
def _insert_one(vendor: str) -> str:
    quote = connection.ops.quote_name
    meta = PendingFact._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("kind", "object_id"))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES (%s, %s) ON CONFLICT ({columns}) DO NOTHING"  # noqa: S608


def _mark_one(kind: str, object_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_insert_one(connection.vendor), [kind, object_id])


def _tickets_changed(sender, ticket_ids, **kwargs) -> None:
    mark(PendingFact.TICKET, ticket_ids)


def _invitations_changed(sender, invitation_ids, **kwargs) -> None:
    mark(PendingFact.INVITATION, invitation_ids)


def connect() -> None:
    from itxm.surveys.signals import invitations_changed
    from itxm.tickets.signals import tickets_changed

    tickets_changed.connect(_tickets_changed, dispatch_uid="analytics.tickets_changed")
    invitations_changed.connect(_invitations_changed, dispatch_uid="analytics.invitations_changed")
