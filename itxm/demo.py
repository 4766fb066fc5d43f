"""The demo company behind ``itxm demo``: a realistic organisation with a year of tickets, the same
for the same seed, with patterns planted on purpose (``PLANTED``, explained in docs/demo.md).

Each domain adds its part as a step: a ``build(ctx)`` function in ``itxm/<domain>/demo.py``, listed
in ``STEPS`` and run in that order inside one transaction. It returns the counts of the rows it wrote.
Its module may also define ``existing_data() -> list[str]`` (what of that domain the database holds
already: the demo refuses to mix with it) and ``reset()`` (deletes that data; resets run in reverse
order). Each step draws from its own random generator, so a new step leaves the others' data as it was.
"""

import hashlib
import inspect
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.module_loading import import_string

from itxm.bulk import insert_rows, refresh_statistics

STEPS = [
    "itxm.org.demo.build",
    "itxm.tickets.demo.build",
    "itxm.surveys.demo.build",
    "itxm.devices.demo.build",
    "itxm.surveys.campaign_demo.build",
    "itxm.analytics.demo.build",
]

# Demo data only: everyone who tries the demo signs in with it (docs/demo.md).
DEMO_PASSWORD = "itxm-demo"  # noqa: S105
DAYS = 365
INSERT_BATCH = 5000


class DemoError(Exception):
    """The demo cannot be built; the message says why and what to do."""


@dataclass(frozen=True)
class Watermelon:
    """SLAs are green, the experience is red: reassignments, ping-pong and reopenings."""

    service: str
    made_sla_share: float
    ping_pong_groups: tuple[str, str]
    ping_pong_share: float
    reopen_share: float


@dataclass(frozen=True)
class PingPong:
    """Two groups that send tickets of some services back and forth (A→B→A)."""

    groups: tuple[str, str]
    services: tuple[str, ...]
    share: float


@dataclass(frozen=True)
class SlowSupplierGroup:
    """A group run by a supplier that resolves slowly and gets more reopenings."""

    group: str
    supplier: str
    work_factor: float
    response_factor: float
    reopen_factor: float


@dataclass(frozen=True)
class PortalAvoidance:
    service: str
    portal_share: float


