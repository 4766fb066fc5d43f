"""``itxm-agent``: a small telemetry agent for Linux, Windows and macOS (psutil and the standard library).

    itxm-agent enrol --server https://itxm.example.com --code CODE   # once: exchanges the code for a token
    itxm-agent run [--once] [--interval 900]                          # collect, buffer, send
    itxm-agent status                                                 # what is buffered, what was dropped

It never imports Django: it runs on employees' machines with only the package installed. Everything it
does is described for a security reviewer in docs/devices.md.
"""

import argparse
import json
import os
import random
import socket
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from itxm import __version__
from itxm.devices import agent_collect
from itxm.devices.agent_buffer import Buffer

DEFAULTS = {
    "interval_seconds": 900,
    "batch_size": 5000,
    "max_buffer_samples": 100_000,
    "timeout_seconds": 15,
    "cpu_sample_seconds": 1.0,
    "collect": list(agent_collect.COLLECTORS),
}
# Exit codes of `run --once`.
SENT, KEPT, REFUSED = 0, 0, 2


def default_config_path() -> Path:
    """Per-machine when run as root/administrator (a service), else per-user."""
    if configured := os.environ.get("ITXM_AGENT_CONFIG"):
        return Path(configured).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("PROGRAMDATA") if _is_admin() else os.environ.get("APPDATA")
        return Path(base or Path.home()) / "itxm-agent" / "config.json"
    if sys.platform == "darwin":
        base = (
            Path("/Library/Application Support") if os.geteuid() == 0 else Path.home() / "Library/Application Support"
        )
        return base / "itxm-agent" / "config.json"
    if os.geteuid() == 0:
        return Path("/etc/itxm-agent/config.json")
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "itxm-agent" / "config.json"


def _is_admin() -> bool:
    try:
        import ctypes

        return bool(ctypes.windll.shell32.IsUserAnAdmin())
    except Exception:
        return False


def load_config(path: Path) -> dict:
    try:
        return DEFAULTS | json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"itxm-agent: no configuration at {path}: run `itxm-agent enrol` first") from None
    except json.JSONDecodeError as exc:
        raise SystemExit(f"itxm-agent: {path} is not valid JSON: {exc}") from None


def save_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    # The configuration holds the device token: readable by its owner only.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(document, out, indent=2)
    os.replace(temporary, path)


def state_dir(config: dict, config_path: Path) -> Path:
    return Path(config.get("state_dir") or config_path.parent).expanduser()


class ServerError(Exception):
    """The server could not be reached or failed (5xx): try again later."""


class Refused(Exception):
    """The server refused the credentials (401/403): retrying will not help until someone acts."""


def _request(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, dict]:
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"the server address must be http:// or https://, not {url!r}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read() or b"{}")
        except ValueError:
            answer = {}
        if exc.code in (401, 403):
            raise Refused(answer.get("message") or f"HTTP {exc.code}") from exc
        if exc.code >= 500 or exc.code in (408, 429):
            raise ServerError(f"HTTP {exc.code}") from exc
        return exc.code, answer
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ServerError(str(getattr(exc, "reason", exc))) from exc


def user_agent() -> str:
    return f"itxm-agent/{__version__}"


def enrol(server: str, code: str, config_path: Path, timeout: float = 15) -> dict:
    body = json.dumps({"code": code, "inventory": agent_collect.inventory()}).encode()
    status, answer = _request(
        server.rstrip("/") + "/api/v1/devices/enrol",
        body,
        {"Content-Type": "application/json", "User-Agent": user_agent()},
        timeout,
    )
    if status != 201:
        raise Refused(answer.get("message") or f"HTTP {status}")
    target = urlsplit(server)
    port = target.port or (443 if target.scheme == "https" else 80)
    config = {
        "server": server.rstrip("/"),
        "device_id": answer["device_id"],
        "token": answer["token"],
        "latency_target": f"{target.hostname}:{port}",
        **DEFAULTS,
    }
    if config_path.exists():  # keep local choices (interval, collectors...) across a re-enrolment
        config = json.loads(config_path.read_text()) | {k: config[k] for k in ("server", "device_id", "token")}
    save_json(config_path, config)
    return config


