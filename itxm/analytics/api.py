"""Analytics under /api/v1/analytics and XLAs under /api/v1/xlas: parse, call one service, return."""

from datetime import date, timedelta

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.analytics import drivers, initiatives, journeys, schemas, services, xla
from itxm.analytics.periods import Period, requested
from itxm.org.scopes import scope_for

router = Router(tags=["analytics"])
xla_router = Router(tags=["xlas"])
initiative_router = Router(tags=["initiatives"])
public_router = Router(tags=["public"], auth=None)


class PeriodIn(Schema):
    start: date | None = None
    end: date | None = None
    service: int | None = None
    group: int | None = None

    def period(self) -> Period:
        """Default: the 90 days up to today; ``end`` is the first day after the period."""
        return requested(self.start, self.end, timezone.now().date())

    def filters(self) -> dict:
        return {"service": self.service, "group": self.group}


def _period_out(period: Period) -> dict:
    return {"start": period.start, "end": period.end}


@router.get("/metrics", response=schemas.MetricsReportOut, summary="Every metric per member of a dimension")
def get_metrics(request, query: Query[PeriodIn], dimension: str = "all", member: str | None = None,
                limit: int = 50, offset: int = 0):  # fmt: skip
    """Members busiest first, ``limit`` (50 unless asked, at most 1,000) from ``offset``; ``count`` says how many
    there are."""
    period = query.period()
    count, members = services.metrics_page(scope_for(request.auth), dimension, period, query.filters(), member,
                                           limit=min(max(limit, 1), 1000), offset=max(offset, 0))  # fmt: skip
    return {"dimension": dimension, "period": _period_out(period), "count": count, "members": members}


@router.get("/trend", response=schemas.TrendOut, summary="One member's metrics per day, week or month")
def get_trend(request, query: Query[PeriodIn], dimension: str = "all", member: str = "", bucket: str = "week"):
    if bucket not in ("day", "week", "month"):
        raise services.AnalyticsError("bucket is day, week or month", "bucket")
    period = query.period()
    points = services.trend(scope_for(request.auth), dimension, member, period, bucket, query.filters())
    return {"dimension": dimension, "member": member, "period": _period_out(period), "points": points}


@router.get(
    "/watermelons", response=schemas.WatermelonsOut, summary="SLA met, experience below target (and the reverse)"
)
def get_watermelons(
    request,
    query: Query[PeriodIn],
    dimension: str = "service",
    sla_target: float | None = None,
    happiness_target: float | None = None,
):
    period = query.period()
    found = services.watermelons(scope_for(request.auth), dimension, period, sla_target, happiness_target,
                                 query.filters())  # fmt: skip
    return {"dimension": dimension, "period": _period_out(period), **found}


@router.get(
    "/priorities", response=schemas.PrioritiesOut, summary="Fix these first: ranked by impact, lost time or volume"
)
def get_priorities(
    request,
    query: Query[PeriodIn],
    dimension: str = "service",
    reference: str = "target",
    happiness_target: float | None = None,
    rank_by: str = "impact",
    limit: int = 20,
):
    period = query.period()
    found = services.priorities(scope_for(request.auth), dimension, period, reference, happiness_target, rank_by,
                                query.filters(), min(max(limit, 1), 200))  # fmt: skip
    return {"dimension": dimension, "period": _period_out(period), **found}


@router.get("/hotspots", response=schemas.HotspotsOut, summary="Impact on a grid of two dimensions")
def get_hotspots(request, query: Query[PeriodIn], rows: str = "service", columns: str = "country"):
    period = query.period()
    found = services.hotspots(scope_for(request.auth), rows, columns, period, query.filters())
    return {"period": _period_out(period), **found}


@router.get("/lost-time", response=schemas.ConcentrationOut, summary="How concentrated lost time is")
def get_lost_time(request, query: Query[PeriodIn]):
    period = query.period()
    found = services.lost_time_concentration(scope_for(request.auth), period, query.filters())
    return {"period": _period_out(period), **found}


@router.get("/productivity", response=schemas.ProductivityOut, summary="Work time given back since a date")
def get_productivity(request, since: date, until: date | None = None, service: int | None = None,
                     group: int | None = None):  # fmt: skip
    until = until or timezone.now().date() + timedelta(days=1)
    if until <= since:
        raise services.AnalyticsError("until comes after since", "until")
    filters = {"service": service, "group": group}
    return services.productivity_gained(scope_for(request.auth), since, until, filters=filters)


@router.get("/journeys", response=schemas.VariantsOut, summary="The most frequent paths through groups or states")
def get_journeys(request, query: Query[PeriodIn], path: str = "group", dimension: str = "all",
                 member: str | None = None, limit: int = 20):  # fmt: skip
    period = query.period()
    found = journeys.variants(scope_for(request.auth), period, path, dimension, member, query.filters(),
                              min(max(limit, 1), 200))  # fmt: skip
    return {"period": _period_out(period), "path": path, "variants": found}


@router.get(
    "/channels", response=schemas.ChannelReportOut, summary="Channels: what for, how it went, who avoids the portal"
)
def get_channels(request, query: Query[PeriodIn], dimension: str = "all", member: str | None = None):
    period = query.period()
    report = journeys.channels(scope_for(request.auth), period, dimension, member, query.filters())
    return {"period": _period_out(period), **vars(report)}


