from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from itxm import tabular
from itxm.devices.importing import import_devices_file
from itxm.org import importing
from itxm.progress import count_lines, progress_bar
from itxm.tickets import services as tickets
from itxm.tickets.mapping import MappingError, load_mapping, ready_mappings


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

        ticket_parser = what.add_parser("tickets", help="tickets from an ITSM export (CSV, XLSX, NDJSON, .gz)")
        ticket_parser.add_argument("file", type=Path)
        ticket_parser.add_argument(
            "--mapping",
            default="canonical",
            help=f"a mapping file, or one of: {', '.join(ready_mappings())} (default: canonical)",
        )
        ticket_parser.add_argument("--source", help="source system name (default: the mapping's)")
        ticket_parser.add_argument("--show-errors", type=int, default=50)

        devices = what.add_parser("devices", help="device inventory (CSV, XLSX, JSON, NDJSON)")
        devices.add_argument("file", type=Path)
        devices.add_argument("--show-errors", type=int, default=50)

    def handle(self, *args, what, **options):
        if what == "org":
            self.import_org(options["file"], options["kind"], options["show_errors"])
        elif what == "tickets":
            self.import_tickets(options["file"], options["mapping"], options["source"], options["show_errors"])
        elif what == "devices":
            self.import_devices(options["file"], options["show_errors"])

    def import_devices(self, path: Path, show_errors: int) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            with path.open("rb") as stream, progress_bar(f"Importing {path.name}", None) as advance:
                report = import_devices_file(stream, path.name, advance)
        except tabular.UnreadableFile as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.report([report], show_errors)

    def import_tickets(self, path: Path, mapping_name: str, source: str | None, show_errors: int) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            mapping = load_mapping(mapping_name)
            with progress_bar(f"Importing {path.name}", unit="tickets") as advance:
                report = tickets.import_ticket_file(path, mapping, source, advance)
        except (MappingError, tabular.UnreadableFile, tickets.IngestError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.report([report], show_errors)

    def import_org(self, path: Path, kind: str | None, show_errors: int) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        total = None if path.suffix.lower() in (".xlsx", ".json") else max(count_lines(path) - 1, 0)
        try:
            with path.open("rb") as stream, progress_bar(f"Importing {path.name}", total) as advance:
                reports = importing.import_org_file(stream, path.name, kind, advance)
        except (tabular.UnreadableFile, importing.UnknownKind) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.report(reports, show_errors)

    def report(self, reports, show_errors: int) -> None:
        rejected = 0
        for report in reports:
            summary = report.as_dict()
            rejected += summary["rejected"]
            extra = f", {summary['stale']} stale" if "stale" in summary else ""
            self.stdout.write(
                f"{report.kind}: {report.created} created, {report.updated} updated, "
                f"{report.unchanged} unchanged{extra}, {summary['rejected']} rejected"
            )
            for error in report.errors[:show_errors]:
                self.stdout.write(f"  {error}")
            if len(report.errors) > show_errors:
                self.stdout.write(f"  … and {len(report.errors) - show_errors} more errors")
        if rejected:
            raise CommandError(f"{rejected} rows were rejected; every valid row was loaded", returncode=1)
