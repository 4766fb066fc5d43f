"""Analytics endpoints on a year of a large organisation, beside the same computation in pandas.

    .venv/bin/python benchmarks/dashboards.py --scale 0.05 --database sqlite      # quick check (~1 min)
    .venv/bin/python benchmarks/dashboards.py --database sqlite                   # 1,000,000 tickets
    ITXM_DATABASE_URL=postgres://user:pw@127.0.0.1:5432/any .venv/bin/python benchmarks/dashboards.py
    .venv/bin/python benchmarks/dashboards.py --keep                              # reuse the built data

Set-up (not measured, but timed and printed): a seeded organisation (15 services, 60 categories, 20
groups of which 6 run by 3 suppliers, 300 agents, 20,000 employees with department, location, country
and cost per hour) and, at scale 1, 1,000,000 tickets over the 365 days up to today with 2–4 history
events each (state new, assignment, a reassignment for ~30 %, state resolved), invitations for ~90 % of
the resolved tickets with a caller, and 300,000 answers (score, lost minutes from 0/10/40/150/360/720,
factor keys of the survey kind). Rows go in with ``itxm.bulk.insert_rows``; then ``facts.rebuild()``,
whose time is the figure to watch when the facts change.

Measured: each analytics endpoint through Django's test ``Client`` as a signed-in admin, in-process, so
the figure is server time (routing, middleware, queries, Python, JSON) without a network: 2 warm-up
calls, then ``--calls`` timed ones (5 when a warm-up takes over 2 s, 3 after one warm-up over 5 s, the
first call alone over 30 s), p50/p95 in ms and PASS/MISS against 300 ms (each call's time is in the
JSON). Before the first call, what the process holds is frozen out of the garbage collector, as
itxm/wsgi.py does when a worker starts. Journeys, channels and drivers keep their results
(``itxm.analytics.remembered``): those kept are forgotten before each of their first calls, so that
"first call" is the computation a reader waits for with a period or filter the worker has not computed.
Beside each: the same computation in pandas over the fact rows loaded in memory once (not timed), p50
of 7 runs, so the database can be compared with an in-memory engine. The pandas side computes the sums, percentiles and
filters; it skips labels, the bootstrap intervals and JSON.

Databases: SQLite in ``<data-dir>/sqlite/`` and, when ``ITXM_DATABASE_URL`` is set, a PostgreSQL
database ``itxm_bench_dash`` on that server (the role needs CREATEDB). Both are left in place so that
``--keep`` can reuse them; without it they are rebuilt. To clean up: ``rm -r <data-dir>`` and
``DROP DATABASE itxm_bench_dash``. The figures go to ``<data-dir>.json`` (``<data-dir>.only.json`` with
``--only``). Run on a quiet machine: a busy core on a 2-core machine doubles the figures (the load average
is printed with them).
"""

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 300
PG_DATABASE = "itxm_bench_dash"
SEED = 20260101
TICKETS, ANSWERS, DAYS = 1_000_000, 300_000, 365
EMPLOYEES, SERVICES, CATEGORIES, GROUPS, SUPPLIERS, AGENTS = 20_000, 15, 60, 20, 3, 300
DEPARTMENTS, LOCATIONS = 25, 30
COUNTRIES = ("TR", "DE", "GB", "US", "FR", "NL", "PL", "IN")
LOST_CHOICES = (0, 10, 40, 150, 360, 720)
CHANNELS = ("phone", "email", "portal", "chat", "walk_in", "monitoring")
CHANNEL_SHARES = (0.25, 0.25, 0.3, 0.12, 0.03, 0.05)
WEAK_SERVICES = (3, 8)  # planted: SLA met, people unhappy (watermelons)
PROGRESS_EVERY = 100_000
PANDAS_RUNS = 7


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- set-up: organisation, tickets, events, invitations, answers ----------------------------------


