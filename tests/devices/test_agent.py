"""The agent: its bounded buffer, offline buffering and resending without duplicates, and a real run
of `itxm-agent` against `itxm serve`."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from itxm.devices import telemetry
from itxm.devices.agent import Agent, ServerError, load_config
from itxm.devices.agent import main as agent_main
from itxm.devices.agent_buffer import Buffer
from itxm.devices.agent_collect import parse_systemd_analyze
from itxm.devices.models import TelemetryBatch
from itxm.org.scopes import EVERYTHING
from tests.servers import free_port, wait_for

BIN = Path(sys.executable).parent


def test_the_buffer_drops_the_oldest_and_remembers_how_many(tmp_path):
    buffer = Buffer(tmp_path / "buffer.sqlite3", max_samples=5)
    buffer.add([(float(t), "latency_ms", float(t)) for t in range(4)])
    dropped = buffer.add([(float(t), "latency_ms", float(t)) for t in range(4, 8)])
    buffer.close()

    reopened = Buffer(tmp_path / "buffer.sqlite3", max_samples=5)
    batch_id, samples = reopened.next_batch(100)
    assert dropped == 3 and reopened.dropped_total == 3
    assert [s[0] for s in samples] == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert reopened.take_dropped_report() == 3 and reopened.take_dropped_report() == 0


def test_an_unacknowledged_batch_is_resent_with_the_same_id_and_samples(tmp_path):
    buffer = Buffer(tmp_path / "b.sqlite3")
    buffer.add([(1.0, "crashes", 0.0), (2.0, "crashes", 1.0), (3.0, "crashes", 0.0)])
    first = buffer.next_batch(2)
    buffer.add([(4.0, "crashes", 0.0)])
    assert buffer.next_batch(2) == first  # not acknowledged: same batch again
    buffer.acknowledge(first[0])
    second = buffer.next_batch(2)
    assert second[0] != first[0] and [s[0] for s in second[1]] == [3.0, 4.0]


def test_systemd_analyze_output_is_read_as_seconds():
    line = (
        "Startup finished in 4.2s (firmware) + 1.1s (loader) + 2.5s (kernel) + 1min 3.250s (userspace) = 1min 11.050s"
    )
    assert parse_systemd_analyze(line + "\n") == 71.05
    assert parse_systemd_analyze("Bootup is not yet finished") is None


@pytest.mark.django_db(transaction=True)
def test_offline_agent_buffers_drops_the_oldest_then_resends_each_sample_once(live_server, tmp_path, telemetry_dir):
    from itxm.devices import services

    _, code = services.create_enrolment_code(EVERYTHING, None)
    config_path = tmp_path / "agent" / "config.json"
    assert agent_main(["--config", str(config_path), "enrol", "--server", live_server.url, "--code", code]) == 0
    config = load_config(config_path)
    down = f"http://127.0.0.1:{free_port()}"
    config |= {"server": down, "max_buffer_samples": 10, "collect": ["cpu", "memory", "disk"], "cpu_sample_seconds": 0}
    agent = Agent(config, config_path)
    start = time.time() - 3600
    for minute in range(4):  # 4 measures each: cpu, memory, disk_free_pct, disk_free_gb
        agent.collect(now=start + 60 * minute)
        with pytest.raises(ServerError):
            agent.flush()

    # 16 measured + 1 drop report, bound 10: the 7 oldest were dropped, and the first 2 drops reported.
    assert len(agent.buffer) == 10 and agent.buffer.dropped_total == 7
    batch_id, pending = agent.buffer.next_batch(int(config["batch_size"]))
    assert ("agent_dropped_samples", 2.0) in [(m, v) for _, m, v in pending]

    agent.config["server"] = live_server.url
    agent.send_batch(batch_id, pending)  # arrives, but suppose the answer was lost: not acknowledged
    assert agent.flush() == (1, 10)  # resent with the same id: recognised, then acknowledged
    agent.close()

    device_id = config["device_id"]
    stored = telemetry.samples([device_id])
    assert sorted((ts.timestamp(), m, v) for _, ts, m, v in stored) == sorted(pending)
    batch = TelemetryBatch.objects.get(device_id=device_id)
    assert (batch.batch_id, batch.samples) == (batch_id, 10)
    assert telemetry.stored_sample_count() == 10


@pytest.mark.slow
def test_the_real_agent_enrols_and_its_samples_arrive_at_itxm_serve(tmp_path):
    port = free_port()
    data = tmp_path / "server"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITXM_")} | {
        "ITXM_DATA_DIR": str(data),
        "ITXM_WORKERS": "2",
    }
    server = subprocess.Popen(
        [BIN / "itxm", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    config = tmp_path / "agent" / "config.json"
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", seconds=60)
        code = subprocess.run(
            [BIN / "itxm", "devices", "code", "create", "--hours", "1"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # The console script once the package is (re)installed; the same module otherwise.
        script = BIN / "itxm-agent"
        agent = [script] if script.exists() else [sys.executable, "-m", "itxm.devices.agent"]
        agent += ["--config", str(config)]
        enrolled = subprocess.run(
            [*agent, "enrol", "--server", f"http://127.0.0.1:{port}", "--code", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert enrolled.returncode == 0, enrolled.stderr
        ran = subprocess.run([*agent, "run", "--once"], env=env, capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0 and "sent" in ran.stdout, ran.stdout + ran.stderr
        status = json.loads(subprocess.run([*agent, "status"], env=env, capture_output=True, text=True).stdout)
    finally:
        server.terminate()
        server.communicate(timeout=30)

    assert status["buffered"] == 0
    files = list((data / "telemetry").glob("day=*/part-*.parquet"))
    table = pq.read_table(files)
    metrics = set(table.column("metric").to_pylist())
    assert {"cpu_pressure_pct", "memory_pressure_pct", "disk_free_pct", "latency_ms"} <= metrics
    assert set(table.column("device_id").to_pylist()) == {status["device_id"]}
    assert oct(config.stat().st_mode & 0o777) == "0o600"  # it holds the device token
