"""One-click survey answers through `itxm serve`, as a user's mail client sends them.

    .venv/bin/python benchmarks/survey_answers.py [--answers 5000] [--clients 16] [--workers 4]

It builds a fresh SQLite installation with N resolved tickets and their invitations (not timed), starts
`itxm serve` on 127.0.0.1 as a user would, and clicks every invitation's score link once from concurrent
clients with keep-alive connections. It prints answers/s and p50/p99 latency, then checks that every
answer is stored exactly once. Beside it, in the same run: the same number of requests to /healthz (the
server's floor: routing, middleware and one query) and the in-process rate of the service the link calls.
Only 127.0.0.1 is contacted; the load is bounded in count.
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ITXM = str(Path(sys.executable).with_name("itxm"))


def setup_installation(answers: int) -> list[str]:
    """Resolved tickets with sent invitations; returns each invitation's score path."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from itxm.org.models import Employee
    from itxm.surveys.models import FatigueRule, Invitation
    from itxm.surveys.tokens import answer_token
    from itxm.tickets.ingestion import ingest_tickets
    from itxm.tickets.records import parse_ticket

    FatigueRule.objects.update(enabled=False)
    Employee.objects.bulk_create(
        [Employee(external_id=f"E{n}", name=f"Person {n}", email=f"p{n}@example.com") for n in range(answers)]
    )
    resolved = timezone.now() - timedelta(minutes=5)
    tickets = [
        {
            "source_id": f"T{n}",
            "state": "resolved",
            "opened_at": (resolved - timedelta(hours=3)).isoformat(),
            "resolved_at": resolved.isoformat(),
            "caller": f"E{n}",
        }
        for n in range(answers)
    ]
    report = ingest_tickets("bench", [(n, parse_ticket(t, n)[0]) for n, t in enumerate(tickets)])
    assert report.invitations.created == answers, report.invitations
    Invitation.objects.update(status="sent", sent_at=timezone.now())
    return [f"/s/{answer_token(pk, nonce)}/{(pk % 11)}" for pk, nonce in Invitation.objects.values_list("id", "nonce")]


def in_process_rate(paths: list[str]) -> float:
    """The service the link calls, without HTTP: the floor of what the endpoint can do."""
    from itxm.surveys.services import record_score

    sample = paths[: min(len(paths), 1000)]
    started = time.perf_counter()
    for path in sample:
        _, _, token, score = path.split("/")
        record_score(token, int(score), "127.0.0.1", "bench")
    return len(sample) / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(host: str, port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(host, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("itxm serve did not answer in time")


def drive(host: str, port: int, paths: list[str], clients: int, expected: int) -> tuple[float, list[float]]:
    """Send every path once from ``clients`` threads; returns (seconds, latencies in ms)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    chunks = [paths[i::clients] for i in range(clients)]

    def client(chunk: list[str]) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        mine = []
        for path in chunk:
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != expected:
                with lock:
                    failures.append(f"{path} → {response.status}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    return seconds, latencies


def stored_exactly_once(expected: int) -> None:
    from django.db.models import Count

    from itxm.surveys.models import Response

    per_invitation = Response.objects.values("invitation_id").annotate(n=Count("id"))
    duplicates = [row for row in per_invitation if row["n"] != 1]
    total = Response.objects.count()
    assert not duplicates and total == expected, (
        f"{total} responses for {expected} answers, duplicates: {duplicates[:3]}"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="itxm-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITXM_")}
    env |= {"ITXM_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "itxm.settings", "ITXM_ACCESS_LOG": "/dev/null"}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    paths = setup_installation(args.answers)

    port = free_port()
    env["ITXM_BASE_URL"] = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [ITXM, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers), "--threads", str(args.threads)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for("127.0.0.1", port)
        floor_seconds, floor_latencies = drive("127.0.0.1", port, ["/healthz"] * len(paths), args.clients, 200)
        seconds, latencies = drive("127.0.0.1", port, paths, args.clients, 302)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored_exactly_once(len(paths))
    service_rate = in_process_rate(paths)
    stored_exactly_once(len(paths))  # the in-process pass re-clicked: still one response each

    print(
        f"\n{len(paths):,} one-click answers, {args.clients} clients, itxm serve with {args.workers} workers × "
        f"{args.threads} threads, SQLite (load average at the end: {os.getloadavg()[0]:.2f})"
    )
    print(
        f"  one-click answers   {len(paths) / seconds:8,.0f} answers/s   p50 {statistics.median(latencies):6.1f} ms"
        f"   p99 {percentile(latencies, 0.99):6.1f} ms"
    )
    print(
        f"  /healthz (floor)    {len(paths) / floor_seconds:8,.0f} requests/s  p50 "
        f"{statistics.median(floor_latencies):6.1f} ms   p99 {percentile(floor_latencies, 0.99):6.1f} ms"
    )
    print(f"  service in-process  {service_rate:8,.0f} answers/s (no HTTP)")
    print("  every answer stored exactly once: yes")
    print(json.dumps({"answers_per_s": round(len(paths) / seconds), "p99_ms": round(percentile(latencies, 0.99), 1)}))


if __name__ == "__main__":
    main()
