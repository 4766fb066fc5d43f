from datetime import UTC, date, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from itxm.devices import services, telemetry
from itxm.devices.models import DailyRollup
from itxm.devices.telemetry import validate_samples

from .conftest import at


def test_each_bad_sample_is_reported_with_its_position_and_field(now):
    raw = [
        {"ts": at(now, -30), "metric": "cpu_pressure_pct", "value": 40},
        {"ts": at(now, -30), "metric": "cpu_pressure_pct", "value": 41},
        {"ts": at(now, -30), "metric": "no_such_metric", "value": 1},
        {"ts": at(now, -30), "metric": "disk_free_pct", "value": 140},
        {"ts": "2026-03-02T09:00:00", "metric": "latency_ms", "value": 3},
        {"ts": at(now, 60), "metric": "latency_ms", "value": 3},
        {"ts": (now - timedelta(days=400)).timestamp(), "metric": "latency_ms", "value": 3},
        {"ts": now.timestamp() - 60, "metric": "latency_ms", "value": "fast"},
        "not an object",
        {"ts": now.timestamp() - 60, "metric": "crashes", "value": 2},
    ]
    samples, errors = validate_samples(raw, now)

    assert samples.metric == ["cpu_pressure_pct", "crashes"]
    assert [(e.line, e.field) for e in errors] == [
        (2, "ts"),
        (3, "metric"),
        (4, "value"),
        (5, "ts"),
        (6, "ts"),
        (7, "ts"),
        (8, "value"),
        (9, ""),
    ]
    assert "same time and metric as sample 1" in errors[0].reason
    assert "time zone" in errors[3].reason and "future" in errors[4].reason


def test_samples_land_in_hive_day_partitions_with_the_documented_schema(laptop, telemetry_dir):
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    raw = [
        {"ts": at(midnight, -15), "metric": "latency_ms", "value": 12.5},
        {"ts": at(midnight, 15), "metric": "latency_ms", "value": 20},
    ]
    samples, errors = validate_samples(raw)
    files = telemetry.append(laptop.pk, samples)

    assert not errors and len(files) == 2
    assert {f.parent.name for f in files} == {f"day={(midnight - timedelta(days=1)).date()}", f"day={midnight.date()}"}
    assert all(f.parent.parent == telemetry_dir for f in files)
    schema = pq.read_schema(files[0])
    assert schema.names == ["device_id", "ts", "metric", "value"]
    assert str(schema.field("ts").type) == "timestamp[us, tz=UTC]"
    rows = telemetry.samples([laptop.pk])
    assert [(r[2], r[3]) for r in rows] == [("latency_ms", 12.5), ("latency_ms", 20.0)]
    assert rows[0][1] == midnight - timedelta(minutes=15)


def ingest(device, raw, batch_id):
    import json

    return services.ingest_telemetry(device.pk, json.dumps(raw).encode(), "application/json", batch_id)


@pytest.mark.django_db
def test_resending_a_batch_changes_nothing_in_queries_or_rollups(laptop, now):
    day = now.date() if now.hour >= 2 else now.date() - timedelta(days=1)
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    raw = [{"ts": at(base, 15 * i), "metric": "cpu_pressure_pct", "value": float(i)} for i in range(4)]

    first = ingest(laptop, raw, "b-1")
    again = ingest(laptop, raw, "b-1")
    # A copy under another batch id (an agent that rebatched, or a crash after the write) is still one sample.
    other = ingest(laptop, raw, "b-2")
    services.rollup_day(day)
    services.rollup_day(day)

    assert (first.stored, again.stored, again.duplicate_batch, other.stored) == (4, 0, True, 4)
    assert len(telemetry.samples([laptop.pk])) == 4
    rollup = DailyRollup.objects.get()
    assert (rollup.count, rollup.total) == (4, 6.0)
    assert telemetry.compact(day) == 2
    assert telemetry.stored_sample_count() == 4 and len(telemetry.day_files(day)) == 1


@pytest.mark.django_db
def test_rollup_matches_a_hand_computation(laptop):
    day = datetime.now(UTC).date() - timedelta(days=1)
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    values = [10.0, 20.0, 30.0, 40.0, 100.0]
    raw = [{"ts": at(base, 60 * i), "metric": "memory_pressure_pct", "value": v} for i, v in enumerate(values)]
    raw += [{"ts": at(base, 60 * i), "metric": "crashes", "value": c} for i, c in enumerate([0, 2, 1])]
    ingest(laptop, raw, "b")

    assert services.rollup_day(day) == 2
    memory = DailyRollup.objects.get(metric="memory_pressure_pct")
    crashes = DailyRollup.objects.get(metric="crashes")
    assert (memory.count, memory.minimum, memory.maximum, memory.mean, memory.total) == (5, 10, 100, 40, 200)
    assert memory.p50 == 30.0
    # Linear interpolation between the 4th (40) and 5th (100) values at rank 0.95 × 4 = 3.8.
    assert memory.p95 == pytest.approx(40 + 0.8 * 60)
    assert memory.last == 100.0
    assert (crashes.count, crashes.total, crashes.last) == (3, 3, 1)


def test_prune_removes_the_day_partitions_past_retention(telemetry_dir):
    for day in ("2026-01-01", "2026-01-30", "2026-01-31"):
        (telemetry_dir / f"day={day}").mkdir(parents=True)
        (telemetry_dir / f"day={day}" / "part-x.parquet").write_bytes(b"")

    removed = telemetry.prune(keep_days=30, today=date(2026, 3, 1))

    # Kept: today and the 30 days before it (from 2026-01-30).
    assert removed == [date(2026, 1, 1)]
    assert sorted(p.name for p in telemetry_dir.iterdir()) == ["day=2026-01-30", "day=2026-01-31"]
