from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from itxm import tabular
from itxm.devices import importing, services
from itxm.org.scopes import EVERYTHING
from itxm.progress import progress_bar


class Command(BaseCommand):
    help = "Devices: `itxm devices code create` prints a one-time enrolment code for an agent."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        code = actions.add_parser("code", help="enrolment codes")
        code_actions = code.add_subparsers(dest="code_action", required=True)
        create = code_actions.add_parser("create", help="create a one-time code and print it (shown once)")
        create.add_argument("--hours", type=float, default=24, help="how long it stays valid (default 24)")
        create.add_argument("--note", default="", help="what it is for, e.g. the laptop")
        revoke = actions.add_parser("revoke-token", help="revoke a device token by its id")
        revoke.add_argument("token_id", type=int)
        imports = actions.add_parser("import", help="import the device inventory (CSV, XLSX, JSON)")
        imports.add_argument("file", type=Path)
        imports.add_argument("--show-errors", type=int, default=50)
        rollup = actions.add_parser("rollup", help="recompute the daily rollups of UTC days")
        rollup.add_argument("days", nargs="*", type=date.fromisoformat, help="YYYY-MM-DD (default yesterday)")
        actions.add_parser("compact", help="merge today's and yesterday's small telemetry files")
        prune = actions.add_parser("prune", help="remove raw telemetry past retention")
        prune.add_argument("--keep-days", type=int, help="default ITXM_TELEMETRY_RETENTION_DAYS (35)")

    def handle(self, *args, action, **options):
        if action == "code":
            code, secret = services.create_enrolment_code(EVERYTHING, None, options["hours"], options["note"])
            self.stderr.write(f"code {code.pk} valid until {code.expires_at:%Y-%m-%d %H:%M} UTC; shown once:")
            self.stdout.write(secret)
        elif action == "revoke-token":
            try:
                token = services.revoke_device_token(EVERYTHING, options["token_id"])
            except Exception as exc:
                raise CommandError(f"no device token {options['token_id']}") from exc
            self.stdout.write(f"revoked device token {token.pk} of {token.device}")
        elif action == "import":
            self.import_file(options["file"], options["show_errors"])
        elif action == "rollup":
            for day in options["days"] or [services.yesterday()]:
                self.stdout.write(f"{day}: {services.rollup_day(day)} rollups")
        elif action == "compact":
            self.stdout.write(f"{services.compact_telemetry()} files merged")
        elif action == "prune":
            removed = services.prune_telemetry(options["keep_days"])
            self.stdout.write(f"removed {len(removed)} days" + (f": {removed[0]} … {removed[-1]}" if removed else ""))

    def import_file(self, path: Path, show_errors: int) -> None:
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            with path.open("rb") as stream, progress_bar(f"Importing {path.name}", None) as advance:
                report = importing.import_devices_file(stream, path.name, advance)
        except tabular.UnreadableFile as exc:
            raise CommandError(f"{path}: {exc}") from exc
        summary = report.as_dict()
        self.stdout.write(
            f"devices: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{summary['rejected']} rejected"
        )
        for error in report.errors[:show_errors]:
            self.stdout.write(f"  {error}")
        if summary["rejected"]:
            raise CommandError(f"{summary['rejected']} rows were rejected; every valid row was loaded", returncode=1)
