"""The demo company served by `itxm serve` (granian) from its own SQLite file, for the browser tests.

The demo is built in a subprocess that starts as soon as pytest knows browser tests will run
(``start_building`` from the root conftest), so it builds on the second core while other tests run.
The browser tests talk to it over HTTP only, as a person would: no test database is involved.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
ITXM = [sys.executable, "-m", "itxm.cli"]
BUILD_SECONDS = 300


@dataclass
class Building:
    data_dir: Path
    process: subprocess.Popen
    log: Path
    keep: bool = False


_building: Building | None = None


def runs_here() -> bool:
    """The browser tests run in the SQLite pass only: pages are the same on either database, and their
    queries are checked on PostgreSQL by the page tests (tests/web/)."""
    return not os.environ.get("ITXM_DATABASE_URL")


def _env(data_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ITXM_")}
    if "ITXM_NODE_MODULES" in os.environ:
        env["ITXM_NODE_MODULES"] = os.environ["ITXM_NODE_MODULES"]
    return env | {"ITXM_DATA_DIR": str(data_dir), "ITXM_SMTP_PORT": "1", "PYTHONUNBUFFERED": "1"}


def start_building() -> None:
    """Build the demo in a new data folder; ``ITXM_TEST_DEMO_DIR`` names a folder holding one already
    (built by `itxm demo`, for a quick loop while working on pages: the tests write to it)."""
    global _building
    if _building is not None or not runs_here():
        return
    if prebuilt := os.environ.get("ITXM_TEST_DEMO_DIR"):
        _building = Building(Path(prebuilt), subprocess.Popen(["true"]), Path(prebuilt) / "demo.log", keep=True)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="itxm-browser-"))
    log = data_dir / "demo.log"
    process = subprocess.Popen(
        [*ITXM, "demo"], cwd=ROOT, env=_env(data_dir), stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    _building = Building(data_dir, process, log)


@dataclass
class DemoServer:
    url: str
    data_dir: Path
    process: subprocess.Popen
    keep: bool = False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if not self.keep:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def serve() -> DemoServer:
    start_building()
    assert _building is not None
    try:
        status = _building.process.wait(BUILD_SECONDS)
    except subprocess.TimeoutExpired:
        _building.process.kill()
        raise AssertionError(f"the demo took over {BUILD_SECONDS} s to build") from None
    assert status == 0, f"itxm demo failed:\n{_building.log.read_text()[-3000:]}"
    port = free_port()
    process = subprocess.Popen(
        [*ITXM, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4", "--no-migrate"],
        cwd=ROOT, env=_env(_building.data_dir) | {"ITXM_ACCESS_LOG": str(_building.data_dir / "access.log")},
        stdout=(_building.data_dir / "serve.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        wait_for(f"{url}/healthz", 60)
    except OSError:
        process.kill()
        raise AssertionError((_building.data_dir / "serve.log").read_text()[-3000:]) from None
    print(f"demo server ready in {time.monotonic() - started:.1f} s at {url}")
    return DemoServer(url, _building.data_dir, process, _building.keep)