class Agent:
    def __init__(self, config: dict, config_path: Path):
        self.config = config
        self.state_path = state_dir(config, config_path) / "state.json"
        self.buffer = Buffer(state_dir(config, config_path) / "buffer.sqlite3", int(config["max_buffer_samples"]))
        try:
            self.state = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            self.state = {}

    def close(self) -> None:
        self.buffer.close()

    def collect(self, now: float | None = None) -> int:
        """Measure once and keep the samples in the buffer; returns how many were taken."""
        measures = agent_collect.collect(self.config, self.state)
        dropped = self.buffer.take_dropped_report()
        if dropped:
            measures.append(("agent_dropped_samples", float(dropped)))
        stamp = float(int(now if now is not None else time.time()))
        self.buffer.add([(stamp, metric, value) for metric, value in measures])
        save_json(self.state_path, self.state)
        return len(measures)

    def send_batch(self, batch_id: str, samples: list[tuple[float, str, float]]) -> dict:
        body = json.dumps([{"ts": ts, "metric": metric, "value": value} for ts, metric, value in samples]).encode()
        compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
        compressed = compressor.compress(body) + compressor.flush()
        status, answer = _request(
            self.config["server"] + "/api/v1/devices/telemetry",
            compressed,
            {
                "Authorization": f"Device {self.config['token']}",
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "X-ITXM-Batch-Id": batch_id,
                "User-Agent": user_agent(),
            },
            float(self.config["timeout_seconds"]),
        )
        if status != 200:
            # The server read the batch and will never take it (e.g. 400: unreadable): keeping it would
            # block everything behind it. It is dropped and counted.
            print(f"itxm-agent: batch {batch_id} refused ({status}: {answer.get('message')}); dropped", file=sys.stderr)
            self.buffer._add_to_counter("dropped_total", len(samples))
            self.buffer._add_to_counter("dropped_unreported", len(samples))
        return answer

    def flush(self) -> tuple[int, int]:
        """Send every buffered batch, oldest first; stops at the first failure. Returns (batches, samples)."""
        batches = sent = 0
        while (batch := self.buffer.next_batch(int(self.config["batch_size"]))) is not None:
            batch_id, samples = batch
            self.send_batch(batch_id, samples)  # raises ServerError/Refused: the batch stays, same id
            self.buffer.acknowledge(batch_id)
            batches, sent = batches + 1, sent + len(samples)
        return batches, sent

    def run(self, once: bool = False, interval: float | None = None) -> int:
        interval = float(interval or self.config["interval_seconds"])
        failures = 0
        next_collect = time.monotonic()
        while True:
            if time.monotonic() >= next_collect:
                self.collect()
                next_collect = time.monotonic() + interval
            try:
                batches, sent = self.flush()
                failures = 0
                if batches:
                    print(f"itxm-agent: sent {sent} samples in {batches} batches", flush=True)
            except Refused as exc:
                print(f"itxm-agent: the server refused this device ({exc}); {len(self.buffer)} samples kept")
                if once:
                    return REFUSED
            except ServerError as exc:
                failures += 1
                print(f"itxm-agent: server unreachable ({exc}); {len(self.buffer)} samples kept", flush=True)
            if once:
                return SENT if len(self.buffer) == 0 else KEPT
            # Retry sooner than the next collection, backing off (with jitter) while the server stays down.
            retry = min(interval, 5 * 2 ** min(failures, 10)) * random.uniform(0.8, 1.2) if failures else interval
            time.sleep(max(1.0, min(retry, next_collect - time.monotonic())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="itxm-agent", description="ITXM device telemetry agent")
    parser.add_argument("--config", type=Path, help=f"configuration file (default {default_config_path()})")
    actions = parser.add_subparsers(dest="action", required=True)
    enrolling = actions.add_parser("enrol", help="exchange a one-time enrolment code for this device's token")
    enrolling.add_argument("--server", required=True, help="the ITXM address, e.g. https://itxm.example.com")
    enrolling.add_argument("--code", required=True, help="the one-time code an ITXM admin created")
    running = actions.add_parser("run", help="collect and send telemetry every interval")
    running.add_argument("--once", action="store_true", help="collect once, send what is buffered, exit")
    running.add_argument("--interval", type=float, help="seconds between collections (default: configuration)")
    actions.add_parser("status", help="print what is buffered and what was dropped")
    args = parser.parse_args(argv)
    config_path = (args.config or default_config_path()).expanduser()

    if args.action == "enrol":
        try:
            config = enrol(args.server, args.code, config_path)
        except (Refused, ServerError, ValueError) as exc:
            print(f"itxm-agent: enrolment failed: {exc}", file=sys.stderr)
            return REFUSED
        print(f"enrolled as device {config['device_id']} on {config['server']}; configuration in {config_path}")
        return 0
    config = load_config(config_path)
    agent = Agent(config, config_path)
    try:
        if args.action == "status":
            print(
                json.dumps(
                    {
                        "server": config["server"],
                        "device_id": config["device_id"],
                        "host": socket.gethostname(),
                        "buffered": len(agent.buffer),
                        "dropped_total": agent.buffer.dropped_total,
                        "dropped_unreported": agent.buffer.dropped_unreported,
                    }
                )
            )
            return 0
        return agent.run(once=args.once, interval=args.interval)
    except KeyboardInterrupt:
        return 0
    finally:
        agent.close()


if __name__ == "__main__":
    sys.exit(main())
