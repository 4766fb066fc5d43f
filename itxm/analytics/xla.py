"""Experience level agreements: indicators with targets, judged per month or quarter.

An indicator is *met* when its value is on the right side of its target, *at risk* when it misses by
less than its margin, *breached* otherwise, and *not judged* below the minimum number of answers (or of
resolved tickets, for operational ones). Points: met 1, at risk ½, breached 0; the XLA score is the
weighted mean of the judged indicators' points × 100; the XLA is met from 80, at risk from 50, breached
below. Gaming warnings for the XLA's period are served beside it: an XLA is a measure, not a target.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from itxm.analytics import coverage, services
from itxm.analytics.models import Direction, IndicatorKind, PeriodKind, Xla, XlaIndicator
from itxm.analytics.periods import Period, calendar_period, day_start, last_periods
from itxm.org.scopes import Permission, Scope
from itxm.surveys.models import Factor

MET, AT_RISK, BREACHED, NOT_JUDGED = "met", "at_risk", "breached", "not_judged"
POINTS = {MET: 1.0, AT_RISK: 0.5, BREACHED: 0.0}
XLA_MET_FROM, XLA_AT_RISK_FROM = 80, 50


@dataclass(frozen=True)
class MetricRule:
    kind: str
    direction: str
    margin: float  # absolute, or a share of the target when ``relative``
    relative: bool = False


METRICS = {
    "happiness": MetricRule(IndicatorKind.EXPERIENCE, Direction.HIGHER, 10),
    "average_score": MetricRule(IndicatorKind.EXPERIENCE, Direction.HIGHER, 0.5),
    "lost_minutes_per_answer": MetricRule(IndicatorKind.EXPERIENCE, Direction.LOWER, 0.2, relative=True),
    "lost_hours": MetricRule(IndicatorKind.EXPERIENCE, Direction.LOWER, 0.2, relative=True),
    "response_rate": MetricRule(IndicatorKind.EXPERIENCE, Direction.HIGHER, 5),
    "sla_compliance": MetricRule(IndicatorKind.OPERATIONAL, Direction.HIGHER, 5),
    "itxm_sla_compliance": MetricRule(IndicatorKind.OPERATIONAL, Direction.HIGHER, 5),
    "reopen_rate": MetricRule(IndicatorKind.OPERATIONAL, Direction.LOWER, 2),
    "reassignment_rate": MetricRule(IndicatorKind.OPERATIONAL, Direction.LOWER, 5),
    "first_contact_resolution": MetricRule(IndicatorKind.OPERATIONAL, Direction.HIGHER, 5),
    "mean_resolution_hours": MetricRule(IndicatorKind.OPERATIONAL, Direction.LOWER, 0.2, relative=True),
    "device_health": MetricRule(IndicatorKind.OPERATIONAL, Direction.HIGHER, 5),
    "factor_share": MetricRule(IndicatorKind.SENTIMENT, Direction.LOWER, 5),
}


class InvalidXla(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class IndicatorSpec:
    metric: str
    target: float
    kind: str = ""
    direction: str = ""
    weight: float = 1.0
    factor: str = ""
    at_risk_margin: float | None = None


@dataclass(frozen=True)
class XlaSpec:
    name: str
    dimension: str = "all"
    member: str = ""
    period: str = PeriodKind.MONTH
    description: str = ""
    indicators: tuple[IndicatorSpec, ...] = ()


@dataclass(frozen=True)
class IndicatorResult:
    id: int
    kind: str
    metric: str
    factor: str
    target: float
    direction: str
    weight: float
    value: float | None
    status: str
    sample: int


@dataclass(frozen=True)
class XlaResult:
    period: Period
    score: float | None
    status: str
    indicators: tuple[IndicatorResult, ...]


@dataclass
class Scorecard:
    xla: Xla
    current: XlaResult
    history: list[XlaResult]


# --- definitions ----------------------------------------------------------------------------------


def _indicator(spec: IndicatorSpec, position: int) -> XlaIndicator:
    where = f"indicators[{position}]"
    rule = METRICS.get(spec.metric)
    if rule is None:
        raise InvalidXla(f"unknown metric {spec.metric!r}; one of {', '.join(METRICS)}", f"{where}.metric")
    if spec.kind and spec.kind != rule.kind:
        raise InvalidXla(f"{spec.metric} is an {rule.kind} indicator", f"{where}.kind")
    direction = spec.direction or rule.direction
    if spec.metric == "factor_share":
        polarity = Factor.objects.filter(key=spec.factor).values_list("polarity", flat=True).first()
        if polarity is None:
            raise InvalidXla(f"no factor {spec.factor!r}", f"{where}.factor")
        direction = spec.direction or (Direction.HIGHER if polarity == "positive" else Direction.LOWER)
    if direction not in Direction.values:
        raise InvalidXla("direction is higher or lower", f"{where}.direction")
    if not spec.weight > 0:
        raise InvalidXla("a weight is more than 0", f"{where}.weight")
    if spec.at_risk_margin is not None and spec.at_risk_margin < 0:
        raise InvalidXla("the at-risk margin is not negative", f"{where}.at_risk_margin")
    return XlaIndicator(
        kind=rule.kind, metric=spec.metric, factor=spec.factor if spec.metric == "factor_share" else "",
        target=float(spec.target), direction=direction, weight=float(spec.weight), at_risk_margin=spec.at_risk_margin,
    )  # fmt: skip


def _validated(scope: Scope, spec: XlaSpec) -> tuple[str, list[XlaIndicator], set[int], set[int]]:
    scope.require(Permission.MANAGE_IMPROVEMENT)
    if not spec.name.strip():
        raise InvalidXla("an XLA has a name", "name")
    if spec.period not in PeriodKind.values:
        raise InvalidXla("the period is month or quarter", "period")
    if not spec.indicators:
        raise InvalidXla("an XLA has at least one indicator", "indicators")
    try:
        member = coverage.check_member(spec.dimension, spec.member)
    except coverage.InvalidScope as error:
        raise InvalidXla(str(error), "member") from None
    groups, service_ids = coverage.check_within(scope, spec.dimension, member)
    indicators = [_indicator(indicator, i) for i, indicator in enumerate(spec.indicators)]
    return member, indicators, groups, service_ids


def _save(xla: Xla, spec: XlaSpec, member: str, indicators: list[XlaIndicator], groups, service_ids) -> Xla:
    xla.name, xla.description = spec.name.strip()[:200], spec.description
    xla.dimension, xla.member, xla.period = spec.dimension, member, spec.period
    xla.updated_at = timezone.now()
    xla.save()
    xla.groups.set(groups)
    xla.services.set(service_ids)
    xla.indicators.all().delete()
    for indicator in indicators:
        indicator.xla = xla
    XlaIndicator.objects.bulk_create(indicators)
    return xla


@transaction.atomic
def create_xla(scope: Scope, spec: XlaSpec) -> Xla:
    return _save(Xla(), spec, *_validated(scope, spec))


@transaction.atomic
def update_xla(scope: Scope, pk: int, spec: XlaSpec) -> Xla:
    xla = scope.get(Xla.objects.all(), pk)
    return _save(xla, spec, *_validated(scope, spec))


def archive_xla(scope: Scope, pk: int, archived: bool = True) -> Xla:
    scope.require(Permission.MANAGE_IMPROVEMENT)
    xla = scope.get(Xla.objects.all(), pk)
    xla.archived, xla.updated_at = archived, timezone.now()
    xla.save(update_fields=["archived", "updated_at"])
    return xla


def list_xlas(scope: Scope, include_archived: bool = False):
    qs = scope.apply(Xla.objects.prefetch_related("indicators"))
    return qs if include_archived else qs.filter(archived=False)


def get_xla(scope: Scope, pk: int) -> Xla:
    return scope.get(Xla.objects.prefetch_related("indicators"), pk)


# --- evaluation -----------------------------------------------------------------------------------


def indicator_status(value: float | None, target: float, direction: str, margin: float) -> str:
    if value is None:
        return NOT_JUDGED
    shortfall = (target - value) if direction == Direction.HIGHER else (value - target)
    if shortfall <= 0:
        return MET
    return AT_RISK if shortfall <= margin else BREACHED


def _margin(indicator: XlaIndicator) -> float:
    if indicator.at_risk_margin is not None:
        return indicator.at_risk_margin
    rule = METRICS[indicator.metric]
    return abs(indicator.target) * rule.margin if rule.relative else rule.margin


def _value(indicator: XlaIndicator, found, device_health) -> tuple[float | None, int, bool]:
    """(value, sample size, enough to judge)."""
    minimum = services.min_answers()
    if indicator.metric == "device_health":
        mean, devices = device_health
        return (round(mean, 1) if mean is not None else None), devices, devices > 0
    if found is None:
        return None, 0, False
    m = found.metrics
    if indicator.metric == "factor_share":
        shares = found.factors.get("positive", []) + found.factors.get("negative", [])
        share = next((s["share"] for s in shares if s["factor"] == indicator.factor), 0.0)
        return (share if m["responses"] else None), m["responses"], m["responses"] >= minimum
    if indicator.kind == IndicatorKind.OPERATIONAL:
        return m.get(indicator.metric), m["resolved"], m["resolved"] >= minimum
    return m.get(indicator.metric), m["responses"], m["responses"] >= minimum


def evaluate(scope: Scope, xla: Xla, period: Period, found: services.MemberMetrics | None | bool = False) -> XlaResult:
    """The XLA in one period (``found``: the member's metrics there, when the caller has them already)."""
    member = xla.member if xla.dimension != "all" else None
    if found is False:
        found = services.metrics(scope, xla.dimension, period, member=member, with_percentiles=False)
        found = found[0] if found else None
    device_health = (None, 0)
    if any(i.metric == "device_health" for i in xla.indicators.all()):
        health = services.device_health(scope, xla.dimension, period, member)
        device_health = health.get(xla.member if xla.dimension != "all" else "", (None, 0))
    results, weighted, weights = [], 0.0, 0.0
    for indicator in xla.indicators.all():
        value, sample, enough = _value(indicator, found, device_health)
        status = indicator_status(value, indicator.target, indicator.direction, _margin(indicator))
        if not enough:
            status = NOT_JUDGED
        if status != NOT_JUDGED:
            weighted += indicator.weight * POINTS[status]
            weights += indicator.weight
        results.append(IndicatorResult(
            id=indicator.pk, kind=indicator.kind, metric=indicator.metric, factor=indicator.factor,
            target=indicator.target, direction=indicator.direction, weight=indicator.weight, value=value,
            status=status, sample=sample,
        ))  # fmt: skip
    score = round(100 * weighted / weights, 1) if weights else None
    return XlaResult(period=period, score=score, status=xla_status(score), indicators=tuple(results))


def xla_status(score: float | None) -> str:
    if score is None:
        return NOT_JUDGED
    if score >= XLA_MET_FROM:
        return MET
    return AT_RISK if score >= XLA_AT_RISK_FROM else BREACHED


def scorecard(scope: Scope, pk: int, today: date | None = None, history: int | None = None) -> Scorecard:
    """The XLA in the period holding ``today`` and the periods before it."""
    xla = get_xla(scope, pk)
    today = today or timezone.now().date()
    count = history or (12 if xla.period == PeriodKind.MONTH else 4)
    periods = last_periods(xla.period, today, count)
    member = xla.member if xla.dimension != "all" else ""
    # Calendar months and quarters: the monthly rollups answer every period in one query.
    by_period = services.calendar_metrics(scope, xla.dimension, member, periods)
    results = [evaluate(scope, xla, period, by_period.get(period)) for period in periods]
    return Scorecard(xla=xla, current=results[-1], history=results[:-1])


@dataclass(frozen=True)
class GamingSignals:
    warnings: list
    counted_at: datetime | None  # when they were counted (the worker recounts every few minutes)


def gaming_warnings(scope: Scope, pk: int, today: date | None = None) -> list:
    """The gaming warnings of the XLA's current period, about the XLA's groups and their agents (all the
    reader may see, for an XLA not about teams): shown beside the scorecard, because an XLA is a measure,
    not a target. Apart from the scorecard, as they compare every agent with its peers over months."""
    return gaming_signals(scope, pk, today).warnings


def gaming_signals(scope: Scope, pk: int, today: date | None = None) -> GamingSignals:
    """``gaming_warnings``, and when they were counted."""
    xla = get_xla(scope, pk)
    today = today or timezone.now().date()
    current = calendar_period(xla.period, today)
    start, end = day_start(current.start), day_start(min(current.end, today + timedelta(days=1)))
    warnings = services.gaming_warnings(scope, start, end)
    group_ids = set(xla.groups.values_list("id", flat=True))
    if group_ids:
        warnings = [w for w in warnings if w.group_id in group_ids]
    return GamingSignals(warnings, services.gaming_counted_at(start, end))
