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
