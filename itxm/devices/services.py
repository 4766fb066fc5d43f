"""Operations on devices: enrolment, device tokens, telemetry ingestion, rollups, retention and health.

Anomaly detection and proactive alerts have their own modules (``anomalies.py``, ``proactive.py``);
``refresh_insights`` runs health, anomalies and alerts in order, as the worker and the demo do."""

import json
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from itxm import bulk
from itxm.analytics.remembered import forget, remembered
from itxm.devices import health, queries, telemetry
from itxm.devices.models import (
    DailyRollup,
    Device,
    DeviceHealth,
    DeviceToken,
    EnrolmentCode,
    Source,
    TelemetryBatch,
)
from itxm.org.models import User, hash_token
from itxm.org.scopes import Permission, Scope
from itxm.validation import RowError

# One batch may hold this many samples; an agent with more buffered sends several batches.
MAX_SAMPLES_PER_BATCH = 50_000
# Errors listed in one answer (all are counted).
MAX_ERRORS_LISTED = 200
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
# What firmware reports when no serial was set: treated as no serial, or every such machine would collide.
PLACEHOLDER_SERIALS = {
    "0",
    "none",
    "n/a",
    "not specified",
    "not applicable",
    "default string",
    "to be filled by o.e.m.",
    "system serial number",
    "0123456789",
}
INVENTORY_FIELDS = ("hostname", "serial", "manufacturer", "model", "os_name", "os_build", "cpu", "ram_mb", "disk_gb")


class EnrolmentRefused(Exception):
    """The code is unknown, already used or expired. One message for all three: no hints to a guesser."""


class TelemetryRefused(ValueError):
    """The batch as a whole cannot be read (not JSON, too large): nothing of it was stored."""


def create_enrolment_code(
    scope: Scope, user: User | None, hours: float = 24, note: str = ""
) -> tuple[EnrolmentCode, str]:
    scope.require(Permission.MANAGE_REFERENCE)
    if not 0 < hours <= 24 * 90:
        raise ValueError("a code is valid between a few minutes and 90 days")
    return EnrolmentCode.issue(timezone.now() + timedelta(hours=hours), user, note[:200])


def _inventory(raw: dict | None) -> dict:
    raw = raw or {}
    values = {}
    for name in INVENTORY_FIELDS:
        value = raw.get(name)
        if name in ("ram_mb", "disk_gb"):
            values[name] = int(value) if isinstance(value, int | float) and 0 <= value < 2**31 else None
        else:
            limit = Device._meta.get_field(name).max_length
            values[name] = str(value).strip()[:limit] if value not in (None, "") else ""
    if values["serial"].lower() in PLACEHOLDER_SERIALS:
        values["serial"] = ""
    return values


def _device_for_inventory(values: dict) -> Device:
    """The device an agent enrols as: the one with its serial, else one of its host name known without
    a serial (e.g. imported), else a new one."""
    device = None
    if values["serial"]:
        device = Device.objects.filter(serial=values["serial"]).first()
    if device is None and values["hostname"]:
        device = Device.objects.filter(serial="", hostname__iexact=values["hostname"]).order_by("id").first()
    if device is None:
        return Device(source=Source.AGENT, **{k: v for k, v in values.items() if v not in (None, "")})
    for name, value in values.items():
        if value not in (None, ""):
            setattr(device, name, value)
    return device


def enrol(code: str, inventory: dict | None = None) -> tuple[Device, str]:
    """Exchange a one-time code for a device token (returned once, only its hash is kept)."""
    now = timezone.now()
    with transaction.atomic():
        entry = EnrolmentCode.objects.filter(code_hash=hash_token(code or "")).first()
        if entry is None or entry.used_at is not None or entry.expires_at <= now:
            raise EnrolmentRefused("the enrolment code is unknown, used or expired")
        # The conditional update makes two agents racing with one code end with one winner.
        if not EnrolmentCode.objects.filter(pk=entry.pk, used_at__isnull=True).update(used_at=now):
            raise EnrolmentRefused("the enrolment code is unknown, used or expired")
        values = _inventory(inventory)
        if not values["hostname"] and not values["serial"]:
            values["hostname"] = f"device-{entry.code_prefix}"
        device = _device_for_inventory(values)
        device.enrolled_at = device.last_seen_at = now
        device.save()
        EnrolmentCode.objects.filter(pk=entry.pk).update(device=device)
        _, secret = DeviceToken.issue(device)
    return device, secret


