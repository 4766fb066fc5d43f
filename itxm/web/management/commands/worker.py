from django.core.management import call_command
from django.core.management.base import BaseCommand

from itxm.schedule import start_in_background


class Command(BaseCommand):
    help = (
        "Run background tasks (e-mail outbox, connector syncs, scheduled reports) from the database queue, "
        "and queue the recurring ones (itxm/schedule.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
        parser.add_argument("--queue", default="*", help="queue names to serve, comma separated (default all)")
        parser.add_argument("--no-schedule", action="store_true", help="do not queue the recurring tasks")

    def handle(self, *args, batch, interval, queue, no_schedule, **options):
        stop = None if batch or no_schedule else start_in_background()
        try:
            call_command(
                "db_worker",
                batch=batch,
                interval=interval,
                queue_name=queue,
                no_startup_delay=True,
                verbosity=options["verbosity"],
            )
        finally:
            if stop is not None:
                stop.set()
