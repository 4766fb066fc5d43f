"""Gaming warnings kept per period, so that reading them costs a lookup, not seconds of counting.

On a million tickets one period's warnings take 2–4 s to compute (``compute``: the period's answers one by
one, everything else counted by the database), far too slow for a page or the XLA scorecard. So each
period's warnings are stored with the version of the data they were computed from (``GamingResult``):

- ``read`` answers from the stored result while the data has not changed since it was computed;
- when it has, and computing it took over ``SLOW_SECONDS``, the stored result is still answered for up to
  ``STALE_SECONDS`` after it was computed, while the worker recomputes it (``refresh_due``, every few
  minutes): warnings about months of answers do not turn on the last few minutes of data;
- otherwise (never computed, quick to compute, or too old) it is computed on the spot and stored.

So a small organisation always sees fresh warnings, and a large one sees warnings at most
``STALE_SECONDS`` behind its data, or computed on the spot when the worker is not running.
"""

import hashlib
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from itxm.org.models import Agent, Group
from itxm.org.scopes import EVERYTHING
from itxm.surveys import gaming, queries
from itxm.surveys.models import GamingResult, Invitation, Response
from itxm.tickets.models import Ticket, TicketEvent

BY = ("agent", "group")
SLOW_SECONDS = 1.0
STALE_SECONDS = 15 * 60
READ_RECENTLY = timedelta(days=2)  # the worker keeps periods read since then up to date
FORGET_AFTER = timedelta(days=7)  # and forgets periods nobody read since then
MARK_READ_EVERY = timedelta(hours=1)  # a read is written down at most this often (reads stay read-only)


def data_version() -> str:
    """Changes whenever anything the warnings count may have changed: the analytics facts' version (which
    moves with every ticket and invitation change, through the signals those domains send), the newest
    rows (for rows written without a signal, such as bulk loads), and the agents' names and groups and
    the groups' names (the warnings name them)."""
    # Analytics already counts every change of tickets and invitations; surveys reads its counter rather
    # than keeping a second one. Imported here: analytics is built on surveys, not the other way round.
    from itxm.analytics import facts

    facts.catch_up()
    newest = [
        model.objects.aggregate(top=Max("pk"))["top"] or 0 for model in (Invitation, Response, Ticket, TicketEvent)
    ]
    names = hashlib.blake2b(digest_size=8)
    for row in Agent.objects.order_by("pk").values_list("pk", "name", "group_id"):
        names.update(repr(row).encode())
    for row in Group.objects.order_by("pk").values_list("pk", "name"):
        names.update(repr(row).encode())
    return f"{facts.version()}:{'.'.join(map(str, newest))}:{names.hexdigest()}"


def compute(start: datetime, end: datetime) -> dict[str, list[gaming.GamingWarning]]:
    """The warnings of [start, end) by agent and by group, over the whole organisation."""
    baseline_start = start - timedelta(days=gaming.BASELINE_DAYS)
    answers, period, baseline = queries.gaming_inputs(EVERYTHING, start, end, baseline_start)
    return {by: gaming.detect_counted(answers, period, baseline, start, end, by) for by in BY}


def _encoded(found: dict[str, list[gaming.GamingWarning]]) -> dict:
    return {by: [asdict(warning) for warning in warnings] for by, warnings in found.items()}


def _decoded(stored: dict) -> dict[str, list[gaming.GamingWarning]]:
    return {
        by: [gaming.GamingWarning(**(item | {"examples": tuple(item["examples"])})) for item in stored.get(by, [])]
        for by in BY
    }


def refresh(
    start: datetime, end: datetime, version: str | None = None, read_at: datetime | None = None
) -> dict[str, list[gaming.GamingWarning]]:
    """Compute the warnings of [start, end) and store them; returns them. ``read_at``: when a period stored
    for the first time counts as read (now: it is being read); a stored period keeps its own."""
    version = version or data_version()  # read first: data changed while computing makes it stale
    began = time.perf_counter()
    found = compute(start, end)
    values = {
        "version": version,
        "warnings": _encoded(found),
        "computed_at": timezone.now(),
        "compute_seconds": round(time.perf_counter() - began, 3),
    }
    try:
        with transaction.atomic():
            GamingResult.objects.update_or_create(
                start=start,
                end=end,
                defaults=values,
                create_defaults=values | {"read_at": read_at or values["computed_at"]},
            )
    except IntegrityError:  # computed by another process at the same moment: theirs is as good
        pass
    return found


def read(start: datetime, end: datetime) -> dict[str, list[gaming.GamingWarning]]:
    """The warnings of [start, end) by agent and by group (see the module's text for how fresh)."""
    version = data_version()
    now = timezone.now()
    kept = GamingResult.objects.filter(start=start, end=end).first()
    if kept is None:
        return refresh(start, end, version)
    usable = kept.version == version or (
        kept.compute_seconds >= SLOW_SECONDS and now - kept.computed_at <= timedelta(seconds=STALE_SECONDS)
    )
    if not usable:
        return refresh(start, end, version)
    if now - kept.read_at >= MARK_READ_EVERY:
        GamingResult.objects.filter(pk=kept.pk).update(read_at=now)
    return _decoded(kept.warnings)


def counted_at(start: datetime, end: datetime) -> datetime | None:
    """When the warnings ``read`` answers for [start, end) were counted (they may be up to ``STALE_SECONDS``
    behind the data while the worker recounts); ``None`` before the first count."""
    return GamingResult.objects.filter(start=start, end=end).values_list("computed_at", flat=True).first()


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _next_periods(start: datetime, end: datetime, today: date) -> set[tuple[datetime, datetime]]:
    """What a period read before today is read as today. One starting on the first of a month is an XLA's
    month (or, from January, April, July or October, quarter) so far: today's month (and quarter) so far.
    Any other that ended with yesterday (the last N days) moves on by a day."""
    tomorrow = _day_start(today + timedelta(days=1))
    if end >= tomorrow:
        return set()
    if start.day == 1 and start == _day_start(start.date()):
        found = {(_day_start(today.replace(day=1)), tomorrow)}
        if start.month % 3 == 1:
            found.add((_day_start(today.replace(month=today.month - (today.month - 1) % 3, day=1)), tomorrow))
        return found
    return {(start + timedelta(days=1), tomorrow)} if end == _day_start(today) else set()


def refresh_due(today: date | None = None) -> int:
    """Recompute the periods read in the last days whose data changed, and today's continuation of those
    that ended with yesterday; forget periods nobody read for a week. Returns how many were computed."""
    version = data_version()
    now = timezone.now()
    today = today or now.date()
    GamingResult.objects.filter(read_at__lt=now - FORGET_AFTER).delete()
    recent = GamingResult.objects.filter(read_at__gte=now - READ_RECENTLY).values_list(
        "start", "end", "version", "read_at"
    )
    stored = {
        (start, end): kept
        for start, end, kept, _ in GamingResult.objects.values_list("start", "end", "version", "read_at")
    }
    # A continuation counts as read when its period was: nobody reading it, it is not carried on for ever.
    due = {(start, end): None for start, end, kept, _ in recent if kept != version}
    for start, end, _, read_at in recent:
        for period in _next_periods(start, end, today):
            if stored.get(period) != version:
                due.setdefault(period, read_at)
    for (start, end), read_at in sorted(due.items()):
        refresh(start, end, version, read_at)
    return len(due)