def device_for_token(secret: str) -> Device | None:
    if not secret or not secret.startswith(DeviceToken.PREFIX):
        return None
    token = (
        DeviceToken.objects.select_related("device")
        .filter(key_hash=hash_token(secret), revoked_at__isnull=True)
        .first()
    )
    return token.device if token else None


def revoke_device_token(scope: Scope, token_id: int) -> DeviceToken:
    scope.require(Permission.MANAGE_REFERENCE)
    token = DeviceToken.objects.get(pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@dataclass
class TelemetryReport:
    batch_id: str
    received: int = 0
    stored: int = 0
    rejected: int = 0
    duplicate_batch: bool = False
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "batch_id": self.batch_id,
            "received": self.received,
            "stored": self.stored,
            "rejected": self.rejected,
            "duplicate_batch": self.duplicate_batch,
            "errors": [{"line": e.line, "field": e.field, "reason": e.reason} for e in self.errors[:MAX_ERRORS_LISTED]],
        }


def _decoded(body: bytes, content_encoding: str) -> bytes:
    if "gzip" not in (content_encoding or "").lower():
        return body
    # Bounded: a small gzip bomb must not take the server's memory.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, MAX_DECOMPRESSED_BYTES)
    except zlib.error as exc:
        raise TelemetryRefused(f"not valid gzip: {exc}") from exc
    if inflater.unconsumed_tail:
        raise TelemetryRefused(f"the body is larger than {MAX_DECOMPRESSED_BYTES // 1024 // 1024} MB uncompressed")
    return data


def parse_samples_body(body: bytes, content_type: str = "", content_encoding: str = "") -> list:
    """A JSON array of samples, or NDJSON (one per line). An unreadable NDJSON line becomes a ``RowError``
    in its place, so that it is reported with its line and the lines around it still count."""
    body = _decoded(body, content_encoding)
    stripped = body.lstrip()
    if not stripped:
        raise TelemetryRefused("the body is empty: send a JSON array of samples or NDJSON")
    if stripped.startswith(b"[") and "ndjson" not in content_type:
        try:
            items = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TelemetryRefused(f"not valid JSON: {exc}") from exc
    else:
        items = []
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                items.append(RowError(number, "", f"not valid JSON: {exc}"))
    if isinstance(items, dict):
        items = [items]
    if len(items) > MAX_SAMPLES_PER_BATCH:
        raise TelemetryRefused(f"a batch holds at most {MAX_SAMPLES_PER_BATCH} samples; send several")
    return items


def batch_id_for(batch_id: str | None, body: bytes) -> str:
    """The agent's batch id, or for a sender without one a digest of the body: resending the same bytes
    is then recognised too."""
    if batch_id:
        cleaned = batch_id.strip()[:80]
        if cleaned:
            return cleaned
    return "sha256:" + hash_token(body.decode("latin-1"))[:64]


