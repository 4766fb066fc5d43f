"""Analytics for pages and the API: metrics, trends, watermelons, priorities, hotspots.

Every function takes the reader's ``Scope`` and returns plain data. Each first catches the facts up with
what was stored since (``facts.catch_up``), so a dashboard never lags behind ingestion.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from django.conf import settings
from django.db.models import Count

from itxm.analytics import coverage, facts, queries
from itxm.analytics import metrics as maths
from itxm.analytics.models import SAMPLE_SLICES
from itxm.analytics.periods import Period, buckets
from itxm.devices import services as devices
from itxm.org.scopes import Permission, Scope
from itxm.surveys import services as surveys
from itxm.surveys.models import Factor, SurveyKind
from itxm.tickets.models import Channel

DIMENSIONS = tuple(facts.DIMENSIONS)
REFERENCES = ("target", "baseline", "previous")
# Up to this many resolved tickets, resolution percentiles are exact; beyond, from a sample of about as many.
PERCENTILE_SAMPLE = 5_000
# A list of members shows each one's most named factors; one member asked for shows all of them.
LISTED_FACTORS = 5


class AnalyticsError(ValueError):
    """A question analytics cannot answer as asked (unknown dimension, bad period, ...)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def check_dimension(dimension: str) -> str:
    if dimension not in facts.DIMENSIONS:
        raise AnalyticsError(f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}", "dimension")
    return dimension


def check_filters(filters: Mapping[str, int | None]) -> dict[str, int]:
    return {name: value for name, value in filters.items() if value is not None}


def min_answers() -> int:
    return settings.ANALYTICS_MIN_ANSWERS


@dataclass
class MemberMetrics:
    member: str
    label: str
    code: str
    metrics: dict
    factors: dict[str, list[dict]] = field(default_factory=dict)
    resolution_hours: dict[str, float | None] = field(default_factory=dict)


def labels(dimension: str, members, scope: Scope | None = None) -> dict[str, tuple[str, str]]:
    """(name, code) of each member, for people to read. Given the reader's scope, an agent is named by its
    code alone unless the reader may see people."""
    members = [m for m in members if m != ""]
    if dimension in coverage.MEMBER_MODELS:
        model = coverage.MEMBER_MODELS[dimension]
        ids = [int(m) for m in members if m.isdigit()]
        code = "external_id" if any(f.name == "external_id" for f in model._meta.fields) else "name"
        rows = model.objects.filter(pk__in=ids).values_list("pk", "name", code)
        if dimension == "agent" and scope is not None and not scope.allows(Permission.VIEW_PEOPLE):
            return {str(pk): (code, code) for pk, _, code in rows}
        return {str(pk): (name, code) for pk, name, code in rows}
    if dimension == "channel":
        return {m: (str(Channel(m).label) if m in Channel.values else m, m) for m in members}
    if dimension == "kind":
        return {m: (str(SurveyKind(m).label) if m in SurveyKind.values else m, m) for m in members}
    if dimension == "priority":
        return {m: (f"P{m}", m) for m in members}
    return {m: (m, m) for m in members}


def factor_polarities() -> dict[str, tuple[str, str, str]]:
    """key → (polarity, English label, Turkish label)."""
    return {
        key: (polarity, label_en, label_tr or label_en)
        for key, polarity, label_en, label_tr in Factor.objects.values_list("key", "polarity", "label_en", "label_tr")
    }


def _factor_shares(
    counts: Mapping[str, int], answers: int, polarities, top: int | None = None
) -> dict[str, list[dict]]:
    shares: dict[str, list[dict]] = {"positive": [], "negative": []}
    for key, count in sorted(counts.items(), key=lambda item: -item[1]):
        polarity, label_en, label_tr = polarities.get(key, ("negative", key, key))
        shares["positive" if polarity == "positive" else "negative"].append(
            {"factor": key, "label_en": label_en, "label_tr": label_tr, "answers": count,
             "share": maths.share(count, answers)}
        )  # fmt: skip
    return {polarity: listed[:top] for polarity, listed in shares.items()}


def metrics(
    scope: Scope,
    dimension: str,
    period: Period,
    filters: Mapping[str, int | None] = {},
    member: str | None = None,
    with_percentiles: bool = True,
    with_devices: bool = True,
) -> list[MemberMetrics]:
    """Every metric per member of a dimension (one member, the whole scope, for ``all``), busiest first."""
    return metrics_page(scope, dimension, period, filters, member, with_percentiles, with_devices=with_devices)[1]


