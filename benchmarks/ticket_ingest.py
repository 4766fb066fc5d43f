"""Ticket ingestion throughput through the batch path, beside a plain bulk insert of the same rows.

    .venv/bin/python benchmarks/ticket_ingest.py                   # SQLite
    ITXM_DATABASE_URL=postgres://... .venv/bin/python benchmarks/ticket_ingest.py --database postgres
    .venv/bin/python benchmarks/ticket_ingest.py --database both   # needs ITXM_DATABASE_URL too

For each database it builds N canonical tickets with history (not timed), sends them as JSON batches
through the same service the batch API calls (parsing, validation, reference resolution, idempotent
upsert, history, journey facts, the analytics queue, survey invitations for recent resolutions), then
empties the tables and inserts the very same rows with a plain `executemany` (SQLite) or `COPY`
(PostgreSQL) as the baseline, and prints both rates and their ratio. A second pass re-sends everything
to show the cost of an idempotent re-delivery. Each database is fresh: a temporary SQLite file, or a
`<name>_bench` PostgreSQL database created for the run and dropped after it.

The tickets were opened over the year before the run, so that the same share of them (~2 %) is
resolved recently enough to be surveyed whenever it runs. Beside wall time it prints the benchmark
process's CPU time (on SQLite that includes the database's work; PostgreSQL's server is not counted)
and the load average, since the machine may be shared.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATES = ["new", "in_progress", "on_hold", "resolved", "closed"]


def make_tickets(count: int, events_per_ticket: int, seed: int = 1, end: datetime | None = None) -> list[dict]:
    rng = random.Random(seed)
    end = end or datetime.now(UTC)
    start = end.replace(minute=0, second=0, microsecond=0) - timedelta(days=366)
    groups = [f"GRP-{n:02d}" for n in range(20)]
    tickets = []
    for n in range(count):
        opened = start + timedelta(minutes=rng.randrange(0, 525_600))
        resolved = opened + timedelta(minutes=rng.randrange(5, 7_200))
        group = rng.choice(groups)
        history = [{"at": opened.isoformat(), "kind": "state", "to": "new"}]
        at = opened
        for step in range(events_per_ticket - 2):
            at += timedelta(minutes=rng.randrange(1, 120))
            history.append({"at": at.isoformat(), "kind": "assignment", "to": groups[(n + step) % len(groups)]})
        history.append({"at": resolved.isoformat(), "kind": "state", "from": "new", "to": "resolved"})
        tickets.append(
            {
                "source_id": f"T{n:07d}",
                "number": f"INC{n:07d}",
                "kind": "incident" if n % 3 else "request",
                "state": "resolved",
                "opened_at": opened.isoformat(),
                "resolved_at": resolved.isoformat(),
                "updated_at": resolved.isoformat(),
                "priority": rng.choice([2, 3, 3, 4]),
                "impact": 2,
                "urgency": 2,
                "channel": rng.choice(["phone", "email", "portal", "chat"]),
                "service": f"SVC-{n % 15:02d}",
                "category": f"CAT-{n % 40:02d}",
                "caller": f"E{rng.randrange(2000):05d}",
                "group": group,
                "assignee": f"AG-{group}-{n % 6}",
                "reassignment_count": events_per_ticket - 2,
                "reopen_count": 0,
                "made_sla": n % 10 != 0,
                "short_description": f"Benchmark ticket {n}",
                "history": history,
            }
        )
    return tickets


def run_on_current_database(count: int, events_per_ticket: int, batch: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from itxm.org.scopes import EVERYTHING
    from itxm.surveys.models import Invitation
    from itxm.tickets import services
    from itxm.tickets.models import Ticket, TicketEvent

    tickets = make_tickets(count, events_per_ticket)
    bodies = [json.dumps(tickets[i : i + batch]).encode() for i in range(0, count, batch)]

    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    with DatabaseClock(connection) as database:
        reports = [services.ingest_payload(EVERYTHING, "bench", body) for body in bodies]
    ingest_seconds, ingest_cpu = time.perf_counter() - started, time.process_time() - cpu
    created = sum(report.created for report in reports)
    assert created == count, created
    events = TicketEvent.objects.count()
    assert events == count * events_per_ticket, events
    invitations = Invitation.objects.count()
    invited = [r.invitations for r in reports if r.invitations]
    assert invitations == sum(i.created + sum(i.held_back.values()) for i in invited), invitations

    started, cpu = time.perf_counter(), time.process_time()
    unchanged = sum(services.ingest_payload(EVERYTHING, "bench", body).unchanged for body in bodies)
    resend_seconds, resend_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert unchanged == count

    ticket_columns, event_columns = plain_columns()
    ticket_rows = list(Ticket.objects.order_by("id").values_list(*ticket_columns))
    event_rows = list(TicketEvent.objects.order_by("id").values_list(*event_columns))
    TicketEvent.objects.all().delete()
    Ticket.objects.all().delete()
    plain = (ticket_columns, ticket_rows), (event_columns, event_rows)
    baseline_seconds, baseline_cpu = plain_insert(connection, *plain)
    assert Ticket.objects.count() == count
    return {
        "vendor": connection.vendor,
        "tickets": count,
        "events": events,
        "invitations": invitations,
        "ingest_s": ingest_seconds,
        "ingest_cpu": ingest_cpu,
        "ingest_database_s": database.seconds,
        "resend_s": resend_seconds,
        "resend_cpu": resend_cpu,
        "baseline_s": baseline_seconds,
        "baseline_cpu": baseline_cpu,
        "load": (load, os.getloadavg()[0]),
    }


class DatabaseClock:
    """Wall time the batch path spends waiting on the database: every SQL statement (reads included) and
    every commit. What is left is the application's own work, which a faster database cannot shorten."""

    def __init__(self, connection):
        self.connection, self.seconds = connection, 0.0

    def __enter__(self):
        self.connection.ensure_connection()
        commit = self.connection._commit  # Django's hook for the driver's commit; timed for this run only
        self.connection._commit = lambda: self.timed(commit)
        self.wrapper = self.connection.execute_wrapper(lambda execute, *args: self.timed(execute, *args))
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self.wrapper.__exit__(*exc)
        del self.connection._commit

    def timed(self, call, *args):
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.seconds += time.perf_counter() - started


