"""What the agent measures, with psutil and the standard library. Each collector returns
``(metric, value)`` pairs, or none when the measure is not available on this machine.

What is measured where (see docs/devices.md, "What the agent collects"):

- ``cpu_pressure_pct``: CPU busy share over one second (``psutil.cpu_percent``), every OS.
- ``memory_pressure_pct``: share of physical memory in use (``psutil.virtual_memory().percent``), every OS.
- ``disk_free_pct``/``disk_free_gb``: the system disk (``/``, or the system drive on Windows), every OS.
- ``battery_charge_pct``: ``psutil.sensors_battery()`` where there is a battery; ``battery_health_pct``
  (full-charge against design capacity) only on Linux, from ``/sys/class/power_supply/BAT*``.
- ``boot_seconds``: Linux with systemd only (``systemd-analyze time``, the firmware-to-target total),
  once per boot. Not collected on Windows and macOS in this version.
- ``logon_seconds``: not collected in this version on any OS (no portable, unprivileged source).
- ``crashes``/``hangs``: new files since the last collection in the crash folders (Linux: systemd-coredump
  and apport; macOS: DiagnosticReports, ``.hang`` files count as hangs; Windows: WER's CrashDumps when
  local dumps are enabled). Only file names and times are read, never their content.
- ``latency_ms``: TCP connect time to the configured target (default: the ITXM server). No ICMP.
"""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil


def default_crash_dirs() -> list[str]:
    if sys.platform.startswith("linux"):
        return ["/var/lib/systemd/coredump", "/var/crash"]
    if sys.platform == "darwin":
        return ["/Library/Logs/DiagnosticReports", "~/Library/Logs/DiagnosticReports"]
    if sys.platform == "win32":
        return [os.path.expandvars(r"%LOCALAPPDATA%\CrashDumps")]
    return []


def cpu(config: dict, state: dict) -> list[tuple[str, float]]:
    return [("cpu_pressure_pct", float(psutil.cpu_percent(interval=float(config.get("cpu_sample_seconds", 1.0)))))]


def memory(config: dict, state: dict) -> list[tuple[str, float]]:
    return [("memory_pressure_pct", float(psutil.virtual_memory().percent))]


def system_disk() -> str:
    return os.environ.get("SystemDrive", "C:") + "\\" if sys.platform == "win32" else "/"


def disk(config: dict, state: dict) -> list[tuple[str, float]]:
    usage = psutil.disk_usage(config.get("disk_path") or system_disk())
    if not usage.total:
        return []
    return [("disk_free_pct", round(100 * usage.free / usage.total, 2)), ("disk_free_gb", round(usage.free / 1e9, 2))]


def _linux_battery_health() -> float | None:
    for folder in sorted(Path("/sys/class/power_supply").glob("BAT*")):
        for full, design in (("energy_full", "energy_full_design"), ("charge_full", "charge_full_design")):
            try:
                now, new = int((folder / full).read_text()), int((folder / design).read_text())
            except (OSError, ValueError):
                continue
            if new > 0:
                return round(min(150.0, 100 * now / new), 1)
    return None


def battery(config: dict, state: dict) -> list[tuple[str, float]]:
    sensed = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
    if sensed is None:
        return []
    found = [("battery_charge_pct", float(max(0, min(100, sensed.percent))))]
    health = _linux_battery_health() if sys.platform.startswith("linux") else None
    if health is not None:
        found.append(("battery_health_pct", health))
    return found


DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(min|ms|s|h)\b")


def parse_systemd_analyze(output: str) -> float | None:
    """Seconds from ``Startup finished in 3.1s (firmware) + ... = 1min 2.345s`` (the total after '=')."""
    if "=" not in output:
        return None
    total = output.split("=", 1)[1].splitlines()[0]
    factors = {"h": 3600, "min": 60, "s": 1, "ms": 0.001}
    seconds = sum(float(number) * factors[unit] for number, unit in DURATION_PART.findall(total))
    return round(seconds, 3) if seconds > 0 else None


