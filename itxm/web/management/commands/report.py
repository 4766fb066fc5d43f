import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from itxm.org.models import User
from itxm.org.scopes import scope_for
from itxm.web import reports


class Command(BaseCommand):
    help = "Make a report as a user would see it: `itxm report monthly --user NAME [--month YYYY-MM] --out FILE`."

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True)
        monthly = kinds.add_parser("monthly", help="one month's PDF report, with the data the user may see")
        monthly.add_argument("--user", required=True, help="whose scope and language (a username)")
        monthly.add_argument("--month", help="YYYY-MM (default: the last complete month)")
        monthly.add_argument("--language", choices=["en", "tr"], help="default: the user's language")
        monthly.add_argument("--out", required=True, type=Path, help="the PDF file to write")

    def handle(self, *args, kind, **options):
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        if not user.is_active:
            raise CommandError(f"{user.username} is disabled: a disabled account sees no data")
        language = options["language"] or user.language
        try:
            month = reports.parse_month(options["month"], reports.today())
        except reports.InvalidMonth as error:
            raise CommandError(str(error)) from None
        started = time.perf_counter()
        pdf = reports.monthly_pdf(scope_for(user), month, language)
        try:
            options["out"].write_bytes(pdf)
        except OSError as error:
            raise CommandError(f"cannot write {options['out']}: {error.strerror}") from None
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"wrote {options['out']}: {reports.month_key(month)} for {user.username} ({language}), "
            f"{len(pdf) // 1024} KB in {seconds:.1f} s"
        )
