import time

from django.core.management.base import BaseCommand

from itxm.analytics import facts
from itxm.progress import progress_bar
from itxm.surveys.models import Invitation
from itxm.tickets.models import Ticket


class Command(BaseCommand):
    help = (
        "Analytics facts and rollups: `itxm analytics rebuild` recomputes them all (after a bulk load or to "
        "repair); `itxm analytics catch-up` recomputes what changed since (the worker does it every 30 s)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("rebuild", help="recompute every fact and rollup")
        actions.add_parser("catch-up", help="recompute the facts of what changed since the last time")

    def handle(self, *args, action, **options):
        started = time.monotonic()
        if action == "rebuild":
            total = Ticket.objects.count() + Invitation.objects.count()
            with progress_bar("facts", total) as advance:
                counts = facts.rebuild(advance)
            summary = ", ".join(f"{value:,} {name}" for name, value in counts.items())
        else:
            summary = f"{facts.catch_up():,} tickets and invitations recomputed"
        self.stdout.write(f"{summary} in {time.monotonic() - started:.1f} s")