def metrics_page(
    scope: Scope,
    dimension: str,
    period: Period,
    filters: Mapping[str, int | None] = {},
    member: str | None = None,
    with_percentiles: bool = True,
    limit: int | None = None,
    offset: int = 0,
    with_devices: bool = True,
) -> tuple[int, list[MemberMetrics]]:
    """How many members there are, and the metrics of ``limit`` of them from ``offset`` (busiest first):
    only the members shown have their factors, intervals and percentiles computed."""
    check_dimension(dimension)
    filters = check_filters(filters)
    facts.catch_up()
    sums = queries.sums_by_member(scope, dimension, period.start, period.end, filters, member)
    names = labels(dimension, sums, scope)
    keys = sorted(sums, key=lambda k: (-(sums[k]["resolved"] or 0) - (sums[k]["answered"] or 0), names.get(k, (k,))[0]))
    count = len(keys)
    keys = keys[offset : offset + limit] if limit is not None else keys[offset:]
    shown = set(keys) if limit is not None or offset else None
    factor_counts = queries.factor_counts(scope, dimension, period.start, period.end, filters, member, shown)
    slices = percentile_slices(sum(row["resolved"] or 0 for row in sums.values()))
    seconds = (
        queries.resolution_seconds(scope, dimension, period.start, period.end, filters, member, slices, shown)
        if with_percentiles
        else {}
    )
    people = with_devices and dimension in devices.PEOPLE_DIMENSIONS
    health = device_health(scope, dimension, period, member) if people else {}
    polarities = factor_polarities()
    intervals = maths.happiness_intervals(
        [(sums[k]["promoters"] or 0, sums[k]["detractors"] or 0, sums[k]["answered"] or 0) for k in keys]
    )
    hours = maths.grouped_percentiles({k: [s / 3600 for s in seconds.get(k, [])] for k in keys}, (50, 90))
    found = []
    for key, interval in zip(keys, intervals, strict=True):
        derived = maths.derive(sums[key], min_answers(), interval)
        if key in health:
            derived["device_health"] = round(health[key][0], 1) if health[key][0] is not None else None
        name, code = names.get(key, (key or "", key or ""))
        found.append(
            MemberMetrics(
                member=key,
                label=name,
                code=code,
                metrics=derived,
                factors=_factor_shares(
                    factor_counts.get(key, {}), derived["responses"], polarities, None if member else LISTED_FACTORS
                ),
                resolution_hours=hours[key] | {"sampled": slices < SAMPLE_SLICES} if with_percentiles else {},
            )
        )
    return count, found


def calendar_metrics(scope: Scope, dimension: str, member: str, periods: list[Period]) -> dict[Period, MemberMetrics]:
    """One member's metrics in each of several calendar months or quarters, from the monthly rollups
    (no percentiles): what an XLA's history needs, in two queries."""
    check_dimension(dimension)
    facts.catch_up()
    first, after = periods[0].start, periods[-1].end
    months = queries.sums_by_month(scope, dimension, member, first, after)
    factor_months = queries.factor_counts_by_month(scope, dimension, member, first, after)
    polarities = factor_polarities()
    names = labels(dimension, [member], scope)
    found = {}
    for period in periods:
        inside = [month for month in months if period.start <= month < period.end]
        if not inside:
            continue
        sums = {name: sum(months[month][name] or 0 for month in inside) for name in queries.MEASURES}
        counts: dict[str, int] = {}
        for month in inside:
            for factor, answers in factor_months.get(month, {}).items():
                counts[factor] = counts.get(factor, 0) + answers
        derived = maths.derive(sums, min_answers())
        name, code = names.get(member, (member, member))
        found[period] = MemberMetrics(member=member, label=name, code=code, metrics=derived,
                                      factors=_factor_shares(counts, derived["responses"], polarities))  # fmt: skip
    return found


def percentile_slices(resolved: int) -> int:
    """How many of the fact table's sample slices to read for percentiles: all of them up to
    PERCENTILE_SAMPLE tickets, enough for about that many beyond (the percentiles are then estimates)."""
    return sample_slices(resolved, PERCENTILE_SAMPLE)


def sample_slices(total: int, wanted: int) -> int:
    """How many of the SAMPLE_SLICES slices of ticket ids hold at least ``wanted`` of ``total`` tickets
    (all of them when there are no more than that)."""
    if total <= wanted:
        return SAMPLE_SLICES
    return max(1, math.ceil(SAMPLE_SLICES * wanted / total))


