import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 9)


class Command(BaseCommand):
    help = "Migrate the database, then serve ITXM with gunicorn (a production server)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("ITXM_BIND", "127.0.0.1:8000"), help="host:port")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("ITXM_WORKERS", default_workers())))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("ITXM_THREADS", 4)))
        parser.add_argument("--no-migrate", action="store_true", help="do not migrate before serving")

    def handle(self, *args, bind, workers, threads, no_migrate, **options):
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        host, _, port = bind.rpartition(":")
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        self.stdout.write(f"ITXM {self.version()} on http://{shown_host}:{port}/  (data: {settings.DATA_DIR})")
        self.stdout.flush()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "itxm.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--access-logfile",
            os.environ.get("ITXM_ACCESS_LOG", "-"),
            "--forwarded-allow-ips",
            os.environ.get("ITXM_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "--graceful-timeout",
            "20",
        ]
        os.execv(sys.executable, command)  # gunicorn takes over this process and its signals

    def version(self) -> str:
        import itxm

        return itxm.__version__