def ingest_telemetry(
    device_id: int,
    body: bytes,
    content_type: str = "",
    batch_id: str | None = None,
    content_encoding: str = "",
    now: datetime | None = None,
) -> TelemetryReport:
    """Validate and store one batch of a device's samples; a batch id seen before stores nothing."""
    batch = batch_id_for(batch_id, body)
    report = TelemetryReport(batch)
    now = now or timezone.now()
    known = TelemetryBatch.objects.filter(device_id=device_id, batch_id=batch).first()
    if known is not None:
        report.duplicate_batch = True
        report.received, report.stored, report.rejected = known.samples + known.rejected, 0, known.rejected
        Device.objects.filter(pk=device_id).update(last_seen_at=now)
        return report
    items = parse_samples_body(body, content_type, content_encoding)
    samples, errors = telemetry.validate_samples(items, now)
    report.received, report.stored, report.errors = len(items), len(samples), errors
    report.rejected = len({error.line for error in errors})
    try:
        with transaction.atomic():
            # Registered first, written second: if the write fails the registration rolls back and the
            # agent's retry is stored; if the commit fails after the write, the retry writes again and
            # the queries' deduplication hides the copy.
            TelemetryBatch.objects.create(
                device_id=device_id, batch_id=batch, received_at=now, samples=len(samples), rejected=report.rejected
            )
            telemetry.append(device_id, samples)
            Device.objects.filter(pk=device_id).update(last_seen_at=now)
    except IntegrityError:
        # The same batch arrived twice at once and the other request registered it first.
        report.duplicate_batch, report.stored = True, 0
    return report


def rollup_day(day: date) -> int:
    """Recompute the day's DailyRollup rows from the raw samples; running it again gives the same rows."""
    rows = telemetry.daily_aggregates(day)
    devices = set(Device.objects.values_list("id", flat=True))
    values = [(row[0], day, *row[1:]) for row in rows if row[0] in devices]
    fields = ("device_id", "day", "metric", "count", "minimum", "maximum", "mean", "total", "p50", "p95", "last")
    with transaction.atomic():
        DailyRollup.objects.filter(day=day).delete()
        bulk.insert_rows(DailyRollup, fields, values)
    return len(values)


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def prune_telemetry(keep_days: int | None = None, today: date | None = None) -> list[date]:
    """Remove raw telemetry past retention; the daily rollups stay."""
    return telemetry.prune(telemetry.retention_days() if keep_days is None else keep_days, today)


def compact_telemetry(days: list[date] | None = None) -> int:
    """Merge each day's small files (default: today and yesterday, UTC); returns files merged."""
    today = datetime.now(UTC).date()
    return sum(telemetry.compact(day) for day in days or [today - timedelta(days=1), today])


def device_samples(device_id: int, start: date | None = None, end: date | None = None) -> list[dict]:
    return [
        {"ts": ts, "metric": metric, "value": value}
        for _, ts, metric, value in telemetry.samples([device_id], start, end)
    ]


def metric_catalogue() -> list[dict]:
    return [
        {"name": name, "unit": m.unit, "minimum": m.minimum, "maximum": m.maximum, "kind": m.kind, "meaning": m.meaning}
        for name, m in telemetry.METRICS.items()
    ]


HEALTH_FIELDS = ("device_id", "day", "score", "lost_minutes", "components")


def latest_rollup_day() -> date | None:
    return DailyRollup.objects.order_by("-day").values_list("day", flat=True).first()


def rollup_rows(start: date, end: date, metrics: set[str], columns: tuple[str, ...]) -> list[tuple]:
    """(device_id, day, metric, *columns) of the rollups in a period: a plain cursor, because the ORM's
    per-row conversions cost seconds at a fleet's size (the day may come back as ISO text)."""
    table = connection.ops.quote_name(DailyRollup._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in ("device_id", "day", "metric", *columns))
    marks = ", ".join(["%s"] * len(metrics))
    sql = f"SELECT {names} FROM {table} WHERE day >= %s AND day <= %s AND metric IN ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [start.isoformat(), end.isoformat(), *sorted(metrics)])
        return cursor.fetchall()


def rollup_frame(start: date, end: date) -> health.Frame:
    metrics = {component.metric for component in health.COMPONENTS}
    return health.frame_from_rows(rollup_rows(start, end, metrics, ("count", *health.ROLLUP_STATISTICS)))


def score_health(start: date, end: date | None = None) -> int:
    """Recompute DeviceHealth for the days from ``start`` to ``end`` (default: the same day) from the
    daily rollups; running it again gives the same rows."""
    end = end or start
    return store_health(health.score(rollup_frame(start, end)), start, end)


