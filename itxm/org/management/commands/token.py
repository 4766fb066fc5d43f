from django.core.management.base import BaseCommand, CommandError

from itxm.org import services
from itxm.org.models import ApiToken, User
from itxm.org.scopes import EVERYTHING


class Command(BaseCommand):
    help = "Manage API tokens: `itxm token create USER --name NAME` prints the secret once."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token acting as USER")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what the token is for, e.g. the machine using it")
        listing = actions.add_parser("list", help="list a user's tokens")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="revoke a token by its id")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action, **options):
        getattr(self, action)(options)

    def user(self, username: str) -> User:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None

    def create(self, options) -> None:
        try:
            token, secret = services.issue_token(self.user(options["username"]), options["name"])
        except services.UserError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"token {token.id} created; keep the secret below, it is not shown again:")
        self.stdout.write(secret)

    def list(self, options) -> None:
        for token in services.tokens_of(self.user(options["username"])):
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            self.stdout.write(f"{token.id}\t{token.name}\t{token.key_prefix}…\t{state}")

    def revoke(self, options) -> None:
        try:
            token = services.revoke_token(EVERYTHING, None, options["token_id"])
        except ApiToken.DoesNotExist as exc:
            raise CommandError(f"no token {options['token_id']}") from exc
        self.stdout.write(f"revoked token {token.id} ({token.name})")
