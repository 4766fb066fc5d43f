"""A connector's sync: its source's pages into ingestion, the window moved on, a SyncRun kept.

Only one sync of a connector runs at a time (a lease on the connector row, taken with one UPDATE, so it
holds across processes and databases). The window starts a little before the newest update seen last
time and moves on only after a sync read everything; a failed one leaves it, and the next re-reads
(ingestion is idempotent, so nothing is duplicated).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from itxm.tabular import Row
from itxm.tickets.connectors.base import ConnectorError, TicketSource, source_for, window_for
from itxm.tickets.connectors.encryption import SecretUnreadable
from itxm.tickets.models import Connector, SyncRun, SyncStatus
from itxm.tickets.records import FieldError, parse_time
from itxm.tickets.services import ingest_rows

logger = logging.getLogger(__name__)

# A sync still "running" after this long died with its process: another may take over.
LEASE = timedelta(hours=2)
SHOWN_ERRORS = 50
KEEP_RUNS = timedelta(days=90)


@dataclass
class SyncReport:
    connector: str
    status: str = SyncStatus.SUCCEEDED
    since: datetime | None = None
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    rejected: int = 0
    pages: int = 0
    retries: int = 0
    complete: bool = False
    error: str = ""
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "connector": self.connector,
            "status": str(self.status),
            "since": self.since.isoformat() if self.since else None,
            "fetched": self.fetched,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "stale": self.stale,
            "rejected": self.rejected,
            "pages": self.pages,
            "retries": self.retries,
            "complete": self.complete,
            "error": self.error,
            "errors": self.errors[:SHOWN_ERRORS],
        }

    def summary(self) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M} UTC" if self.since else " (full)"
        text = (
            f"{self.connector}{since}: {self.fetched} fetched in {self.pages} pages ({self.retries} retries); "
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.stale} stale, {self.rejected} rejected"
        )
        return text + (f"; {self.status}: {self.error}" if self.error else "")

    def add(self, ingested, source_ids: dict[int, str]) -> None:
        self.created += ingested.created
        self.updated += ingested.updated
        self.unchanged += ingested.unchanged
        self.stale += ingested.stale
        self.rejected += len(ingested.rejected_lines)
        for error in ingested.errors:
            ticket = source_ids.get(error.line, f"ticket {error.line}")
            self.errors.append(f"{ticket}: {error.field or 'ticket'}: {error.reason}")


def sync_connector(
    connector: Connector,
    *,
    full: bool = False,
    trigger: str = "manual",
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = timezone.now,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Bring the connector's tickets changed since its last sync (all with ``full``) into ITXM."""
    started = now()
    report = SyncReport(connector.name)
    if not _claim(connector, started):
        report.status, report.error = SyncStatus.SKIPPED, "another sync of this connector is running"
        SyncRun.objects.create(
            connector=connector, trigger=trigger, started_at=started, finished_at=started, status=report.status
        )
        return report
    run = SyncRun.objects.create(connector=connector, trigger=trigger, started_at=started)
    newest = connector.last_seen_updated_at
    source: TicketSource | None = None
    try:
        source = source_for(connector.config(), sleep=sleep)
        window = window_for(connector.last_seen_updated_at, started, source.overlap, full)
        report.since = run.since = window.since
        position = 0
        for tickets in source.changes(window):
            source_ids, rows = {}, []
            for ticket in tickets:
                position += 1
                source_ids[position] = str(ticket.get("source_id") or f"ticket {position}")
                rows.append(Row(position, ticket))
                newest = _later(newest, ticket.get("updated_at"))
            report.fetched += len(rows)
            report.add(ingest_rows(connector.name, rows), source_ids)
            if progress:
                progress(len(rows))
        report.complete = source.complete
    except (ConnectorError, SecretUnreadable) as exc:
        report.status, report.error = SyncStatus.FAILED, str(exc)
        logger.warning("sync of %s failed: %s", connector.name, exc)
    except Exception as exc:
        report.status, report.error = SyncStatus.FAILED, f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if source is not None:
            report.pages, report.retries = source.pages, source.client.retries
        _finish(connector, run, report, newest, now())
    return report


def _later(newest: datetime | None, stamp) -> datetime | None:
    try:
        moment = parse_time(stamp, "updated_at")
    except FieldError:
        return newest
    if moment is None:
        return newest
    return moment if newest is None or moment > newest else newest


def _claim(connector: Connector, now: datetime) -> bool:
    free = Q(running_since__isnull=True) | Q(running_since__lt=now - LEASE)
    return Connector.objects.filter(pk=connector.pk).filter(free).update(running_since=now) == 1


def _finish(connector: Connector, run: SyncRun, report: SyncReport, newest: datetime | None, finished: datetime):
    for name in ("fetched", "created", "updated", "unchanged", "stale", "rejected", "pages", "retries"):
        setattr(run, name, getattr(report, name))
    run.status, run.finished_at = report.status, finished
    lines = ([report.error] if report.error else []) + report.errors[:SHOWN_ERRORS]
    if len(report.errors) > SHOWN_ERRORS:
        lines.append(f"… and {len(report.errors) - SHOWN_ERRORS} more")
    run.error = "\n".join(lines)
    run.save()
    SyncRun.objects.filter(connector=connector, started_at__lt=finished - KEEP_RUNS).delete()
    changes = {"running_since": None, "queued_at": None, "last_synced_at": finished, "last_error": report.error}
    # Only a sync that read the whole window may move it on; otherwise the next one starts where this did.
    if report.status == SyncStatus.SUCCEEDED and report.complete and newest is not None:
        changes["last_seen_updated_at"] = newest
    Connector.objects.filter(pk=connector.pk).update(**changes)
    for name, value in changes.items():
        setattr(connector, name, value)


def due_connectors(now: datetime) -> list[Connector]:
    """Enabled connectors whose interval has passed and that are neither running nor waiting in the queue."""
    stale = now - LEASE
    candidates = Connector.objects.filter(enabled=True).filter(
        Q(running_since__isnull=True) | Q(running_since__lt=stale), Q(queued_at__isnull=True) | Q(queued_at__lt=stale)
    )
    return [connector for connector in candidates if connector.is_due(now)]


def mark_queued(connector: Connector, now: datetime) -> bool:
    """Note that a sync is queued, unless one already is (so a busy worker's queue does not pile up)."""
    free = Q(queued_at__isnull=True) | Q(queued_at__lt=now - LEASE)
    return Connector.objects.filter(pk=connector.pk).filter(free).update(queued_at=now) == 1
