"""Reads of the facts and rollups, each inside a ``Scope`` (the only scoping code is ``Scope.apply``)."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime

from django.db.models import Count, F, Q, QuerySet, Sum

from itxm.analytics.facts import DIMENSIONS, MEASURES, TEXT_MEMBERS, TICKET_MEASURES
from itxm.analytics.models import (
    SAMPLE_SLICES,
    TOTAL,
    FactorRollup,
    MonthFactorRollup,
    MonthRollup,
    MonthTicketRollup,
    Rollup,
    SurveyFact,
    TicketFact,
    TicketRollup,
)
from itxm.analytics.periods import next_month
from itxm.org.scopes import Scope

# Filters a rollup can answer: the group and service are part of every rollup row.
ROLLUP_FILTERS = {"group": "group_id", "service": "service_id"}
SUMS = {name: Sum(name) for name in MEASURES}
TICKET_SUMS = {name: Sum(name) for name in TICKET_MEASURES}
GRID_MEASURES = ("answered", "promoters", "detractors", "lost_minutes", "lost_cost")


def split_by_month(
    start: date, end: date, today: date | None = None
) -> tuple[list[tuple[date, date]], tuple[date, date] | None]:
    """[start, end) as the whole months inside it (read from the monthly rollups) and the days at either
    end (read from the daily ones). Nothing is stored after today: a period that runs past it holds
    today's month whole."""
    today = today or datetime.now(UTC).date()
    first_whole = start if start.day == 1 else next_month(start.replace(day=1))
    after_whole = end.replace(day=1)
    if end > today and after_whole <= today < end and end != after_whole:
        after_whole = next_month(after_whole)
    if first_whole >= after_whole:
        return [(start, end)], None
    edges = [(low, high) for low, high in ((start, first_whole), (after_whole, end)) if low < high]
    return edges, (first_whole, after_whole)


def _rollup_parts(daily, monthly, scope: Scope, dimension: str, start: date, end: date,
                  filters: Mapping[str, int], member: str | None) -> list[QuerySet]:  # fmt: skip
    return [
        _within(qs.filter(dimension=dimension), scope, filters, member)
        for qs in _period_parts(daily, monthly, start, end)
    ]


def _period_parts(daily, monthly, start: date, end: date) -> list[QuerySet]:
    """The rows of [start, end): its whole months from the monthly table, the days at either end from the
    daily one."""
    edges, months = split_by_month(start, end)
    parts = []
    if edges:
        days = Q()
        for low, high in edges:
            days |= Q(day__gte=low, day__lt=high)
        parts.append(daily.objects.filter(days))
    if months:
        parts.append(monthly.objects.filter(day__gte=months[0], day__lt=months[1]))
    return parts


def _within(
    qs: QuerySet, scope: Scope, filters: Mapping[str, int], member: str | None = None, totals: bool = True
) -> QuerySet:
    """Rollup rows of the scope: the total rows for a reader who sees everything unfiltered (unless
    ``totals`` is false: the rows are wanted per service), the rows of each group and service otherwise
    (never both, or they would count twice)."""
    if member is not None:
        qs = qs.filter(member=member)
    if totals and not scope.is_restricted and not filters:
        return qs.filter(group_id=TOTAL, service_id=TOTAL)
    for name, value in filters.items():
        qs = qs.filter(**{ROLLUP_FILTERS[name]: value})
    return scope.apply(qs.exclude(group_id=TOTAL))


def sums_by_member(
    scope: Scope, dimension: str, start: date, end: date, filters: Mapping[str, int] = {}, member: str | None = None
) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for qs in _rollup_parts(Rollup, MonthRollup, scope, dimension, start, end, filters, member):
        for row in qs.values("member").annotate(**SUMS).order_by():
            key = row.pop("member")
            if key in found:
                found[key] = {name: (found[key][name] or 0) + (value or 0) for name, value in row.items()}
            else:
                found[key] = row
    return found


