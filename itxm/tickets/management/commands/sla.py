from django.core.management.base import BaseCommand

from itxm.tickets.sla_verdicts import evaluate_slas


class Command(BaseCommand):
    help = "SLA verdicts: `itxm sla evaluate` recomputes ITXM's verdict of every active SLA on every ticket."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        evaluate = actions.add_parser("evaluate", help="recompute verdicts (all tickets, or --ticket ID ...)")
        evaluate.add_argument("--ticket", type=int, action="append", help="a ticket id; repeat for more")

    def handle(self, *args, action, **options):
        written = evaluate_slas(options["ticket"])
        self.stdout.write(f"{written} SLA verdicts written")