@router.get("/drivers", response=schemas.DriversOut, summary="What explains low scores, lost time or slow resolutions")
def get_drivers(request, query: Query[PeriodIn], outcome: str = "score", dimension: str = "all",
                member: str | None = None):  # fmt: skip
    period = query.period()
    report = drivers.drivers(scope_for(request.auth), period, outcome, dimension, member, query.filters())
    return {**vars(report), "period": _period_out(report.period)}


# --- XLAs -----------------------------------------------------------------------------------------


def _spec(payload: schemas.XlaIn) -> xla.XlaSpec:
    return xla.XlaSpec(
        name=payload.name, description=payload.description, dimension=payload.dimension, member=payload.member,
        period=payload.period, indicators=tuple(xla.IndicatorSpec(**i.dict()) for i in payload.indicators),
    )  # fmt: skip


@xla_router.get("", response=list[schemas.XlaOut], summary="XLAs")
@paginate(LimitOffsetPagination)
def list_xlas(request, archived: bool = False):
    return xla.list_xlas(scope_for(request.auth), include_archived=archived)


@xla_router.post("", response={201: schemas.XlaOut}, summary="Create an XLA")
def create_xla(request, payload: schemas.XlaIn):
    return Status(201, xla.create_xla(scope_for(request.auth), _spec(payload)))


@xla_router.get("/{xla_id}", response=schemas.XlaOut, summary="One XLA")
def get_xla(request, xla_id: int):
    return xla.get_xla(scope_for(request.auth), xla_id)


@xla_router.put("/{xla_id}", response=schemas.XlaOut, summary="Change an XLA")
def update_xla(request, xla_id: int, payload: schemas.XlaIn):
    return xla.update_xla(scope_for(request.auth), xla_id, _spec(payload))


@xla_router.post("/{xla_id}/archive", response=schemas.XlaOut, summary="Archive an XLA (or restore it)")
def archive_xla(request, xla_id: int, restore: bool = False):
    return xla.archive_xla(scope_for(request.auth), xla_id, archived=not restore)


@xla_router.get("/{xla_id}/scorecard", response=schemas.ScorecardOut, summary="An XLA's status, history and warnings")
def get_scorecard(request, xla_id: int, today: date | None = None, history: int | None = None):
    card = xla.scorecard(scope_for(request.auth), xla_id, today, history)
    return {"xla": card.xla, "current": _result(card.current), "history": [_result(r) for r in card.history]}


@xla_router.get(
    "/{xla_id}/gaming-warnings",
    response=schemas.GamingWarningsOut,
    summary="Gaming warnings of the XLA's current period, about its teams",
)
def get_xla_warnings(request, xla_id: int, today: date | None = None):
    signals = xla.gaming_signals(scope_for(request.auth), xla_id, today)
    return {"warnings": signals.warnings, "counted_at": signals.counted_at}


def _result(result: xla.XlaResult) -> dict:
    return {"period": _period_out(result.period), "score": result.score, "status": result.status,
            "indicators": list(result.indicators)}  # fmt: skip


# --- improvement initiatives ----------------------------------------------------------------------


def _initiative_spec(request, payload: schemas.InitiativeIn) -> initiatives.InitiativeSpec:
    return initiatives.InitiativeSpec(**payload.dict(), owner_user_id=request.auth.pk)


@initiative_router.get("", response=list[schemas.InitiativeOut], summary="Improvement initiatives")
@paginate(LimitOffsetPagination)
def list_initiatives(request):
    return initiatives.list_initiatives(scope_for(request.auth))


@initiative_router.post("", response={201: schemas.InitiativeOut}, summary="Record an improvement initiative")
def create_initiative(request, payload: schemas.InitiativeIn):
    return Status(201, initiatives.create_initiative(scope_for(request.auth), _initiative_spec(request, payload)))


@initiative_router.get("/{initiative_id}", response=schemas.InitiativeOut, summary="One initiative")
def get_initiative(request, initiative_id: int):
    return initiatives.get_initiative(scope_for(request.auth), initiative_id)


@initiative_router.put("/{initiative_id}", response=schemas.InitiativeOut, summary="Change an initiative")
def update_initiative(request, initiative_id: int, payload: schemas.InitiativeIn):
    return initiatives.update_initiative(scope_for(request.auth), initiative_id, _initiative_spec(request, payload))


@initiative_router.delete("/{initiative_id}", response={204: None}, summary="Delete an initiative")
def delete_initiative(request, initiative_id: int):
    initiatives.delete_initiative(scope_for(request.auth), initiative_id)
    return Status(204, None)


@initiative_router.get("/{initiative_id}/effect", response=schemas.EffectOut, summary="Before and after, tested")
def get_effect(request, initiative_id: int, before_days: int | None = None, after_end: date | None = None):
    return initiatives.measure_effect(scope_for(request.auth), initiative_id, before_days, after_end)


@public_router.get("/you-said-we-did", response=list[schemas.PublicInitiativeOut],
                   summary="What people said and what IT did about it (public, no sign-in)")  # fmt: skip
@paginate(LimitOffsetPagination)
def you_said_we_did(request):
    return initiatives.you_said_we_did(limit=200)