def overview(scope: Scope, period: Period, filters: Mapping[str, int | None] = {}) -> MemberMetrics | None:
    found = metrics(scope, "all", period, filters)
    return found[0] if found else None


def trend(
    scope: Scope, dimension: str, member: str, period: Period, size: str = "week",
    filters: Mapping[str, int | None] = {},
) -> list[dict]:  # fmt: skip
    """The metrics of one member per week (or day, or month) of the period."""
    check_dimension(dimension)
    facts.catch_up()
    by_day = queries.sums_by_day(scope, dimension, member if dimension != "all" else "", period.start, period.end,
                                 check_filters(filters))  # fmt: skip
    points = []
    for bucket in buckets(period, size):
        total: dict[str, float] = {}
        for day, row in by_day:
            if bucket.start <= day < bucket.end:
                for name, value in row.items():
                    total[name] = total.get(name, 0) + (value or 0)
        points.append({"start": bucket.start, "end": bucket.end, "metrics": maths.derive(total, min_answers())})
    return points


def member_metrics(
    scope: Scope, dimension: str, period: Period, filters: Mapping[str, int | None] = {}
) -> list[MemberMetrics]:
    """The metrics watermelons and priorities rank: without percentiles and device health."""
    return metrics(scope, dimension, period, filters, with_percentiles=False, with_devices=False)


# --- watermelons ----------------------------------------------------------------------------------


@dataclass
class Watermelon:
    member: str
    label: str
    code: str
    sla_compliance: float | None
    itxm_sla_compliance: float | None
    happiness: float | None
    happiness_interval: maths.Interval | None
    responses: int
    lost_hours: float
    lost_cost: float
    negative_factors: list[dict]


def watermelons(
    scope: Scope,
    dimension: str,
    period: Period,
    sla_target: float | None = None,
    happiness_target: float | None = None,
    filters: Mapping[str, int | None] = {},
    found: list[MemberMetrics] | None = None,
) -> dict:
    """SLA met but experience below target (ranked by the cost of the time lost), and the reverse: SLA
    breached while people are happy, a sign that the SLA measures the wrong thing. Members with too few
    answers are left out: they get no verdict. ``found``: the members' metrics, when the caller has them
    (``member_metrics``)."""
    sla_target = settings.ANALYTICS_SLA_TARGET if sla_target is None else sla_target
    happiness_target = settings.ANALYTICS_HAPPINESS_TARGET if happiness_target is None else happiness_target
    green_outside, green_inside = [], []
    if found is None:
        found = member_metrics(scope, dimension, period, filters)
    for item in found:
        m = item.metrics
        if not m["enough_answers"] or m["sla_compliance"] is None:
            continue
        melon = Watermelon(
            member=item.member, label=item.label, code=item.code, sla_compliance=m["sla_compliance"],
            itxm_sla_compliance=m["itxm_sla_compliance"], happiness=m["happiness"],
            happiness_interval=m["happiness_interval"], responses=m["responses"], lost_hours=m["lost_hours"],
            lost_cost=m["lost_cost"], negative_factors=item.factors.get("negative", [])[:3],
        )  # fmt: skip
        sla_met = m["sla_compliance"] >= sla_target
        if sla_met and m["happiness"] < happiness_target:
            green_outside.append(melon)
        elif not sla_met and m["happiness"] >= happiness_target:
            green_inside.append(melon)
    green_outside.sort(key=lambda melon: (-melon.lost_cost, -melon.lost_hours))
    green_inside.sort(key=lambda melon: (melon.sla_compliance, -melon.happiness))
    return {
        "sla_target": sla_target,
        "happiness_target": happiness_target,
        "watermelons": green_outside,
        "reverse": green_inside,
    }


# --- priorities -----------------------------------------------------------------------------------


def _reference(
    reference: str, item: MemberMetrics, target: float, baseline: float | None, before: dict[str, MemberMetrics]
) -> float | None:
    if reference == "target":
        return target
    if reference == "baseline":
        return baseline
    previous = before.get(item.member)
    return previous.metrics["happiness"] if previous else None