def ticket_sums(
    scope: Scope, dimension: str, start: date, end: date, filters: Mapping[str, int] = {}, by_service: bool = False
) -> dict:
    """The ticket rollups of a period (paths by the day resolved, channels by the day opened) summed per
    member, or per member and service (``by_service``: keys ``(member, service_id)``)."""
    fields = ("member", "service_id") if by_service else ("member",)
    found: dict = {}
    for qs in _period_parts(TicketRollup, MonthTicketRollup, start, end):
        qs = _within(qs.filter(dimension=dimension), scope, filters, totals=not by_service)
        for row in qs.values(*fields).annotate(**TICKET_SUMS).order_by():
            key = tuple(row.pop(field) for field in fields) if by_service else row.pop("member")
            before = found.get(key)
            found[key] = {name: (value or 0) + (before[name] if before else 0) for name, value in row.items()}
    return found


def sums_by_day(
    scope: Scope, dimension: str, member: str, start: date, end: date, filters: Mapping[str, int] = {}
) -> list[tuple[date, dict]]:
    qs = _within(Rollup.objects.filter(dimension=dimension, day__gte=start, day__lt=end), scope, filters, member)
    rows = qs.values("day").annotate(**SUMS).order_by("day")
    return [(row.pop("day"), row) for row in rows]


def sums_by_month(scope: Scope, dimension: str, member: str, first: date, after: date) -> dict[date, dict]:
    """One member's sums per calendar month from ``first`` to ``after`` (first days of months)."""
    qs = _within(MonthRollup.objects.filter(dimension=dimension, day__gte=first, day__lt=after), scope, {}, member)
    return {row.pop("day"): row for row in qs.values("day").annotate(**SUMS).order_by("day")}


def factor_counts_by_month(
    scope: Scope, dimension: str, member: str, first: date, after: date
) -> dict[date, dict[str, int]]:
    qs = _within(
        MonthFactorRollup.objects.filter(dimension=dimension, day__gte=first, day__lt=after), scope, {}, member
    )
    found: dict[date, dict[str, int]] = defaultdict(dict)
    for row in qs.values("day", "factor").annotate(total=Sum("answers")).order_by():
        found[row["day"]][row["factor"]] = row["total"]
    return found


def factor_counts(
    scope: Scope,
    dimension: str,
    start: date,
    end: date,
    filters: Mapping[str, int] = {},
    member: str | None = None,
    members: set[str] | None = None,
) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for qs in _rollup_parts(FactorRollup, MonthFactorRollup, scope, dimension, start, end, filters, member):
        if members is not None:
            qs = qs.filter(member__in=members)
        for row in qs.values("member", "factor").annotate(total=Sum("answers")).order_by():
            counts = found[row["member"]]
            counts[row["factor"]] = counts.get(row["factor"], 0) + row["total"]
    return found


def _fact_filter(dimension: str, member: str | None, filters: Mapping[str, int]) -> Q:
    condition = Q()
    column = DIMENSIONS[dimension]
    if column is not None:
        condition &= ~Q(**{column: ""}) if dimension in TEXT_MEMBERS else Q(**{f"{column}__isnull": False})
        if member is not None:
            condition &= Q(**{column: member})
    for name, value in filters.items():
        condition &= Q(**{DIMENSIONS[name]: value})
    return condition


def resolution_seconds(
    scope: Scope,
    dimension: str,
    start: date,
    end: date,
    filters: Mapping[str, int] = {},
    member: str | None = None,
    slices: int = SAMPLE_SLICES,
    members: set[str] | None = None,
) -> dict[str, list[int]]:
    """Resolution times of the tickets resolved in the period, per member (for percentiles); with fewer
    ``slices`` than all, a sample of slices / SAMPLE_SLICES of them (by ticket id)."""
    column = DIMENSIONS[dimension]
    qs = scope.apply(
        TicketFact.objects.filter(
            _fact_filter(dimension, member, filters), resolved_day__gte=start, resolved_day__lt=end
        )
    )
    if slices < SAMPLE_SLICES:
        qs = qs.filter(sample__in=range(slices))  # IN, not <: SQLite then picks the index
    if members is not None and column is not None:
        qs = qs.filter(**{f"{column}__in": [m if dimension in TEXT_MEMBERS else int(m) for m in members]})
    values: dict[str, list[int]] = defaultdict(list)
    if column is None:
        values[""] = list(qs.values_list("resolution_seconds", flat=True))
        return values
    for key, seconds in qs.values_list(column, "resolution_seconds").iterator(chunk_size=20000):
        values[str(key)].append(seconds)
    return values


