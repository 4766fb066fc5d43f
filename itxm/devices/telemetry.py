"""The raw telemetry store: Parquet files partitioned by UTC day, queried with DuckDB.

This is the only module that touches DuckDB or Parquet; everything here is keyed by plain ids
(``device_id`` is ``Device.pk``), never by model objects.

Layout (Hive-style, so Spark, Trino, Dask, Polars and DuckDB read it unchanged)::

    <ITXM_TELEMETRY_DIR or $ITXM_DATA_DIR/telemetry>/
        day=2026-03-02/part-<uuid>.parquet
        day=2026-03-02/part-compacted-<uuid>.parquet

Each file has the schema ``device_id int64, ts timestamp[us, UTC], metric string, value float64``;
``day`` is only in the directory name. Files appear atomically (written under a dot-name, then
renamed), so readers never see half a file; names starting with ``.`` or ``_`` are ignored by all
those engines.

Idempotency per (device, ts, metric) is kept in three places: a batch is checked for repeats inside
itself before it is written; a resent batch is recognised by its batch id (``TelemetryBatch``, in the
main database) and not written again; and every query here reads the samples *deduplicated*
(``GROUP BY device_id, ts, metric``), so a sample that still reached two files (a crash between the
file and the batch register, or an agent that rebatched) counts once. Compaction writes the
deduplicated rows, so the physical duplicates disappear too.
"""

import math
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings

from itxm.validation import RowError

SCHEMA = pa.schema(
    [
        ("device_id", pa.int64()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("metric", pa.string()),
        ("value", pa.float64()),
    ]
)
DAY_US = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Samples from the future are refused beyond this much clock skew.
FUTURE_SLACK = timedelta(minutes=10)


@dataclass(frozen=True)
class Metric:
    unit: str
    minimum: float
    maximum: float
    kind: str  # "gauge": a level at a time; "count": events since the previous sample (sum per day)
    meaning: str


METRICS: dict[str, Metric] = {
    "boot_seconds": Metric("s", 0, 3600, "gauge", "time from power-on to a usable system, once per boot"),
    "logon_seconds": Metric("s", 0, 3600, "gauge", "time from credentials to a usable desktop, once per logon"),
    "cpu_pressure_pct": Metric("%", 0, 100, "gauge", "CPU busy share over the sampling second"),
    "memory_pressure_pct": Metric("%", 0, 100, "gauge", "share of physical memory in use"),
    "disk_free_pct": Metric("%", 0, 100, "gauge", "free share of the system disk"),
    "disk_free_gb": Metric("GB", 0, 1_000_000, "gauge", "free space on the system disk"),
    "battery_health_pct": Metric("%", 0, 150, "gauge", "full-charge capacity against design capacity"),
    "battery_charge_pct": Metric("%", 0, 100, "gauge", "current charge"),
    "crashes": Metric("count", 0, 100_000, "count", "system and application crashes seen since the last sample"),
    "hangs": Metric("count", 0, 100_000, "count", "application hangs seen since the last sample"),
    "latency_ms": Metric("ms", 0, 60_000, "gauge", "TCP connect time to the configured target"),
    "agent_dropped_samples": Metric(
        "count", 0, 1_000_000_000, "count", "samples the agent's full buffer dropped since the last report"
    ),
}


@dataclass
class Samples:
    """Valid samples of one device, column by column (``ts`` in microseconds since the epoch, UTC)."""

    ts: list[int]
    metric: list[str]
    value: list[float]

    def __len__(self) -> int:
        return len(self.ts)


def store_dir() -> Path:
    configured = os.environ.get("ITXM_TELEMETRY_DIR")
    return Path(configured).expanduser() if configured else Path(settings.DATA_DIR) / "telemetry"


def retention_days() -> int:
    return int(os.environ.get("ITXM_TELEMETRY_RETENTION_DAYS") or 35)


def day_dir(day: date) -> Path:
    return store_dir() / f"day={day.isoformat()}"


def _ts_micros(raw, cache: dict) -> int:
    cached = cache.get(raw)
    if cached is not None:
        return cached
    if isinstance(raw, bool):
        raise ValueError("is not a time")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError("is not a time")
        micros = round(raw * 1_000_000)  # epoch seconds
    elif isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{raw[:40]!r} is not an ISO 8601 time or epoch seconds") from None
        if moment.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-03-02T09:00:00Z)")
        micros = (moment - EPOCH) // timedelta(microseconds=1)
    else:
        raise ValueError("is required (ISO 8601 time or epoch seconds)")
    cache[raw] = micros
    return micros


