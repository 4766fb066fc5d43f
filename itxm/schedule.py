"""Recurring work the worker queues by itself: `itxm worker` runs a scheduler thread beside the
queue it serves, so one process keeps connectors in sync and verdicts current.

Several workers may each run a scheduler: every scheduled task is safe to queue twice (a sync already
queued or running is skipped, SLA verdicts are recomputed to the same values).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Every:
    seconds: float
    task: str  # dotted path of a django-tasks task taking no arguments


SCHEDULE = (
    Every(60, "itxm.tickets.tasks.sync_due_connectors"),
    Every(300, "itxm.tickets.tasks.evaluate_pending_slas"),
    Every(30, "itxm.surveys.tasks.send_outbox"),
    Every(30, "itxm.analytics.tasks.catch_up_facts"),
    Every(300, "itxm.surveys.tasks.launch_due_campaigns"),
    # Seconds of work on a million tickets: read pages answer from the last result meanwhile (gaming_results).
    Every(300, "itxm.surveys.tasks.refresh_gaming_results"),
    # Hourly on purpose: a day's rollup is recomputed whole, so late samples are counted too.
    Every(3600, "itxm.devices.tasks.rollup_yesterday"),
    Every(3600, "itxm.devices.tasks.compact_telemetry"),
    Every(86400, "itxm.devices.tasks.prune_telemetry"),
    Every(3600, "itxm.devices.tasks.score_health"),
    Every(3600, "itxm.devices.tasks.detect_anomalies"),
    Every(900, "itxm.devices.tasks.evaluate_alerts"),
    Every(3600, "itxm.web.tasks.send_monthly_reports"),
)


class Scheduler:
    def __init__(self, schedule=SCHEDULE, clock: Callable[[], float] = time.monotonic):
        self.schedule = schedule
        self.clock = clock
        self.next_run: dict[str, float] = {}

    def tick(self) -> list[str]:
        """Queue every entry whose time has come (each entry is due at start); returns what was queued."""
        now, queued = self.clock(), []
        for entry in self.schedule:
            if now >= self.next_run.get(entry.task, now):
                try:
                    import_string(entry.task).enqueue()
                    queued.append(entry.task)
                except Exception:  # a failing entry must not stop the others, nor the worker
                    log.exception("could not queue %s", entry.task)
                self.next_run[entry.task] = now + entry.seconds
        return queued

    def run(self, stop: threading.Event, poll_seconds: float = 5.0) -> None:
        while not stop.is_set():
            self.tick()
            close_old_connections()
            stop.wait(poll_seconds)


def start_in_background(schedule=SCHEDULE) -> threading.Event:
    """Start a scheduler thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=Scheduler(schedule).run, args=(stop,), name="itxm-scheduler", daemon=True).start()
    return stop