def store_health(scores: health.Scores, start: date, end: date) -> int:
    keep = ~np.isnan(scores.score)
    # Plain-row inserts skip the field's conversion: JSON is prepared here, as the ORM would.
    as_json = DeviceHealth._meta.get_field("components").get_db_prep_value
    figures = health.component_figures(scores)
    rows = [
        (device_id, date.fromordinal(day), score, lost, as_json(figure, connection))
        for device_id, day, score, lost, figure, kept in zip(
            scores.device_ids.tolist(),
            scores.days.tolist(),
            scores.score.tolist(),
            scores.lost_minutes.tolist(),
            figures,
            keep.tolist(),
            strict=True,
        )
        if kept
    ]
    with transaction.atomic():
        DeviceHealth.objects.filter(day__gte=start, day__lte=end).delete()
        bulk.insert_rows(DeviceHealth, HEALTH_FIELDS, rows)
    return len(rows)


def score_latest_days(days: int = 2) -> int:
    """The last ``days`` days with rollups (a late rollup changes yesterday too)."""
    latest = latest_rollup_day()
    return score_health(latest - timedelta(days=days - 1), latest) if latest else 0


def refresh_insights(as_of: date | None = None, score_days: int = 2) -> dict[str, int]:
    """Health of the last days, then anomalies, then proactive alerts (which read both)."""
    from itxm.devices import anomalies, proactive

    as_of = as_of or latest_rollup_day()
    if as_of is None:
        return {"health days": 0, "anomalies": 0, "alerts": 0}
    scored = score_health(as_of - timedelta(days=score_days - 1), as_of)
    found = anomalies.detect(as_of)
    alerts = proactive.evaluate(as_of)
    return {"device health days": scored, "open anomalies": found, "open proactive alerts": alerts}


PEOPLE_DIMENSIONS = tuple(queries.PEOPLE_LOOKUPS)


def health_by_people(scope: Scope, dimension: str, start: date, end: date, member: str | None = None) -> dict:
    """Mean device health per department, location or country (through primary users), for analytics."""
    return queries.health_by_people(scope, dimension, start, end, member)


# --- Reads for the device pages -------------------------------------------------------------------------
# Plain data for the web pages: figures and keys, never words (a page writes them in its reader's
# language). Fleet-wide figures read tens of thousands of rows: they are kept per process until the
# device data changes (``queries.health_version``) or for at most ``KEEP_SECONDS``.

SCORE_BANDS = ((0.0, 20.0), (20.0, 40.0), (40.0, 60.0), (60.0, 80.0), (80.0, 100.1))
POOR_SCORE = 40.0  # a device below this on the latest day is counted as in poor health
KEEP_SECONDS = 300


