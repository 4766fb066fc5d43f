import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from itxm.progress import progress_bar
from itxm.tickets import tasks
from itxm.tickets.connectors import sync
from itxm.tickets.models import Connector, SyncStatus


class Command(BaseCommand):
    help = (
        "Sync tickets from a connector now (`itxm sync SOURCE`), or queue the syncs that are due "
        "(`itxm sync --due`, every minute with --loop) for `itxm worker` to run."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", nargs="?", help="the connector's name (its tickets' source)")
        parser.add_argument("--full", action="store_true", help="read every ticket, not only those changed since")
        parser.add_argument("--due", action="store_true", help="queue a sync of every connector that is due")
        parser.add_argument("--inline", action="store_true", help="with --due: run them here instead of queueing")
        parser.add_argument("--loop", action="store_true", help="with --due: keep going, checking every --every s")
        parser.add_argument("--every", type=float, default=60.0, help="seconds between checks with --loop")
        parser.add_argument("--times", type=int, default=0, help="with --loop: stop after this many checks")
        parser.add_argument("--show-errors", type=int, default=20, help="how many ticket errors to print")

    def handle(self, *args, source, full, due, inline, loop, every, times, show_errors, **options):
        if due == bool(source):
            raise CommandError("name a connector (itxm sync SOURCE) or use --due")
        if source:
            self.sync_one(source, full, show_errors)
            return
        checks = 0
        try:
            while True:
                checks += 1
                self.run_due(inline)
                if not loop or (times and checks >= times):
                    return
                time.sleep(every)
        except KeyboardInterrupt:
            return

    def sync_one(self, name: str, full: bool, show_errors: int) -> None:
        connector = Connector.objects.filter(name=name).first()
        if connector is None:
            known = ", ".join(Connector.objects.values_list("name", flat=True)) or "none yet: add one in the admin"
            raise CommandError(f"no connector named {name!r} (known: {known})")
        with progress_bar(f"Syncing {name}", unit="tickets") as advance:
            report = sync.sync_connector(connector, full=full, trigger="command", progress=advance)
        self.stdout.write(report.summary())
        for line in report.errors[:show_errors]:
            self.stdout.write(f"  {line}")
        if len(report.errors) > show_errors:
            self.stdout.write(f"  … and {len(report.errors) - show_errors} more")
        if report.status != SyncStatus.SUCCEEDED:
            raise CommandError(report.error or report.status, returncode=1)

    def run_due(self, inline: bool) -> None:
        now = timezone.now()
        for connector in sync.due_connectors(now):
            if inline:
                self.stdout.write(sync.sync_connector(connector, trigger="schedule").summary())
            elif sync.mark_queued(connector, now):
                tasks.sync_connector.enqueue(connector.pk)
                self.stdout.write(f"{connector.name}: sync queued")
        self.stdout.flush()