def priorities(
    scope: Scope,
    dimension: str,
    period: Period,
    reference: str = "target",
    happiness_target: float | None = None,
    rank_by: str = "impact",
    filters: Mapping[str, int | None] = {},
    limit: int = 20,
    found: list[MemberMetrics] | None = None,
) -> dict:
    """ "Fix these first": impact = answers × (happiness − reference) / 100, i.e. how many answers' worth
    of happiness the member costs; the reference is the target, the organisation's baseline (the whole
    scope in the period) or the member's own previous period. Also ranked by lost hours, cost or volume."""
    if reference not in REFERENCES:
        raise AnalyticsError(f"reference is one of {', '.join(REFERENCES)}", "reference")
    if rank_by not in ("impact", "lost_hours", "lost_cost", "volume"):
        raise AnalyticsError("rank_by is one of impact, lost_hours, lost_cost, volume", "rank_by")
    target = settings.ANALYTICS_HAPPINESS_TARGET if happiness_target is None else happiness_target
    current = member_metrics(scope, dimension, period, filters) if found is None else found
    before = {item.member: item for item in member_metrics(scope, dimension, period.previous(), filters)}
    baseline = _whole_happiness(scope, period, filters)
    rows = []
    for item in current:
        m = item.metrics
        ref = _reference(reference, item, target, baseline, before)
        impact = None
        if m["happiness"] is not None and ref is not None:
            impact = round(m["responses"] * (m["happiness"] - ref) / 100, 1)
        previous = before.get(item.member)
        rows.append({
            "member": item.member, "label": item.label, "code": item.code, "impact": impact, "reference": ref,
            "happiness": m["happiness"], "happiness_interval": m["happiness_interval"],
            "enough_answers": m["enough_answers"], "responses": m["responses"], "volume": m["opened"],
            "resolved": m["resolved"], "lost_hours": m["lost_hours"], "lost_cost": m["lost_cost"],
            "top_negative_factors": item.factors.get("negative", [])[:3],
            "change": _change(m, previous.metrics if previous else None),
        })  # fmt: skip
    keys = {
        "impact": lambda row: (row["impact"] is None, row["impact"] or 0),
        "lost_hours": lambda row: -row["lost_hours"],
        "lost_cost": lambda row: -row["lost_cost"],
        "volume": lambda row: -row["volume"],
    }
    rows.sort(key=keys[rank_by])
    return {"reference": reference, "baseline": baseline, "target": target, "rank_by": rank_by, "rows": rows[:limit]}


def _whole_happiness(scope: Scope, period: Period, filters: Mapping[str, int | None]) -> float | None:
    """The happiness of the whole scope in the period: from the sums alone (no percentiles, no devices)."""
    whole = queries.sums_by_member(scope, "all", period.start, period.end, check_filters(filters)).get("")
    if not whole:
        return None
    return maths.happiness_from_counts(whole["promoters"] or 0, whole["detractors"] or 0, whole["answered"] or 0)


def _change(now: dict, before: dict | None) -> dict:
    def delta(name):
        if before is None or now[name] is None or before[name] is None:
            return None
        return round(now[name] - before[name], 1)

    return {name: delta(name) for name in ("happiness", "lost_hours", "lost_cost", "opened", "responses")}


def hotspots(scope: Scope, rows: str, columns: str, period: Period, filters: Mapping[str, int | None] = {}) -> dict:
    """A grid of two dimensions (e.g. service × country), each cell with its happiness and impact
    against the whole scope's happiness in the period."""
    check_dimension(rows)
    check_dimension(columns)
    if "all" in (rows, columns):
        raise AnalyticsError("a hotspot grid needs two real dimensions")
    facts.catch_up()
    filters = check_filters(filters)
    cells = queries.rollup_grid(scope, rows, columns, period.start, period.end, filters)
    if cells is None:  # neither dimension is the group or the service: from the facts
        cells = queries.answer_grid(scope, rows, columns, period.start, period.end, filters)
    answers = sum(cell["answers"] for cell in cells)
    baseline = maths.happiness_from_counts(
        sum(c["promoters"] for c in cells), sum(c["detractors"] for c in cells), answers
    )
    row_names = labels(rows, {str(c["row"]) for c in cells}, scope)
    column_names = labels(columns, {str(c["column"]) for c in cells}, scope)
    grid = []
    for cell in cells:
        happiness = maths.happiness_from_counts(cell["promoters"], cell["detractors"], cell["answers"])
        grid.append({
            "row": str(cell["row"]), "column": str(cell["column"]),
            "row_label": row_names.get(str(cell["row"]), (str(cell["row"]),))[0],
            "column_label": column_names.get(str(cell["column"]), (str(cell["column"]),))[0],
            "answers": cell["answers"], "happiness": happiness, "enough_answers": cell["answers"] >= min_answers(),
            "impact": round(cell["answers"] * (happiness - baseline) / 100, 1) if baseline is not None else None,
            "lost_hours": round((cell["lost_minutes"] or 0) / 60, 1), "lost_cost": round(cell["lost_cost"] or 0, 2),
        })  # fmt: skip
    grid.sort(key=lambda cell: cell["impact"] if cell["impact"] is not None else 0)
    return {"rows": rows, "columns": columns, "baseline": baseline, "cells": grid}


