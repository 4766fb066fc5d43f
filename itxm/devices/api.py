from datetime import date
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.analytics.periods import Period, requested
from itxm.devices import experience, queries, services
from itxm.devices.auth import DEVICE_AUTH
from itxm.devices.schemas import (
    AlertOut,
    AnomalyOut,
    DeviceHealthOut,
    DeviceOut,
    EnrolIn,
    EnrolmentCodeIn,
    EnrolmentCodeOut,
    EnrolOut,
    ExperienceGroupOut,
    FleetHealthOut,
    MessageOut,
    MetricOut,
    NewEnrolmentCodeOut,
    PersonExperienceOut,
    RollupOut,
    TelemetryOut,
)
from itxm.org.scopes import scope_for

router = Router(tags=["devices"])


class DeviceFilters(Schema):
    q: str = ""


class PeriodFilters(Schema):
    start: date | None = None
    end: date | None = None


@router.get("", response=list[DeviceOut], summary="Devices (inventory)")
@paginate(LimitOffsetPagination)
def list_devices(request, filters: Query[DeviceFilters]):
    return queries.devices(scope_for(request.auth), filters.q)


@router.get("/metrics", response=list[MetricOut], summary="The telemetry metrics ITXM accepts, with units and ranges")
@paginate(LimitOffsetPagination)
def list_metrics(request):
    return services.metric_catalogue()


@router.get("/{int:device_id}", response=DeviceOut, summary="One device")
def get_device(request, device_id: int):
    return queries.device(scope_for(request.auth), device_id)


@router.get("/{int:device_id}/rollups", response=list[RollupOut], summary="A device's daily telemetry summaries")
@paginate(LimitOffsetPagination)
def list_rollups(request, device_id: int, period: Query[PeriodFilters]):
    return queries.rollups(scope_for(request.auth), device_id, period.start, period.end)


class HealthFilters(Schema):
    days: int = Field(30, ge=1, le=366)


class AnomalyFilters(Schema):
    status: Literal["", "open", "closed"] = ""


class AlertFilters(Schema):
    status: Literal["", "open", "closed"] = ""
    device_id: int | None = None


@router.get(
    "/{int:device_id}/health",
    response=list[DeviceHealthOut],
    summary="A device's daily health score, newest first, each component explained in words",
)
@paginate(LimitOffsetPagination)
def list_device_health(request, device_id: int, period: Query[PeriodFilters]):
    return queries.device_health(scope_for(request.auth), device_id, period.start, period.end)


@router.get("/health", response=FleetHealthOut, summary="Fleet health: trend, per model, work time lost per week")
def fleet_health(request, filters: Query[HealthFilters]):
    return queries.fleet_health(scope_for(request.auth), filters.days)


@router.get("/anomalies", response=list[AnomalyOut], summary="Anomalies with their evidence")
@paginate(LimitOffsetPagination)
def list_anomalies(request, filters: Query[AnomalyFilters]):
    return queries.anomalies(scope_for(request.auth), filters.status)


@router.get("/alerts", response=list[AlertOut], summary="Proactive alerts and their tickets")
@paginate(LimitOffsetPagination)
def list_alerts(request, filters: Query[AlertFilters]):
    return queries.alerts(scope_for(request.auth), filters.status, filters.device_id)


class ExperienceFilters(Schema):
    start: date | None = Field(None, description="first day (default: 90 days before end)")
    end: date | None = Field(None, description="the first day after the period (default: tomorrow)")
    service: int | None = Field(None, description="only answers about tickets of this service")
    group: int | None = Field(None, description="only answers about tickets of this group")
    kind: str = Field("", description="only answers to this survey kind (incident, request, devices, ...)")

    def period(self) -> Period:
        return requested(self.start, self.end, timezone.now().date())

    def filters(self) -> experience.Filters:
        return experience.Filters(self.service, self.group, self.kind)


def _experience(request, query: ExperienceFilters) -> experience.Experience:
    return experience.experience(scope_for(request.auth), query.period(), query.filters())


@router.get(
    "/experience/people",
    response=list[PersonExperienceOut],
    summary="Experience score per person (device health and answers), worst first",
)
@paginate(LimitOffsetPagination)
def list_experience_people(request, query: Query[ExperienceFilters]):
    return _experience(request, query).people


@router.get("/experience/models", response=list[ExperienceGroupOut], summary="Answers and health per device model")
@paginate(LimitOffsetPagination)
def list_experience_models(request, query: Query[ExperienceFilters]):
    return _experience(request, query).by_model


@router.get("/experience/os-builds", response=list[ExperienceGroupOut], summary="Answers and health per OS build")
@paginate(LimitOffsetPagination)
def list_experience_builds(request, query: Query[ExperienceFilters]):
    return _experience(request, query).by_os_build


@router.get(
    "/experience/health-bands",
    response=list[ExperienceGroupOut],
    summary="Answers per band of device health in the 7 days before each answer",
)
@paginate(LimitOffsetPagination)
def list_experience_bands(request, query: Query[ExperienceFilters]):
    return _experience(request, query).by_band


@router.get("/enrolment-codes", response=list[EnrolmentCodeOut], summary="Enrolment codes (admins)")
@paginate(LimitOffsetPagination)
def list_enrolment_codes(request):
    return queries.enrolment_codes(scope_for(request.auth))


@router.post(
    "/enrolment-codes",
    response={201: NewEnrolmentCodeOut},
    summary="Create a one-time enrolment code (admins); the code is shown once",
)
def create_enrolment_code(request, payload: EnrolmentCodeIn):
    code, secret = services.create_enrolment_code(scope_for(request.auth), request.auth, payload.hours, payload.note)
    return Status(201, {**EnrolmentCodeOut.from_orm(code).dict(), "code": secret})


@router.delete("/tokens/{int:token_id}", response=MessageOut, summary="Revoke a device token (admins)")
def revoke_token(request, token_id: int):
    token = services.revoke_device_token(scope_for(request.auth), token_id)
    return {"message": f"device token {token.pk} revoked"}


@router.post(
    "/enrol",
    auth=None,  # the one-time code is the credential: a new device has no other
    response={201: EnrolOut, 401: MessageOut},
    summary="Exchange a one-time enrolment code for a device token",
)
def enrol(request, payload: EnrolIn):
    try:
        device, token = services.enrol(payload.code, payload.inventory.dict())
    except services.EnrolmentRefused as exc:
        return Status(401, {"message": str(exc), "field": "code"})
    return Status(201, {"device_id": device.pk, "token": token})


@router.post(
    "/telemetry",
    auth=DEVICE_AUTH,
    response={200: TelemetryOut, 400: MessageOut},
    summary="Send a batch of a device's telemetry samples: a JSON array or NDJSON",
    description=(
        "Authenticated by the device token (`Authorization: Device <token>`). Each sample is "
        '`{"ts": "2026-03-02T09:00:00Z" or epoch seconds, "metric": "cpu_pressure_pct", "value": 12.5}`; '
        "bad samples are reported with their position, field and reason, the good ones are stored. "
        "`X-ITXM-Batch-Id` (or `?batch_id=`) names the batch: a batch sent again is recognised and "
        "stores nothing. `Content-Encoding: gzip` is accepted."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
def send_telemetry(request, batch_id: str | None = None):
    try:
        report = services.ingest_telemetry(
            request.auth.pk,
            request.body,
            request.headers.get("Content-Type", ""),
            request.headers.get("X-ITXM-Batch-Id") or batch_id,
            request.headers.get("Content-Encoding", ""),
        )
    except services.TelemetryRefused as exc:
        raise HttpError(400, str(exc)) from exc
    return report.as_dict()