def _remembered(key: tuple, compute):
    """Kept (and stored for every process, ``itxm.analytics.remembered``) until health, rollups or the
    inventory change, and at most until the next KEEP_SECONDS boundary (a row rewritten in place keeps its
    id). The worker computes the fleet's in advance (``itxm.analytics.warming``)."""
    version = (queries.health_version(), int(time.time() // KEEP_SECONDS))
    return remembered(f"devices_{key[0]}", key[1:], compute, version=version)


def health_version() -> tuple:
    """Moves whenever device health, rollups or the inventory change (results about them may be kept
    until it does)."""
    return queries.health_version()


def forget_page_results() -> None:
    forget()


def _scope_key(scope: Scope) -> tuple:
    return (scope.group_ids, scope.service_ids)


def _weighted(rows: list[dict]) -> float | None:
    devices = sum(row["devices"] for row in rows)
    return round(sum(row["score"] * row["devices"] for row in rows) / devices, 1) if devices else None


def _period(scope: Scope, days: int) -> tuple[date, date] | None:
    end = queries.latest_health_day(scope)
    return None if end is None else (end - timedelta(days=days - 1), end)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _health_rows(scope: Scope, start: date, end: date) -> list[dict]:
    return _remembered(("health", _scope_key(scope), start, end),
                       lambda: queries.health_by_day_and_model(scope, start, end))  # fmt: skip


def _rollup_rows(scope: Scope, start: date, end: date) -> list[dict]:
    return _remembered(("rollups", _scope_key(scope), start, end),
                       lambda: queries.rollups_by_day_and_model(scope, start, end))  # fmt: skip


def fleet_overview(scope: Scope, days: int = 30, model: str | None = None) -> dict | None:
    """The fleet's health over the ``days`` up to the latest scored day (one model's, if given): score
    bands on the latest day, the daily mean per model and for all, work time lost per week and cause.
    ``None`` when no device has a health score."""
    period = _period(scope, days)
    if period is None:
        return None
    start, end = period
    rows = [row for row in _health_rows(scope, start, end) if model is None or row["model"] == model]
    all_days = _days(start, end)
    by_day: dict[date, list[dict]] = defaultdict(list)
    by_model: dict[str, dict[date, float]] = defaultdict(dict)
    for row in rows:
        by_day[row["day"]].append(row)
        by_model[row["model"]][row["day"]] = round(row["score"], 1)
    weeks: dict[date, dict] = {}
    for row in _rollup_rows(scope, start, end):
        if model is None or row["model"] == model:
            week = weeks.setdefault(health.week_start(row["day"]), {"days": set(), "minutes": defaultdict(float)})
            week["days"].add(row["day"])
            week["minutes"][row["cause"]] += row["lost_minutes"]
    latest = by_day.get(end, [])
    bands = queries.score_bands(scope, end, SCORE_BANDS, model)
    return {
        "start": start,
        "end": end,
        "days": all_days,
        "score": _weighted(latest),
        "devices": sum(row["devices"] for row in latest),
        "period_score": _weighted(rows),
        "lost_hours": round(sum(row["lost_minutes"] for row in rows) / 60, 1),
        "trend": [_weighted(by_day[day]) for day in all_days],
        "model_trends": {name: [scores.get(day) for day in all_days] for name, scores in sorted(by_model.items())},
        "bands": list(zip(SCORE_BANDS, bands, strict=True)),
        "poor": sum(count for (low, _high), count in zip(SCORE_BANDS, bands, strict=True) if low < POOR_SCORE),
        "lost_weeks": [
            {
                "week": week,
                "days": len(found["days"]),
                "hours": {cause: round(minutes / 60, 1) for cause, minutes in found["minutes"].items()},
            }
            for week, found in sorted(weeks.items())
        ],  # fmt: skip
    }


def model_health(scope: Scope, days: int = 30) -> dict | None:
    """Per device model over the ``days`` up to the latest scored day: devices, mean health, crashes per
    device and day, the median device's mean boot time, work time lost, and the daily mean score."""
    period = _period(scope, days)
    if period is None:
        return None
    start, end = period
    all_days = _days(start, end)

    def boot_medians() -> dict[str, float]:
        models_of = queries.device_model_ids(scope)
        means = defaultdict(list)
        for device_id, _metric, _days_reported, _total, mean in queries.rollup_means_by_device(
            scope, ("boot_seconds",), start, end
        ):
            if device_id in models_of and mean is not None:
                means[models_of[device_id]].append(mean)
        return {name: round(float(np.median(values)), 1) for name, values in means.items()}

    boots = _remembered(("boot", _scope_key(scope), start, end), boot_medians)
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in _health_rows(scope, start, end):
        grouped[row["model"]].append(row)
    crashes: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for row in _rollup_rows(scope, start, end):
        if row["cause"] == "crashes":
            crashes[row["model"]][0] += row["total"]
            crashes[row["model"]][1] += row["devices"]
    result = []
    for name, inventory in queries.device_models(scope):
        mine = grouped.get(name, [])
        by_day = {row["day"]: round(row["score"], 1) for row in mine}
        crash_total, device_days = crashes.get(name, (0.0, 0))
        result.append({
            "model": name,
            "devices": inventory,
            "scored": next((row["devices"] for row in mine if row["day"] == end), 0),
            "score": _weighted(mine),
            "latest_score": by_day.get(end),
            "crash_rate": round(crash_total / device_days, 4) if device_days else None,
            "boot_p50": boots.get(name),
            "lost_hours": round(sum(row["lost_minutes"] for row in mine) / 60, 1),
            "trend": [by_day.get(day) for day in all_days],
        })  # fmt: skip
    result.sort(key=lambda item: (item["score"] is None, item["score"] or 0, item["model"]))
    return {"start": start, "end": end, "days": all_days, "models": result}


def device_model_names(scope: Scope) -> list[str]:
    return [name for name, _count in queries.device_models(scope)]


def _weakest(figures: dict) -> tuple[str, float | None]:
    if not figures:
        return "", None
    key = min(figures, key=lambda name: (figures[name]["score"], name))
    return key, figures[key]["value"]


def worst_devices(scope: Scope, day: date, model: str | None = None, limit: int = 20) -> list[dict]:
    """The lowest scores of a day, each with its weakest component (key and value, for words at display)."""
    people = scope.allows(Permission.VIEW_PEOPLE)
    found = []
    for row in queries.worst_devices(scope, day, model, limit):
        device, (weakest, value) = row.device, _weakest(row.components or {})
        found.append({
            "id": device.pk, "hostname": device.hostname, "model": device.model, "os_build": device.os_build,
            "primary_user": device.primary_user.name if people and device.primary_user else None,
            "score": row.score, "lost_minutes": row.lost_minutes, "weakest": weakest, "weakest_value": value,
        })  # fmt: skip
    return found


def find_devices(scope: Scope, search: str, limit: int = 50) -> list[dict]:
    people = scope.allows(Permission.VIEW_PEOPLE)
    return [
        {"id": d.pk, "hostname": d.hostname, "serial": d.serial, "model": d.model, "os_build": d.os_build,
         "primary_user": d.primary_user.name if people and d.primary_user else None}
        for d in queries.devices(scope, search.strip())[:limit]
    ]  # fmt: skip


def device_detail(scope: Scope, device_id: int, days: int = 90) -> dict:
    """One device: inventory, daily health (oldest first), the latest day's components explained in the
    active language, its anomalies and alerts. ``Device.DoesNotExist`` outside the scope."""
    device = queries.device(scope, device_id)
    history = list(queries.device_health(scope, device_id)[:days])[::-1]
    latest = history[-1] if history else None
    return {
        "device": device,
        "primary_user": device.primary_user if scope.allows(Permission.VIEW_PEOPLE) else None,
        "history": [{"day": h.day, "score": h.score, "lost_minutes": h.lost_minutes} for h in history],
        "latest": {"day": latest.day, "score": latest.score, "lost_minutes": latest.lost_minutes} if latest else None,
        "components": health.explanations(latest.components or {}) if latest else [],
        "anomalies": [anomaly_facts(item) for item in queries.anomalies_of_device(scope, device_id)],
        "alerts": alert_list(scope, device_id=device_id),
    }


def anomaly_facts(item) -> dict:
    """An anomaly's figures as plain data (its stored summary is English; pages write their own words)."""
    evidence = item.evidence or {}
    affected = evidence.get("affected_device_ids", [])
    return {
        "id": item.pk, "kind": item.kind, "metric": item.metric, "statistic": evidence.get("statistic", ""),
        "device_model": item.device_model, "device_id": item.device_id,
        "hostname": item.device.hostname if item.device_id else "", "status": item.status,
        "detected_on": item.detected_on, "opened_at": item.opened_at, "closed_at": item.closed_at,
        "affected": len(affected), "affected_ids": affected, "change": evidence.get("change"),
        "changes": evidence.get("changes", []), "before": evidence.get("before"), "after": evidence.get("after"),
        "effect": evidence.get("effect"), "p_value": evidence.get("p_value"),
        "relative_rise": evidence.get("relative_rise"), "baseline": evidence.get("baseline"),
        "recent": evidence.get("recent"), "z": evidence.get("z"), "window": evidence.get("window"),
        "window_days": evidence.get("window_days"), "devices_with_change": evidence.get("devices_with_change"),
        "devices_without_change": evidence.get("devices_without_change"), "summary": item.summary,
    }  # fmt: skip


def anomaly_list(scope: Scope, status: str = "", kind: str = "") -> list[dict]:
    qs = queries.anomalies(scope, status).select_related("device")
    if kind:
        qs = qs.filter(kind=kind)
    return [anomaly_facts(item) for item in qs]


def anomaly_detail(scope: Scope, anomaly_id: int) -> dict:
    """An anomaly with its affected devices and the daily figures behind it: the devices that took the
    change against the other devices of the model (or one device against its own history).
    ``Anomaly.DoesNotExist`` outside the scope."""
    from itxm.devices.anomalies import BASELINE_DAYS, BEFORE_DAYS, RECENT_DAYS

    facts = anomaly_facts(queries.anomaly(scope, anomaly_id))
    affected = queries.device_rows(scope, facts["affected_ids"])
    statistic = facts["statistic"] or "mean"
    until = facts["detected_on"]
    if facts["change"]:
        first = date.fromisoformat(facts["change"]["first_day"]) - timedelta(days=BEFORE_DAYS)
        until = date.fromisoformat((facts["window_days"] or {}).get("after_until", until.isoformat()))
        series = _remembered(
            ("anomaly", _scope_key(scope), anomaly_id, first, until),
            lambda: queries.daily_means_with_and_without_change(
                scope, facts["metric"], statistic, facts["device_model"], facts["change"], first, until
            ),
        )
    else:
        first = until - timedelta(days=RECENT_DAYS + BASELINE_DAYS - 1)
        ids = facts["affected_ids"] or ([facts["device_id"]] if facts["device_id"] else [])
        series = {"device": queries.daily_metric_means(scope, facts["metric"], statistic, ids, first, until)}
    return facts | {
        "first_day": first,
        "until": until,
        "days": [first + timedelta(days=n) for n in range((until - first).days + 1)],
        "series": series,
        "devices": [
            {
                "id": d["id"],
                "hostname": d["hostname"],
                "model": d["model"],
                "os_build": d["os_build"],
                "primary_user": d["primary_user_name"],
            }
            for d in affected
        ],  # fmt: skip
    }


def _alert(row: dict) -> dict:
    url = row["ticket_url"] or ""
    return {
        "id": row["id"], "device_id": row["device_id"], "hostname": row["hostname"], "model": row["model"],
        "rule": row["rule"], "opened_at": row["opened_at"], "closed_at": row["closed_at"],
        "evidence": row["evidence"] or {}, "ticket": row["ticket_number"] or row["ticket_correlation"] or "",
        "ticket_url": url if url.startswith(("https://", "http://")) else "",
        "ticket_status": row["ticket_status"] or "",
    }  # fmt: skip


def alert_list(
    scope: Scope, status: str = "", rule: str = "", device_id: int | None = None, rows: slice = slice(None)
) -> list[dict]:
    """Proactive alerts, newest first, with the ticket opened in the ITSM tool if any (``rows``: a page)."""
    return [_alert(row) for row in queries.alert_rows(scope, status, rule, device_id, rows)]


def alert_count(scope: Scope, status: str = "", rule: str = "") -> int:
    return queries.alert_count(scope, status, rule)


def alert_counts(scope: Scope) -> dict[str, int]:
    """Open alerts per rule."""
    return queries.open_alerts_by_rule(scope)


def component_units() -> dict[str, str]:
    """Each health component's unit ("s", "%", "ms", "count"), for writing its values."""
    return {component.key: component.unit for component in health.COMPONENTS}


def format_figure(value: float, unit: str) -> str:
    """A component's value as people read it, in the active language ("3.2 min", "8 %")."""
    return health.format_value(value, unit)
