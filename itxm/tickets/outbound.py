"""Tickets ITXM opens in a connected ITSM tool (proactive support), exactly once per correlation id.

Every request carries a correlation id the caller chooses (e.g. ``proactive-disk-full-PC042-2026-03-02``)
and is remembered as an ``OutboundTicket`` before anything is sent. A request already done returns the
ticket it made. Otherwise the tool is first searched for a ticket carrying the correlation id (an earlier
attempt may have made one and died before noting it), and only when there is none is a ticket created.
A create that fails without telling whether it happened (timeout, 5xx) is followed by another search.
"""

import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from itxm.tickets.connectors.base import (
    CORRELATION_ID,
    ConnectorError,
    HttpError,
    RemoteTicket,
    TicketRequest,
    TicketSource,
    TransportError,
    source_for,
)
from itxm.tickets.connectors.encryption import SecretUnreadable
from itxm.tickets.models import Connector, OutboundStatus, OutboundTicket

# How long one attempt may hold a request; a process that died holding it frees it after this.
CLAIM = timedelta(minutes=5)
# After a create whose outcome is unknown, wait before trying again: Jira Cloud's search needs a moment
# to see a new issue, and creating again before it does could make a second one.
UNSURE_PAUSE = timedelta(minutes=1)


class OutboundError(Exception):
    """The ticket could not be opened now; calling again later with the same correlation id is safe."""


class OutboundBusy(OutboundError):
    """Another attempt for this correlation id is under way (or paused after an unclear answer)."""


class UnsureCreate(ConnectorError):
    """The create may or may not have happened, and a search did not find it (yet)."""


def create_remote_ticket(
    connector: Connector,
    correlation_id: str,
    summary: str,
    description: str = "",
    caller: str | None = None,
    group: str | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = timezone.now,
    source: TicketSource | None = None,
) -> OutboundTicket:
    """Open a ticket in the connector's tool, or return the one this correlation id already opened."""
    if not CORRELATION_ID.match(correlation_id or ""):
        raise ValueError("a correlation id is 1–80 letters, digits, '.', '_' or '-', starting with a letter or digit")
    request = TicketRequest(correlation_id, summary, description, caller, group)
    ticket, _ = OutboundTicket.objects.get_or_create(
        connector=connector, correlation_id=correlation_id, defaults={"payload": asdict(request)}
    )
    if ticket.status == OutboundStatus.CREATED:
        return ticket
    if not _claim(ticket, now()):
        raise OutboundBusy(f"{correlation_id}: another attempt is under way; try again in a few minutes")
    ticket.refresh_from_db()
    if ticket.status == OutboundStatus.CREATED:  # an attempt finished between our read and our claim
        return ticket
    try:
        source = source or source_for(connector.config(), sleep=sleep)
        remote = source.find_by_correlation(correlation_id)
        if remote is None:
            remote = _create(source, request)
        return _record(ticket, remote, now())
    except (ConnectorError, SecretUnreadable) as exc:
        unsure = isinstance(exc, UnsureCreate)
        _failed(ticket, exc, now() + UNSURE_PAUSE if unsure else None)
        raise OutboundError(f"{correlation_id}: {exc}") from exc
    except BaseException:
        # A bug or an interrupt: free the request at once; whatever was created is found next time.
        OutboundTicket.objects.filter(pk=ticket.pk).update(claimed_until=None)
        raise


def _create(source: TicketSource, request: TicketRequest) -> RemoteTicket:
    try:
        return source.create_ticket(request)
    except (TransportError, HttpError) as exc:
        if isinstance(exc, TransportError) and not exc.sent:
            raise
        if isinstance(exc, HttpError) and exc.status < 500:
            raise  # refused (400, 401, 403…): nothing was created
        found = source.find_by_correlation(request.correlation_id)
        if found is None:
            raise UnsureCreate(
                f"the create may not have gone through ({exc}); will look for it before retrying"
            ) from exc
        return found


def _claim(ticket: OutboundTicket, now: datetime) -> bool:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    claimed = OutboundTicket.objects.filter(pk=ticket.pk).exclude(status=OutboundStatus.CREATED).filter(free)
    return claimed.update(claimed_until=now + CLAIM, attempts=F("attempts") + 1) == 1


def _record(ticket: OutboundTicket, remote: RemoteTicket, now: datetime) -> OutboundTicket:
    ticket.status = OutboundStatus.CREATED
    ticket.remote_id, ticket.remote_number, ticket.remote_url = remote.remote_id, remote.number, remote.url
    ticket.remote_created_at, ticket.claimed_until, ticket.last_error = now, None, ""
    ticket.save()
    return ticket


def _failed(ticket: OutboundTicket, exc: Exception, hold_until: datetime | None) -> None:
    OutboundTicket.objects.filter(pk=ticket.pk).update(
        status=OutboundStatus.FAILED, last_error=str(exc), claimed_until=hold_until
    )
