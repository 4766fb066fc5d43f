"""The shapes of the analytics API."""

from datetime import date, datetime

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict


class Plain(BaseModel):
    """An output shape filled from plain dicts and dataclasses, many times per response: validated by
    pydantic alone. Ninja's ``Schema`` wraps every object in a resolver first (for ``resolve_*`` methods and
    Django managers, which these shapes do not have): for a page of 50 members that wrapping alone took
    about a third of the call."""

    model_config = ConfigDict(from_attributes=True)


class IntervalOut(Plain):
    low: float
    high: float


class MetricsOut(Plain):
    opened: int
    resolved: int
    invited: int
    responses: int
    response_rate: float | None
    enough_answers: bool
    happiness: float | None
    happiness_interval: IntervalOut | None
    average_score: float | None
    promoters: int
    detractors: int
    lost_minutes_per_answer: float | None
    lost_hours: float
    lost_cost: float
    sla_compliance: float | None
    sla_interval: IntervalOut | None
    itxm_sla_compliance: float | None
    reassignment_rate: float | None
    reassignments_per_ticket: float | None
    reopen_rate: float | None
    reopen_interval: IntervalOut | None
    ping_pong_rate: float | None
    first_contact_resolution: float | None
    mean_resolution_hours: float | None
    mean_waiting_hours: float | None
    device_health: float | None = None


class FactorShareOut(Plain):
    factor: str
    label_en: str
    label_tr: str
    answers: int
    share: float | None


class FactorsOut(Plain):
    positive: list[FactorShareOut] = []
    negative: list[FactorShareOut] = []


class MemberMetricsOut(Plain):
    member: str
    label: str
    code: str
    metrics: MetricsOut
    factors: FactorsOut
    resolution_hours: dict[str, float | bool | None] = Field(
        ..., description="p50 and p90; sampled: estimated from a sample (more than 5,000 tickets)"
    )


class PeriodOut(Schema):
    start: date
    end: date = Field(..., description="the first day after the period")


class MetricsReportOut(Schema):
    dimension: str
    period: PeriodOut
    count: int = Field(..., description="how many members there are (members holds one page of them)")
    members: list[MemberMetricsOut]


class TrendPointOut(Schema):
    start: date
    end: date
    metrics: MetricsOut


class TrendOut(Schema):
    dimension: str
    member: str
    period: PeriodOut
    points: list[TrendPointOut]


class WatermelonOut(Schema):
    member: str
    label: str
    code: str
    sla_compliance: float | None
    itxm_sla_compliance: float | None
    happiness: float | None
    happiness_interval: IntervalOut | None
    responses: int
    lost_hours: float
    lost_cost: float
    negative_factors: list[FactorShareOut]


class WatermelonsOut(Schema):
    dimension: str
    period: PeriodOut
    sla_target: float
    happiness_target: float
    watermelons: list[WatermelonOut]
    reverse: list[WatermelonOut]


class ChangeOut(Schema):
    happiness: float | None
    lost_hours: float | None
    lost_cost: float | None
    opened: float | None
    responses: float | None


class PriorityOut(Schema):
    member: str
    label: str
    code: str
    impact: float | None
    reference: float | None
    happiness: float | None
    happiness_interval: IntervalOut | None
    enough_answers: bool
    responses: int
    volume: int
    resolved: int
    lost_hours: float
    lost_cost: float
    top_negative_factors: list[FactorShareOut]
    change: ChangeOut


class PrioritiesOut(Schema):
    dimension: str
    period: PeriodOut
    reference: str
    baseline: float | None
    target: float
    rank_by: str
    rows: list[PriorityOut]


class HotspotCellOut(Schema):
    row: str
    column: str
    row_label: str
    column_label: str
    answers: int
    happiness: float | None
    enough_answers: bool
    impact: float | None
    lost_hours: float
    lost_cost: float


class HotspotsOut(Schema):
    period: PeriodOut
    rows: str
    columns: str
    baseline: float | None
    cells: list[HotspotCellOut]


class ConcentrationOut(Schema):
    period: PeriodOut
    answers: int
    lost_hours: float
    share_for_80_percent: float | None
    curve: list[tuple[float, float]] = []  # (share of answers %, share of lost time %), worst answers first


class ProductivityWeekOut(Schema):
    start: date
    answers: int
    lost_minutes_per_answer: float | None
    gained_work_days: float
    cumulative_work_days: float


class ProductivityOut(Schema):
    since: date
    baseline_minutes_per_answer: float | None
    gained_work_days: float | None
    weeks: list[ProductivityWeekOut]


class IndicatorIn(Schema):
    metric: str
    target: float
    kind: str = ""
    direction: str = ""
    weight: float = 1.0
    factor: str = ""
    at_risk_margin: float | None = None


