"""Operations on devices: enrolment, device tokens, telemetry ingestion, rollups, retention and health.

Anomaly detection and proactive alerts have their own modules (``anomalies.py``, ``proactive.py``);
``refresh_insights`` runs health, anomalies and alerts in order, as the worker and the demo do."""

import json
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from itxm import bulk
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