def answer_grid(
    scope: Scope, rows: str, columns: str, start: date, end: date, filters: Mapping[str, int] = {}
) -> list[dict]:
    """Answers counted by two dimensions at once (a hotspot grid), straight from the facts."""
    row_column, column_column = DIMENSIONS[rows], DIMENSIONS[columns]
    qs = scope.apply(
        SurveyFact.objects.filter(_fact_filter(rows, None, filters), answered_day__gte=start, answered_day__lt=end)
    ).filter(_fact_filter(columns, None, {}))
    return list(
        qs.values(row=F(row_column), column=F(column_column))
        .annotate(
            answers=Count("invitation_id"),
            promoters=Count("invitation_id", filter=Q(score__gte=9)),
            detractors=Count("invitation_id", filter=Q(score__lte=6)),
            lost_minutes=Sum("lost_minutes"),
            lost_cost=Sum("lost_cost"),
        )
        .order_by()
    )


def rollup_grid(
    scope: Scope, rows: str, columns: str, start: date, end: date, filters: Mapping[str, int] = {}
) -> list[dict] | None:
    """``answer_grid`` from the rollups, when one of the two dimensions is the group or the service (the
    columns every rollup row carries beside its member); None otherwise. The rows of each group and
    service are read (not the totals), those without the group or service left out as the facts are."""
    if columns in ROLLUP_FILTERS:
        dimension, column, transposed = rows, ROLLUP_FILTERS[columns], False
    elif rows in ROLLUP_FILTERS:
        dimension, column, transposed = columns, ROLLUP_FILTERS[rows], True
    else:
        return None
    found: dict[tuple[str, int], dict] = {}
    for qs in _period_parts(Rollup, MonthRollup, start, end):
        qs = qs.filter(dimension=dimension, **{f"{column}__isnull": False}).exclude(group_id=TOTAL)
        for name, value in filters.items():
            qs = qs.filter(**{ROLLUP_FILTERS[name]: value})
        cells = (
            scope.apply(qs)
            .values("member", column)
            .annotate(**{name: SUMS[name] for name in GRID_MEASURES})
            .filter(answered__gt=0)
            .order_by()
        )
        for cell in cells:
            key = (cell.pop("member"), cell.pop(column))
            before = found.get(key)
            found[key] = {name: (cell[name] or 0) + (before[name] if before else 0) for name in GRID_MEASURES}
    grid = []
    for (member, other), sums in found.items():
        row, col = (other, member) if transposed else (member, other)
        grid.append({"row": row, "column": col, "answers": sums["answered"], "promoters": sums["promoters"],
                     "detractors": sums["detractors"], "lost_minutes": sums["lost_minutes"],
                     "lost_cost": sums["lost_cost"]})  # fmt: skip
    return grid


def answers(scope: Scope, start: date, end: date, dimension: str = "all", member: str | None = None,
            filters: Mapping[str, int] = {}) -> QuerySet:  # fmt: skip
    """The answered survey facts of a period, for statistics that need one row per answer."""
    return scope.apply(
        SurveyFact.objects.filter(
            _fact_filter(dimension, member, filters), answered_day__gte=start, answered_day__lt=end
        )
    )


def tickets(scope: Scope, start: date, end: date, dimension: str = "all", member: str | None = None,
            filters: Mapping[str, int] = {}, by: str = "resolved_day") -> QuerySet:  # fmt: skip
    """The ticket facts of a period (by resolution day, or ``by="opened_day"``)."""
    return scope.apply(
        TicketFact.objects.filter(_fact_filter(dimension, member, filters), **{f"{by}__gte": start, f"{by}__lt": end})
    )