def boot(config: dict, state: dict) -> list[tuple[str, float]]:
    booted = int(psutil.boot_time())
    if state.get("boot_reported") == booted or not sys.platform.startswith("linux"):
        return []
    try:
        result = subprocess.run(["systemd-analyze", "time"], capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.SubprocessError):
        state["boot_reported"] = booted  # not available here: do not try again until the next boot
        return []
    seconds = parse_systemd_analyze(result.stdout) if result.returncode == 0 else None
    if seconds is None and "not yet finished" in (result.stdout + result.stderr):
        return []  # still booting: ask again next time
    state["boot_reported"] = booted
    return [("boot_seconds", min(seconds, 3600.0))] if seconds is not None else []


def _new_files(folders: list[str], since: float) -> list[str]:
    found = []
    for folder in folders:
        path = Path(folder).expanduser()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_file() and entry.stat().st_mtime > since:
                    found.append(entry.name)
            except OSError:
                continue
    return found


def crashes(config: dict, state: dict) -> list[tuple[str, float]]:
    folders = config.get("crash_dirs", default_crash_dirs())
    readable = [f for f in folders if os.access(Path(f).expanduser(), os.R_OK)]
    now = time.time()
    since = state.get("crash_checked_at")
    state["crash_checked_at"] = now
    if not readable:
        return []
    if since is None:
        return []  # the first look sets the baseline: old crash files are not new crashes
    names = _new_files(readable, since)
    hangs = sum(name.endswith(".hang") for name in names)
    found = [("crashes", float(len(names) - hangs))]
    if sys.platform == "darwin":
        found.append(("hangs", float(hangs)))
    return found


def latency(config: dict, state: dict) -> list[tuple[str, float]]:
    target = config.get("latency_target") or ""
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return []
    started = time.perf_counter()
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=float(config.get("timeout_seconds", 10))):
            elapsed = time.perf_counter() - started
    except OSError:
        return []
    return [("latency_ms", round(elapsed * 1000, 2))]


COLLECTORS = {
    "cpu": cpu,
    "memory": memory,
    "disk": disk,
    "battery": battery,
    "boot": boot,
    "crashes": crashes,
    "latency": latency,
}


def collect(config: dict, state: dict) -> list[tuple[str, float]]:
    """Every enabled collector's measures; a failing collector is skipped, never fatal."""
    measures = []
    for name in config.get("collect", list(COLLECTORS)):
        collector = COLLECTORS.get(name)
        if collector is None:
            continue
        try:
            measures.extend(collector(config, state))
        except Exception as exc:  # a sensor that breaks must not stop the others
            print(f"itxm-agent: collector {name} failed: {exc}", file=sys.stderr)
    return measures


def inventory() -> dict:
    """What the agent tells the server about the machine when it enrols."""
    import platform

    def dmi(name: str) -> str:
        try:
            return Path("/sys/class/dmi/id", name).read_text().strip()
        except OSError:
            return ""  # e.g. product_serial is readable by root only

    system = platform.system()
    os_name = {"Darwin": "macOS"}.get(system, system)
    if system == "Linux":
        try:
            os_name = platform.freedesktop_os_release().get("PRETTY_NAME", "Linux")
        except OSError:
            os_name = "Linux"
    return {
        "hostname": socket.gethostname(),
        "serial": dmi("product_serial") if system == "Linux" else "",
        "manufacturer": dmi("sys_vendor") if system == "Linux" else "",
        "model": dmi("product_name") if system == "Linux" else "",
        "os_name": os_name,
        "os_build": platform.release() if system != "Darwin" else platform.mac_ver()[0],
        "cpu": (platform.processor() or platform.machine())[:200],
        "ram_mb": int(psutil.virtual_memory().total / 1024 / 1024),
        "disk_gb": int(psutil.disk_usage(system_disk()).total / 1e9),
    }
