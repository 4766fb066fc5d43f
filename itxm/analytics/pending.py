"""What changed since the facts were last computed: tickets and invitations, queued by signals."""

from collections.abc import Iterable

from itxm.analytics.models import PendingFact


def mark(kind: str, object_ids: Iterable[int]) -> None:
    PendingFact.objects.bulk_create(
        [PendingFact(kind=kind, object_id=object_id) for object_id in set(object_ids)],
        ignore_conflicts=True,
        batch_size=1000,
    )


def _tickets_changed(sender, ticket_ids, **kwargs) -> None:
    mark(PendingFact.TICKET, ticket_ids)


def _invitations_changed(sender, invitation_ids, **kwargs) -> None:
    mark(PendingFact.INVITATION, invitation_ids)


def connect() -> None:
    from itxm.surveys.signals import invitations_changed
    from itxm.tickets.signals import tickets_changed

    tickets_changed.connect(_tickets_changed, dispatch_uid="analytics.tickets_changed")
    invitations_changed.connect(_invitations_changed, dispatch_uid="analytics.invitations_changed")
