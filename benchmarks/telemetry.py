"""Telemetry benchmark: ingest rate through `itxm serve`, and rollup/scoring time of a scaled data set.

    .venv/bin/python benchmarks/telemetry.py [--seconds 20] [--threads 8] [--batch 5000] [--devices 2000] [--days 7]

Part 1 starts `itxm serve` as a user would (its own data folder, 127.0.0.1, an ephemeral port), enrols
devices with one-time codes, and POSTs gzip'd JSON batches (as the agent sends them) from several threads
for a bounded time. Beside it, in the same run: the same batches validated and written straight to Parquet
in-process (the endpoint's work without HTTP and Django), and a plain pyarrow write of the same rows.

Part 2 writes a synthetic data set (devices × days × 96 samples a day × metrics) straight to the Parquet
layout, then times the daily rollups (DuckDB, then the rows into the database) and one 30-day-style
aggregate over the whole period (what a health score reads). The figures are extrapolated linearly to
50,000 devices × 30 days, and the output says which figures were measured and which extrapolated.
"""

import argparse
import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

BIN = Path(sys.executable).parent
METRICS = [
    ("cpu_pressure_pct", 0, 100),
    ("memory_pressure_pct", 0, 100),
    ("disk_free_pct", 0, 100),
    ("disk_free_gb", 0, 500),
    ("battery_health_pct", 50, 100),
    ("battery_charge_pct", 0, 100),
    ("crashes", 0, 2),
    ("hangs", 0, 2),
    ("latency_ms", 1, 300),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (127.0.0.1 only)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def make_batch(batch: int, offset: int) -> list[dict]:
    """``batch`` samples of one device: 9 metrics at consecutive seconds within the last day."""
    import random

    start = datetime.now(UTC) - timedelta(hours=20) + timedelta(seconds=offset)
    samples = []
    for i in range(batch // len(METRICS)):
        ts = (start + timedelta(seconds=i)).isoformat()
        for name, low, high in METRICS:
            samples.append({"ts": ts, "metric": name, "value": round(random.uniform(low, high), 2)})
    return samples


def post(connection: http.client.HTTPConnection, token: str, body: bytes) -> int:
    connection.request(
        "POST",
        "/api/v1/devices/telemetry",
        body=body,
        headers={
            "Authorization": f"Device {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "X-ITXM-Batch-Id": uuid.uuid4().hex,
        },
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {answer}")
    return answer["stored"]


def ingest_over_http(args, data_dir: Path, bodies: list[bytes]) -> dict:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITXM_")} | {
        "ITXM_DATA_DIR": str(data_dir),
        "ITXM_WORKERS": str(args.workers),
        "ITXM_THREADS": "2",
        "ITXM_ACCESS_LOG": str(data_dir / "access.log"),
    }
    server = subprocess.Popen(
        [BIN / "itxm", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", 90)
        script = (
            "from itxm.devices import services; from itxm.org.scopes import EVERYTHING; "
            "print('\\n'.join(services.create_enrolment_code(EVERYTHING, None)[1] "
            f"for _ in range({args.http_devices})))"
        )
        codes = subprocess.run(
            [BIN / "itxm", "shell", "--no-imports", "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        tokens = []
        for number, code in enumerate(codes):
            body = json.dumps({"code": code, "inventory": {"hostname": f"BENCH-{number:05d}"}}).encode()
            request = urllib.request.Request(  # noqa: S310
                f"http://127.0.0.1:{port}/api/v1/devices/enrol", body, {"Content-Type": "application/json"}
            )
            tokens.append(json.loads(urllib.request.urlopen(request, timeout=30).read())["token"])  # noqa: S310

        stored, requests, errors = [0], [0], []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def worker(index: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            n = index
            try:
                while time.monotonic() < deadline and requests[0] < args.max_requests:
                    count = post(connection, tokens[n % len(tokens)], bodies[n % len(bodies)])
                    with lock:
                        stored[0] += count
                        requests[0] += 1
                    n += args.threads
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                connection.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.communicate(timeout=30)
    if errors:
        print("  errors:", errors[:3])
    return {"samples": stored[0], "requests": requests[0], "seconds": elapsed, "rate": stored[0] / elapsed}


def in_process_baselines(batches: list[list[dict]], bodies: list[bytes]) -> tuple[float, float]:
    """The endpoint's own work (gunzip, parse, validate, write Parquet) without HTTP and Django, and a
    plain pyarrow write of already-built tables: both in samples per second."""
    import pyarrow.parquet as pq

    from itxm.devices import services, telemetry

    rounds = max(1, 60 // len(bodies))
    total, started = 0, time.perf_counter()
    for _ in range(rounds):
        for body in bodies:
            items = services.parse_samples_body(body, "application/json", "gzip")
            samples, _errors = telemetry.validate_samples(items)
            telemetry.append(1, samples)
            total += len(samples)
    endpoint_rate = total / (time.perf_counter() - started)

    tables = []
    for raw in batches:
        samples, _ = telemetry.validate_samples(raw)
        tables.append(telemetry._table(1, samples))
    folder = Path(tempfile.mkdtemp(prefix="itxm-bench-pq-"))
    total, started = 0, time.perf_counter()
    for r in range(rounds):
        for i, table in enumerate(tables):
            pq.write_table(table, folder / f"{r}-{i}.parquet", compression="zstd")
            total += table.num_rows
    write_rate = total / (time.perf_counter() - started)
    shutil.rmtree(folder, ignore_errors=True)
    return endpoint_rate, write_rate


def synthetic_data_set(devices: int, days: int, first_device_id: int) -> tuple[int, list]:
    """devices × days × 96 × metrics samples written as one file per day; returns (samples, days)."""
    import numpy as np
    import pyarrow as pa

    from itxm.devices import telemetry

    rng = np.random.default_rng(7)
    today = datetime.now(UTC).date()
    day_list = [today - timedelta(days=d) for d in range(days, 0, -1)]
    per_day = devices * 96
    total = 0
    for day in day_list:
        base = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)
        ids = np.repeat(np.arange(first_device_id, first_device_id + devices, dtype=np.int64), 96)
        ts = base + np.tile(np.arange(96, dtype=np.int64) * 900_000_000, devices)
        columns = {"device_id": [], "ts": [], "metric": [], "value": []}
        for name, low, high in METRICS:
            columns["device_id"].append(ids)
            columns["ts"].append(ts)
            columns["metric"].append(pa.array([name] * per_day, pa.string()))
            columns["value"].append(rng.uniform(low, high, per_day).round(2))
        table = pa.table(
            {
                "device_id": pa.array(np.concatenate(columns["device_id"])),
                "ts": pa.array(np.concatenate(columns["ts"])).cast(pa.timestamp("us", tz="UTC")),
                "metric": pa.concat_arrays(columns["metric"]),
                "value": pa.array(np.concatenate(columns["value"])),
            },
            schema=telemetry.SCHEMA,
        )
        telemetry.write_table(table)
        total += table.num_rows
    return total, day_list


def score_fleet(devices: int, days: int) -> None:
    """Part 3: health scores of devices × days from synthetic daily rollups (the rows scoring reads)."""
    import numpy as np

    from itxm.devices import health

    rng = np.random.default_rng(11)
    rows = devices * days
    columns = len(health.COMPONENTS)
    frame = health.Frame(
        device_ids=np.repeat(np.arange(devices, dtype=np.int64), days),
        days=np.tile(np.arange(739_000, 739_000 + days, dtype=np.int64), devices),
        values=rng.uniform(0, 1, (rows, columns)) * np.array([240, 90, 4, 100, 100, 60, 100, 400]),
        counts=rng.integers(0, 3, (rows, columns)).astype(float),
    )
    frame.values[rng.random(frame.values.shape) < 0.05] = np.nan  # some metrics not reported some days
    print(f"\n3. health scores of {devices:,} devices × {days} days ({rows:,} device-days, {columns} components)")
    started = time.perf_counter()
    scores = health.score(frame)
    scoring = time.perf_counter() - started
    started = time.perf_counter()
    figures = health.component_figures(scores)
    stored_form = time.perf_counter() - started
    print(
        f"   measured: scoring (normalise, compose, fleet percentiles per day, lost time) {scoring:.1f} s; "
        f"per-row component figures for storage {stored_form:.1f} s ({len(figures):,} rows); "
        "database reads and writes not included"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20, help="how long to send (part 1)")
    parser.add_argument("--max-requests", type=int, default=5000, help="stop part 1 after this many requests")
    parser.add_argument("--threads", type=int, default=6, help="client threads (part 1)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers of itxm serve")
    parser.add_argument("--batch", type=int, default=5000, help="samples per request (the agent's default 5000)")
    parser.add_argument("--http-devices", type=int, default=20, help="devices enrolled for part 1")
    parser.add_argument("--devices", type=int, default=2000, help="devices in the part 2 data set")
    parser.add_argument("--days", type=int, default=7, help="days in the part 2 data set")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--score-devices", type=int, default=50_000, help="devices in part 3 (health scores)")
    parser.add_argument("--score-days", type=int, default=30, help="days in part 3")
    parser.add_argument("--score-only", action="store_true", help="run part 3 only")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="itxm-bench-telemetry-"))
    os.environ["ITXM_DATA_DIR"] = str(data_dir)
    os.environ.pop("ITXM_TELEMETRY_DIR", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itxm.settings")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (client and server share them)")
    if args.score_only:
        import django

        django.setup()
        score_fleet(args.score_devices, args.score_days)
        return
    try:
        batches = [make_batch(args.batch, offset=60 * i) for i in range(12)]
        bodies = [gzip.compress(json.dumps(b).encode()) for b in batches]
        if not args.skip_http:
            print(
                f"\n1. ingest through `itxm serve` ({args.workers} workers): {args.threads} threads, "
                f"{len(batches[0])} samples a request, gzip'd JSON, up to {args.seconds:.0f} s"
            )
            result = ingest_over_http(args, data_dir, bodies)
            print(
                f"   measured: {result['samples']:,} samples in {result['requests']} requests, "
                f"{result['seconds']:.1f} s -> {result['rate']:,.0f} samples/s"
            )

        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from itxm import bulk
        from itxm.devices import services, telemetry
        from itxm.devices.models import Device

        endpoint_rate, write_rate = in_process_baselines(batches, bodies)
        print(f"   baseline, same run, in-process parse+validate+Parquet write: {endpoint_rate:,.0f} samples/s")
        print(f"   baseline, same run, pyarrow write of ready tables only:       {write_rate:,.0f} samples/s")

        shutil.rmtree(telemetry.store_dir(), ignore_errors=True)
        first = 1_000_000
        bulk.insert_rows(
            Device,
            ("id", "hostname", "serial", "manufacturer", "model", "os_name", "os_build", "cpu", "source", "created_at"),
            (
                (first + i, f"SYN-{i:06d}", "", "", "", "", "", "", "import", datetime.now(UTC))
                for i in range(args.devices)
            ),
        )
        print(f"\n2. rollups of {args.devices:,} devices × {args.days} days × 96 samples/day × {len(METRICS)} metrics")
        started = time.perf_counter()
        total, days = synthetic_data_set(args.devices, args.days, first)
        print(f"   generated {total:,} samples as Parquet in {time.perf_counter() - started:.1f} s (not timed below)")
        started = time.perf_counter()
        rows = sum(services.rollup_day(day) for day in days)
        rollup_seconds = time.perf_counter() - started
        started = time.perf_counter()
        aggregates = telemetry.period_aggregates(days[0], days[-1])
        period_seconds = time.perf_counter() - started
        print(
            f"   measured: daily rollups (DuckDB + {rows:,} rows into the database) {rollup_seconds:.1f} s; "
            f"{args.days}-day aggregate per device and metric {period_seconds:.1f} s ({len(aggregates):,} rows)"
        )
        full = 50_000 * 30 * 96 * len(METRICS)
        scale = full / total
        print(
            f"   extrapolated linearly to 50,000 devices × 30 days ({full / 1e9:.2f} B samples, "
            f"{50_000 * 30 * 96 / 1e6:.0f} M per metric): daily rollups of 30 days "
            f"≈ {rollup_seconds * scale:.0f} s, 30-day aggregate (what scoring reads) "
            f"≈ {period_seconds * scale:.0f} s; NOT measured at that size"
        )
        score_fleet(args.score_devices, args.score_days)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
