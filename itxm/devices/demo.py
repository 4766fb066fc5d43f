"""The demo's devices: a laptop per employee, 30 days of daily telemetry rollups, two days of raw samples,
inventory changes, and a planted anomaly (``PLANTED``; docs/devices.md, "Demo data").

Rollups are written directly (what 30 days of 15-minute samples would roll up to) so that the step stays
fast; only the last two days also exist as raw Parquet samples. Health, anomalies and proactive alerts
are then computed by the same services the worker runs.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from itxm.demo import DemoContext, delete_all
from itxm.devices import services, telemetry
from itxm.devices.models import (
    Anomaly,
    DailyRollup,
    Device,
    DeviceHealth,
    DeviceToken,
    EnrolmentCode,
    InventoryChange,
    ProactiveAlert,
    TelemetryBatch,
)

DAYS = 30
RAW_DAYS = 2
ESTIMATED_ROWS = 2000 * (1 + DAYS * 7 + DAYS)


@dataclass(frozen=True)
class LaptopModel:
    manufacturer: str
    model: str
    share: float
    boot_seconds: float  # typical mean boot time
    os_name: str = "Windows 11 Enterprise"


MODELS = (
    LaptopModel("Lenovo", "ThinkPad T14 Gen 3", 0.28, 48),
    LaptopModel("Dell", "Latitude 5440", 0.22, 52),
    LaptopModel("HP", "EliteBook 840 G9", 0.18, 55),
    LaptopModel("Lenovo", "ThinkPad X1 Carbon Gen 10", 0.12, 42),
    LaptopModel("Dell", "Latitude 7430", 0.12, 50),
    LaptopModel("Apple", "MacBook Air M2", 0.08, 25, os_name="macOS 14"),
)


@dataclass(frozen=True)
class DriverRegression:
    """After a driver update, the devices of one model that took it crash more and boot slower."""

    model: str
    driver: str
    old_version: str
    new_version: str
    days_before_end: int  # the update day, counted back from the demo's end
    share: float  # of that model's devices that took the update (the others are the comparison)
    crashes_per_day_before: float
    crashes_per_day_after: float
    boot_factor: float


@dataclass(frozen=True)
class HarmlessChange:
    """A change that makes no difference: detection must stay quiet about it."""

    model: str
    kind: str
    name: str
    old_version: str
    new_version: str
    days_before_end: int
    share: float


PLANTED = DriverRegression(
    model="Latitude 5440",
    driver="Intel Iris Xe Graphics",
    old_version="31.0.101.4502",
    new_version="31.0.101.4887",
    days_before_end=10,
    share=0.7,
    crashes_per_day_before=0.12,
    crashes_per_day_after=1.2,
    boot_factor=1.7,
)
HARMLESS = (
    HarmlessChange("ThinkPad T14 Gen 3", "driver", "Realtek Audio", "6.0.9273.1", "6.0.9499.1", 12, 0.6),
    HarmlessChange("EliteBook 840 G9", "firmware", "HP BIOS", "U70 01.12.00", "U70 01.14.00", 9, 0.5),
    HarmlessChange("Latitude 7430", "os_build", "", "22631.3007", "22631.3296", 14, 0.8),
)


def planted_facts(end: date) -> dict:
    """What the demo plants, for the docs, the tests and a curious user."""
    return {
        "model": PLANTED.model,
        "driver": PLANTED.driver,
        "new_version": PLANTED.new_version,
        "update_day": (end - timedelta(days=PLANTED.days_before_end)).isoformat(),
        "share_updated": PLANTED.share,
        "harmless_changes": [(h.model, h.kind, h.name, h.new_version) for h in HARMLESS],
    }


DEVICE_FIELDS = (
    "hostname",
    "serial",
    "manufacturer",
    "model",
    "os_name",
    "os_build",
    "cpu",
    "ram_mb",
    "disk_gb",
    "purchase_date",
    "primary_user_id",
    "source",
    "last_seen_at",
    "created_at",
)
ROLLUP_FIELDS = ("device_id", "day", "metric", "count", "minimum", "maximum", "mean", "total", "p50", "p95", "last")
CHANGE_FIELDS = ("device_id", "changed_at", "kind", "name", "old_value", "new_value")


def build(ctx: DemoContext) -> dict[str, int]:
    rng = ctx.rng
    employees = np.asarray(ctx.ids["employee_ids"])
    count = len(employees)
    end = ctx.end.date()  # the demo's "now": telemetry covers the DAYS days before it
    days = [end - timedelta(days=DAYS - i) for i in range(DAYS)]
    model_index = rng.choice(len(MODELS), size=count, p=np.array([m.share for m in MODELS]) / 1.0)
    written = ctx.insert(Device, DEVICE_FIELDS, device_rows(ctx, employees, model_index))
    ids = np.array(
        [pk for _, pk in sorted(Device.objects.filter(serial__startswith="DEMO-").values_list("serial", "pk"))]
    )
    changes, took_planted, change_rows = draw_changes(rng, ids, model_index, end)
    ctx.insert(InventoryChange, CHANGE_FIELDS, change_rows)
    levels = draw_levels(rng, count, model_index, days, took_planted, end)
    rollups = ctx.insert(DailyRollup, ROLLUP_FIELDS, rollup_rows(ids, days, levels))
    raw = write_raw_samples(rng, ids, days[-RAW_DAYS:], levels)
    insights = services.refresh_insights(as_of=days[-1], score_days=DAYS)
    ctx.ids["device_ids"] = ids
    return {"devices": written, "inventory changes": changes, "daily rollups": rollups, "raw samples": raw, **insights}


def device_rows(ctx: DemoContext, employees: np.ndarray, model_index: np.ndarray):
    rng = ctx.rng
    ram = rng.choice([8192, 16384, 32768], size=len(employees), p=[0.2, 0.6, 0.2])
    bought = rng.integers(60, 4 * 365, size=len(employees))
    seen = ctx.end - timedelta(hours=1)
    for i, employee in enumerate(employees.tolist()):
        laptop = MODELS[model_index[i]]
        yield (
            f"LT{i + 1:05d}",
            f"DEMO-{i + 1:06d}",
            laptop.manufacturer,
            laptop.model,
            laptop.os_name,
            "23.4.0" if laptop.manufacturer == "Apple" else "22631.3007",
            "Apple M2" if laptop.manufacturer == "Apple" else "Intel Core i5-1345U",
            int(ram[i]),
            512,
            ctx.end.date() - timedelta(days=int(bought[i])),
            int(employee),
            "import",
            seen,
            ctx.start,
        )


def draw_changes(rng, ids: np.ndarray, model_index: np.ndarray, end: date):
    names = [m.model for m in MODELS]
    took_planted = np.zeros(len(ids), dtype=bool)
    rows = []
    plans = [
        (PLANTED.model, "driver", PLANTED.driver, PLANTED.old_version, PLANTED.new_version,
         PLANTED.days_before_end, PLANTED.share),
        *((h.model, h.kind, h.name, h.old_version, h.new_version, h.days_before_end, h.share) for h in HARMLESS),
    ]  # fmt: skip
    for model, kind, name, old, new, days_before, share in plans:
        members = np.flatnonzero(model_index == names.index(model))
        took = members[rng.random(len(members)) < share]
        day = end - timedelta(days=days_before)
        at = datetime(day.year, day.month, day.day, 7, 30, tzinfo=UTC)
        rows += [(int(ids[i]), at + timedelta(minutes=int(m)), kind, name, old, new) for i, m in zip(
            took, rng.integers(0, 180, len(took)), strict=True)]  # fmt: skip
        if model == PLANTED.model and name == PLANTED.driver:
            took_planted[took] = True
    return len(rows), took_planted, rows


def draw_levels(rng, count: int, model_index: np.ndarray, days: list[date], took_planted, end: date) -> dict:
    """Each metric's daily figure per device (devices × days)."""
    shape = (count, len(days))
    boot_base = np.array([MODELS[m].boot_seconds for m in model_index]) * rng.lognormal(0, 0.15, count)
    after = np.array([d >= end - timedelta(days=PLANTED.days_before_end) for d in days])
    degraded = took_planted[:, None] & after[None, :]
    boot = boot_base[:, None] * rng.lognormal(0, 0.08, shape) * np.where(degraded, PLANTED.boot_factor, 1.0)
    crash_rate = np.where(degraded, PLANTED.crashes_per_day_after, PLANTED.crashes_per_day_before)
    disk_start = rng.uniform(8, 60, count)
    return {
        "boot_seconds": (boot, rng.integers(1, 3, shape)),
        "crashes": (rng.poisson(crash_rate).astype(float), None),
        "cpu_pressure_pct": (np.clip(rng.normal(60, 10, count)[:, None] + rng.normal(0, 5, shape), 5, 100), None),
        "memory_pressure_pct": (np.clip(rng.normal(75, 8, count)[:, None] + rng.normal(0, 3, shape), 10, 100), None),
        "disk_free_pct": (
            np.clip(disk_start[:, None] - np.arange(len(days))[None, :] * rng.uniform(0, 0.15, count)[:, None], 1, 100),
            None,
        ),
        "battery_health_pct": (np.clip(rng.normal(86, 10, count), 40, 100)[:, None] * np.ones(shape), None),
        "latency_ms": (rng.lognormal(np.log(40), 0.4, count)[:, None] * rng.lognormal(0, 0.15, shape), None),
    }