def validate_samples(raw: Iterable, now: datetime | None = None) -> tuple[Samples, list[RowError]]:
    """Check each sample ``{"ts": ..., "metric": ..., "value": ...}`` on its own.

    Errors carry the sample's position (from 1: the item of a JSON array, the line of NDJSON), the
    field and the reason; valid samples around a bad one are kept. A repeat of an earlier sample's
    (ts, metric) inside the same batch is an error, so a batch never holds a duplicate.
    """
    now = now or datetime.now(UTC)
    latest = (now + FUTURE_SLACK - EPOCH) // timedelta(microseconds=1)
    earliest = (now - timedelta(days=retention_days()) - EPOCH) // timedelta(microseconds=1)
    samples, errors = Samples([], [], []), []
    seen: dict[tuple[int, str], int] = {}
    ts_cache: dict = {}
    metrics = METRICS
    for position, item in enumerate(raw, start=1):
        if isinstance(item, RowError):  # a line the body parser could not read
            errors.append(item)
            continue
        if not isinstance(item, dict):
            errors.append(RowError(position, "", "not a JSON object"))
            continue
        name = item.get("metric")
        spec = metrics.get(name) if isinstance(name, str) else None
        if spec is None:
            errors.append(RowError(position, "metric", f"unknown metric {str(name)[:40]!r}"))
            continue
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            errors.append(RowError(position, "value", "is not a number"))
            continue
        if not spec.minimum <= value <= spec.maximum:
            errors.append(RowError(position, "value", f"{value} is outside {spec.minimum}–{spec.maximum} {spec.unit}"))
            continue
        try:
            micros = _ts_micros(item.get("ts"), ts_cache)
        except (ValueError, OverflowError) as exc:
            errors.append(RowError(position, "ts", str(exc)))
            continue
        if micros > latest:
            errors.append(RowError(position, "ts", "is in the future"))
            continue
        if micros < earliest:
            errors.append(RowError(position, "ts", f"is older than the {retention_days()}-day retention"))
            continue
        key = (micros, name)
        first = seen.get(key)
        if first is not None:
            errors.append(RowError(position, "ts", f"same time and metric as sample {first}"))
            continue
        seen[key] = position
        samples.ts.append(micros)
        samples.metric.append(name)
        samples.value.append(float(value))
    return samples, errors


def _table(device_id: int, samples: Samples) -> pa.Table:
    return pa.table(
        {
            "device_id": pa.array([device_id] * len(samples), pa.int64()),
            "ts": pa.array(samples.ts, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "metric": pa.array(samples.metric, pa.string()),
            "value": pa.array(samples.value, pa.float64()),
        },
        schema=SCHEMA,
    )


def _write_atomically(table: pa.Table, day: date, name: str) -> Path:
    folder = day_dir(day)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    temporary = folder / f".{name}.tmp"
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, final)
    return final


