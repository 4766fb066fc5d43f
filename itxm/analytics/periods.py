"""Periods: a start day and an end day (excluded); months and quarters for XLAs."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # excluded

    def __post_init__(self):
        if self.end <= self.start:
            raise ValueError("a period ends after it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


# The period a reader gets when they name none: the 90 days up to today.
DEFAULT_DAYS = 90


class InvertedPeriod(ValueError):
    """A period asked for whose end does not come after its start (the API answers 400)."""

    field = "end"


def requested(start: date | None, end: date | None, today: date, days: int = DEFAULT_DAYS) -> Period:
    """The period a reader asks for with an optional first day and an optional end (the first day after
    it); by default the ``days`` days up to ``today``."""
    end = end or today + timedelta(days=1)
    start = start or end - timedelta(days=days)
    if end <= start:
        raise InvertedPeriod("end comes after start")
    return Period(start, end)


def day_start(day: date) -> datetime:
    """The moment a day starts. Analytics days are UTC days (facts.py), so moments (invitations,
    answers) are compared with the same boundaries."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def next_month(day: date) -> date:
    """The first day of the month after the one holding ``day``."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    return Period(start, next_month(start))


def quarter_of(day: date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end = date(start.year + (first_month == 10), (first_month + 2) % 12 + 1, 1)
    return Period(start, end)


def calendar_period(kind: str, day: date) -> Period:
    return quarter_of(day) if kind == "quarter" else month_of(day)


def last_periods(kind: str, today: date, count: int) -> list[Period]:
    """The ``count`` calendar periods up to the one holding ``today``, oldest first."""
    periods = [calendar_period(kind, today)]
    while len(periods) < count:
        periods.append(calendar_period(kind, periods[-1].start - timedelta(days=1)))
    return periods[::-1]


def buckets(period: Period, size: str) -> list[Period]:
    """The weeks (Monday to Sunday) or months that cover a period, clipped to it."""
    found = []
    start = period.start
    while start < period.end:
        if size == "month":
            end = month_of(start).end
        elif size == "day":
            end = start + timedelta(days=1)
        else:
            end = start + timedelta(days=7 - start.weekday())
        found.append(Period(start, min(end, period.end)))
        start = found[-1].end
    return found