def rollup_rows(ids: np.ndarray, days: list[date], levels: dict):
    """Rows shaped like real rollups: the scored statistic is the drawn figure; the others follow it."""
    samples = 96
    for metric, (level, counts) in levels.items():
        rounded = np.round(level, 2).tolist()
        count_rows = counts.tolist() if counts is not None else None
        for row, device_id in enumerate(ids.tolist()):
            figures = rounded[row]
            for column, day in enumerate(days):
                value = figures[column]
                if metric == "crashes":
                    yield device_id, day, metric, samples, 0.0, value, value / samples, value, 0.0, min(value, 1.0), 0.0
                elif count_rows is not None:
                    n = count_rows[row][column]
                    yield (
                        device_id,
                        day,
                        metric,
                        n,
                        value * 0.9,
                        value * 1.1,
                        value,
                        value * n,
                        value,
                        value * 1.1,
                        value,
                    )
                else:
                    # Gauges: the day's p95 (CPU, memory, latency) or minimum (disk) or last (battery) is `value`.
                    yield device_id, day, metric, samples, value, value, value, value * samples, value, value, value


def write_raw_samples(rng, ids: np.ndarray, days: list[date], levels: dict) -> int:
    """The last days as raw 15-minute samples of the gauges, so the Parquet store and its queries have data."""
    metrics = ("cpu_pressure_pct", "memory_pressure_pct", "latency_ms")
    written = 0
    for offset, day in zip(range(DAYS - len(days), DAYS), days, strict=True):
        base = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)
        ts = np.tile(base + np.arange(96, dtype=np.int64) * 900_000_000, len(ids))
        device = np.repeat(ids.astype(np.int64), 96)
        parts = []
        for metric in metrics:
            level = np.repeat(levels[metric][0][:, offset], 96)
            noise = rng.uniform(0.5, 1.0, len(level))
            parts.append((metric, np.round(np.clip(level * noise, 0, 100 if metric != "latency_ms" else 60_000), 2)))
        table = pa.table(
            {
                "device_id": pa.array(np.tile(device, len(metrics))),
                "ts": pa.array(np.tile(ts, len(metrics))).cast(pa.timestamp("us", tz="UTC")),
                "metric": pa.array(np.repeat([m for m, _ in parts], len(device)).tolist(), pa.string()),
                "value": pa.array(np.concatenate([values for _, values in parts])),
            },
            schema=telemetry.SCHEMA,
        )
        telemetry.write_table(table)
        written += table.num_rows
    return written


def existing_data() -> list[str]:
    return ["devices"] if Device.objects.exists() else []


def reset() -> None:
    """Delete all device data, and the raw telemetry files."""
    for model in (ProactiveAlert, Anomaly, DeviceHealth, InventoryChange, DailyRollup, TelemetryBatch, DeviceToken):
        delete_all(model)
    EnrolmentCode.objects.all().delete()
    delete_all(Device)
    telemetry.prune(0, date.max)
