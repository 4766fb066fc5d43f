import json
import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# Granian by default: it parses HTTP in Rust and hands each request to a thread running Django, which
# left a one-click survey answer 0.8 ms of server CPU (2.30 → 1.49 ms) cheaper than gunicorn's gthread workers did
# (benchmarks/README.md). Gunicorn stays available (--server gunicorn).
SERVERS = ("granian", "gunicorn")


def default_workers(server: str) -> int:
    """Granian: a process per core, its threads run Django (more processes only contend for the cores and
    SQLite's write lock); gunicorn: the usual 2 × cores + 1."""
    cores = os.cpu_count() or 1
    return min(max(cores, 2), 9) if server == "granian" else min(2 * cores + 1, 9)


class Command(BaseCommand):
    help = "Migrate the database, then serve ITXM with granian (a production server; --server gunicorn also works)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ITXM_BIND", "127.0.0.1:8000"), help="host:port")
        parser.add_argument(
            "--workers",
            type=int,
            default=os.environ.get("ITXM_WORKERS"),
            help="processes (default: one per core with granian, 2 × cores + 1 with gunicorn)",
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("ITXM_THREADS", 4)))
        parser.add_argument("--server", choices=SERVERS, default=os.environ.get("ITXM_SERVER", "granian"))
        parser.add_argument("--no-migrate", action="store_true", help="do not migrate before serving")

    def handle(self, *args, bind, workers, threads, server, no_migrate, **options):
        if server not in SERVERS:
            raise CommandError(f"ITXM_SERVER must be one of {', '.join(SERVERS)}")
        workers = int(workers) if workers else default_workers(server)
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        host, _, port = bind.rpartition(":")
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        self.stdout.write(f"ITXM {self.version()} on http://{shown_host}:{port}/  (data: {settings.DATA_DIR})")
        self.stdout.flush()
        access_log = os.environ.get("ITXM_ACCESS_LOG", "-")
        if server == "gunicorn":
            command = gunicorn_command(bind, workers, threads, access_log)
        else:
            command = granian_command(host or "0.0.0.0", port, workers, threads, access_log)  # noqa: S104
        os.execv(sys.executable, command)  # the server takes over this process and its signals

    def version(self) -> str:
        import itxm

        return itxm.__version__


def granian_command(host: str, port: str, workers: int, threads: int, access_log: str) -> list[str]:
    command = [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--host", host.strip("[]"), "--port", port,
        "--workers", str(workers), "--blocking-threads", str(threads), "--no-ws", "--workers-kill-timeout", "20",
        # X-Forwarded-* from ITXM_FORWARDED_ALLOW_IPS only: itxm.wsgi applies it, as gunicorn did.
        "itxm.wsgi:application",
    ]  # fmt: skip
    if access_log in ("", os.devnull):
        return command
    command[-1:-1] = ["--access-log", "--access-log-fmt", ACCESS_FORMAT]
    if access_log != "-":
        command[-1:-1] = ["--log-config", _log_config(access_log)]
    return command


# The fields of gunicorn's default access log line.
ACCESS_FORMAT = '%(addr)s - - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'


def _log_config(access_log: str) -> str:
    """Granian writes its access log to standard output unless told otherwise by a logging configuration."""
    from granian.log import LOGGING_CONFIG

    config = json.loads(json.dumps(LOGGING_CONFIG))
    config["handlers"]["access"] = {"formatter": "access", "class": "logging.FileHandler", "filename": access_log}
    path = settings.DATA_DIR / "granian-logging.json"
    path.write_text(json.dumps(config))
    return str(path)


def gunicorn_command(bind: str, workers: int, threads: int, access_log: str) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "itxm.wsgi:application", "--bind", bind, "--workers", str(workers),
        "--threads", str(threads), "--worker-class", "gthread", "--access-logfile", access_log or os.devnull,
        "--forwarded-allow-ips", os.environ.get("ITXM_FORWARDED_ALLOW_IPS", "127.0.0.1"), "--graceful-timeout", "20",
    ]  # fmt: skip