def lost_time_concentration(scope: Scope, period: Period, filters: Mapping[str, int | None] = {}) -> dict:
    """How concentrated lost time is: the share of answered tickets that makes 80 % of it."""
    facts.catch_up()
    qs = queries.answers(scope, period.start, period.end, filters=check_filters(filters)).filter(
        lost_minutes__isnull=False
    )
    # Answers pick their lost time from a few choices: count each choice rather than read every answer.
    # COUNT(*): the index on (answered_day, lost_minutes) then holds all the query reads.
    counts = qs.values_list("lost_minutes").annotate(answers=Count("*")).order_by()
    minutes = np.repeat([value for value, _ in counts], [n for _, n in counts]) if counts else np.array([])
    return {
        "answers": int(len(minutes)),
        "lost_hours": round(float(minutes.sum()) / 60, 1),
        "share_for_80_percent": maths.concentration(minutes, 0.8),
        "curve": _concentration_curve(minutes),
    }


def _concentration_curve(minutes: np.ndarray, steps: int = 20) -> list[tuple[float, float]]:
    """(share of answers %, share of lost time %), the answers that lost most first, every 100/steps %
    of the answers: the curve whose height at x says how much of the lost time x % of the answers cause."""
    total = float(minutes.sum()) if len(minutes) else 0.0
    if total <= 0:
        return []
    cumulative = np.concatenate([[0.0], np.cumsum(np.sort(minutes)[::-1])])
    taken = sorted(set(np.linspace(0, len(minutes), steps + 1).round().astype(int).tolist()))
    return [(round(100 * n / len(minutes), 1), round(100 * float(cumulative[n]) / total, 1)) for n in taken]


def productivity_gained(
    scope: Scope, since: date, until: date, baseline_days: int = 90, filters: Mapping[str, int | None] = {}
) -> dict:
    """Work time given back since ``since``: per week, (lost minutes per answer in the ``baseline_days``
    before − this week's) × this week's answers, summed up in work days of 8 hours."""
    facts.catch_up()
    base = Period(date.fromordinal(since.toordinal() - baseline_days), since)
    by_day = queries.sums_by_day(scope, "all", "", base.start, until, check_filters(filters))

    def lost(low: date, high: date) -> tuple[float, int]:
        rows = [row for day, row in by_day if low <= day < high]
        return sum(r["lost_minutes"] or 0 for r in rows), sum(r["lost_known"] or 0 for r in rows)

    base_total, base_count = lost(base.start, base.end)
    if base_count == 0:
        return {"since": since, "baseline_minutes_per_answer": None, "weeks": [], "gained_work_days": None}
    per_answer = base_total / base_count
    weeks, cumulative = [], 0.0
    for week in buckets(Period(since, until), "week"):
        values, count = lost(week.start, week.end)
        gained = per_answer * count - values
        cumulative += gained
        weeks.append({
            "start": week.start, "answers": count, "lost_minutes_per_answer": maths.ratio(values, count),
            "gained_work_days": maths.work_days(gained), "cumulative_work_days": maths.work_days(cumulative),
        })  # fmt: skip
    return {
        "since": since,
        "baseline_minutes_per_answer": round(per_answer, 1),
        "weeks": weeks,
        "gained_work_days": maths.work_days(cumulative),
    }


def device_health(scope: Scope, dimension: str, period: Period, member: str | None = None) -> dict:
    """{member: (mean health 0-100, devices)} for people dimensions (all, department, location, country)."""
    return devices.health_by_people(scope, dimension, period.start, period.end, member)


def gaming_warnings(scope: Scope, start, end) -> list:
    found = surveys.gaming_signals(scope, start, end)  # one read of the answers for both, remembered
    return found["agent"] + found["group"]


def gaming_counted_at(start, end):
    return surveys.gaming_counted_at(start, end)
