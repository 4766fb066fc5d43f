"""Reads of devices and their rollups, each inside the caller's scope.

Devices are hidden from suppliers and service owners (``Device.scope_fields``); their primary user is a
person, shown only to roles that may see people.
"""

from datetime import date, timedelta

from django.db.models import Avg, BooleanField, Count, F, QuerySet, Sum, Value
from django.db.models.functions import TruncWeek

from itxm.devices.models import Anomaly, DailyRollup, Device, DeviceHealth, EnrolmentCode, ProactiveAlert
from itxm.org.scopes import Permission, Scope


def devices(scope: Scope, search: str = "") -> QuerySet:
    qs = scope.apply(Device.objects.select_related("primary_user")).annotate(
        people_visible=Value(scope.allows(Permission.VIEW_PEOPLE), output_field=BooleanField())
    )
    if search:
        qs = qs.filter(hostname__icontains=search) | qs.filter(serial=search)
    return qs


def device(scope: Scope, device_id: int) -> Device:
    return scope.get(devices(scope), device_id)


def rollups(scope: Scope, device_id: int, start: date | None = None, end: date | None = None) -> QuerySet:
    qs = DailyRollup.objects.filter(device=device(scope, device_id))
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    return scope.apply(qs)


def enrolment_codes(scope: Scope) -> QuerySet:
    scope.require(Permission.MANAGE_REFERENCE)
    return scope.apply(EnrolmentCode.objects.all())


def device_health(scope: Scope, device_id: int, start: date | None = None, end: date | None = None) -> QuerySet:
    qs = DeviceHealth.objects.filter(device=device(scope, device_id))
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    return scope.apply(qs).order_by("-day")


def fleet_health(scope: Scope, days: int = 30) -> dict:
    """The fleet's mean score per day, per model over the period, and work time lost per week."""
    qs = scope.apply(DeviceHealth.objects.all())
    latest = qs.order_by("-day").values_list("day", flat=True).first()
    if latest is None:
        return {"start": None, "end": None, "score": None, "devices": 0, "trend": [], "models": [], "lost_time": []}
    start = latest - timedelta(days=days - 1)
    period = qs.filter(day__gte=start, day__lte=latest)
    trend = period.values("day").annotate(score=Avg("score"), devices=Count("device_id")).order_by("day")
    models = (
        period.values("device__model")
        .annotate(score=Avg("score"), devices=Count("device_id", distinct=True), lost=Sum("lost_minutes"))
        .order_by("score")
    )
    weeks = period.annotate(week=TruncWeek("day")).values("week").annotate(lost=Sum("lost_minutes")).order_by("week")
    overall = period.aggregate(score=Avg("score"), devices=Count("device_id", distinct=True))
    return {
        "start": start,
        "end": latest,
        "score": _round(overall["score"]),
        "devices": overall["devices"],
        "trend": [{"day": t["day"], "score": _round(t["score"]), "devices": t["devices"]} for t in trend],
        "models": [
            {
                "model": m["device__model"],
                "score": _round(m["score"]),
                "devices": m["devices"],
                "lost_hours": _round((m["lost"] or 0) / 60),
            }
            for m in models
        ],  # fmt: skip
        "lost_time": [{"week": _monday(w["week"]), "lost_hours": _round((w["lost"] or 0) / 60)} for w in weeks],
    }


def _round(value):
    return None if value is None else round(float(value), 1)


def _monday(value):
    return value.date() if hasattr(value, "date") and callable(value.date) else value


def anomalies(scope: Scope, status: str = "") -> QuerySet:
    qs = scope.apply(Anomaly.objects.all())
    return qs.filter(status=status) if status else qs


def alerts(scope: Scope, status: str = "", device_id: int | None = None) -> QuerySet:
    qs = scope.apply(ProactiveAlert.objects.select_related("device", "outbound_ticket"))
    if status == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif status == "closed":
        qs = qs.filter(closed_at__isnull=False)
    if device_id is not None:
        qs = qs.filter(device_id=device_id)
    return qs


# The dimensions of people that a device reaches through its primary user.
PEOPLE_LOOKUPS = {
    "all": None,
    "department": "device__primary_user__department_id",
    "location": "device__primary_user__location_id",
    "country": "device__primary_user__country",
}


def health_by_people(scope: Scope, dimension: str, start: date, end: date, member: str | None = None) -> dict:
    """Mean device health score per member of a people dimension over [start, end): {member: (mean, devices)}.
    Other dimensions (services, groups) do not reach devices: an empty answer."""
    if dimension not in PEOPLE_LOOKUPS:
        return {}
    qs = scope.apply(DeviceHealth.objects.filter(day__gte=start, day__lt=end))
    lookup = PEOPLE_LOOKUPS[dimension]
    if lookup is None:
        row = qs.aggregate(mean=Avg("score"), devices=Count("device_id", distinct=True))
        return {"": (row["mean"], row["devices"])} if row["devices"] else {}
    if member is not None:
        qs = qs.filter(**{lookup: member})
    rows = (
        qs.exclude(**{f"{lookup}__isnull": True})
        .values(key=F(lookup))
        .annotate(mean=Avg("score"), devices=Count("device_id", distinct=True))
    )
    return {str(row["key"]): (row["mean"], row["devices"]) for row in rows.order_by()}
