"""Background work on telemetry, run by ``itxm worker``; each task is safe to run twice."""

from datetime import date

from django_tasks import task

from itxm.devices import services


@task()
def rollup_day(day: str) -> int:
    """Recompute one UTC day's rollups (ISO date); returns the rows written."""
    return services.rollup_day(date.fromisoformat(day))


@task()
def rollup_yesterday() -> int:
    """Yesterday's rollups (UTC), once late samples have had a day to arrive; recomputed, never added."""
    return services.rollup_day(services.yesterday())


@task()
def compact_telemetry() -> int:
    """Merge today's and yesterday's small Parquet files; returns the files merged."""
    return services.compact_telemetry()


@task()
def prune_telemetry() -> list[str]:
    """Remove raw telemetry past ITXM_TELEMETRY_RETENTION_DAYS; returns the days removed."""
    return [day.isoformat() for day in services.prune_telemetry()]


@task()
def score_health() -> int:
    """Health of the last two days with rollups (yesterday may have been recomputed); returns rows."""
    return services.score_latest_days(2)


@task()
def detect_anomalies() -> int:
    """Anomalies as of the latest day with rollups; returns the open ones."""
    from itxm.devices import anomalies

    latest = services.latest_rollup_day()
    return anomalies.detect(latest) if latest else 0


@task()
def evaluate_alerts() -> int:
    """Proactive alerts as of the latest day with rollups, and their tickets; returns the open alerts."""
    from itxm.devices import proactive

    latest = services.latest_rollup_day()
    return proactive.evaluate(latest) if latest else 0
