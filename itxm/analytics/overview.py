"""The overview's figures: the whole scope's metrics with their trend, the watermelons, the priorities and
the XLAs' current status, computed once per scope, period and facts version (``remembered``) instead of
on every page view. The worker computes the default period's right after the facts change
(``itxm.analytics.warming``), so that the first view after a change reads them too.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils import timezone

from itxm.analytics import facts, services
from itxm.analytics import xla as xlas
from itxm.analytics.periods import Period
from itxm.analytics.remembered import remembered, scope_key
from itxm.devices import services as devices
from itxm.org.scopes import Scope


@dataclass(frozen=True)
class Figures:
    summary: services.MemberMetrics | None  # the whole scope (no percentiles, no device health); None: no data
    bucket: str  # the trend's: "week" or "month"
    trend: list[dict]
    watermelons: dict
    priorities: dict


@dataclass(frozen=True)
class XlaLine:
    pk: int
    name: str
    status: str
    score: float | None
    period: Period


def trend_bucket(period: Period, answers: int) -> str:
    """Weeks while they hold enough answers on average for happiness to be drawn, months otherwise."""
    if period.days > 120:
        return "month"
    return "week" if answers >= services.min_answers() * max(1, period.days // 7) else "month"


def figures(scope: Scope, period: Period, filters: Mapping[str, int | None] = {}) -> Figures:
    """The overview's figures for the scope and period (filtered by service or group)."""
    filters = services.check_filters(filters)
    facts.catch_up()
    targets = (services.min_answers(), settings.ANALYTICS_SLA_TARGET, settings.ANALYTICS_HAPPINESS_TARGET)
    key = (scope_key(scope), period, tuple(sorted(filters.items())), targets)
    return remembered("overview", key, lambda: _figures(scope, period, filters))


def _figures(scope: Scope, period: Period, filters: dict[str, int]) -> Figures:
    # The overview shows no resolution percentiles and no device health, so none are computed (and the
    # figures move with the facts alone).
    whole = services.metrics(scope, "all", period, filters, with_percentiles=False, with_devices=False)
    summary = whole[0] if whole else None
    if summary is None:
        return Figures(summary=None, bucket="month", trend=[], watermelons={}, priorities={})
    bucket = trend_bucket(period, summary.metrics["responses"])
    members = services.member_metrics(scope, "service", period, filters)
    return Figures(
        summary=summary,
        bucket=bucket,
        trend=services.trend(scope, "all", "", period, bucket, filters),
        # Watermelons and priorities rank the same members' metrics: read once for both.
        watermelons=services.watermelons(scope, "service", period, filters=filters, found=members),
        priorities=services.priorities(scope, "service", period, filters=filters, found=members),
    )


def xla_lines(scope: Scope, today: date | None = None) -> list[XlaLine]:
    """Each XLA the reader may see, in its current period: status and score. Kept until the facts, the
    devices' health or an XLA's definition change."""
    today = today or timezone.now().date()  # as xla.scorecard reads it
    facts.catch_up()
    found = list(xlas.list_xlas(scope))
    definitions = tuple(
        (item.pk, item.name, item.dimension, item.member, item.period, item.updated_at,
         tuple((i.pk, i.kind, i.metric, i.factor, i.target, i.direction, i.weight, i.at_risk_margin)
               for i in item.indicators.all()))
        for item in found
    )  # fmt: skip
    uses_devices = any(i.metric == "device_health" for item in found for i in item.indicators.all())
    key = (scope_key(scope), today, definitions, services.min_answers(),
           devices.health_version() if uses_devices else None)  # fmt: skip
    return remembered("overview_xlas", key, lambda: [_xla_line(scope, item.pk, today) for item in found])


def _xla_line(scope: Scope, pk: int, today: date) -> XlaLine:
    card = xlas.scorecard(scope, pk, today=today, history=1)
    return XlaLine(pk=pk, name=card.xla.name, status=card.current.status, score=card.current.score,
                   period=card.current.period)  # fmt: skip
