"""One-click survey answers through `itxm serve`, as a user's mail client sends them.

    .venv/bin/python benchmarks/survey_answers.py [--answers 5000] [--clients 16] [--workers 2] [--threads 1]
                                                  [--server granian|gunicorn]

It builds a fresh SQLite installation with N resolved tickets and their invitations (not timed), starts
`itxm serve` on 127.0.0.1 as a user would, and clicks every invitation's score link once from concurrent
clients with keep-alive connections (plain sockets: the clients share the two cores with the server). It
prints answers/s, p50/p99 latency and the CPU time server and clients spent per request, then checks
that every answer is stored exactly once, with the client's address and agent the gaming signals read.
Beside it, in the same run: the same number of requests to /healthz (the server's floor: routing,
middleware and one query) and the in-process rate of the service the link calls. Only 127.0.0.1 is
contacted; the load is bounded in count.
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
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
ITXM = str(Path(sys.executable).with_name("itxm"))
USER_AGENT = "itxm-bench"


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
    from itxm.surveys.services import answer_score

    sample = paths[: min(len(paths), 1000)]
    started = time.perf_counter()
    for path in sample:
        _, _, token, score = path.split("/")
        answer_score(token, int(score), "127.0.0.1", USER_AGENT)
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


def drive(host: str, port: int, paths: list[str], clients: int, expected: int, server: "psutil.Process") -> "Run":
    """Send every path once from ``clients`` threads, each on its own keep-alive connection.

    The client is plain sockets: HTTP/1.1 requests, responses read by their status line and Content-Length.
    It shares the two cores with the server, so it must cost little: ``http.client`` parses every
    response's headers with the e-mail parser and took more CPU per request than a click costs the server.
    """
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    chunks = [paths[i::clients] for i in range(clients)]

    def client(chunk: list[str]) -> None:
        connection = socket.create_connection((host, port), timeout=30)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        mine = []
        for path in chunk:
            request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {USER_AGENT}\r\n\r\n".encode()
            started = time.perf_counter()
            connection.sendall(request)
            status, close, pending = read_response(connection, pending)
            mine.append((time.perf_counter() - started) * 1000)
            if status != expected:
                with lock:
                    failures.append(f"{path} → {status}")
            if close:
                connection.close()
                connection = socket.create_connection((host, port), timeout=30)
                pending = b""
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(chunk,)) for chunk in chunks]
    server_cpu, client_cpu = cpu_seconds(server), time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    return Run(len(paths), seconds, latencies, cpu_seconds(server) - server_cpu, time.process_time() - client_cpu)


def read_response(connection: socket.socket, pending: bytes) -> tuple[int, bool, bytes]:
    """One response's status and whether the server closes; returns what was read beyond it."""
    while b"\r\n\r\n" not in pending:
        received = connection.recv(65536)
        if not received:
            raise SystemExit("the server closed the connection")
        pending += received
    head, _, pending = pending.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            raise SystemExit("chunked responses are not expected here")
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    while len(pending) < length:
        received = connection.recv(65536)
        if not received:
            raise SystemExit("the server closed the connection")
        pending += received
    return status, close, pending[length:]


def cpu_seconds(server: "psutil.Process") -> float:
    """CPU time of the server's processes so far (the master and its workers)."""
    total = 0.0
    for process in [server, *server.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


@dataclass
class Run:
    requests: int
    seconds: float
    latencies: list[float]
    server_cpu: float
    client_cpu: float

    def line(self, label: str, unit: str) -> str:
        return (
            f"  {label:<19} {self.requests / self.seconds:8,.0f} {unit:<11} "
            f"p50 {statistics.median(self.latencies):6.1f} ms   p99 {percentile(self.latencies, 0.99):6.1f} ms   "
            f"CPU per request: server {self.server_cpu / self.requests * 1000:.2f} ms, "
            f"clients {self.client_cpu / self.requests * 1000:.2f} ms"
        )


def stored_exactly_once(expected: int) -> None:
    """One response per invitation, each with the score of its link, the clicking client's address and
    agent, its invitation answered and queued for analytics."""
    from django.db.models import Count

    from itxm.analytics.models import PendingFact
    from itxm.surveys.models import Invitation, Response

    per_invitation = Response.objects.values("invitation_id").annotate(n=Count("id"))
    duplicates = [row for row in per_invitation if row["n"] != 1]
    total = Response.objects.count()
    assert not duplicates and total == expected, (
        f"{total} responses for {expected} answers, duplicates: {duplicates[:3]}"
    )
    wrong = [
        row for row in Response.objects.values_list("invitation_id", "score", "client_ip", "user_agent")
        if row[1:] != (row[0] % 11, "127.0.0.1", USER_AGENT)
    ]  # fmt: skip
    assert not wrong, f"{len(wrong)} responses not as clicked, e.g. {wrong[:3]}"
    assert not Invitation.objects.exclude(status="answered").exists(), "invitations left unanswered"
    queued = PendingFact.objects.filter(kind=PendingFact.INVITATION).count()
    assert queued == expected, f"{queued} invitations queued for analytics, {expected} answered"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=200, help="answers clicked before the clock starts")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian", help="itxm serve --server")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="itxm-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITXM_")}
    env |= {"ITXM_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "itxm.settings", "ITXM_ACCESS_LOG": "/dev/null"}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    paths = setup_installation(args.warmup + args.answers)

    port = free_port()
    env["ITXM_BASE_URL"] = f"http://127.0.0.1:{port}"
    load_before = os.getloadavg()[0]
    command = [ITXM, "serve", "--bind", f"127.0.0.1:{port}", "--server", args.server]
    command += ["--workers", str(args.workers), "--threads", str(args.threads)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("127.0.0.1", port)
        process = psutil.Process(server.pid)
        # Untimed: every worker thread opens its database connection and loads what the first requests load.
        drive("127.0.0.1", port, ["/healthz"] * args.warmup, args.clients, 200, process)
        drive("127.0.0.1", port, paths[: args.warmup], args.clients, 302, process)
        floor = drive("127.0.0.1", port, ["/healthz"] * args.answers, args.clients, 200, process)
        answers = drive("127.0.0.1", port, paths[args.warmup :], args.clients, 302, process)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored_exactly_once(len(paths))
    service_rate = in_process_rate(paths)
    stored_exactly_once(len(paths))  # the in-process pass re-clicked: still one response each

    print(
        f"\n{args.answers:,} one-click answers, {args.clients} clients, itxm serve ({args.server}) with {args.workers} "
        f"workers × {args.threads} threads, SQLite; load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} at the end (clients and server share the {os.cpu_count()} cores)"
    )
    print(answers.line("one-click answers", "answers/s"))
    print(floor.line("/healthz (floor)", "requests/s"))
    print(f"  service in-process  {service_rate:8,.0f} answers/s (no HTTP)")
    print("  every answer stored exactly once: yes")
    print(
        json.dumps(
            {
                "answers_per_s": round(answers.requests / answers.seconds),
                "p99_ms": round(percentile(answers.latencies, 0.99), 1),
                "server_cpu_ms_per_answer": round(answers.server_cpu / answers.requests * 1000, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
