"""Operations on the organisation: ITXM users, their API tokens, and imports."""

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from itxm.org.models import ApiToken, Role, Service, Supplier, User, hash_token
from itxm.org.scopes import Permission, Scope


class UserError(ValueError):
    """A request about users that cannot be carried out; the message says why."""


def create_user(
    username: str,
    password: str,
    role: str,
    email: str = "",
    supplier_external_id: str | None = None,
    service_external_ids: list[str] | None = None,
    language: str = "en",
    check_password: bool = True,
) -> User:
    if role not in Role.values:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(Role.values)}")
    if User.objects.filter(username=username).exists():
        raise UserError(f"a user named {username!r} exists already")
    supplier = None
    if role == Role.SUPPLIER:
        if not supplier_external_id:
            raise UserError("a supplier user needs --supplier (the supplier's external id)")
        supplier = Supplier.objects.filter(external_id=supplier_external_id).first()
        if supplier is None:
            raise UserError(f"no supplier with external id {supplier_external_id!r}")
    services = []
    if role == Role.SERVICE_OWNER:
        wanted = set(service_external_ids or [])
        if not wanted:
            raise UserError("a service owner needs --service (one or more services' external ids)")
        services = list(Service.objects.filter(external_id__in=wanted))
        missing = wanted - {s.external_id for s in services}
        if missing:
            raise UserError(f"no service with external id {', '.join(sorted(missing))}")
    user = User(username=username, email=email, role=role, supplier=supplier, language=language)
    if check_password:
        try:
            validate_password(password, user)
        except Exception as exc:
            raise UserError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
    user.set_password(password)
    with transaction.atomic():
        user.save()
        user.services.set(services)
    return user


def issue_token(user: User, name: str) -> tuple[ApiToken, str]:
    if not name.strip():
        raise UserError("a token needs a name, e.g. the machine that will use it")
    return ApiToken.issue(user, name.strip())


def tokens_of(user: User):
    return ApiToken.objects.filter(user=user)


def revoke_token(scope: Scope, user: User, token_id: int) -> ApiToken:
    """Users revoke their own tokens; admins anyone's."""
    tokens = ApiToken.objects.all() if scope.allows(Permission.MANAGE_USERS) else tokens_of(user)
    token = tokens.get(pk=token_id)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def user_for_token(secret: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
