from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run background tasks (e-mail outbox, connector syncs, scheduled reports) from the database queue."

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
        parser.add_argument("--queue", default="*", help="queue names to serve, comma separated (default all)")

    def handle(self, *args, batch, interval, queue, **options):
        call_command(
            "db_worker",
            batch=batch,
            interval=interval,
            queue_name=queue,
            no_startup_delay=True,
            verbosity=options["verbosity"],
        )
