"""Background work on tickets: connector syncs, run by ``itxm worker``."""

from django.utils import timezone
from django_tasks import task

from itxm.tickets.connectors import sync
from itxm.tickets.models import Connector


@task()
def sync_connector(connector_id: int) -> dict:
    """One sync of a connector. Safe to run twice: a second concurrent run is skipped, a later one reads
    only what changed since, and ingestion never duplicates a ticket."""
    connector = Connector.objects.filter(pk=connector_id).first()
    if connector is None or not connector.enabled:
        if connector is not None:
            Connector.objects.filter(pk=connector_id).update(queued_at=None)
        return {"connector": connector_id, "status": "skipped", "error": "no such enabled connector"}
    return sync.sync_connector(connector, trigger="schedule").as_dict()


@task()
def sync_due_connectors() -> list[int]:
    """Queue a sync of every connector whose interval has passed; returns their ids."""
    now = timezone.now()
    queued = []
    for connector in sync.due_connectors(now):
        if sync.mark_queued(connector, now):
            sync_connector.enqueue(connector.pk)
            queued.append(connector.pk)
    return queued


@task()
def evaluate_slas(ticket_ids: list[int] | None = None) -> int:
    """Recompute ITXM's SLA verdicts (of the given tickets, or all); safe to run twice."""
    from itxm.tickets.sla_verdicts import evaluate_slas as evaluate

    return evaluate(ticket_ids)


@task()
def evaluate_pending_slas() -> int:
    """Verdicts of new, changed and still-running tickets; scheduled by the worker."""
    from itxm.tickets.sla_verdicts import evaluate_pending_slas as evaluate

    return evaluate()
