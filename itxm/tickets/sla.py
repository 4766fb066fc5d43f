"""SLA engine: business time, deadlines and verdicts. Pure Python, no Django.

Business time is counted on the instant line: an instant counts when the wall-clock time it shows in the
schedule's time zone lies inside a working interval whose day is not a holiday. Everything else follows:

- A working interval belongs to the local day it starts on. ``Fri 22:00-06:00`` runs into Saturday; a holiday
  on Saturday does not touch it, a holiday on Friday removes all of it.
- Across DST changes real elapsed seconds are counted. ``08:00-18:00`` is 10 h on DST days too (clocks change
  at night); ``00:00-06:00`` holds 5 h when clocks go forward and 7 h when they go back, because 01:00-02:00
  happens twice. 24/7 days are 23 h and 25 h long.
- Resolution is one second: sub-second parts of the endpoints are dropped.

See docs/sla.md for the model and worked examples.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from math import floor
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY = 86_400
WEEK = 7 * DAY
_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# 1970-01-01 was a Thursday: shifting by three days puts week boundaries on Monday 00:00.
_MONDAY_SHIFT = 3 * DAY

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAY_KEYS = {name.lower(): n for n, name in enumerate(WEEKDAY_NAMES)} | {
    name: n for n, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")

IntervalSpec = str | tuple[time | str, time | str]


# --- schedules -----------------------------------------------------------------------------------------------


def _clock_seconds(value: time | str, *, allow_24: bool) -> int:
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError(f"working hours are local wall-clock times, got {value} with a time zone")
        return value.hour * 3600 + value.minute * 60 + value.second
    if not isinstance(value, str) or not (match := _CLOCK.match(value.strip())):
        raise ValueError(f"{value!r} is not a time of day like '08:00'")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or total > DAY or (total == DAY and not allow_24):
        raise ValueError(f"{value!r} is not a time of day between 00:00 and 24:00")
    return total


def _parse_interval(spec: IntervalSpec) -> tuple[int, int]:
    """(start, end) in seconds after the starting day's midnight; an end at or before the start is next day."""
    if isinstance(spec, str):
        parts = re.split(r"\s*[-–]\s*", spec.strip())
        if len(parts) != 2:
            raise ValueError(f"{spec!r} is not a working interval like '08:00-18:00'")
    elif isinstance(spec, tuple | list) and len(spec) == 2:
        parts = spec
    else:
        raise ValueError(f"{spec!r} is not a working interval like '08:00-18:00' or (time(8), time(18))")
    start = _clock_seconds(parts[0], allow_24=False)
    end = _clock_seconds(parts[1], allow_24=True)
    if end <= start:
        end += DAY  # crosses midnight; equal ends make a 24-hour interval
    return start, min(end, start + DAY)


def _is_clock_pair(value) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(part, time) or (isinstance(part, str) and _CLOCK.match(part.strip())) for part in value)
    )


def _weekday(key: int | str) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    if isinstance(key, str) and key.strip().lower() in _WEEKDAY_KEYS:
        return _WEEKDAY_KEYS[key.strip().lower()]
    raise ValueError(f"{key!r} is not a weekday: use 0 (Monday) to 6 (Sunday) or a name like 'mon'")


def _holiday(value: date | str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"holidays are local dates, got the datetime {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a holiday date like '2025-01-01'")


def _clock_text(seconds: int) -> str:
    seconds %= DAY
    text = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text + (f":{seconds % 60:02d}" if seconds % 60 else "")


def _interval_text(weekday: int, start: int, end: int) -> str:
    end_text = "24:00" if end == DAY else _clock_text(end)
    return f"{WEEKDAY_NAMES[weekday]} {_clock_text(start)}-{end_text}"