class XlaIn(Schema):
    name: str = Field(..., max_length=200)
    description: str = ""
    dimension: str = "all"
    member: str = ""
    period: str = "month"
    indicators: list[IndicatorIn]


class IndicatorOut(Schema):
    id: int
    kind: str
    metric: str
    factor: str
    target: float
    direction: str
    weight: float
    at_risk_margin: float | None


class XlaOut(Schema):
    id: int
    name: str
    description: str
    dimension: str
    member: str
    period: str
    archived: bool
    indicators: list[IndicatorOut]

    @staticmethod
    def resolve_indicators(obj):
        return list(obj.indicators.all())


class IndicatorResultOut(Schema):
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


class XlaResultOut(Schema):
    period: PeriodOut
    score: float | None
    status: str
    indicators: list[IndicatorResultOut]


class GamingWarningOut(Schema):
    signal: str
    subject: str
    subject_id: int
    name: str
    group_id: int | None
    summary: str
    evidence: dict


class ScorecardOut(Schema):
    xla: XlaOut
    current: XlaResultOut
    history: list[XlaResultOut]


class GamingWarningsOut(Schema):
    warnings: list[GamingWarningOut]
    counted_at: datetime | None = Field(None, description="when they were counted (recounted every few minutes)")


class VariantOut(Schema):
    path: list[str]
    codes: list[str]
    label: str
    tickets: int
    share: float | None
    median_hours: float | None
    p90_hours: float | None
    mean_reassignments: float | None
    sla_compliance: float | None
    reopen_rate: float | None
    answers: int
    happiness: float | None
    lost_minutes_per_answer: float | None
    hurts: bool
    gap: float | None
    happy_path: bool
    sampled: bool = Field(
        False, description="median and p90 estimated from a uniform sample (more than 50,000 tickets); counts are exact"
    )


class VariantsOut(Schema):
    period: PeriodOut
    path: str
    variants: list[VariantOut]


class ServiceUseOut(Schema):
    service_id: int | None
    label: str
    code: str
    tickets: int
    share: float | None


class ChannelFiguresOut(Schema):
    channel: str
    label: str
    tickets: int
    share: float | None
    top_services: list[ServiceUseOut]
    answers: int
    happiness: float | None
    lost_minutes_per_answer: float | None
    reopen_rate: float | None
    mean_resolution_hours: float | None


class FactorCountOut(Schema):
    factor: str
    label_en: str
    label_tr: str
    answers: int


class AvoidedServiceOut(Schema):
    service_id: int
    label: str
    code: str
    tickets: int
    portal_tickets: int
    portal_share: float | None
    overall_portal_share: float | None
    portal_factors: list[FactorCountOut]
    other_factors: list[FactorCountOut]


class ChannelReportOut(Schema):
    period: PeriodOut
    tickets: int
    portal_share: float | None
    channels: list[ChannelFiguresOut]
    avoided: list[AvoidedServiceOut]


class InitiativeIn(Schema):
    title: str = Field(..., max_length=200)
    metric: str
    starts_on: date
    dimension: str = "all"
    member: str = ""
    owner: str = Field("", max_length=200)
    status: str = "active"
    you_said: str = ""
    we_did: str = ""
    public: bool = False


class InitiativeOut(Schema):
    id: int
    title: str
    owner: str
    owner_user_id: int | None
    dimension: str
    member: str
    scope_label: str
    metric: str
    starts_on: date
    status: str
    you_said: str
    we_did: str
    public: bool


class OverlapOut(Schema):
    initiative_id: int
    title: str
    starts_on: date
    scope_label: str


class EffectOut(Schema):
    initiative_id: int
    metric: str
    lower_is_better: bool
    before_start: date
    before_end: date
    after_start: date
    after_end: date
    n_before: int
    n_after: int
    value_before: float | None
    value_after: float | None
    difference: float | None
    interval: IntervalOut | None
    p_value: float | None
    significant: bool
    direction: str
    overlaps: list[OverlapOut]
    note: str | None
    reason: str | None


class PublicInitiativeOut(Schema):
    title: str
    owner: str
    scope_label: str
    you_said: str
    we_did: str
    starts_on: date
    status: str
    metric: str
    value_before: float | None
    value_after: float | None
    direction: str | None
    effect: str | None


class DriverEffectOut(Schema):
    name: str
    effect: float
    low: float
    high: float
    p_value: float
    unit: str
    significant: bool
    sentence_en: str
    sentence_tr: str


class DriversOut(Schema):
    outcome: str
    unit: str
    period: PeriodOut
    dimension: str
    member: str | None
    rows_total: int
    rows_used: int
    effects: list[DriverEffectOut]
    references: dict[str, str]
    controls: list[str]
    dropped: list[str]
    r_squared: float | None
    reason: str | None
