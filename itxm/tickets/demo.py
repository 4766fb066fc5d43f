"""A year of demo incidents and requests with their history, drawn in bulk with numpy.

How a ticket lives here: the caller contacts the service desk of their country (monitoring alerts go
straight to the resolver group); the desk resolves some tickets itself and passes the rest on,
sometimes to a wrong group first; then come work, queue waits after each reassignment, holds,
reopenings and the automatic closure three days after the resolution. Times are calendar time.
The patterns planted on purpose (``ctx.planted``) are described in docs/demo.md.
"""

from bisect import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from hashlib import blake2b
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from itxm.demo import DAYS, DemoContext, delete_all
from itxm.tickets.ingestion import EVENT_FIELDS, JOURNEY_FIELDS, STORED_FIELDS
from itxm.tickets.models import (
    BusinessCalendar,
    Channel,
    EventKind,
    SlaDefinition,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketSla,
    TicketState,
)
from itxm.tickets.services import refresh_journey_facts
from itxm.tickets.sla_verdicts import evaluate_slas

SOURCE = "demo"
TICKETS_PER_YEAR = 31_000
ESTIMATED_ROWS = 31_000 + 198_000  # tickets and their events
HOUR = 3600.0


@dataclass(frozen=True)
class Behaviour:
    weight: float  # share of the ticket volume, relative
    request_share: float
    resolver: str
    desk_resolves: float  # share the service desk resolves without passing it on
    work_factor: float
    reopen_share: float
    monitored: bool  # monitoring raises incidents for it
    resolver_abroad: str | None = None  # for callers outside Türkiye


BEHAVIOUR = {
    "SVC-EMAIL": Behaviour(8, 0.35, "GRP-COLLAB", 0.45, 0.8, 0.05, True),
    "SVC-VPN": Behaviour(6, 0.20, "GRP-NET", 0.35, 0.9, 0.05, True),
    "SVC-ERP": Behaviour(5, 0.30, "GRP-ERP-APP", 0.10, 1.2, 0.06, True),
    "SVC-CRM": Behaviour(5, 0.35, "GRP-BIZAPP", 0.20, 1.1, 0.06, True),
    "SVC-WORKPLACE": Behaviour(15, 0.45, "GRP-FIELD-TR", 0.0, 1.3, 0.15, False, "GRP-FIELD-EU"),
    "SVC-PRINT": Behaviour(6, 0.30, "GRP-PRINT", 0.0, 0.9, 0.10, False),
    "SVC-WIFI": Behaviour(4, 0.10, "GRP-NET", 0.25, 0.8, 0.05, True),
    "SVC-COLLAB": Behaviour(6, 0.30, "GRP-COLLAB", 0.45, 0.7, 0.05, False),
    "SVC-IAM": Behaviour(14, 0.50, "GRP-IAM", 0.65, 0.4, 0.03, False),
    "SVC-HRPORTAL": Behaviour(3, 0.35, "GRP-BIZAPP", 0.30, 0.9, 0.05, False),
    "SVC-PAYROLL": Behaviour(2, 0.30, "GRP-BIZAPP", 0.15, 1.0, 0.06, False),
    "SVC-PORTAL": Behaviour(2, 0.30, "GRP-BIZAPP", 0.30, 0.8, 0.05, True),
    "SVC-MOBILE": Behaviour(5, 0.50, "GRP-FIELD-TR", 0.30, 1.0, 0.06, False, "GRP-FIELD-EU"),
    "SVC-FILES": Behaviour(4, 0.55, "GRP-DC", 0.30, 0.8, 0.05, True),
    "SVC-PHONE": Behaviour(3, 0.30, "GRP-NET", 0.25, 0.9, 0.05, True),
    "SVC-DWH": Behaviour(2, 0.40, "GRP-DATA", 0.05, 1.3, 0.06, True),
    "SVC-SEC": Behaviour(2, 0.30, "GRP-SEC", 0.20, 0.8, 0.03, True),
}
HOME_COUNTRY = "TR"
DESK_HOME, DESK_ABROAD = "GRP-SD-TR", "GRP-SD-INT"