class BusinessSchedule:
    """When the SLA clock may run: working intervals per weekday in a time zone, minus holidays.

    ``hours`` maps a weekday (0 = Monday or 'mon') to intervals such as ``'08:00-18:00'`` or
    ``(time(8), time(18))``. An end at or before the start means the interval runs into the next day
    (``'22:00-06:00'``; ``'08:00-08:00'`` is 24 hours); ``'24:00'`` is the end of the day. Intervals may not
    overlap, also not across midnight or from Sunday into Monday. ``holidays`` are local dates; an interval
    belongs to the day it starts on, so a holiday removes the intervals starting that day, whole.
    """

    __slots__ = (
        "time_zone",
        "zone",
        "hours",
        "holidays",
        "week_seconds",
        "_holiday_days",
        "_holiday_set",
        "_starts",
        "_ends",
        "_before",
    )

    def __init__(
        self,
        time_zone: str,
        hours: Mapping[int | str, Iterable[IntervalSpec]],
        holidays: Iterable[date | str] = (),
    ):
        if not isinstance(time_zone, str) or not time_zone:
            raise ValueError(f"{time_zone!r} is not a time zone name like 'Europe/Istanbul'")
        try:
            self.zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {time_zone!r}") from None
        self.time_zone = time_zone

        by_weekday: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for key, intervals in hours.items():
            if isinstance(intervals, str) or _is_clock_pair(intervals):
                intervals = [intervals]  # one interval given without a list around it
            by_weekday[_weekday(key)].extend(_parse_interval(spec) for spec in intervals)
        self.hours: tuple[tuple[tuple[int, int], ...], ...] = tuple(tuple(sorted(day)) for day in by_weekday)

        # The week as a circle of seconds from Monday 00:00; an interval past Sunday midnight wraps to Monday.
        pieces = []
        for weekday, intervals in enumerate(self.hours):
            for start, end in intervals:
                origin = (weekday, start, end)
                first, last = weekday * DAY + start, weekday * DAY + end
                pieces.append((first, min(last, WEEK), origin))
                if last > WEEK:
                    pieces.append((0, last - WEEK, origin))
        pieces.sort()
        for (_, prev_end, prev), (start, _, this) in zip(pieces, pieces[1:], strict=False):
            if start < prev_end:
                raise ValueError(f"working intervals overlap: {_interval_text(*prev)} and {_interval_text(*this)}")
        self._starts = [start for start, _, _ in pieces]
        self._ends = [end for _, end, _ in pieces]
        self._before = []
        covered = 0
        for start, end, _ in pieces:
            self._before.append(covered)
            covered += end - start
        self.week_seconds = covered

        self.holidays = frozenset(_holiday(value) for value in holidays)
        self._holiday_days = sorted(day.toordinal() - _EPOCH_ORDINAL for day in self.holidays)
        self._holiday_set = frozenset(self._holiday_days)

    @classmethod
    def twenty_four_seven(cls, time_zone: str = "UTC", holidays: Iterable[date | str] = ()) -> BusinessSchedule:
        return cls(time_zone, {weekday: ["00:00-24:00"] for weekday in range(7)}, holidays)

    @classmethod
    def weekdays(
        cls, time_zone: str, *intervals: IntervalSpec, holidays: Iterable[date | str] = ()
    ) -> BusinessSchedule:
        """The same intervals Monday to Friday, e.g. ``BusinessSchedule.weekdays('Europe/Istanbul', '08:00-18:00')``."""
        return cls(time_zone, {weekday: intervals for weekday in range(5)}, holidays)

    def _key(self):
        return (self.time_zone, self.hours, self.holidays)

    def __eq__(self, other):
        return isinstance(other, BusinessSchedule) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        hours = ", ".join(
            _interval_text(weekday, start, end) for weekday, day in enumerate(self.hours) for start, end in day
        )
        return f"BusinessSchedule({self.time_zone!r}, [{hours}], {len(self.holidays)} holidays)"

    # Wall time below is seconds since 1970-01-01 00:00 on the local clock, read as if it never jumped.

    def _covered_before(self, wall: int) -> int:
        """Working seconds of the weekly pattern (holidays ignored) in wall time before ``wall``."""
        weeks, offset = divmod(wall + _MONDAY_SHIFT, WEEK)
        i = bisect_right(self._starts, offset) - 1
        partial = 0 if i < 0 else self._before[i] + min(offset, self._ends[i]) - self._starts[i]
        return weeks * self.week_seconds + partial

    def _wall_seconds(self, first: int, last: int) -> int:
        """Working seconds in wall time [first, last)."""
        covered = self._covered_before(last) - self._covered_before(first)
        days = self._holiday_days
        if days:
            # A day's intervals lie within that day and the next, so only holidays from the day before count.
            lo = bisect_left(days, first // DAY - 1)
            hi = bisect_right(days, (last - 1) // DAY)
            for day in days[lo:hi]:
                base = day * DAY
                for start, end in self.hours[(day + 3) % 7]:
                    overlap = min(last, base + end) - max(first, base + start)
                    if overlap > 0:
                        covered -= overlap
        return covered

    def _wall_after(self, first: int, seconds: int) -> int:
        """The earliest wall time ``last`` with ``_wall_seconds(first, last) == seconds`` (seconds > 0)."""
        week = self.week_seconds
        while seconds > 2 * week:  # skip whole weeks, then walk the last two day by day
            weeks = seconds // week - 1
            seconds -= self._wall_seconds(first, first + weeks * WEEK)
            first += weeks * WEEK
        day = first // DAY - 1
        while True:
            if day not in self._holiday_set:
                base = day * DAY
                for start, end in self.hours[(day + 3) % 7]:
                    begin = max(base + start, first)
                    available = base + end - begin
                    if available > 0:
                        if available >= seconds:
                            return begin + seconds
                        seconds -= available
            day += 1


# --- time zones ----------------------------------------------------------------------------------------------

# UTC offset changes are found once per zone and stretch of time by sampling, then cached.
_STRETCH = 364 * DAY
_SAMPLE = 6 * 3600
_FIRST = int((datetime(1, 1, 2, tzinfo=UTC) - _EPOCH).total_seconds())
_LAST = int((datetime(9999, 12, 30, tzinfo=UTC) - _EPOCH).total_seconds())
_transitions: dict[tuple[str, int], tuple[int, list[int], list[int]]] = {}


def _offset_at(zone: ZoneInfo, instant: int) -> int:
    moment = _EPOCH + timedelta(seconds=min(max(instant, _FIRST), _LAST))
    return moment.astimezone(zone).utcoffset() // _SECOND


def _stretch(zone: ZoneInfo, key: str, n: int) -> tuple[int, list[int], list[int]]:
    """Offset at the start of stretch ``n``, and the instants of offset changes in it with the offsets after."""
    cached = _transitions.get((key, n))
    if cached is not None:
        return cached
    begin = n * _STRETCH
    first_offset = current = _offset_at(zone, begin)
    times: list[int] = []
    offsets: list[int] = []
    at = begin
    while at < begin + _STRETCH:
        step_end = min(at + _SAMPLE, begin + _STRETCH)
        while _offset_at(zone, step_end) != current:
            lo, hi = at, step_end  # offset(lo) == current, offset(hi) differs
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_at(zone, mid) == current:
                    lo = mid
                else:
                    hi = mid
            current = _offset_at(zone, hi)
            times.append(hi)
            offsets.append(current)
            at = hi
        at = step_end
    cached = _transitions[(key, n)] = (first_offset, times, offsets)
    return cached


def _offset_pieces(schedule: BusinessSchedule, first: int, last: int | None) -> Iterator[tuple[int, int, int]]:
    """(start, end, utc offset) pieces of constant offset covering instants [first, last); endless if last is None."""
    n = first // _STRETCH
    while last is None or n * _STRETCH < last:
        offset, times, offsets = _stretch(schedule.zone, schedule.time_zone, n)
        begin = max(first, n * _STRETCH)
        end = (n + 1) * _STRETCH if last is None else min(last, (n + 1) * _STRETCH)
        i = bisect_right(times, begin)
        if i:
            offset = offsets[i - 1]
        while i < len(times) and times[i] < end:
            yield begin, times[i], offset
            begin, offset = times[i], offsets[i]
            i += 1
        yield begin, end, offset
        n += 1


def _instant(moment: datetime, name: str) -> int:
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {moment!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got {moment.isoformat()}")
    return floor(moment.timestamp())  # exact for whole seconds, twice as fast as (moment - _EPOCH) // _SECOND


# --- business time -------------------------------------------------------------------------------------------


def business_seconds(schedule: BusinessSchedule, start: datetime, end: datetime) -> int:
    """Working seconds between two aware datetimes (any time zone); 0 when end is not after start."""
    first, last = _instant(start, "start"), _instant(end, "end")
    if last <= first:
        return 0
    n = first // _STRETCH
    if last <= (n + 1) * _STRETCH:  # the common case: one stretch, no offset change in between
        offset, times, offsets = _stretch(schedule.zone, schedule.time_zone, n)
        i = bisect_right(times, first)
        if i == len(times) or times[i] >= last:
            if i:
                offset = offsets[i - 1]
            return schedule._wall_seconds(first + offset, last + offset)
    return sum(schedule._wall_seconds(a + offset, b + offset) for a, b, offset in _offset_pieces(schedule, first, last))


def add_business_seconds(schedule: BusinessSchedule, start: datetime, seconds: int) -> datetime:
    """The deadline: the earliest instant by which ``seconds`` of working time have passed since ``start``.

    Returned in UTC: a local time in the hour repeated when clocks go back (``fold=1``) never compares equal
    to other zones' datetimes (PEP 495), and compares wrongly with its own zone's. ``seconds == 0`` gives ``start``.
    """
    if not isinstance(seconds, int) or seconds < 0:
        raise ValueError(f"seconds must be a whole number of seconds, 0 or more, got {seconds!r}")
    first = _instant(start, "start")
    if seconds == 0:
        return start.astimezone(UTC)
    if schedule.week_seconds == 0:
        raise ValueError(f"{schedule!r} has no working time, so no deadline can be reached")
    for a, b, offset in _offset_pieces(schedule, first, None):
        available = schedule._wall_seconds(a + offset, b + offset)
        if available >= seconds:
            wall = schedule._wall_after(a + offset, seconds)
            return datetime.fromtimestamp(wall - offset, UTC)
        seconds -= available
    raise AssertionError("unreachable: the offset pieces never end")


Pause = tuple[datetime, datetime]


def merge_spans(spans: Iterable[Pause], start: datetime, end: datetime) -> list[Pause]:
    """Spans clipped to [start, end], sorted, overlapping or touching ones merged."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans)
    merged: list[Pause] = []
    for a, b in clipped:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def elapsed_business_seconds(
    schedule: BusinessSchedule, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> int:
    """Working seconds between start and end that fall outside every pause (pauses may overlap)."""
    pauses = list(pauses)
    for a, b in pauses:
        _instant(a, "pause start")
        _instant(b, "pause end")
    total = business_seconds(schedule, start, end)
    if total:
        total -= sum(business_seconds(schedule, a, b) for a, b in merge_spans(pauses, start, end))
    return total


# --- SLA definitions and verdicts ----------------------------------------------------------------------------

Target = Literal["response", "resolution"]
OnReopen = Literal["continue", "restart"]
STOP_STATES = frozenset({"resolved", "closed", "cancelled"})


class TicketFacts(Protocol):
    """What a definition filters on; a Ticket row has these attributes too."""

    kind: str
    priority: int | None
    service_id: int | None
    group_id: int | None


@dataclass(frozen=True)
class Facts:
    kind: str
    priority: int | None = None
    service_id: int | None = None
    group_id: int | None = None


def _optional_set(value, name: str) -> frozenset | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be a set of values or None (any), got {value!r}")
    return frozenset(value)


@dataclass(frozen=True)
class SlaDefinition:
    """One SLA: which tickets it covers, what it measures, how long it allows and when its clock stops.

    Filters left at None match any ticket. ``pause_states`` hold the clock (on hold, waiting for the caller or a
    vendor); ``stop_states`` end it (resolution). ``on_reopen``: ``"continue"`` keeps counting from the first
    opening, not counting the time the ticket sat resolved; ``"restart"`` starts a fresh clock at the reopening.
    """

    name: str
    target: Target
    target_seconds: int
    schedule: BusinessSchedule
    kinds: frozenset[str] | None = None
    priorities: frozenset[int] | None = None
    service_ids: frozenset[int] | None = None
    group_ids: frozenset[int] | None = None
    pause_states: frozenset[str] = frozenset()
    stop_states: frozenset[str] = STOP_STATES
    on_reopen: OnReopen = "continue"

    def __post_init__(self):
        if self.target not in ("response", "resolution"):
            raise ValueError(f"target must be 'response' or 'resolution', got {self.target!r}")
        if isinstance(self.target_seconds, bool) or not isinstance(self.target_seconds, int) or self.target_seconds < 1:
            raise ValueError(f"target_seconds must be a whole number of seconds above 0, got {self.target_seconds!r}")
        if not isinstance(self.schedule, BusinessSchedule):
            raise ValueError(f"schedule must be a BusinessSchedule, got {self.schedule!r}")
        if self.on_reopen not in ("continue", "restart"):
            raise ValueError(f"on_reopen must be 'continue' or 'restart', got {self.on_reopen!r}")
        for name in ("kinds", "priorities", "service_ids", "group_ids"):
            object.__setattr__(self, name, _optional_set(getattr(self, name), name))
        for name in ("pause_states", "stop_states"):
            object.__setattr__(self, name, _optional_set(getattr(self, name), name) or frozenset())
        if not self.stop_states:
            raise ValueError("stop_states must name at least one state, e.g. 'resolved'")
        if both := self.pause_states & self.stop_states:
            raise ValueError(f"a state cannot both pause and stop the clock: {', '.join(sorted(both))}")

    def matches(self, ticket: TicketFacts) -> bool:
        return (
            (self.kinds is None or ticket.kind in self.kinds)
            and (self.priorities is None or ticket.priority in self.priorities)
            and (self.service_ids is None or ticket.service_id in self.service_ids)
            and (self.group_ids is None or ticket.group_id in self.group_ids)
        )


@dataclass(frozen=True)
class Timeline:
    """A ticket's clock inputs. ``states``: (when, new state) in order. ``now`` is needed while it is open.

    ``resolved_at`` is the latest resolution: the resolution clock stops there for good and later states are
    ignored (sources clear or move it when a ticket is reopened).
    """

    opened_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    states: Sequence[tuple[datetime, str]] = ()
    now: datetime | None = None


@dataclass(frozen=True)
class SlaResult:
    name: str
    target: Target
    elapsed_seconds: int  # business seconds the clock ran
    target_seconds: int
    percent_used: float
    breached: bool
    met: bool | None  # None while the clock runs and the target is not yet exceeded
    deadline: datetime  # when the target is (or was, or would have been) reached, given the pauses so far
    paused_seconds: int  # business seconds the clock was held by a pause state
    started_at: datetime  # the clock's start: opening, or the last reopening under "restart"
    stopped_at: datetime | None  # None while running

    @property
    def running(self) -> bool:
        return self.stopped_at is None


_RUN, _PAUSE, _STOP = "run", "pause", "stop"


def _clock_changes(definition: SlaDefinition, timeline: Timeline) -> list[tuple[datetime, str]]:
    """(when, run/pause/stop) from the opening on; later entries win when times are equal."""
    opened = timeline.opened_at
    changes = [(opened, _RUN)]
    previous = opened
    for at, state in timeline.states:
        _instant(at, "state change time")
        if at < previous:
            raise ValueError(f"state history must be in time order: {at.isoformat()} comes after {previous}")
        previous = at
        if timeline.resolved_at is not None and at >= timeline.resolved_at:
            break
        mode = _STOP if state in definition.stop_states else _PAUSE if state in definition.pause_states else _RUN
        changes.append((max(at, opened), mode))
    if timeline.resolved_at is not None:
        changes.append((max(timeline.resolved_at, opened), _STOP))
    # Equal times: the last change at that instant holds.
    collapsed: list[tuple[datetime, str]] = []
    for at, mode in changes:
        if collapsed and collapsed[-1][0] == at:
            collapsed[-1] = (at, mode)
        elif not collapsed or collapsed[-1][1] != mode:
            collapsed.append((at, mode))
    return collapsed


def evaluate(definition: SlaDefinition, timeline: Timeline) -> SlaResult:
    """Business time used, verdict and deadline of one SLA on one ticket."""
    schedule = definition.schedule
    _instant(timeline.opened_at, "opened_at")
    changes = _clock_changes(definition, timeline)

    start = timeline.opened_at
    if definition.target == "response":
        stop = timeline.first_response_at
        if stop is not None:
            _instant(stop, "first_response_at")
            stop = max(stop, start)
        else:  # resolved without a recorded response: the resolution was the response
            stop = next((at for at, mode in changes if mode == _STOP), None)
    else:
        if definition.on_reopen == "restart":
            for (_, before), (at, mode) in zip(changes, changes[1:], strict=False):
                if before == _STOP and mode != _STOP:
                    start = at
        stop = changes[-1][0] if changes[-1][1] == _STOP else None

    end = stop
    if end is None:
        if timeline.now is None:
            raise ValueError("the SLA clock is still running: pass the timeline's now")
        _instant(timeline.now, "now")
        end = max(timeline.now, start)

    elapsed = paused = 0
    remaining, deadline = definition.target_seconds, None
    boundaries = [*changes, (end, _STOP)]
    for (a, mode), (b, _) in zip(boundaries, boundaries[1:], strict=False):
        a, b = max(a, start), min(b, end)
        if b <= a or mode == _STOP:
            continue
        seconds = business_seconds(schedule, a, b)
        if mode == _PAUSE:
            paused += seconds
            continue
        if deadline is None and seconds >= remaining:
            deadline = add_business_seconds(schedule, a, remaining)
        remaining -= seconds
        elapsed += seconds
    if deadline is None:  # not reached yet: assume the clock runs on from the end without further pauses
        deadline = add_business_seconds(schedule, end, remaining)

    breached = elapsed > definition.target_seconds
    return SlaResult(
        name=definition.name,
        target=definition.target,
        elapsed_seconds=elapsed,
        target_seconds=definition.target_seconds,
        percent_used=round(100 * elapsed / definition.target_seconds, 1),
        breached=breached,
        met=False if breached else (True if stop is not None else None),
        deadline=deadline,
        paused_seconds=paused,
        started_at=start,
        stopped_at=stop,
    )


def compliance(results: Iterable[SlaResult]) -> float | None:
    """% of decided results that met their target; a result is decided once finished or already breached."""
    decided = [result.met for result in results if result.met is not None]
    if not decided:
        return None
    return round(100 * sum(decided) / len(decided), 1)


@dataclass(frozen=True)
class Disagreement:
    ticket_id: Hashable
    ours: bool  # True: met
    source: bool


def verdict_disagreements(verdicts: Mapping[Hashable, tuple[bool | None, bool | None]]) -> list[Disagreement]:
    """Tickets where our met/not-met verdict differs from the source's (ServiceNow made_sla, a Jira cycle).

    ``verdicts`` maps a ticket id to (ours, the source's); a missing verdict (None) on either side is not a
    disagreement. Input order is kept.
    """
    return [
        Disagreement(ticket_id, ours, source)
        for ticket_id, (ours, source) in verdicts.items()
        if ours is not None and source is not None and bool(ours) != bool(source)
    ]
