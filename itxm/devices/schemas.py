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