def build_organisation(rng) -> dict:
    from django.db import transaction

    from itxm.bulk import insert_rows
    from itxm.org.models import Agent, Category, Department, Employee, Group, Location, Service, Supplier

    with transaction.atomic():
        departments = Department.objects.bulk_create(
            [Department(name=f"Department {n:02d}") for n in range(DEPARTMENTS)]
        )
        locations = Location.objects.bulk_create(
            [Location(name=f"Site {n:02d}", country=COUNTRIES[n % len(COUNTRIES)]) for n in range(LOCATIONS)]
        )
        suppliers = Supplier.objects.bulk_create(
            [Supplier(external_id=f"SUP-{n}", name=f"Supplier {n}") for n in range(SUPPLIERS)]
        )
        groups = Group.objects.bulk_create([
            Group(external_id=f"GRP-{n:02d}", name=f"Group {n:02d}",
                  supplier=suppliers[(n - 14) // 2] if n >= 14 else None)
            for n in range(GROUPS)
        ])  # fmt: skip
        services = Service.objects.bulk_create(
            [Service(external_id=f"SVC-{n:02d}", name=f"Service {n:02d}") for n in range(SERVICES)]
        )
        categories = Category.objects.bulk_create([
            Category(external_id=f"CAT-{n:02d}", name=f"Category {n:02d}", service=services[n % SERVICES])
            for n in range(CATEGORIES)
        ])  # fmt: skip
        agents = Agent.objects.bulk_create([
            Agent(external_id=f"AG-{n:03d}", name=f"Agent {n:03d}", group=groups[n % GROUPS]) for n in range(AGENTS)
        ])  # fmt: skip
        department = rng.integers(0, DEPARTMENTS, EMPLOYEES)
        location = rng.integers(0, LOCATIONS, EMPLOYEES)
        own_country = rng.random(EMPLOYEES) < 0.9  # the rest only through their location
        cost = rng.uniform(25, 95, EMPLOYEES).round(2)
        insert_rows(
            Employee,
            ("external_id", "name", "email", "department_id", "location_id", "country", "language", "cost_per_hour",
             "opted_out", "is_active"),
            (
                (f"E{n:05d}", f"Person {n}", f"p{n}@example.com", departments[d].pk, locations[loc].pk,
                 COUNTRIES[loc % len(COUNTRIES)] if own else "", "tr" if loc % 3 == 0 else "en", str(c), False, True)
                for n, (d, loc, own, c) in enumerate(zip(department.tolist(), location.tolist(), own_country.tolist(),
                                                         cost.tolist(), strict=True))
            ),
        )  # fmt: skip
    return {
        "services": [s.pk for s in services],
        "categories": [c.pk for c in categories],
        "groups": [g.pk for g in groups],
        "group_codes": [g.external_id for g in groups],
        "agents": [a.pk for a in agents],
        "employees": list(Employee.objects.order_by("id").values_list("id", flat=True)),
    }


def _moments(seconds, base: float) -> list:
    return [datetime.fromtimestamp(base + s, UTC) for s in seconds]


def build_tickets(rng, org: dict, count: int, now: datetime) -> dict:
    """Tickets with ids 1..count in opening order, and their events; returns what the surveys need."""
    import numpy as np
    from django.db import transaction

    from itxm.bulk import insert_rows
    from itxm.tickets.models import Ticket, TicketEvent

    start = datetime.combine(now.date() - timedelta(days=DAYS - 1), datetime.min.time(), UTC).timestamp()
    span = now.timestamp() - start
    opened = np.sort(rng.uniform(0, span, count))
    service_weights = np.linspace(3, 1, SERVICES)
    service = rng.choice(SERVICES, count, p=service_weights / service_weights.sum())
    category = service + SERVICES * rng.integers(0, CATEGORIES // SERVICES, count)
    incident = rng.random(count) < 0.6
    priority = rng.choice([1, 2, 3, 4, 5], count, p=[0.02, 0.1, 0.5, 0.3, 0.08])
    channel = rng.choice(len(CHANNELS), count, p=CHANNEL_SHARES)
    group = (service + rng.choice([0, 0, 0, 0, 1, 7], count)) % GROUPS
    reassigned = rng.random(count) < np.where(np.isin(service, WEAK_SERVICES), 0.55, 0.25)
    first_group = np.where(reassigned, (group + rng.integers(1, GROUPS, count)) % GROUPS, group)
    agent = group + GROUPS * rng.integers(0, AGENTS // GROUPS, count)
    caller = rng.integers(0, len(org["employees"]), count)
    no_caller = rng.random(count) < 0.02
    minutes = np.maximum(2, rng.lognormal(np.log(240), 1.3, count) * (1 + reassigned))
    resolved = opened + minutes * 60
    still_open = (resolved > span) | (rng.random(count) < 0.02)
    closed = ~still_open & (resolved < span - 7 * 86400) & (rng.random(count) < 0.6)
    open_state = rng.choice(["new", "in_progress", "on_hold"], count, p=[0.2, 0.6, 0.2])
    state = np.where(still_open, open_state, np.where(closed, "closed", "resolved"))
    limit = np.where(priority <= 2, 8 * 60, 3 * 24 * 60)
    made_sla = minutes <= limit
    reopened = rng.random(count) < np.where(np.isin(service, WEAK_SERVICES), 0.12, 0.04)
    ping_pong = reassigned & (rng.random(count) < 0.15)
    waiting = np.where(rng.random(count) < 0.2, rng.integers(60, 86400, count), 0)
    fcr = ~reassigned & np.isin(channel, [0, 3]) & (minutes < 30)

    services, categories, groups = org["services"], org["categories"], org["groups"]
    codes, agents, employees = org["group_codes"], org["agents"], org["employees"]
    fields = (
        "id", "source", "source_id", "number", "kind", "state", "short_description", "opened_at", "resolved_at",
        "closed_at", "priority", "impact", "urgency", "channel", "category_id", "service_id", "caller_id", "group_id",
        "assignee_id", "reassignment_count", "reopen_count", "source_made_sla", "ping_pongs", "waiting_seconds",
        "first_contact_resolution",
    )  # fmt: skip
    event_fields = ("ticket_id", "seq", "at", "kind", "from_value", "to_value", "group_id")
    events_written = 0
    for begin in range(0, count, PROGRESS_EVERY):
        part = slice(begin, min(count, begin + PROGRESS_EVERY))
        ids = range(begin + 1, part.stop + 1)
        opened_at = _moments(opened[part].tolist(), start)
        resolved_at = _moments(resolved[part].tolist(), start)
        first_at = _moments((opened[part] + 60).tolist(), start)
        moved_at = _moments((opened[part] + minutes[part] * 18).tolist(), start)
        tickets, events = [], []
        for (n, o, r, f, m, s, svc, cat, inc, pri, chan, g, g0, moved, ag, cal, nocal, sla, reop, pong, wait,
                first_contact) in zip(
            ids, opened_at, resolved_at, first_at, moved_at, state[part].tolist(), service[part].tolist(),
            category[part].tolist(), incident[part].tolist(), priority[part].tolist(), channel[part].tolist(),
            group[part].tolist(), first_group[part].tolist(), reassigned[part].tolist(), agent[part].tolist(),
            caller[part].tolist(), no_caller[part].tolist(), made_sla[part].tolist(), reopened[part].tolist(),
            ping_pong[part].tolist(), waiting[part].tolist(), fcr[part].tolist(), strict=True,
        ):  # fmt: skip
            done = s in ("resolved", "closed")
            tickets.append((
                n, "bench", f"T{n:07d}", f"{'INC' if inc else 'REQ'}{n:07d}", "incident" if inc else "request", s,
                "", o, r if done else None, r + timedelta(days=7) if s == "closed" else None, pri, 2, 2,
                CHANNELS[chan], categories[cat], services[svc], None if nocal else employees[cal], groups[g],
                agents[ag], int(moved), int(reop), sla if done else None, int(pong), wait if done else 0,
                first_contact and done,
            ))  # fmt: skip
            events.append((n, 1, o, "state", "", "new", None))
            events.append((n, 2, f, "assignment", "", codes[g0], groups[g0]))
            seq = 2
            if moved:
                seq += 1
                events.append((n, seq, max(m, f), "assignment", codes[g0], codes[g], groups[g]))
            if done:
                events.append((n, seq + 1, r, "state", "new", "resolved", None))
        with transaction.atomic():
            insert_rows(Ticket, fields, tickets)
            events_written += insert_rows(TicketEvent, event_fields, events)
        say(f"    tickets {part.stop:>9,} / {count:,}  events {events_written:,}")
    done = (state == "resolved") | (state == "closed")
    return {
        "start": start,
        "resolved": resolved,
        "done": done,
        "no_caller": no_caller,
        "caller": caller,
        "incident": incident,
        "service": service,
        "reassigned": reassigned,
        "made_sla": made_sla,
        "events": events_written,
    }


def build_surveys(rng, org: dict, tickets: dict, answers: int, now: datetime) -> dict:
    import numpy as np
    from django.db import transaction

    from itxm.bulk import insert_rows
    from itxm.surveys.models import Factor, Invitation, Response

    start, span = tickets["start"], now.timestamp() - tickets["start"]
    sent = tickets["resolved"] + 300
    invited = tickets["done"] & ~tickets["no_caller"] & (rng.random(len(sent)) < 0.9) & (sent < span - 600)
    ticket_index = np.flatnonzero(invited)
    count = len(ticket_index)
    answered = np.zeros(count, dtype=bool)
    answered[rng.choice(count, min(answers, count), replace=False)] = True
    delay = np.minimum(rng.exponential(6 * 3600, count), 13 * 86400)
    answered_s = np.minimum(sent[ticket_index] + delay, span - 60)
    closes = sent[ticket_index] + 14 * 86400
    status = np.where(answered, "answered", np.where(closes <= span, "closed", "sent"))

    employees = org["employees"]
    incident = tickets["incident"][ticket_index]
    caller = tickets["caller"][ticket_index]
    resolved_at = _moments(tickets["resolved"][ticket_index].tolist(), start)
    sent_at = _moments(sent[ticket_index].tolist(), start)
    closes_at = _moments(closes.tolist(), start)
    with transaction.atomic():
        insert_rows(
            Invitation,
            ("id", "ticket_id", "employee_id", "kind", "resolution_at", "nonce", "language", "status",
             "held_back_reason", "created_at", "sent_at", "closes_at", "via_link"),
            (
                (n + 1, int(t) + 1, employees[c], "incident" if inc else "request", r, f"bench{n:010d}", "en", st, "",
                 r, s, cl, False)
                for n, (t, c, inc, r, s, cl, st) in enumerate(zip(
                    ticket_index.tolist(), caller.tolist(), incident.tolist(), resolved_at, sent_at, closes_at,
                    status.tolist(), strict=True,
                ))
            ),
        )  # fmt: skip
    say(f"    invitations {count:,}")

    # Scores follow what happened: reassignments, missed SLAs and the planted weak services cost points.
    which = np.flatnonzero(answered)
    of_ticket = ticket_index[which]
    mean = (
        8.4
        - 1.6 * tickets["reassigned"][of_ticket]
        - 1.5 * ~tickets["made_sla"][of_ticket]
        - 2.2 * np.isin(tickets["service"][of_ticket], WEAK_SERVICES)
    )
    score = np.clip(np.rint(rng.normal(mean, 1.8)), 0, 10).astype(int)
    lost_index = np.clip(np.rint(rng.normal((10 - score) / 2, 0.9)), 0, len(LOST_CHOICES) - 1).astype(int)
    complete = rng.random(len(which)) < 0.9
    draws = rng.random((len(which), 2))
    keys = {
        kind: {
            polarity: list(Factor.objects.filter(kind=kind, polarity=polarity).values_list("key", flat=True))
            for polarity in ("positive", "negative")
        }
        for kind in ("incident", "request")
    }

    def factors(kind: str, value: int, draw) -> str:
        if value >= 9:
            pool = keys[kind]["positive"]
        elif value <= 6 or draw[0] < 0.3:
            pool = keys[kind]["negative"]
        else:
            return "[]"
        picked = {pool[int(draw[0] * 997) % len(pool)], pool[int(draw[1] * len(pool))]}
        return json.dumps(sorted(picked)[: 1 + (draw[1] < 0.5)])

    answered_at = _moments(answered_s[which].tolist(), start)
    rows = []
    for n, (inv, value, lost, whole, draw, at) in enumerate(zip(
        (which + 1).tolist(), score.tolist(), lost_index.tolist(), complete.tolist(), draws.tolist(), answered_at,
        strict=True,
    )):  # fmt: skip
        kind = "incident" if incident[inv - 1] else "request"
        rows.append((
            n + 1, inv, value, LOST_CHOICES[lost] if whole else None, factors(kind, value, draw) if whole else "[]",
            "", "en", at, at, at if whole else None, 0, "",
        ))  # fmt: skip
    with transaction.atomic():
        written = insert_rows(
            Response,
            ("id", "invitation_id", "score", "lost_minutes", "factors", "comment", "language", "answered_at",
             "updated_at", "completed_at", "score_changes", "user_agent"),
            rows,
        )  # fmt: skip
    say(f"    answers {written:,}")
    return {"invitations": count, "answers": written}


def build(scale: float) -> dict:
    import numpy as np
    from django.core.management.color import no_style
    from django.db import connection

    from itxm.analytics import facts
    from itxm.bulk import refresh_statistics
    from itxm.org.models import Employee
    from itxm.surveys.models import FatigueRule, Invitation, Response
    from itxm.tickets.models import Ticket, TicketEvent

    FatigueRule.objects.update(enabled=False)
    rng = np.random.default_rng(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    count, answers = max(1000, round(TICKETS * scale)), max(300, round(ANSWERS * scale))
    say(f"  set-up: {count:,} tickets, {answers:,} answers over {DAYS} days up to {now.date()}")
    started = time.perf_counter()
    org = build_organisation(rng)
    tickets = build_tickets(rng, org, count, now)
    surveys = build_surveys(rng, org, tickets, answers, now)
    with connection.cursor() as cursor:  # explicit ids were inserted: move the sequences past them
        for sql in connection.ops.sequence_reset_sql(no_style(), [Employee, Ticket, TicketEvent, Invitation, Response]):
            cursor.execute(sql)
    refresh_statistics(Employee, Ticket, TicketEvent, Invitation, Response)
    setup_seconds = time.perf_counter() - started
    say(f"  set-up took {setup_seconds:.1f} s; facts.rebuild() …")

    done = [0]

    def progress(rows: int) -> None:
        before, done[0] = done[0], done[0] + rows
        if before // PROGRESS_EVERY != done[0] // PROGRESS_EVERY:
            say(f"    rebuild: {done[0]:,} facts")

    started = time.perf_counter()
    counts = facts.rebuild(progress)
    rebuild_seconds = time.perf_counter() - started
    say(f"  facts.rebuild() took {rebuild_seconds:.1f} s: {counts}")
    busiest = int(np.bincount(tickets["service"]).argmax())
    return {
        "scale": scale,
        "seed": SEED,
        "end_day": now.date().isoformat(),
        "tickets": count,
        "events": tickets["events"],
        "invitations": surveys["invitations"],
        "answers": surveys["answers"],
        "setup_s": round(setup_seconds, 1),
        "rebuild_s": round(rebuild_seconds, 1),
        "rebuild_counts": counts,
        "busiest_service": org["services"][busiest],
    }


# --- the endpoints, and the same computation in pandas ---------------------------------------------


def endpoint_list(meta: dict, xla_id: int | None, initiative_id: int | None) -> list[tuple[str, str, dict]]:
    end = date.fromisoformat(meta["end_day"]) + timedelta(days=1)
    days = {n: {"start": (end - timedelta(days=n)).isoformat(), "end": end.isoformat()} for n in (30, 90, 365)}
    service = str(meta["busiest_service"])
    group = str(_first_group())
    found = [
        (f"metrics {dimension} {n}d", "/api/v1/analytics/metrics", {"dimension": dimension, **days[n]})
        for dimension in ("all", "service", "group", "agent", "country")
        for n in (30, 365)
    ]
    found += [
        ("trend service 365d/week", "/api/v1/analytics/trend",
         {"dimension": "service", "member": service, "bucket": "week", **days[365]}),
        ("watermelons service 90d", "/api/v1/analytics/watermelons", {"dimension": "service", **days[90]}),
        ("priorities service 90d prev", "/api/v1/analytics/priorities",
         {"dimension": "service", "reference": "previous", **days[90]}),
        ("hotspots service×country 90d", "/api/v1/analytics/hotspots",
         {"rows": "service", "columns": "country", **days[90]}),
        ("lost-time 90d", "/api/v1/analytics/lost-time", days[90]),
        ("productivity since 90d", "/api/v1/analytics/productivity",
         {"since": days[90]["start"], "until": days[90]["end"]}),
        ("journeys group 90d", "/api/v1/analytics/journeys", {"path": "group", **days[90]}),
        ("journeys state 365d", "/api/v1/analytics/journeys", {"path": "state", **days[365]}),
        ("journeys group 90d service", "/api/v1/analytics/journeys", {"path": "group", "service": service, **days[90]}),
        ("journeys state 30d group", "/api/v1/analytics/journeys", {"path": "state", "group": group, **days[30]}),
        ("channels 90d", "/api/v1/analytics/channels", days[90]),
        ("channels 365d", "/api/v1/analytics/channels", days[365]),
        ("channels 90d group", "/api/v1/analytics/channels", {"group": group, **days[90]}),
        ("drivers resolution_hours 90d", "/api/v1/analytics/drivers", {"outcome": "resolution_hours", **days[90]}),
        ("drivers score 365d", "/api/v1/analytics/drivers", {"outcome": "score", **days[365]}),
        ("drivers lost_minutes 90d", "/api/v1/analytics/drivers", {"outcome": "lost_minutes", **days[90]}),
        ("drivers score 90d service", "/api/v1/analytics/drivers",
         {"outcome": "score", "service": service, **days[90]}),
    ]  # fmt: skip
    if xla_id is not None:
        found.append(("xla scorecard (12 months)", f"/api/v1/xlas/{xla_id}/scorecard", {"today": meta["end_day"]}))
        found.append(("xla gaming warnings (#5)", f"/api/v1/xlas/{xla_id}/gaming-warnings", {"today": meta["end_day"]}))
    if initiative_id is not None:
        found.append(("initiative effect", f"/api/v1/initiatives/{initiative_id}/effect", {}))
    return found


def _first_group() -> int | None:
    from itxm.org.models import Group

    return Group.objects.order_by("pk").values_list("pk", flat=True).first()


# Endpoints whose results are stored (``itxm.analytics.remembered``), by the name they are stored under: their
# stored results are forgotten before the first call, so that "first call" is a computation, as for any
# period or filter the worker has not computed in advance.
COLD_FIRST = {"journeys": "variants", "channels": "channels", "drivers": "drivers"}


def forget_stored(name: str) -> None:
    from itxm.analytics import remembered
    from itxm.analytics.models import StoredResult

    remembered.forget()
    StoredResult.objects.filter(name=name).delete()


def routed(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def create_xla(client, meta: dict) -> int | None:
    from itxm.surveys.models import Factor

    factor = Factor.objects.filter(kind="incident", polarity="negative").values_list("key", flat=True).first()
    payload = {
        "name": "Benchmark XLA",
        "dimension": "service",
        "member": str(meta["busiest_service"]),
        "period": "month",
        "indicators": [
            {"metric": "happiness", "target": 50},
            {"metric": "sla_compliance", "target": 90},
            {"metric": "factor_share", "factor": factor, "target": 15},
        ],
    }
    response = client.post("/api/v1/xlas", data=json.dumps(payload), content_type="application/json")
    if response.status_code != 201:
        say(f"  POST /api/v1/xlas answered {response.status_code}: {response.content[:300]!r}; no scorecard")
        return None
    return response.json()["id"]


def create_initiative(meta: dict) -> int | None:
    """An initiative for the effect endpoint, only when that route exists (it is being added)."""
    if not routed("/api/v1/initiatives/1/effect"):
        return None
    from itxm.analytics.models import Initiative

    starts = date.fromisoformat(meta["end_day"]) - timedelta(days=120)
    initiative = Initiative.objects.create(
        title="Benchmark initiative", dimension="service", member=str(meta["busiest_service"]), metric="happiness",
        starts_on=starts,
    )  # fmt: skip
    return initiative.pk


def time_endpoint(client, path: str, params: dict, calls: int) -> dict:
    """Warm p50/p95, and the first call's time (``first_ms``): what the first reader after start-up or a change
    of the data waits (kept results such as the gaming warnings are computed then)."""
    warmups = []
    for _ in range(2):
        started = time.perf_counter()
        response = client.get(path, params)
        warmups.append(time.perf_counter() - started)
        if response.status_code != 200:
            return {"error": f"{response.status_code}: {response.content[:200].decode(errors='replace')}"}
        if warmups[0] > 30:  # far over the target: one call says enough, more would take many minutes
            ms = round(warmups[0] * 1000, 1)
            return {"calls": 1, "p50_ms": ms, "p95_ms": ms, "first_ms": ms, "bytes": len(response.content)}
    if min(warmups) > 2:  # slow even warm: fewer calls keep the run within minutes (said in the output)
        calls = 3 if min(warmups) > 5 else 5
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        response = client.get(path, params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:200]
    return {
        "calls": calls,
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "first_ms": round(warmups[0] * 1000, 1),
        "bytes": len(response.content),
        "timings_ms": [round(t, 1) for t in timings],
    }


def clear_gaming_results() -> None:
    """Gaming warnings are kept per period (``itxm.surveys.gaming_results``): forget those of an earlier run."""
    from itxm.surveys.models import GamingResult

    GamingResult.objects.all().delete()


def load_frames():
    """The fact rows in DataFrames, with the CASE columns of the rollups precomputed (not timed)."""
    import numpy as np
    import pandas as pd
    from django.db import connection

    def frame(sql: str, columns: list[str]):
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)

    ticket_columns = ["ticket_id", "opened_day", "resolved_day", "service_id", "group_id", "agent_id", "country",
                      "sla_met", "reassignments", "reopens", "ping_pongs", "first_contact_resolution",
                      "resolution_seconds", "waiting_seconds"]  # fmt: skip
    tickets = frame(f"SELECT {', '.join(ticket_columns)} FROM analytics_ticketfact", ticket_columns)  # noqa: S608
    survey_columns = ["invitation_id", "sent_day", "answered_day", "service_id", "group_id", "agent_id", "country",
                      "score", "lost_minutes", "lost_cost"]  # fmt: skip
    surveys = frame(f"SELECT {', '.join(survey_columns)} FROM analytics_surveyfact", survey_columns)  # noqa: S608
    factors = frame("SELECT invitation_id, factor FROM analytics_surveyfactor", ["invitation_id", "factor"])
    for df, days in ((tickets, ("opened_day", "resolved_day")), (surveys, ("sent_day", "answered_day"))):
        for column in days:
            df[column] = pd.to_datetime(df[column])
        df["country"] = df["country"].replace("", None)
        df["all"] = 0
    tickets["sla_known"] = tickets["sla_met"].notna().astype(np.int64)
    tickets["sla_met"] = tickets["sla_met"].fillna(0).astype(np.int64)
    tickets["reassigned"] = (tickets["reassignments"] > 0).astype(np.int64)
    tickets["reopened"] = (tickets["reopens"] > 0).astype(np.int64)
    tickets["ping_ponged"] = (tickets["ping_pongs"] > 0).astype(np.int64)
    tickets["first_contact"] = tickets["first_contact_resolution"].astype(np.int64)
    surveys["promoter"] = (surveys["score"] >= 9).astype(np.int64)
    surveys["detractor"] = (surveys["score"] <= 6).astype(np.int64)
    factors = factors.merge(surveys.drop(columns=["score", "lost_minutes", "lost_cost"]), on="invitation_id")
    return tickets, surveys, factors


COLUMNS = {"all": "all", "service": "service_id", "group": "group_id", "agent": "agent_id", "country": "country"}


def pandas_computations(frames, meta: dict) -> dict:
    """name → a function computing, in memory, what that endpoint computes in the database."""
    import numpy as np
    import pandas as pd

    tickets, surveys, factors = frames
    end = pd.Timestamp(meta["end_day"]) + pd.Timedelta(days=1)
    service = meta["busiest_service"]

    def within(df, column, start, stop):
        return df[(df[column] >= start) & (df[column] < stop)]

    def summarise(dimension: str, start, stop, percentiles=True, where=None, key=None):
        """The measures of ``metrics`` per member; ``key(df, day column)`` replaces the member (trend)."""
        by = COLUMNS[dimension]

        def group(df, day):
            df = df if where is None else df[where(df)]
            df = within(df, day, start, stop)
            return df.groupby(key(df, day) if key else df[by])

        resolved = group(tickets, "resolved_day").agg(
            resolved=("ticket_id", "size"), sla_known=("sla_known", "sum"), sla_met=("sla_met", "sum"),
            reassigned=("reassigned", "sum"), reassignments=("reassignments", "sum"), reopened=("reopened", "sum"),
            ping_ponged=("ping_ponged", "sum"), first_contact=("first_contact", "sum"),
            resolution_seconds=("resolution_seconds", "sum"), waiting_seconds=("waiting_seconds", "sum"),
        )  # fmt: skip
        answered = group(surveys, "answered_day").agg(
            answered=("score", "size"), score_sum=("score", "sum"), promoters=("promoter", "sum"),
            detractors=("detractor", "sum"), lost_known=("lost_minutes", "count"), lost_minutes=("lost_minutes", "sum"),
            lost_cost=("lost_cost", "sum"),
        )  # fmt: skip
        found = resolved.join(group(tickets, "opened_day").size().rename("opened"), how="outer")
        found = found.join(group(surveys, "sent_day").size().rename("invited"), how="outer")
        found = found.join(answered, how="outer").fillna(0)
        found["happiness"] = 100 * (found["promoters"] - found["detractors"]) / found["answered"].replace(0, np.nan)
        found["sla_compliance"] = 100 * found["sla_met"] / found["sla_known"].replace(0, np.nan)
        found["reassignment_rate"] = 100 * found["reassigned"] / found["resolved"].replace(0, np.nan)
        found["mean_resolution_hours"] = found["resolution_seconds"] / 3600 / found["resolved"].replace(0, np.nan)
        found["lost_hours"] = found["lost_minutes"] / 60
        if key is None:
            said = within(factors if where is None else factors[where(factors)], "answered_day", start, stop)
            found = found.join(said.groupby([by, "factor"]).size().unstack(fill_value=0), how="left")
        if percentiles:
            seconds = group(tickets, "resolved_day")["resolution_seconds"]
            found = found.join(seconds.quantile([0.5, 0.9]).unstack() / 3600, how="left")
        return found

    def period(days: int, stop=end):
        return stop - pd.Timedelta(days=days), stop

    def watermelons():
        m = summarise("service", *period(90), percentiles=False)
        m = m[(m["answered"] >= 30) & m["sla_compliance"].notna()]
        green = m[(m["sla_compliance"] >= 90) & (m["happiness"] < 50)].sort_values("lost_cost", ascending=False)
        red = m[(m["sla_compliance"] < 90) & (m["happiness"] >= 50)].sort_values("sla_compliance")
        return green, red

    def priorities():
        start, stop = period(90)
        now = summarise("service", start, stop, percentiles=False)
        before = summarise("service", *period(90, start), percentiles=False)
        summarise("all", start, stop, percentiles=False)
        now["impact"] = now["answered"] * (now["happiness"] - before["happiness"].reindex(now.index)) / 100
        return now.sort_values("impact").head(20)

    def hotspots():
        s = within(surveys, "answered_day", *period(90)).dropna(subset=["service_id", "country"])
        grid = s.groupby(["service_id", "country"]).agg(
            answers=("score", "size"), promoters=("promoter", "sum"), detractors=("detractor", "sum"),
            lost_minutes=("lost_minutes", "sum"), lost_cost=("lost_cost", "sum"),
        )  # fmt: skip
        baseline = 100 * (grid["promoters"].sum() - grid["detractors"].sum()) / grid["answers"].sum()
        grid["happiness"] = 100 * (grid["promoters"] - grid["detractors"]) / grid["answers"]
        grid["impact"] = grid["answers"] * (grid["happiness"] - baseline) / 100
        return grid.sort_values("impact")

    def lost_time():
        minutes = within(surveys, "answered_day", *period(90))["lost_minutes"].dropna().to_numpy()
        ordered = np.sort(minutes[minutes > 0])[::-1]
        needed = int(np.searchsorted(np.cumsum(ordered), 0.8 * ordered.sum() - 1e-9)) + 1
        return len(minutes), minutes.sum() / 60, 100 * needed / len(minutes)

    def productivity():
        since, until = period(90)
        base = within(surveys, "answered_day", since - pd.Timedelta(days=90), since)["lost_minutes"].dropna()
        per_answer = base.mean()
        s = within(surveys, "answered_day", since, until).dropna(subset=["lost_minutes"])
        weeks = s.groupby(s["answered_day"].dt.to_period("W-SUN"))["lost_minutes"].agg(["sum", "count"])
        gained = per_answer * weeks["count"] - weeks["sum"]
        return gained.cumsum() / 60 / 8

    def week(df, day):
        return df[day].dt.to_period("W-SUN")

    def month(df, day):
        return df[day].dt.to_period("M")

    def of_service(df):
        return df["service_id"] == service

    def scorecard():
        months = summarise("service", end - pd.Timedelta(days=366), end, percentiles=False, where=of_service,
                           key=month)  # fmt: skip
        said = within(factors[of_service(factors)], "answered_day", end - pd.Timedelta(days=366), end)
        shares = said.groupby([month(said, "answered_day"), "factor"]).size().unstack(fill_value=0)
        return months[["happiness", "sla_compliance"]].join(shares.div(months["answered"], axis=0))

    found = {
        f"metrics {dimension} {n}d": (lambda d=dimension, n=n: summarise(d, *period(n)))
        for dimension in COLUMNS
        for n in (30, 365)
    }
    found |= {
        "trend service 365d/week": lambda: summarise(
            "service", *period(365), percentiles=False, where=of_service, key=week
        ),
        "watermelons service 90d": watermelons,
        "priorities service 90d prev": priorities,
        "hotspots service×country 90d": hotspots,
        "lost-time 90d": lost_time,
        "productivity since 90d": productivity,
        "xla scorecard (12 months)": scorecard,
    }
    return found


def time_pandas(compute) -> float:
    compute()
    timings = []
    for _ in range(PANDAS_RUNS):
        started = time.perf_counter()
        compute()
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)


def chosen(name: str, only: str) -> bool:
    """Whether ``--only`` (one or more comma-separated parts of names) picks this endpoint."""
    return any(part in name for part in only.split(","))


def measure(meta: dict, calls: int, only: str = "") -> list[dict]:
    from django.conf import settings
    from django.test import Client
    from django.urls import get_resolver

    from itxm.org.models import Role, User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.ADMIN})
    if admin.role != Role.ADMIN:
        admin.role = Role.ADMIN
        admin.save()
    client = Client()
    client.force_login(admin)
    xla_id = create_xla(client, meta)
    initiative_id = create_initiative(meta)
    computations = {}
    if not only or any(chosen(name, only) and "gaming" not in name for name, _, _ in endpoint_list(meta, xla_id, None)):
        say("  loading the facts into pandas (not timed) …")
        started = time.perf_counter()
        computations = pandas_computations(load_frames(), meta)
        say(f"  loaded in {time.perf_counter() - started:.1f} s")
    # As itxm/wsgi.py does once a worker has started: what is loaded by now (here the set-up and the pandas
    # frames too) is kept out of the garbage collector's full collections.
    get_resolver().url_patterns  # noqa: B018
    gc.freeze()
    results = []
    for name, path, params in endpoint_list(meta, xla_id, initiative_id):
        if only and not chosen(name, only):
            continue
        row = {"endpoint": name, "path": path, "params": params}
        if not routed(path):
            row["skipped"] = "no such route yet"
            say(f"  {name:<30} skipped: {path} is not in itxm/analytics/api.py yet")
            results.append(row)
            continue
        stored = next((stored for prefix, stored in COLD_FIRST.items() if name.startswith(prefix)), None)
        if stored:
            forget_stored(stored)
            row["cold_first"] = True
        row |= time_endpoint(client, path, params, calls)
        if name in computations:
            row["pandas_p50_ms"] = time_pandas(computations[name])
        if "error" in row:
            say(f"  {name:<30} ERROR {row['error']}")
        else:
            verdict = "PASS" if row["p95_ms"] <= TARGET_MS else "MISS"
            row["verdict"] = verdict
            pandas = f"{row['pandas_p50_ms']:8.1f}" if "pandas_p50_ms" in row else "       —"
            say(
                f"  {name:<30} p50 {row['p50_ms']:8.1f}  p95 {row['p95_ms']:8.1f} ms"
                f" ({row['calls']:>2} calls)  {verdict}   pandas p50 {pandas} ms   first call {row['first_ms']:.0f} ms"
                + (" (computed: nothing stored)" if row.get("cold_first") else "")
            )
        results.append(row)
    return results


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from itxm.analytics.models import TicketFact

    marker = Path(args.marker)
    meta = json.loads(marker.read_text()) if marker.exists() else None
    say("  migrating …")  # a kept database too: the facts may have gained columns since it was built
    call_command("migrate", verbosity=0)
    if meta is not None and (meta.get("scale") != args.scale or not TicketFact.objects.exists()):
        raise SystemExit(f"{marker} is for another scale or the facts are gone: run without --keep")
    if meta is None:
        meta = build(args.scale)
        marker.write_text(json.dumps(meta))
    else:
        say(
            f"  reusing the data built on {meta['end_day']} (set-up {meta['setup_s']} s, rebuild {meta['rebuild_s']} s)"
        )
        meta["reused"] = True
    if "gaming" in args.only or not args.only:
        clear_gaming_results()  # measure computing them on the first call, as after a change of the data
    results = measure(meta, args.calls, args.only)
    print(json.dumps({"vendor": connection.vendor, "meta": meta, "results": results, "load": os.getloadavg()}))


# --- parent: one subprocess per database, then the table -------------------------------------------


def run_child(env: dict, args: argparse.Namespace, marker: Path) -> dict:
    command = [sys.executable, __file__, "--child", "--marker", str(marker), "--scale", str(args.scale),
               "--calls", str(args.calls), "--only", args.only]  # fmt: skip
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if result.returncode:
        raise SystemExit(f"the benchmark failed ({result.returncode}); its output is above")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_sqlite(args: argparse.Namespace, base_env: dict) -> dict:
    directory = Path(args.data_dir) / "sqlite"
    marker = directory / "built.json"
    if not (args.keep and marker.exists()):
        shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    say(f"\nSQLite in {directory}")
    return run_child(base_env | {"ITXM_DATA_DIR": str(directory)}, args, marker)


def run_postgresql(args: argparse.Namespace, base_env: dict) -> dict | None:
    url = os.environ.get("ITXM_DATABASE_URL", "")
    if not url.startswith("postgres"):
        say("\nPostgreSQL skipped: set ITXM_DATABASE_URL=postgres://… (a role that may create databases)")
        return None
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    bench_url = urlunsplit(parts._replace(path="/" + PG_DATABASE))
    admin_url = urlunsplit(parts._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
    directory = Path(args.data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / "postgresql-built.json"
    if not (args.keep and marker.exists()):
        marker.unlink(missing_ok=True)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
            admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    say(f"\nPostgreSQL database {PG_DATABASE} on {parts.hostname}:{parts.port or 5432}")
    env = base_env | {"ITXM_DATA_DIR": str(directory / "postgresql"), "ITXM_DATABASE_URL": bench_url}
    return run_child(env, args, marker)


def report(runs: list[dict]) -> None:
    names = list(dict.fromkeys(row["endpoint"] for run in runs for row in run["results"]))
    for run in runs:
        meta = run["meta"]
        reused = " (reused)" if meta.get("reused") else ""
        print(
            f"\n{run['vendor']}: {meta['tickets']:,} tickets, {meta['events']:,} events, {meta['invitations']:,} "
            f"invitations, {meta['answers']:,} answers{reused}; set-up {meta['setup_s']} s, facts.rebuild() "
            f"{meta['rebuild_s']} s; load average at the end {run['load'][0]:.2f}"
        )
    header = f"{'endpoint':<30}"
    for run in runs:
        header += f" | {run['vendor'] + ' p50':>15} {'p95':>8} {'':4}"
    header += f" | {'pandas p50':>10}"
    print("\n" + header)
    print("-" * len(header))
    for name in names:
        line, pandas = f"{name:<30}", "—"
        for run in runs:
            row = next((r for r in run["results"] if r["endpoint"] == name), {})
            if "p50_ms" in row:
                line += f" | {row['p50_ms']:15.1f} {row['p95_ms']:8.1f} {row['verdict']:4}"
            else:
                line += f" | {('skipped' if 'skipped' in row else 'error'):>29}"
            if "pandas_p50_ms" in row and pandas == "—":
                pandas = f"{row['pandas_p50_ms']:.1f}"
        print(f"{line} | {pandas:>10}")
    print(f"(ms; target p95 ≤ {TARGET_MS} ms; pandas over the fact rows in memory, from the first database's run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 1,000,000 tickets; 0.05 for a quick check")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--keep", action="store_true", help="reuse the data built by an earlier run")
    parser.add_argument("--data-dir", default="/tmp/itxm-bench-dashboards")
    parser.add_argument("--calls", type=int, default=20, help="timed calls per endpoint")
    parser.add_argument(
        "--only",
        default="",
        help="time only the endpoints whose name holds this (or one of these, "
        "comma-separated), e.g. gaming or journeys,channels",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--marker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ITXM_")}
    base_env |= {"DJANGO_SETTINGS_MODULE": "itxm.settings"}
    runs = []
    if args.database in ("sqlite", "both"):
        runs.append(run_sqlite(args, base_env))
    if args.database in ("postgresql", "both") and (run := run_postgresql(args, base_env)):
        runs.append(run)
    if not runs:
        raise SystemExit("nothing was measured")
    report(runs)
    output = Path(args.data_dir).resolve()
    output = output.with_name(output.name + (".only.json" if args.only else ".json"))  # keep the full run's
    output.write_text(json.dumps({"target_ms": TARGET_MS, "runs": runs}, indent=2, default=str))
    print(f"figures written to {output}")


if __name__ == "__main__":
    main()