CHANNELS = (Channel.PORTAL, Channel.EMAIL, Channel.PHONE, Channel.CHAT, Channel.WALK_IN, Channel.MONITORING)
INCIDENT_CHANNEL_SHARES = (0.30, 0.24, 0.27, 0.10, 0.03, 0.06)
REQUEST_CHANNEL_SHARES = (0.60, 0.20, 0.08, 0.08, 0.04, 0.0)
PRIORITY_SHARES = {
    "incident": (0.015, 0.07, 0.50, 0.35, 0.065),
    "request": (0.0, 0.01, 0.25, 0.62, 0.12),
    "monitoring": (0.05, 0.20, 0.50, 0.25, 0.0),
}
WEEKDAY_FACTOR = (1.22, 1.12, 1.06, 1.0, 0.86, 0.14, 0.10)
MONTH_FACTOR = (1.05, 1.0, 1.02, 0.98, 0.95, 0.97, 0.88, 0.80, 1.08, 1.04, 1.02, 0.85)
GROWTH_PER_YEAR = 0.08

# Hours, by priority 1..5.
RESPONSE_MEAN_HOURS = (0.15, 0.5, 2.0, 4.0, 8.0)
WORK_MEDIAN_HOURS = (2.0, 6.0, 14.0, 24.0, 40.0)
SLA_TARGET_HOURS = (8.0, 24.0, 72.0, 120.0, 240.0)
WORK_SPREAD = 0.9  # sigma of the log-normal work time
REQUEST_WORK_FACTOR = 1.3
MISROUTE_SHARE = 0.12
HOLD_SHARE, HOLD_MEAN_HOURS = 0.12, 30.0
SECOND_REOPEN_SHARE = 0.20
REOPEN_GAP_MEAN_HOURS, REOPEN_GAP_MAX_HOURS = 20.0, 70.0
REWORK_MEAN_HOURS = 8.0
AUTO_CLOSE_HOURS = 72.0
CANCELLED_SHARE, CANCEL_MEAN_HOURS = 0.02, 6.0
EXTRA_BOUNCES = {"watermelon": 1.0, "ping_pong": 0.3}  # mean further A→B→A rounds after the first
BOUNCE_AFTER_REOPEN = 0.5  # watermelon tickets sent to the other group again when reopened

# The journey facts are filled in afterwards from the written history (refresh_journey_facts).
TICKET_FIELDS = tuple(name for name in STORED_FIELDS if name not in JOURNEY_FIELDS)
STATE, ASSIGNMENT = EventKind.STATE.value, EventKind.ASSIGNMENT.value
NEW, IN_PROGRESS, ON_HOLD = TicketState.NEW.value, TicketState.IN_PROGRESS.value, TicketState.ON_HOLD.value
RESOLVED, CLOSED, CANCELLED = TicketState.RESOLVED.value, TicketState.CLOSED.value, TicketState.CANCELLED.value


def build(ctx: DemoContext) -> dict[str, int]:
    catalog = Catalog(ctx)
    draws = draw_tickets(ctx, catalog)
    tickets, histories = live_tickets(ctx, catalog, draws)
    written = ctx.insert(Ticket, TICKET_FIELDS, tickets)
    pks = dict(Ticket.objects.filter(source=SOURCE).values_list("source_id", "pk"))
    events = event_rows(ctx, catalog, [pks[row[1]] for row in tickets], histories)
    written_events = ctx.insert(TicketEvent, EVENT_FIELDS, events)
    refresh_journey_facts(SOURCE)
    definitions = create_sla_definitions(ctx)
    verdicts = evaluate_slas(now=ctx.end)
    return {
        "tickets": written,
        "ticket events": written_events,
        "SLA definitions": definitions,
        "SLA verdicts": verdicts,
    }


TURKISH_FIXED_HOLIDAYS = ("01-01", "04-23", "05-01", "05-19", "07-15", "08-30", "10-29")


