"""Reads of devices and their rollups, each inside the caller's scope.

Devices are hidden from suppliers and service owners (``Device.scope_fields``); their primary user is a
person, shown only to roles that may see people.
"""

from collections.abc import Sequence
from datetime import date, timedelta

from django.db.models import Avg, Case, Count, F, FloatField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Greatest, TruncWeek

from itxm.devices import health
from itxm.devices.models import (
    Anomaly,
    DailyRollup,
    Device,
    DeviceHealth,
    EnrolmentCode,
    InventoryChange,
    ProactiveAlert,
)
from itxm.org.scopes import Permission, Scope


def devices(scope: Scope, search: str = "") -> QuerySet:
    qs = scope.marking_people(scope.apply(Device.objects.select_related("primary_user")))
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


# --- Reads for the device pages (fleet health, models, a device, anomalies, alerts) ---------------------


def latest_health_day(scope: Scope) -> date | None:
    return scope.apply(DeviceHealth.objects.all()).order_by("-day").values_list("day", flat=True).first()


def health_version() -> tuple:
    """Changes whenever health, rollups or the inventory are written (new rows get new ids): results
    computed from them may be kept until it moves."""
    return (
        DeviceHealth.objects.aggregate(last=Max("id"))["last"],
        DeviceHealth.objects.aggregate(day=Max("day"))["day"],
        DailyRollup.objects.aggregate(last=Max("id"))["last"],
        *Device.objects.aggregate(last=Max("id"), rows=Count("id")).values(),
    )


def health_by_day_and_model(scope: Scope, start: date, end: date) -> list[dict]:
    """Mean score, scored devices and work time lost (minutes) per day and device model, days [start, end]."""
    qs = scope.apply(DeviceHealth.objects.filter(day__gte=start, day__lte=end))
    rows = (
        qs.values("day", device_model=F("device__model"))
        .annotate(score=Avg("score"), devices=Count("id"), lost=Sum("lost_minutes"))
        .order_by("day", "device_model")
    )
    return [
        {"day": row["day"], "model": row["device_model"], "score": row["score"], "devices": row["devices"],
         "lost_minutes": row["lost"] or 0.0}
        for row in rows
    ]  # fmt: skip


def score_bands(scope: Scope, day: date, bands: Sequence[tuple[float, float]], model: str | None = None) -> list[int]:
    """How many devices scored within each [low, high) band on a day."""
    qs = scope.apply(DeviceHealth.objects.filter(day=day))
    if model is not None:
        qs = qs.filter(device__model=model)
    counts = qs.aggregate(
        **{f"band{i}": Count("id", filter=Q(score__gte=low, score__lt=high)) for i, (low, high) in enumerate(bands)}
    )
    return [counts[f"band{i}"] for i in range(len(bands))]


def rollups_by_day_and_model(scope: Scope, start: date, end: date) -> list[dict]:
    """Per day, device model and metric that loses work time (boots, logons, crashes, ``health.COMPONENTS``):
    devices reporting, the sum of the day's totals, and the work time lost in minutes, computed exactly
    as ``health.lost_minutes`` does (one pass over the rollups serves every model and cause)."""
    causes = [component for component in health.COMPONENTS if component.lost]
    qs = scope.apply(DailyRollup.objects.filter(day__gte=start, day__lte=end, metric__in=[c.metric for c in causes]))
    lost = []
    for component in causes:
        if component.lost == "excess":
            minutes = Greatest(F(component.statistic) - Value(float(component.good)), Value(0.0)) * F("count") / 60.0
        else:
            minutes = F(component.statistic) * Value(float(component.minutes_per_event))
        lost.append(When(metric=component.metric, then=minutes))
    rows = (
        qs.values("day", "metric", device_model=F("device__model"))
        .annotate(reporting=Count("id"), events=Sum("total"), minutes=Sum(Case(*lost, output_field=FloatField())))
        .order_by("day", "device_model", "metric")
    )
    cause_of = {component.metric: component.key for component in causes}
    return [
        {"day": row["day"], "model": row["device_model"], "cause": cause_of[row["metric"]], "devices": row["reporting"],
         "total": row["events"] or 0.0, "lost_minutes": row["minutes"] or 0.0}
        for row in rows
    ]  # fmt: skip


def device_models(scope: Scope) -> list[tuple[str, int]]:
    """(model, devices in the inventory), by model name."""
    rows = scope.apply(Device.objects.all()).values("model").annotate(devices=Count("id")).order_by("model")
    return [(row["model"], row["devices"]) for row in rows]


def rollup_means_by_device(scope: Scope, metrics: Sequence[str], start: date, end: date) -> list[tuple]:
    """(device_id, metric, days reported, sum of totals, mean of the daily means) over [start, end]."""
    qs = scope.apply(DailyRollup.objects.filter(day__gte=start, day__lte=end, metric__in=list(metrics)))
    return list(
        qs.values("device_id", "metric")
        .annotate(days=Count("id"), total=Sum("total"), mean=Avg("mean"))
        .values_list("device_id", "metric", "days", "total", "mean")
        .order_by()
    )


