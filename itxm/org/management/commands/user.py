import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from itxm.org import services
from itxm.org.models import Role


class Command(BaseCommand):
    help = "Manage ITXM users: `itxm user create NAME --role ROLE`."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a user")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--email", default="")
        create.add_argument("--supplier", help="supplier's external id (supplier users)")
        create.add_argument("--service", action="append", help="owned service's external id (service owners)")
        create.add_argument("--language", default="en", choices=["en", "tr"])
        create.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input (for scripts)",
        )

    def handle(self, *args, action, **options):
        if action == "create":
            self.create(options)

    def create(self, options) -> None:
        password = self.read_password(options["password_stdin"])
        try:
            user = services.create_user(
                options["username"],
                password,
                options["role"],
                email=options["email"],
                supplier_external_id=options["supplier"],
                service_external_ids=options["service"],
                language=options["language"],
            )
        except services.UserError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"created {user.username} ({user.get_role_display()})")

    def read_password(self, from_stdin: bool) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        if not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password: use --password-stdin")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("the passwords differ")
        return first
