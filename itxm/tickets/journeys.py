"""Journey facts of a ticket, read from its ordered history: what the person went through.

Pure functions over plain values, so that ingestion can store them beside the ticket and analytics can
aggregate them without re-reading every event.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from itxm.tickets.models import Channel, EventKind, TicketState

WAITING_STATES = frozenset({TicketState.ON_HOLD})
DONE_STATES = frozenset({TicketState.RESOLVED, TicketState.CLOSED, TicketState.CANCELLED})
# Channels where the person is in touch with the desk while it works: only there can the first contact
# resolve the ticket.
LIVE_CHANNELS = frozenset({Channel.PHONE, Channel.CHAT, Channel.WALK_IN})


@dataclass(frozen=True)
class Change:
    at: datetime
    kind: str
    from_value: str
    to_value: str


@dataclass(frozen=True)
class JourneyFacts:
    reassignments: int
    reopenings: int
    ping_pongs: int
    waiting_seconds: int
    groups_path: tuple[str, ...]
    first_contact_resolution: bool


def groups_path(changes: Sequence[Change]) -> tuple[str, ...]:
    """The groups the ticket went through, in order, a repeated hand-over to the same group folded."""
    path: list[str] = []
    for change in changes:
        if change.kind == EventKind.ASSIGNMENT and change.to_value and (not path or path[-1] != change.to_value):
            path.append(change.to_value)
    return tuple(path)


def ping_pongs(path: Sequence[str]) -> int:
    """How often the ticket went back to the group it had just left (A→B→A counts once)."""
    return sum(1 for i in range(2, len(path)) if path[i] == path[i - 2])


def reopenings(changes: Sequence[Change]) -> int:
    return sum(
        1
        for change in changes
        if change.kind == EventKind.STATE and change.from_value in DONE_STATES and change.to_value not in DONE_STATES
    )


def waiting_seconds(changes: Sequence[Change], end: datetime | None) -> int:
    """Time spent in a waiting state (waiting for the caller, a vendor...), up to ``end`` if still waiting."""
    total, since = 0.0, None
    for change in changes:
        if change.kind != EventKind.STATE:
            continue
        if since is not None and change.to_value not in WAITING_STATES:
            total += (change.at - since).total_seconds()
            since = None
        elif since is None and change.to_value in WAITING_STATES:
            since = change.at
    if since is not None and end is not None and end > since:
        total += (end - since).total_seconds()
    return int(total)


def journey_facts(
    changes: Sequence[Change], channel: str, state: str, end: datetime | None, source_reopen_count: int = 0
) -> JourneyFacts:
    """``end``: when the ticket was resolved, or now if it is still open."""
    ordered = sorted(changes, key=lambda change: change.at)
    path = groups_path(ordered)
    reopened = max(reopenings(ordered), source_reopen_count)
    reassigned = max(len(path) - 1, 0)
    resolved = state in (TicketState.RESOLVED, TicketState.CLOSED)
    return JourneyFacts(
        reassignments=reassigned,
        reopenings=reopened,
        ping_pongs=ping_pongs(path),
        waiting_seconds=waiting_seconds(ordered, end),
        groups_path=path,
        first_contact_resolution=resolved and channel in LIVE_CHANNELS and reassigned == 0 and reopened == 0,
    )


def stored_facts(
    changes: Sequence[Change], channel: str, state: str, end: datetime | None, source_reopen_count: int = 0
) -> tuple[int, int, bool]:
    """The facts a ticket row keeps (ping-pongs, waiting seconds, first-contact resolution): what
    ``journey_facts`` finds, in one pass, for ingestion, which computes them for every ticket it stores."""
    last = before_last = None
    groups = pongs = reopened = 0
    waited, since = 0.0, None
    for change in sorted(changes, key=_at):
        kind, value = change.kind, change.to_value
        if kind == EventKind.ASSIGNMENT:
            if value and value != last:
                pongs += value == before_last
                before_last, last = last, value
                groups += 1
        elif kind == EventKind.STATE:
            reopened += change.from_value in DONE_STATES and value not in DONE_STATES
            if since is not None and value not in WAITING_STATES:
                waited += (change.at - since).total_seconds()
                since = None
            elif since is None and value in WAITING_STATES:
                since = change.at
    if since is not None and end is not None and end > since:
        waited += (end - since).total_seconds()
    resolved = state in (TicketState.RESOLVED, TicketState.CLOSED)
    first_contact = resolved and channel in LIVE_CHANNELS and groups <= 1 and max(reopened, source_reopen_count) == 0
    return pongs, int(waited), first_contact


_at = attrgetter("at")