def plain_columns() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from itxm.tickets.ingestion import EVENT_FIELDS, STORED_FIELDS

    return ("id", *STORED_FIELDS), ("id", *EVENT_FIELDS)


def plain_insert(connection, tickets: tuple, events: tuple) -> tuple[float, float]:
    """The same rows, already in database form, inserted with no ORM and no checks: the floor."""
    (ticket_columns, ticket_rows), (event_columns, event_rows) = tickets, events
    from django.db import transaction

    def sql(table, columns):  # names are constants of this file, values are parameters
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608

    if connection.vendor == "sqlite":  # SQLite stores datetimes as text: convert before the clock starts
        adapt = connection.ops.adapt_datetimefield_value
        ticket_rows = [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in ticket_rows]
        event_rows = [tuple(adapt(v) if isinstance(v, datetime) else v for v in row) for row in event_rows]
    started, cpu = time.perf_counter(), time.process_time()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor
            with raw.copy(f"COPY tickets_ticket ({', '.join(ticket_columns)}) FROM STDIN") as copy:
                for row in ticket_rows:
                    copy.write_row(row)
            with raw.copy(f"COPY tickets_ticketevent ({', '.join(event_columns)}) FROM STDIN") as copy:
                for row in event_rows:
                    copy.write_row(row)
        else:
            cursor.executemany(sql("tickets_ticket", ticket_columns), ticket_rows)
            cursor.executemany(sql("tickets_ticketevent", event_columns), event_rows)
    return time.perf_counter() - started, time.process_time() - cpu


def postgres_bench_url(url: str) -> tuple[str, str, str]:
    """A URL for a fresh <name>_bench database next to the configured one, and the admin URL to make it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench"
    return urlunsplit(parts._replace(path="/" + name)), urlunsplit(parts._replace(path="/postgres")), name


def in_subprocess(env: dict, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        "--tickets",
        str(args.tickets),
        "--events",
        str(args.events),
        "--batch",
        str(args.batch),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"the benchmark failed on {env.get('ITXM_DATABASE_URL') and 'PostgreSQL' or 'SQLite'}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_database(kind: str, args: argparse.Namespace) -> dict:
    base_env = {k: v for k, v in os.environ.items() if k != "ITXM_DATABASE_URL"}
    base_env["DJANGO_SETTINGS_MODULE"] = "itxm.settings"
    with tempfile.TemporaryDirectory() as data_dir:
        env = base_env | {"ITXM_DATA_DIR": data_dir}
        if kind == "sqlite":
            return in_subprocess(env, args)
        url = os.environ.get("ITXM_DATABASE_URL", "")
        if not url.startswith("postgres"):
            raise SystemExit("set ITXM_DATABASE_URL=postgres://… to run on PostgreSQL")
        import psycopg

        bench_url, admin_url, name = postgres_bench_url(url)
        with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            return in_subprocess(env | {"ITXM_DATABASE_URL": bench_url}, args)
        finally:
            with psycopg.connect(admin_url.replace("postgres://", "postgresql://"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def report(result: dict) -> None:
    n = result["tickets"]
    plain = "COPY" if result["vendor"] == "postgresql" else "executemany"
    print(
        f"\n{result['vendor']}: {n:,} tickets with {result['events']:,} history events, "
        f"{result['invitations']:,} survey invitations (load average {result['load'][0]:.1f} → {result['load'][1]:.1f})"
    )
    print(f"  {'':20} {'wall':>8} {'tickets/s':>10}   {'CPU':>8} {'tickets/s':>10}")
    for label, key in (("batch path", "ingest"), ("re-send (no change)", "resend"), (f"plain {plain}", "baseline")):
        wall, cpu = result[f"{key}_s"], result[f"{key}_cpu"]
        print(f"  {label:20} {wall:7.2f}s {n / wall:10,.0f}   {cpu:7.2f}s {n / cpu:10,.0f}")
    database = result["ingest_database_s"]
    print(
        f"  of the batch path's {result['ingest_s']:.2f}s, {database:.2f}s waited on the database (statements and "
        f"commits): with everything else free it would still be at most {n / database:,.0f} tickets/s"
    )
    print(
        f"  batch path is {result['ingest_s'] / result['baseline_s']:.2f}x the plain baseline's time "
        f"({result['ingest_cpu'] / result['baseline_cpu']:.2f}x its CPU time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=4, help="history events per ticket (at least 2)")
    parser.add_argument("--batch", type=int, default=5_000, help="tickets per batch request")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(run_on_current_database(args.tickets, args.events, args.batch)))
        return
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        report(run_database(kind, args))


if __name__ == "__main__":
    main()