@dataclass(frozen=True)
class VolumeWave:
    """A calendar month in which one service gets ``factor`` times its usual number of incidents."""

    service: str
    months_before_end: int
    factor: float

    def window(self, end: date) -> tuple[date, date]:
        """First day of the month, first day after it."""
        month_index = end.year * 12 + end.month - 1 - self.months_before_end
        first = date(month_index // 12, month_index % 12 + 1, 1)
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return first, after


@dataclass(frozen=True)
class ReassignmentDriver:
    """Each reassignment keeps the ticket waiting in a queue: on average this many hours longer."""

    hours_per_reassignment: float


@dataclass(frozen=True)
class Initiative:
    """An improvement that works (``service``) and one on a placebo service that changes nothing."""

    name: str
    service: str
    days_before_end: int
    reopen_share_before: float
    reopen_share_after: float
    placebo_service: str
    placebo_reopen_share: float

    def starts_on(self, end: date) -> date:
        return end - timedelta(days=self.days_before_end)


@dataclass(frozen=True)
class PlantedPatterns:
    watermelon: Watermelon
    ping_pong: PingPong
    slow_supplier_group: SlowSupplierGroup
    portal_avoidance: PortalAvoidance
    volume_wave: VolumeWave
    reassignment_driver: ReassignmentDriver
    initiative: Initiative

    def dates(self, end: date) -> dict[str, date]:
        wave_starts, wave_ends = self.volume_wave.window(end)
        return {
            "volume_wave_starts": wave_starts,
            "volume_wave_ends": wave_ends,
            "initiative_starts": self.initiative.starts_on(end),
        }


PLANTED = PlantedPatterns(
    watermelon=Watermelon(
        service="SVC-ERP",
        made_sla_share=0.97,
        ping_pong_groups=("GRP-ERP-APP", "GRP-INTEG"),
        ping_pong_share=0.70,
        reopen_share=0.30,
    ),
    ping_pong=PingPong(groups=("GRP-NET", "GRP-DC"), services=("SVC-VPN", "SVC-FILES"), share=0.25),
    slow_supplier_group=SlowSupplierGroup(
        group="GRP-SD-INT", supplier="SUP-B", work_factor=2.5, response_factor=2.5, reopen_factor=3.0
    ),
    portal_avoidance=PortalAvoidance(service="SVC-PAYROLL", portal_share=0.05),
    volume_wave=VolumeWave(service="SVC-VPN", months_before_end=4, factor=3.0),
    reassignment_driver=ReassignmentDriver(hours_per_reassignment=8.0),
    initiative=Initiative(
        name="Laptop first-time fix",
        service="SVC-WORKPLACE",
        days_before_end=120,
        reopen_share_before=0.15,
        reopen_share_after=0.05,
        placebo_service="SVC-PRINT",
        placebo_reopen_share=0.10,
    ),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    note: str = ""


@dataclass
class DemoContext:
    """What the steps share: the plan, the time window, and the ids one step leaves for the next."""

    seed: int
    start: datetime
    end: datetime
    scale: float = 1.0
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    progress: Callable[[int], None] = lambda rows: None
    ids: dict[str, Any] = field(default_factory=dict)
    planted: PlantedPatterns = PLANTED
    logins: list[DemoLogin] = field(default_factory=list)

    def scaled(self, count: int, minimum: int = 1) -> int:
        return max(minimum, round(count * self.scale))

    def create(self, model: type[Model], objects: list[Model]) -> list[Model]:
        """Save model objects (which get their ids) in large batches."""
        for begin in range(0, len(objects), INSERT_BATCH):
            batch = objects[begin : begin + INSERT_BATCH]
            model.objects.bulk_create(batch, batch_size=INSERT_BATCH)
            self.progress(len(batch))
        return objects

    def insert(self, model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        """Insert plain rows (values in ``fields`` order; datetimes aware) without making model objects."""
        total = 0
        iterator = iter(rows)
        while batch := list(islice(iterator, INSERT_BATCH)):
            total += insert_rows(model, fields, batch)
            self.progress(len(batch))
        refresh_statistics(model)  # later steps query what was just written
        return total


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    start: datetime
    end: datetime
    counts: dict[str, int]
    seconds: dict[str, float]
    logins: list[DemoLogin]
    password: str
    planted_dates: dict[str, date]
    cpu_seconds: float = 0.0  # this process's CPU time: the work, whatever else shares the machine

    @property
    def total_seconds(self) -> float:
        return round(sum(self.seconds.values()), 2)


def window(end: date) -> tuple[datetime, datetime]:
    """The demo's year: ``DAYS`` days up to the start of ``end`` (UTC), the demo's "now"."""
    stop = datetime(end.year, end.month, end.day, tzinfo=UTC)
    return stop - timedelta(days=DAYS), stop


def delete_all(model: type[Model]) -> None:
    """Empty a table without loading its rows, as the ORM does to cascade (seconds for the tickets).
    Tables that point to it must be emptied first."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608


def step_rng(seed: int, step: str) -> np.random.Generator:
    step_key = int.from_bytes(hashlib.blake2b(step.encode(), digest_size=8).digest(), "big")
    return np.random.default_rng([seed, step_key])


def step_module(step: str):
    return inspect.getmodule(import_string(step))


def existing_data() -> list[str]:
    """What the database holds already that the demo would mix with (empty: safe to build)."""
    found: list[str] = []
    for step in STEPS:
        found += getattr(step_module(step), "existing_data", list)()
    return found


def reset_demo() -> None:
    for step in reversed(STEPS):
        reset = getattr(step_module(step), "reset", None)
        if reset is not None:
            reset()


def estimated_rows(scale: float = 1.0) -> int:
    """Roughly how many rows a build writes, for a progress bar."""
    return round(sum(getattr(step_module(step), "ESTIMATED_ROWS", 0) for step in STEPS) * scale)


def build_demo(
    seed: int = 42,
    end: date | None = None,
    progress: Callable[[int], None] | None = None,
    reset: bool = False,
    scale: float = 1.0,
) -> DemoSummary:
    """Build the demo company: ``reset`` deletes all organisation and ticket data first."""
    end = end or timezone.localdate()
    start_at, end_at = window(end)
    ctx = DemoContext(seed=seed, start=start_at, end=end_at, scale=scale, progress=progress or (lambda rows: None))
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    cpu_began = time.process_time()
    with transaction.atomic():
        if reset:
            began = time.perf_counter()
            reset_demo()
            seconds["reset"] = round(time.perf_counter() - began, 2)
        elif found := existing_data():
            raise DemoError(
                f"the database already holds {', '.join(found)}: the demo is never mixed with real data. "
                "Use --reset to delete it all and build the demo, or point ITXM_DATA_DIR at an empty folder."
            )
        for step in STEPS:
            began = time.perf_counter()
            ctx.rng = step_rng(seed, step)
            counts.update(import_string(step)(ctx))
            seconds[step.removesuffix(".build")] = round(time.perf_counter() - began, 2)
    return DemoSummary(
        seed=seed,
        start=start_at,
        end=end_at,
        counts=counts,
        seconds=seconds,
        logins=list(ctx.logins),
        password=DEMO_PASSWORD,
        planted_dates=PLANTED.dates(end),
        cpu_seconds=round(time.process_time() - cpu_began, 2),
    )