def device_model_ids(scope: Scope) -> dict[int, str]:
    return dict(scope.apply(Device.objects.all()).values_list("id", "model"))


def worst_devices(scope: Scope, day: date, model: str | None = None, limit: int = 20) -> list[DeviceHealth]:
    """The lowest health scores of a day, with their devices (and primary users, where people are visible)."""
    qs = scope.apply(DeviceHealth.objects.filter(day=day)).select_related("device", "device__primary_user")
    if model is not None:
        qs = qs.filter(device__model=model)
    return list(qs.order_by("score", "-lost_minutes", "device__hostname", "device_id")[:limit])


def anomaly(scope: Scope, anomaly_id: int) -> Anomaly:
    return scope.get(Anomaly.objects.select_related("device"), anomaly_id)


def anomalies_of_device(scope: Scope, device_id: int) -> list[Anomaly]:
    """Anomalies about one device: its own, and those of its model that list it among the affected."""
    found = []
    for item in scope.apply(Anomaly.objects.select_related("device")).order_by("-opened_at", "id"):
        if item.device_id == device_id or device_id in (item.evidence or {}).get("affected_device_ids", []):
            found.append(item)
    return found


def daily_metric_means(scope: Scope, metric: str, statistic: str, device_ids: Sequence[int], start: date,
                       end: date) -> dict[date, float]:  # fmt: skip
    """The mean over some devices of one metric's daily statistic, per day of [start, end]."""
    qs = scope.apply(
        DailyRollup.objects.filter(metric=metric, day__gte=start, day__lte=end, device_id__in=list(device_ids))
    )
    return {row["day"]: row["value"] for row in qs.values("day").annotate(value=Avg(statistic)).order_by("day")}


def open_alerts_by_rule(scope: Scope) -> dict[str, int]:
    rows = alerts(scope, "open").values("rule").annotate(n=Count("id")).order_by()
    return {row["rule"]: row["n"] for row in rows}


def _alerts_with_rule(scope: Scope, status: str, rule: str, device_id: int | None = None) -> QuerySet:
    qs = alerts(scope, status, device_id)
    return qs.filter(rule=rule) if rule else qs


def alert_count(scope: Scope, status: str = "", rule: str = "") -> int:
    return _alerts_with_rule(scope, status, rule).count()


def alert_rows(
    scope: Scope, status: str = "", rule: str = "", device_id: int | None = None, rows: slice = slice(None)
) -> list[dict]:
    """Alerts as plain rows with their device and ticket (no model instances: a fleet has hundreds open),
    newest first; ``rows`` picks a page of them."""
    found = _alerts_with_rule(scope, status, rule, device_id).values(
        "id", "device_id", "rule", "opened_at", "closed_at", "evidence",
        hostname=F("device__hostname"), model=F("device__model"),
        ticket_number=F("outbound_ticket__remote_number"), ticket_correlation=F("outbound_ticket__correlation_id"),
        ticket_url=F("outbound_ticket__remote_url"), ticket_status=F("outbound_ticket__status"),
    )  # fmt: skip
    return list(found[rows])


def daily_means_with_and_without_change(scope: Scope, metric: str, statistic: str, model: str, change: dict,
                                        start: date, end: date) -> dict[str, dict[date, float]]:  # fmt: skip
    """One metric's daily mean over the devices of a model that took a change (``InventoryChange`` of that
    kind, name and new version) and over those that did not, per day of [start, end]."""
    took = scope.apply(
        InventoryChange.objects.filter(
            device__model=model, kind=change["kind"], name=change["name"], new_value=change["new_value"]
        )
    ).values("device_id")
    qs = scope.apply(DailyRollup.objects.filter(metric=metric, day__gte=start, day__lte=end, device__model=model))
    rows = (
        qs.annotate(took=Case(When(device_id__in=took, then=Value(1)), default=Value(0)))
        .values("day", "took")
        .annotate(value=Avg(statistic))
        .order_by("day")
    )
    found: dict[str, dict[date, float]] = {"with_change": {}, "without_change": {}}
    for row in rows:
        found["with_change" if row["took"] else "without_change"][row["day"]] = row["value"]
    return found


def device_rows(scope: Scope, device_ids: Sequence[int]) -> list[dict]:
    """Some devices as plain rows (id, hostname, model, os_build, primary user's name) by host name; the
    name only for readers who may see people."""
    fields = ["id", "hostname", "model", "os_build"]
    qs = scope.apply(Device.objects.filter(pk__in=list(device_ids))).order_by("hostname", "id")
    if scope.allows(Permission.VIEW_PEOPLE):
        return list(qs.values(*fields, primary_user_name=F("primary_user__name")))
    return [row | {"primary_user_name": None} for row in qs.values(*fields)]
