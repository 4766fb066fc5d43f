"""Who may see what: the only place where roles and data scopes are turned into filters.

Every query for a page, an API list or detail, an export or a report goes through ``Scope.apply``.
A supplier user sees the data of its supplier's groups; a service owner the data of its services.
Models declare how the restriction reaches them in ``scope_fields`` (see ``itxm.org.models``):
a lookup string, ``None`` when the restriction does not concern them, ``False`` when restricted users
must not see them at all. A model with no declaration is hidden from restricted users.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Model, QuerySet, Value

from itxm.org.models import Group, Role, User


class Permission(StrEnum):
    VIEW_DATA = "view_data"
    VIEW_PEOPLE = "view_people"
    MANAGE_REFERENCE = "manage_reference"
    MANAGE_USERS = "manage_users"
    IMPORT = "import"
    MANAGE_IMPROVEMENT = "manage_improvement"  # define XLAs and initiatives (within the reader's scope)


PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.ANALYST: frozenset({Permission.VIEW_DATA, Permission.VIEW_PEOPLE, Permission.MANAGE_IMPROVEMENT}),
    Role.SERVICE_OWNER: frozenset({Permission.VIEW_DATA, Permission.MANAGE_IMPROVEMENT}),
    Role.SUPPLIER: frozenset({Permission.VIEW_DATA, Permission.MANAGE_IMPROVEMENT}),
    Role.VIEWER: frozenset({Permission.VIEW_DATA}),
}


@dataclass(frozen=True)
class Scope:
    """The slice of data one user may see. ``None`` on a dimension: not restricted on it."""

    group_ids: frozenset[int] | None = None
    service_ids: frozenset[int] | None = None
    permissions: frozenset[Permission] = frozenset()

    @property
    def is_restricted(self) -> bool:
        return self.group_ids is not None or self.service_ids is not None

    def allows(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if not self.allows(permission):
            raise PermissionDenied(permission)

    def apply(self, qs: QuerySet) -> QuerySet:
        fields = getattr(qs.model, "scope_fields", None)
        if not self.is_restricted:
            return qs
        if fields is None:
            return qs.none()
        for dimension, ids in (("group", self.group_ids), ("service", self.service_ids)):
            if ids is None:
                continue
            lookup = fields.get(dimension, False)
            if lookup is False:
                return qs.none()
            if lookup is not None:
                qs = qs.filter(**{f"{lookup}__in": ids})
        return qs.distinct() if _joins_many(fields) else qs

    def marking_people(self, qs: QuerySet) -> QuerySet:
        """``qs`` with ``people_visible`` on each row: whether this reader may see who people are (names,
        e-mail addresses); schemas show a code, or nothing, where it is false."""
        return qs.annotate(people_visible=Value(self.allows(Permission.VIEW_PEOPLE), output_field=BooleanField()))

    def get(self, qs: QuerySet, pk: int) -> Model:
        """One object inside the scope; ``DoesNotExist`` for anything outside it, as if it did not exist."""
        return self.apply(qs).get(pk=pk)


def _joins_many(fields: dict) -> bool:
    return any(isinstance(lookup, str) and "__" in lookup for lookup in fields.values())


EVERYTHING = Scope(permissions=frozenset(Permission))
NOTHING = Scope(group_ids=frozenset(), service_ids=frozenset())


def scope_for(user: User | None) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    permissions = PERMISSIONS.get(user.role, frozenset())
    if user.role == Role.SUPPLIER:
        group_ids = frozenset(Group.objects.filter(supplier_id=user.supplier_id).values_list("id", flat=True))
        return Scope(group_ids=group_ids if user.supplier_id else frozenset(), permissions=permissions)
    if user.role == Role.SERVICE_OWNER:
        return Scope(service_ids=frozenset(user.services.values_list("id", flat=True)), permissions=permissions)
    return Scope(permissions=permissions)