def create_sla_definitions(ctx: DemoContext) -> int:
    """Working calendars and the SLAs the company has agreed with IT (docs/demo.md)."""
    years = range(ctx.start.year, ctx.end.year + 1)
    weekdays = {day: ["08:30-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    office = BusinessCalendar.objects.create(
        name="Office hours (Türkiye)",
        time_zone="Europe/Istanbul",
        hours=weekdays,
        holidays=[f"{year}-{day}" for year in years for day in TURKISH_FIXED_HOLIDAYS],
    )
    around_the_clock = BusinessCalendar.objects.create(name="Around the clock", time_zone="UTC", hours={})
    specs = [
        ("Major incidents resolved within 8 hours", "resolution", 8 * 60, around_the_clock, ["incident"], [1, 2]),
        ("Incidents resolved within 3 business days", "resolution", 3 * 570, office, ["incident"], [3, 4, 5]),
        ("Requests fulfilled within 5 business days", "resolution", 5 * 570, office, ["request"], []),
        ("First response within 4 business hours", "response", 4 * 60, office, [], []),
    ]
    for name, target, minutes, calendar, kinds, priorities in specs:
        SlaDefinition.objects.create(
            name=name,
            target=target,
            target_minutes=minutes,
            calendar=calendar,
            kinds=kinds,
            priorities=priorities,
            pause_states=[TicketState.ON_HOLD.value],
        )
    return len(specs)


def existing_data() -> list[str]:
    return ["tickets"] if Ticket.objects.exists() else []


def reset() -> None:
    delete_all(TicketSla)
    SlaDefinition.objects.all().delete()
    BusinessCalendar.objects.all().delete()
    delete_all(TicketEvent)
    delete_all(Ticket)


class Catalog:
    """The organisation as the ticket step sees it: indexes into plain lists."""

    def __init__(self, ctx: DemoContext):
        self.services = list(BEHAVIOUR)
        self.behaviour = [BEHAVIOUR[key] for key in self.services]
        self.service_pks = [ctx.ids["services"][key] for key in self.services]
        self.group_keys = list(ctx.ids["groups"])
        self.group_index = {key: index for index, key in enumerate(self.group_keys)}
        self.group_pks = [ctx.ids["groups"][key][0] for key in self.group_keys]
        self.agents = [ctx.ids["agents"][key] for key in self.group_keys]
        # Some agents take more tickets than others.
        self.agent_cumulative = [np.cumsum(1 / np.sqrt(np.arange(1, len(a) + 1))).tolist() for a in self.agents]
        self.categories = [ctx.ids["categories"][key] for key in self.services]
        self.employee_pks = ctx.ids["employee_ids"].tolist()
        self.countries = list(ctx.ids["time_zones"])
        self.time_zones = [ctx.ids["time_zones"][country] for country in self.countries]

    def group(self, key: str) -> int:
        return self.group_index[key]

    def service(self, key: str) -> int:
        return self.services.index(key)


def draw_tickets(ctx: DemoContext, catalog: Catalog) -> dict[str, np.ndarray]:
    """Every random draw of every ticket, as arrays in the order the tickets were opened."""
    draws = draw_volume(ctx, catalog)
    draw_callers(ctx, catalog, draws)
    draw_opening_times(ctx, catalog, draws)
    order = np.argsort(draws["opened"], kind="stable")
    draws = {name: values[order] for name, values in draws.items()}
    draw_priorities(ctx, draws)
    draw_routes(ctx, catalog, draws)
    draw_durations(ctx, catalog, draws)
    return draws


def draw_volume(ctx: DemoContext, catalog: Catalog) -> dict[str, np.ndarray]:
    """How many incidents and requests each service gets each day: Poisson around a weekday- and
    month-shaped rate, plus the planted wave."""
    first_day = ctx.start.date()
    days = [first_day + timedelta(days=offset) for offset in range(DAYS)]
    day_rate = np.array(
        [
            WEEKDAY_FACTOR[d.weekday()] * MONTH_FACTOR[d.month - 1] * (1 + GROWTH_PER_YEAR * i / DAYS)
            for i, d in enumerate(days)
        ]
    )
    day_rate /= day_rate.sum()
    weights = np.array([b.weight for b in catalog.behaviour])
    request_share = np.array([b.request_share for b in catalog.behaviour])
    total = TICKETS_PER_YEAR * ctx.scale * weights / weights.sum()
    rates = np.stack([np.outer(total * (1 - request_share), day_rate), np.outer(total * request_share, day_rate)], -1)
    wave = ctx.planted.volume_wave
    wave_starts, wave_ends = wave.window(ctx.end.date())
    in_wave = np.array([wave_starts <= d < wave_ends for d in days])
    rates[catalog.service(wave.service), in_wave, 0] *= wave.factor
    counts = ctx.rng.poisson(rates).ravel()
    service, day, is_request = np.unravel_index(np.repeat(np.arange(counts.size), counts), rates.shape)
    weekday = np.array([d.weekday() for d in days])[day]
    return {"service": service, "day": day, "is_request": is_request.astype(bool), "weekday": weekday}


def draw_callers(ctx: DemoContext, catalog: Catalog, draws: dict) -> None:
    rng, service, is_request = ctx.rng, draws["service"], draws["is_request"]
    count = len(service)
    channel = np.empty(count, dtype=int)
    channel[~is_request] = rng.choice(len(CHANNELS), size=(~is_request).sum(), p=INCIDENT_CHANNEL_SHARES)
    channel[is_request] = rng.choice(len(CHANNELS), size=is_request.sum(), p=REQUEST_CHANNEL_SHARES)
    monitored = np.array([b.monitored for b in catalog.behaviour])[service]
    channel[(channel == CHANNELS.index(Channel.MONITORING)) & ~monitored] = CHANNELS.index(Channel.PHONE)
    avoid_portal(ctx, catalog, service, channel)
    employees = len(ctx.ids["employee_ids"])
    activity = np.exp(rng.normal(0.0, 0.7, employees))  # a few people raise many tickets
    caller = rng.choice(employees, size=count, p=activity / activity.sum())
    monitoring = channel == CHANNELS.index(Channel.MONITORING)
    country_of_employee = np.array([catalog.countries.index(c) for c in ctx.ids["employee_countries"]])
    draws["channel"] = channel
    draws["monitoring"] = monitoring
    draws["caller"] = np.where(monitoring, -1, caller)
    draws["country"] = np.where(monitoring, catalog.countries.index(HOME_COUNTRY), country_of_employee[caller])


def avoid_portal(ctx: DemoContext, catalog: Catalog, service: np.ndarray, channel: np.ndarray) -> None:
    """People of the planted service use e-mail or the phone instead of the portal."""
    planted = ctx.planted.portal_avoidance
    behaviour = BEHAVIOUR[planted.service]
    portal = CHANNELS.index(Channel.PORTAL)
    usual = (1 - behaviour.request_share) * INCIDENT_CHANNEL_SHARES[portal]
    usual += behaviour.request_share * REQUEST_CHANNEL_SHARES[portal]
    moved = (service == catalog.service(planted.service)) & (channel == portal)
    moved &= ctx.rng.random(len(channel)) >= planted.portal_share / usual
    instead = np.where(ctx.rng.random(len(channel)) < 0.5, CHANNELS.index(Channel.EMAIL), CHANNELS.index(Channel.PHONE))
    channel[moved] = instead[moved]


def draw_opening_times(ctx: DemoContext, catalog: Catalog, draws: dict) -> None:
    """Office hours in the caller's time zone, peaking mid-morning and after lunch."""
    rng, weekday = ctx.rng, draws["weekday"]
    count = len(weekday)
    peak = np.where(rng.random(count) < 0.55, rng.normal(10.0, 1.5, count), rng.normal(14.5, 1.7, count))
    office = np.clip(peak, 7.0, 19.95)
    anytime = rng.uniform(0.0, 24.0, count)
    daytime = rng.uniform(8.0, 20.0, count)
    working_day = np.where(rng.random(count) < 0.88, office, anytime)
    weekend = np.where(rng.random(count) < 0.7, daytime, anytime)
    hour = np.where(draws["monitoring"], anytime, np.where(weekday >= 5, weekend, working_day))
    offsets = utc_offsets(ctx.start.date(), catalog.time_zones)
    local_seconds = draws["day"] * 86400.0 + hour * HOUR
    draws["hour"] = hour
    draws["opened"] = local_seconds - offsets[draws["country"], draws["day"]]
    inside = (draws["opened"] >= 0) & (draws["opened"] < (ctx.end - ctx.start).total_seconds())
    for name in list(draws):
        draws[name] = draws[name][inside]


def utc_offsets(first_day: date, time_zones: list[str]) -> np.ndarray:
    """Seconds each zone is ahead of UTC at noon of each day (summer time included)."""
    noons = [
        datetime.combine(first_day + timedelta(days=d), datetime.min.time()) + timedelta(hours=12) for d in range(DAYS)
    ]
    return np.array([[ZoneInfo(zone).utcoffset(noon).total_seconds() for noon in noons] for zone in time_zones])


def draw_priorities(ctx: DemoContext, draws: dict) -> None:
    """Priority 1..5 from impact and urgency 1..3, as ITSM tools compute it (impact + urgency - 1)."""
    rng, count = ctx.rng, len(draws["day"])
    priority = np.empty(count, dtype=int)
    for kind, mask in (
        ("incident", ~draws["is_request"] & ~draws["monitoring"]),
        ("request", draws["is_request"]),
        ("monitoring", draws["monitoring"]),
    ):
        priority[mask] = rng.choice(5, size=mask.sum(), p=PRIORITY_SHARES[kind]) + 1
    lowest, highest = np.maximum(1, priority - 2), np.minimum(3, priority)
    impact = lowest + (rng.random(count) * (highest - lowest + 1)).astype(int)
    draws["priority"], draws["impact"], draws["urgency"] = priority, impact, priority + 1 - impact


def draw_routes(ctx: DemoContext, catalog: Catalog, draws: dict) -> None:
    """Which groups a ticket goes through before its first resolution."""
    rng, service, count = ctx.rng, draws["service"], len(draws["day"])
    home = draws["country"] == catalog.countries.index(HOME_COUNTRY)
    monitoring = draws["monitoring"]
    desk = np.where(home, catalog.group(DESK_HOME), catalog.group(DESK_ABROAD))
    resolver_home = np.array([catalog.group(b.resolver) for b in catalog.behaviour])
    resolver_abroad = np.array([catalog.group(b.resolver_abroad or b.resolver) for b in catalog.behaviour])
    resolver = np.where(home, resolver_home[service], resolver_abroad[service])
    desk_resolves = np.array([b.desk_resolves for b in catalog.behaviour])[service]
    passed_on = ~monitoring & (rng.random(count) >= desk_resolves)
    reaches_resolver = monitoring | passed_on
    draws["desk"] = np.where(monitoring, -1, desk)
    draws["resolver"] = resolver
    draws["passed_on"] = passed_on
    draws["final_group"] = np.where(reaches_resolver, resolver, desk)
    draws["wrong_group"] = draw_wrong_groups(ctx, catalog, resolver, reaches_resolver)
    draw_bounces(ctx, catalog, draws, reaches_resolver)


def draw_wrong_groups(ctx: DemoContext, catalog: Catalog, resolver: np.ndarray, reaches: np.ndarray) -> np.ndarray:
    """A misrouted ticket visits one wrong resolver group first (never one of the desks)."""
    candidates = np.array([i for i, key in enumerate(catalog.group_keys) if key not in (DESK_HOME, DESK_ABROAD)])
    pick = ctx.rng.integers(0, len(candidates), len(resolver))
    wrong = candidates[pick]
    wrong = np.where(wrong == resolver, candidates[(pick + 1) % len(candidates)], wrong)
    misrouted = reaches & (ctx.rng.random(len(resolver)) < MISROUTE_SHARE)
    return np.where(misrouted, wrong, -1)


def draw_bounces(ctx: DemoContext, catalog: Catalog, draws: dict, reaches: np.ndarray) -> None:
    """The planted ping-pong: resolver → partner → resolver rounds, for the planted services only."""
    rng, service, resolver = ctx.rng, draws["service"], draws["resolver"]
    count = len(service)
    partner = np.full(count, -1)
    share = np.zeros(count)
    extra = np.zeros(count)
    watermelon, ping_pong = ctx.planted.watermelon, ctx.planted.ping_pong
    for name, services, groups, bounce_share in (
        ("watermelon", (watermelon.service,), watermelon.ping_pong_groups, watermelon.ping_pong_share),
        ("ping_pong", ping_pong.services, ping_pong.groups, ping_pong.share),
    ):
        first, second = catalog.group(groups[0]), catalog.group(groups[1])
        mask = np.isin(service, [catalog.service(key) for key in services]) & np.isin(resolver, [first, second])
        partner[mask] = np.where(resolver[mask] == first, second, first)
        share[mask], extra[mask] = bounce_share, EXTRA_BOUNCES[name]
    bounces = reaches & (partner >= 0) & (rng.random(count) < share)
    draws["partner"] = partner
    draws["rounds"] = np.where(bounces, 1 + rng.poisson(extra), 0)
    draws["is_watermelon"] = service == catalog.service(watermelon.service)


def draw_durations(ctx: DemoContext, catalog: Catalog, draws: dict) -> None:
    rng, count = ctx.rng, len(draws["day"])
    priority = draws["priority"] - 1
    slow = ctx.planted.slow_supplier_group
    slow_group = catalog.group(slow.group)
    off_hours = off_hours_wait(draws["weekday"], draws["hour"]) * ((priority >= 2) & ~draws["monitoring"])
    response = rng.exponential(np.array(RESPONSE_MEAN_HOURS)[priority])
    response *= np.where(draws["desk"] == slow_group, slow.response_factor, 1.0)
    draws["response"] = (response + off_hours) * HOUR
    work = np.exp(rng.normal(np.log(np.array(WORK_MEDIAN_HOURS)[priority]), WORK_SPREAD))
    work *= np.array([b.work_factor for b in catalog.behaviour])[draws["service"]]
    work *= np.where(draws["is_request"], REQUEST_WORK_FACTOR, 1.0)
    work *= np.where(draws["final_group"] == slow_group, slow.work_factor, 1.0)
    draws["work"] = work * HOUR
    draws["on_hold"] = rng.random(count) < HOLD_SHARE
    draws["hold"] = rng.exponential(HOLD_MEAN_HOURS, count) * HOUR
    draws["hold_at"] = rng.random(count)
    draw_reopenings(ctx, catalog, draws)
    draws["cancelled"] = rng.random(count) < CANCELLED_SHARE
    draws["cancel_after"] = rng.exponential(CANCEL_MEAN_HOURS, count) * HOUR
    draws["sla_target"] = np.array(SLA_TARGET_HOURS)[priority] * HOUR
    draws["sla_luck"] = rng.random(count)
    draws["category_pick"] = rng.random(count)
    draws["agent_pick"] = rng.random(count)
    draw_queue_waits(ctx, draws)


def off_hours_wait(weekday: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Hours until 08:30 on the next working day, for tickets raised outside office hours."""
    start = 8.5
    after_work = np.where(weekday == 4, 24 - hour + 48 + start, 24 - hour + start)
    wait = np.where(hour < 8, start - hour, np.where(hour >= 18, after_work, 0.0))
    wait = np.where(weekday == 5, 24 - hour + 24 + start, wait)
    return np.where(weekday == 6, 24 - hour + start, wait)


def draw_reopenings(ctx: DemoContext, catalog: Catalog, draws: dict) -> None:
    rng, count, service = ctx.rng, len(draws["day"]), draws["service"]
    planted = ctx.planted
    share = np.array([b.reopen_share for b in catalog.behaviour])[service]
    initiative = planted.initiative
    after = draws["day"] >= (initiative.starts_on(ctx.end.date()) - ctx.start.date()).days
    improved = service == catalog.service(initiative.service)
    share[improved] = np.where(after[improved], initiative.reopen_share_after, initiative.reopen_share_before)
    share[service == catalog.service(initiative.placebo_service)] = initiative.placebo_reopen_share
    share[draws["is_watermelon"]] = planted.watermelon.reopen_share
    slow = planted.slow_supplier_group
    share = np.where(draws["final_group"] == catalog.group(slow.group), share * slow.reopen_factor, share)
    first = rng.random(count) < np.minimum(share, 0.9)
    second = first & (rng.random(count) < SECOND_REOPEN_SHARE)
    draws["reopens"] = first.astype(int) + second
    draws["bounce_after_reopen"] = first & (draws["rounds"] > 0) & (rng.random(count) < BOUNCE_AFTER_REOPEN)
    draws["reopen_gap"] = np.minimum(rng.exponential(REOPEN_GAP_MEAN_HOURS, (count, 2)), REOPEN_GAP_MAX_HOURS) * HOUR
    draws["rework"] = rng.exponential(REWORK_MEAN_HOURS, (count, 2)) * HOUR


def draw_queue_waits(ctx: DemoContext, draws: dict) -> None:
    """One queue wait per reassignment (the planted driver) and the share of work each group does."""
    reaches = draws["monitoring"] | draws["passed_on"]
    route_length = (~draws["monitoring"]).astype(int) + reaches + (draws["wrong_group"] >= 0) + 2 * draws["rounds"]
    reassignments = route_length - 1 + 2 * draws["bounce_after_reopen"]
    mean = ctx.planted.reassignment_driver.hours_per_reassignment * HOUR
    draws["queue_waits"] = ctx.rng.exponential(mean, reassignments.sum())
    draws["queue_wait_end"] = np.cumsum(reassignments)
    draws["work_parts"] = ctx.rng.exponential(1.0, route_length.sum())
    draws["work_part_end"] = np.cumsum(route_length)


class Timeline:
    """A ticket's events in order: (seconds since the demo start, kind, from, to, group index). Groups are
    indexes into ``Catalog.group_keys``; -1 is no group (before the first assignment)."""

    __slots__ = ("at", "events", "state", "group")

    def __init__(self, at: float, group: int):
        self.at, self.events, self.state, self.group = at, [], "", group
        self.move(NEW)
        self.events.append((at, ASSIGNMENT, -1, group, group))

    def move(self, state: str) -> None:
        self.events.append((self.at, STATE, self.state, state, self.group))
        self.state = state

    def assign(self, group: int) -> None:
        self.events.append((self.at, ASSIGNMENT, self.group, group, group))
        self.group = group


class Plan(NamedTuple):
    opened: float
    route: list[int]
    response: float
    work_parts: list[float]
    queue_waits: list[float]
    on_hold: bool
    hold: float
    hold_at: float
    reopens: int
    reopen_gap: list[float]
    rework: list[float]
    bounce_after_reopen: bool
    partner: int


def route_of(desk: int, wrong: int, resolver: int, partner: int, rounds: int, passed_on: bool) -> list[int]:
    route = [desk] if desk >= 0 else []
    if desk < 0 or passed_on:
        route += ([wrong] if wrong >= 0 else []) + [resolver] + [partner, resolver] * rounds
    return route


def worked_history(plan: Plan) -> list[tuple]:
    waits = iter(plan.queue_waits)
    timeline = Timeline(plan.opened, plan.route[0])
    timeline.at += plan.response
    timeline.move(IN_PROGRESS)
    last = len(plan.route) - 1
    for step, group in enumerate(plan.route):
        if step:
            timeline.assign(group)
            timeline.at += next(waits)
        if plan.on_hold and step == last:
            work_with_hold(timeline, plan.work_parts[step], plan.hold, plan.hold_at)
        else:
            timeline.at += plan.work_parts[step]
    timeline.move(RESOLVED)
    for reopening in range(plan.reopens):
        timeline.at += plan.reopen_gap[reopening]
        timeline.move(IN_PROGRESS)
        if reopening == 0 and plan.bounce_after_reopen:
            resolver = timeline.group
            timeline.assign(plan.partner)
            timeline.at += next(waits)
            timeline.assign(resolver)
            timeline.at += next(waits)
        timeline.at += plan.rework[reopening]
        timeline.move(RESOLVED)
    timeline.at += AUTO_CLOSE_HOURS * HOUR
    timeline.move(CLOSED)
    return timeline.events


def work_with_hold(timeline: Timeline, work: float, hold: float, hold_at: float) -> None:
    """Work, waiting for the caller part of the way through, then the rest of the work."""
    timeline.at += work * hold_at
    timeline.move(ON_HOLD)
    timeline.at += hold
    timeline.move(IN_PROGRESS)
    timeline.at += work * (1 - hold_at)


def cancelled_history(opened: float, group: int, cancel_after: float) -> list[tuple]:
    timeline = Timeline(opened, group)
    timeline.at += cancel_after
    timeline.move(CANCELLED)
    return timeline.events


@dataclass
class Outcome:
    """A ticket as its source shows it at the demo's end, read off the events that happened by then."""

    events: list[tuple]
    state: str = NEW
    group: int = -1
    first_response: float | None = None
    first_resolution: float | None = None
    resolved: float | None = None
    closed: float | None = None
    reassignments: int = -1  # the first assignment is not a reassignment
    reopens: int = 0


def outcome_at(events: list[tuple], horizon: float) -> Outcome:
    outcome = Outcome(events=[event for event in events if event[0] < horizon])
    for at, kind, before, after, group in outcome.events:
        if kind == ASSIGNMENT:
            outcome.reassignments += 1
            outcome.group = group
            continue
        outcome.state = after
        if before == NEW and after == IN_PROGRESS:
            outcome.first_response = at
        elif before == RESOLVED and after == IN_PROGRESS:
            outcome.reopens += 1
        elif after == RESOLVED:
            outcome.resolved = at
            if outcome.first_resolution is None:
                outcome.first_resolution = at
        elif after in (CLOSED, CANCELLED):
            outcome.closed = at
    if outcome.state not in (RESOLVED, CLOSED):
        outcome.resolved = None
    return outcome


def live_tickets(ctx: DemoContext, catalog: Catalog, draws: dict) -> tuple[list[tuple], list[list[tuple]]]:
    """Play each ticket's life up to the demo's end; return ticket rows and their events."""
    columns = {name: values.tolist() for name, values in draws.items()}
    horizon = (ctx.end - ctx.start).total_seconds()
    moment = moments(ctx.start)
    numbers = {False: 10000, True: 10000}
    rows, histories = [], []
    for index in range(len(columns["opened"])):
        outcome = outcome_at(history_of(columns, index), horizon)
        is_request = columns["is_request"][index]
        numbers[is_request] += 1
        rows.append(ticket_row(ctx, catalog, columns, index, outcome, numbers[is_request], moment))
        histories.append(outcome.events)
    return rows, histories


def history_of(columns: dict, index: int) -> list[tuple]:
    def value(name):
        return columns[name][index]

    route = route_of(
        value("desk"), value("wrong_group"), value("resolver"), value("partner"), value("rounds"), value("passed_on")
    )
    if value("cancelled"):
        return cancelled_history(value("opened"), route[0], value("cancel_after"))
    waits_end, parts_end = value("queue_wait_end"), value("work_part_end")
    reassignments = len(route) - 1 + 2 * value("bounce_after_reopen")
    return worked_history(
        Plan(
            opened=value("opened"),
            route=route,
            response=value("response"),
            work_parts=work_parts(columns, value("work"), parts_end - len(route), parts_end),
            queue_waits=columns["queue_waits"][waits_end - reassignments : waits_end],
            on_hold=value("on_hold"),
            hold=value("hold"),
            hold_at=value("hold_at"),
            reopens=value("reopens"),
            reopen_gap=value("reopen_gap"),
            rework=value("rework"),
            bounce_after_reopen=value("bounce_after_reopen"),
            partner=value("partner"),
        )
    )


def work_parts(columns: dict, work: float, begin: int, end: int) -> list[float]:
    parts = columns["work_parts"][begin:end]
    total = sum(parts)
    return [work * part / total for part in parts]


def moments(start: datetime):
    def moment(seconds: float | None) -> datetime | None:
        return None if seconds is None else start + timedelta(seconds=round(seconds))

    return moment


def ticket_row(ctx, catalog: Catalog, columns: dict, index: int, outcome: Outcome, number: int, moment) -> tuple:
    def value(name):
        return columns[name][index]

    service = value("service")
    is_request = value("is_request")
    kind = TicketKind.REQUEST.value if is_request else TicketKind.INCIDENT.value
    categories = catalog.categories[service][kind]
    category_pk, category_name = categories[int(value("category_pick") * len(categories))]
    caller = value("caller")
    opened = value("opened")
    return (
        SOURCE,
        source_id(ctx.seed, index),
        f"{'RITM' if is_request else 'INC'}{number:07d}",
        kind,
        outcome.state,
        category_name,
        moment(opened),
        moment(outcome.first_response),
        moment(outcome.resolved),
        moment(outcome.closed),
        moment(outcome.events[-1][0]),
        value("priority"),
        value("impact"),
        value("urgency"),
        CHANNELS[value("channel")].value,
        category_pk,
        catalog.service_pks[service],
        None if caller < 0 else catalog.employee_pks[caller],
        catalog.group_pks[outcome.group],
        assignee(catalog, outcome, value("agent_pick")),
        outcome.reassignments,
        outcome.reopens,
        made_sla(outcome, opened, value("sla_target"), value("is_watermelon"), value("sla_luck"), ctx),
    )


def source_id(seed: int, index: int) -> str:
    return blake2b(f"{seed}:{index}".encode(), digest_size=16).hexdigest()


def assignee(catalog: Catalog, outcome: Outcome, pick: float) -> int | None:
    if outcome.state in (NEW, CANCELLED):
        return None
    agents, cumulative = catalog.agents[outcome.group], catalog.agent_cumulative[outcome.group]
    return agents[min(bisect(cumulative, pick * cumulative[-1]), len(agents) - 1)]


def made_sla(outcome: Outcome, opened: float, target: float, watermelon: bool, luck: float, ctx) -> bool | None:
    """The source's verdict. The watermelon's source pauses the clock while a ticket waits in another
    group's queue and restarts it on reopening, so it nearly always says "met"."""
    if outcome.state == CANCELLED:
        return None
    if outcome.first_resolution is None:
        return False if outcome.events[-1][0] - opened > target else None
    if watermelon:
        return luck < ctx.planted.watermelon.made_sla_share
    return outcome.first_resolution - opened <= target


def event_rows(ctx: DemoContext, catalog: Catalog, ticket_pks: list[int], histories: list[list[tuple]]):
    """As ingestion stores them: assignments name groups by external id and link the new group."""
    keys, group_pks, moment = catalog.group_keys + [""], catalog.group_pks, moments(ctx.start)
    for ticket_pk, events in zip(ticket_pks, histories, strict=True):
        for seq, (at, kind, before, after, group) in enumerate(events, start=1):
            if kind == ASSIGNMENT:
                yield (ticket_pk, seq, moment(at), kind, keys[before], keys[after], group_pks[group])
            else:
                yield (ticket_pk, seq, moment(at), kind, before, after, None)
