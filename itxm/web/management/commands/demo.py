import argparse
from datetime import date

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from itxm import demo
from itxm.org.models import Role
from itxm.progress import progress_bar


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = (
        "Build the demo company (docs/demo.md): about 2,000 people, IT groups, suppliers, services "
        "and a year of tickets, the same for the same seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42, help="same seed, same data (default 42)")
        parser.add_argument(
            "--end", type=day, help="the demo's today, YYYY-MM-DD: the data stops at its start (default: today)"
        )
        parser.add_argument("--scale", type=float, default=1.0, help="multiply people and tickets (default 1)")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--reset", action="store_true", help="delete ALL organisation and ticket data first, then build"
        )
        mode.add_argument(
            "--if-empty", action="store_true", help="do nothing (and succeed) when the database holds data"
        )

    def handle(self, *args, seed, end, scale, reset, if_empty, **options):
        if scale <= 0:
            raise CommandError("--scale must be above 0")
        call_command("migrate", interactive=False, verbosity=0)
        if if_empty and (found := demo.existing_data()):
            self.stdout.write(f"The database already holds {', '.join(found)}: the demo was not built.")
            return
        try:
            with progress_bar("Building the demo", total=demo.estimated_rows(scale)) as advance:
                summary = demo.build_demo(seed=seed, end=end, progress=advance, reset=reset, scale=scale)
        except demo.DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.report(summary)

    def report(self, summary: demo.DemoSummary) -> None:
        write = self.stdout.write
        write(
            f"Demo built in {summary.total_seconds:.1f} s (seed {summary.seed}, "
            f"{summary.start:%Y-%m-%d} to {summary.end:%Y-%m-%d})."
        )
        write("  " + ", ".join(f"{count:,} {name}" for name, count in summary.counts.items()))
        write("  seconds: " + ", ".join(f"{step} {seconds:.1f}" for step, seconds in summary.seconds.items()))
        write("  planted patterns (docs/demo.md): " + ", ".join(f"{k} {v}" for k, v in summary.planted_dates.items()))
        write(f'Sign in at /login/ with the password "{summary.password}":')
        for login in summary.logins:
            write(f"  {login.username:<12} {Role(login.role).label:<16} {login.note}")