def append(device_id: int, samples: Samples) -> list[Path]:
    """Write one device's validated samples: one new file per UTC day they fall on."""
    if not samples:
        return []
    days = {ts // DAY_US for ts in samples.ts}
    table = _table(device_id, samples)
    return write_table(table, days)


def write_table(table: pa.Table, days: set[int] | None = None) -> list[Path]:
    """Write a table of the store's schema (any devices) as new files, one per UTC day it covers."""
    if days is None:
        micros = table.column("ts").cast(pa.int64()).to_numpy()
        days = {int(d) for d in set((micros // DAY_US).tolist())}
    written = []
    for day_number in sorted(days):
        day = date(1970, 1, 1) + timedelta(days=day_number)
        part = table
        if len(days) > 1:
            start = pa.scalar(day_number * DAY_US, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
            end = pa.scalar((day_number + 1) * DAY_US, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
            ts = table.column("ts")
            part = table.filter(pc.and_(pc.greater_equal(ts, start), pc.less(ts, end)))
        written.append(_write_atomically(part, day, f"part-{uuid.uuid4().hex}.parquet"))
    return written


def days_stored() -> list[date]:
    root = store_dir()
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        if entry.is_dir() and entry.name.startswith("day="):
            try:
                found.append(date.fromisoformat(entry.name[4:]))
            except ValueError:
                continue
    return sorted(found)


def day_files(day: date) -> list[Path]:
    folder = day_dir(day)
    return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []


def _files_between(start: date | None, end: date | None) -> list[str]:
    return [
        str(path)
        for day in days_stored()
        if (start is None or day >= start) and (end is None or day <= end)
        for path in day_files(day)
    ]


def _connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"threads": max(1, os.cpu_count() or 1)})


def _deduplicated(files: Sequence[str]) -> str:
    """A query of the samples in ``files``, each (device, ts, metric) once.

    Two different values for the same key can only come from an agent that changed its mind; the
    larger is kept, so every engine and every run gives the same answer."""
    paths = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    return (
        f"SELECT device_id, ts, metric, max(value) AS value FROM read_parquet([{paths}]) "  # noqa: S608
        "GROUP BY device_id, ts, metric"
    )


def samples(
    device_ids: Sequence[int] | None = None,
    start: date | None = None,
    end: date | None = None,
    metrics: Sequence[str] | None = None,
) -> list[tuple[int, datetime, str, float]]:
    """Deduplicated raw samples (device_id, ts, metric, value), ordered by device, time and metric."""
    files = _files_between(start, end)
    if not files:
        return []
    where, params = [], []
    if device_ids is not None:
        where.append("device_id IN (SELECT unnest(?))")
        params.append([int(d) for d in device_ids])
    if metrics is not None:
        where.append("metric IN (SELECT unnest(?))")
        params.append(list(metrics))
    condition = f"WHERE {' AND '.join(where)}" if where else ""
    # Times leave DuckDB as epoch microseconds: its timestamptz-to-Python conversion needs pytz.
    sql = (
        f"SELECT device_id, epoch_us(ts), metric, value FROM ({_deduplicated(files)}) {condition} "  # noqa: S608
        "ORDER BY device_id, ts, metric"
    )
    with _connect() as con:
        rows = con.execute(sql, params).fetchall()
    return [(device, EPOCH + timedelta(microseconds=micros), metric, value) for device, micros, metric, value in rows]


ROLLUP_COLUMNS = ("device_id", "metric", "count", "minimum", "maximum", "mean", "total", "p50", "p95", "last")


def daily_aggregates(day: date) -> list[tuple]:
    """Per device and metric on one UTC day, from the deduplicated samples: the ``ROLLUP_COLUMNS``."""
    files = [str(path) for path in day_files(day)]
    if not files:
        return []
    sql = (
        "SELECT device_id, metric, count(*)::BIGINT, min(value), max(value), avg(value), sum(value), "  # noqa: S608
        "quantile_cont(value, 0.5), quantile_cont(value, 0.95), arg_max(value, ts) "
        f"FROM ({_deduplicated(files)}) GROUP BY device_id, metric ORDER BY device_id, metric"
    )
    with _connect() as con:
        return con.execute(sql).fetchall()


def period_aggregates(start: date, end: date) -> list[tuple]:
    """The same aggregates over a whole period (per device and metric): what a score over N days reads."""
    files = _files_between(start, end)
    if not files:
        return []
    sql = (
        "SELECT device_id, metric, count(*)::BIGINT, min(value), max(value), avg(value), sum(value), "  # noqa: S608
        "quantile_cont(value, 0.5), quantile_cont(value, 0.95), arg_max(value, ts) "
        f"FROM ({_deduplicated(files)}) GROUP BY device_id, metric"
    )
    with _connect() as con:
        return con.execute(sql).fetchall()


def compact(day: date, min_files: int = 2) -> int:
    """Merge a day's files into one, deduplicated and sorted by device and time; returns files removed.

    Appends write a file per batch, so a busy day has many small files; fewer, larger files make every
    engine faster. Files written while this runs are left alone (only the files read are removed), and
    a reader in the short window between the rename and the removals sees duplicates, which every
    query here removes anyway."""
    files = day_files(day)
    if len(files) < min_files:
        return 0
    sql = f"SELECT * FROM ({_deduplicated([str(f) for f in files])}) ORDER BY device_id, ts, metric"  # noqa: S608
    name = f"part-compacted-{uuid.uuid4().hex}.parquet"
    temporary = day_dir(day) / f".{name}.tmp"
    with _connect() as con:
        con.execute(f"COPY ({sql}) TO '{temporary}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)")
    os.replace(temporary, day_dir(day) / name)
    for path in files:
        path.unlink(missing_ok=True)
    return len(files)


def prune(keep_days: int, today: date | None = None) -> list[date]:
    """Keep today (UTC) and the ``keep_days`` days before it; remove older day partitions and return their days."""
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=keep_days)
    removed = []
    for day in days_stored():
        if day < cutoff:
            shutil.rmtree(day_dir(day), ignore_errors=True)
            removed.append(day)
    return removed


def stored_sample_count() -> int:
    """How many raw rows the files hold (duplicates included): for monitoring and benchmarks."""
    total = 0
    for day in days_stored():
        for path in day_files(day):
            total += pq.ParquetFile(path).metadata.num_rows
    return total
