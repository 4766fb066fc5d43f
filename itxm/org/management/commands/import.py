from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from itxm import tabular
from itxm.org import importing
from itxm.progress import count_lines, progress_bar


class Command(BaseCommand):
    help = "Import data from a file. `itxm import org FILE` loads suppliers, groups, services, employees..."

    def add_arguments(self, parser):
        what = parser.add_subparsers(dest="what", required=True, title="what to import")
        org = what.add_parser("org", help="organisation data (CSV, XLSX, JSON)")
        org.add_argument("file", type=Path)
        org.add_argument(
            "--kind",
            choices=importing.KIND_ORDER,
            help="what the file holds (default: workbook sheet names / JSON keys, else guessed from the file name)",
        )
        org.add_argument("--show-errors", type=int, default=50, help="how many row errors to print (default 50)")

    def handle(self, *args, what, **options):
        if what == "org":
            self.import_org(options["file"], options["kind"], options["show_errors"])

    def import_org(self, path: Path, kind: str | None, show_errors: int) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        total = None if path.suffix.lower() in (".xlsx", ".json") else max(count_lines(path) - 1, 0)
        try:
            with path.open("rb") as stream, progress_bar(f"Importing {path.name}", total) as advance:
                reports = importing.import_org_file(stream, path.name, kind, advance)
        except (tabular.UnreadableFile, importing.UnknownKind) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        rejected = 0
        for report in reports:
            summary = report.as_dict()
            rejected += summary["rejected"]
            self.stdout.write(
                f"{report.kind}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged, {summary['rejected']} rejected"
            )
            for error in report.errors[:show_errors]:
                self.stdout.write(f"  {error}")
            if len(report.errors) > show_errors:
                self.stdout.write(f"  … and {len(report.errors) - show_errors} more errors")
        if rejected:
            raise CommandError(f"{rejected} rows were rejected; every valid row was loaded", returncode=1)
