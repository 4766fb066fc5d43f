from datetime import date, datetime

from ninja import Field, Schema


class Ref(Schema):
    id: int
    name: str


class DeviceOut(Schema):
    id: int
    hostname: str
    serial: str
    manufacturer: str
    model: str
    os_name: str
    os_build: str
    cpu: str
    ram_mb: int | None
    disk_gb: int | None
    purchase_date: date | None
    warranty_end: date | None
    primary_user: Ref | None
    source: str
    last_seen_at: datetime | None
    enrolled_at: datetime | None

    @staticmethod
    def resolve_primary_user(obj):
        # The primary user is a person: only roles allowed to see people see who it is.
        return obj.primary_user if getattr(obj, "people_visible", False) else None


class RollupOut(Schema):
    day: date
    metric: str
    count: int
    minimum: float
    maximum: float
    mean: float
    total: float
    p50: float
    p95: float
    last: float


class EnrolmentCodeIn(Schema):
    hours: float = Field(24, gt=0, le=24 * 90, description="how long the code stays valid")
    note: str = Field("", max_length=200, description="what the code is for, e.g. the laptop it is for")


class EnrolmentCodeOut(Schema):
    id: int
    code_prefix: str
    note: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class NewEnrolmentCodeOut(EnrolmentCodeOut):
    code: str


class Inventory(Schema):
    hostname: str = ""
    serial: str = ""
    manufacturer: str = ""
    model: str = ""
    os_name: str = ""
    os_build: str = ""
    cpu: str = ""
    ram_mb: int | None = None
    disk_gb: int | None = None


class EnrolIn(Schema):
    code: str = Field(..., min_length=1, max_length=200)
    inventory: Inventory = Field(default_factory=Inventory)


class EnrolOut(Schema):
    device_id: int
    token: str


class SampleErrorOut(Schema):
    line: int
    field: str
    reason: str


class TelemetryOut(Schema):
    batch_id: str
    received: int
    stored: int
    rejected: int
    duplicate_batch: bool
    errors: list[SampleErrorOut]


class MetricOut(Schema):
    name: str
    unit: str
    minimum: float
    maximum: float
    kind: str
    meaning: str


class MessageOut(Schema):
    message: str
    field: str | None = None


class ComponentOut(Schema):
    component: str
    metric: str
    value: float
    score: float
    rating: str
    weight: float
    ruins_the_whole: bool
    text: str


class DeviceHealthOut(Schema):
    day: date
    score: float
    lost_minutes: float
    components: list[ComponentOut]

    @staticmethod
    def resolve_components(obj):
        from itxm.devices.health import explanations

        return explanations(obj.components or {})


class TrendPointOut(Schema):
    day: date
    score: float | None
    devices: int


class ModelHealthOut(Schema):
    model: str
    score: float | None
    devices: int
    lost_hours: float | None


class LostTimeOut(Schema):
    week: date
    lost_hours: float | None


class FleetHealthOut(Schema):
    start: date | None
    end: date | None
    score: float | None
    devices: int
    trend: list[TrendPointOut]
    models: list[ModelHealthOut]
    lost_time: list[LostTimeOut]


class AnomalyOut(Schema):
    id: int
    kind: str
    metric: str
    device_model: str
    device_id: int | None
    summary: str
    evidence: dict
    status: str
    detected_on: date
    opened_at: datetime
    closed_at: datetime | None


class AlertOut(Schema):
    id: int
    device_id: int
    hostname: str = Field(..., alias="device.hostname")
    rule: str
    opened_at: datetime
    closed_at: datetime | None
    evidence: dict
    ticket_number: str | None

    @staticmethod
    def resolve_ticket_number(obj):
        return obj.outbound_ticket.remote_number if obj.outbound_ticket_id else None


class ExperienceGroupOut(Schema):
    """Answers and device health of one device model, OS build or health band."""

    key: str = Field(..., description="the model, the OS build, or the band (good, fair, poor)")
    people: int = Field(..., description="people who answered")
    answers: int
    happiness: float | None = Field(..., description="% of 9–10 answers minus % of 0–6 answers")
    happiness_low: float | None
    happiness_high: float | None
    judged: bool = Field(..., description="enough answers (ITXM_MIN_ANSWERS) for a verdict")
    mean_score: float | None
    reported_lost_per_answer: float | None = Field(..., description="minutes people reported per answer")
    devices: int
    health: float | None = Field(..., description="mean daily health score, 0–100")
    measured_lost_per_week: float | None = Field(..., description="minutes per device and week, from telemetry")


class PersonExperienceOut(Schema):
    person_id: int
    name: str | None = Field(..., description="only for roles that may see people")
    external_id: str | None = Field(..., description="only for roles that may see people")
    devices: int
    models: str
    technology: float | None = Field(..., description="mean daily health of the person's devices, 0–100")
    sentiment: float | None = Field(..., description="10 × the mean score of the person's answers, 0–100")
    answers: int
    score: float | None = Field(..., description="the combined experience score, 0–100")
    partial: bool = Field(..., description="only technology or only sentiment was there")
    band: str
    measured_lost_per_week: float | None
    reported_lost_minutes: float | None
    reported_lost_per_week: float | None
