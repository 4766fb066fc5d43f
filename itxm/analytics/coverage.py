"""Which groups and services a scope member covers: the XLAs and initiatives about a supplier's groups or
a service owner's services are shown to them (their ``groups``/``services`` feed ``Scope.apply``)."""

from django.core.exceptions import PermissionDenied

from itxm.analytics.facts import DIMENSIONS, TEXT_MEMBERS
from itxm.org.models import Agent, Category, Department, Group, Location, Service, Supplier
from itxm.org.scopes import Scope

MEMBER_MODELS = {
    "service": Service,
    "category": Category,
    "group": Group,
    "supplier": Supplier,
    "agent": Agent,
    "department": Department,
    "location": Location,
}


class InvalidScope(ValueError):
    pass


def check_member(dimension: str, member: str) -> str:
    """The member as stored (text), after checking it exists."""
    if dimension not in DIMENSIONS:
        raise InvalidScope(f"unknown dimension {dimension!r}; one of {', '.join(DIMENSIONS)}")
    member = str(member or "").strip()
    if dimension == "all":
        return ""
    if not member:
        raise InvalidScope(f"a {dimension} scope names its member")
    if dimension in MEMBER_MODELS:
        if not member.isdigit() or not MEMBER_MODELS[dimension].objects.filter(pk=int(member)).exists():
            raise InvalidScope(f"no {dimension} with id {member}")
    elif dimension == "priority" and member not in {"1", "2", "3", "4", "5"}:
        raise InvalidScope("a priority is 1 to 5")
    elif dimension in TEXT_MEMBERS and len(member) > 50:
        raise InvalidScope(f"{dimension} is too long")
    return member


def covered(dimension: str, member: str) -> tuple[set[int], set[int]]:
    """(group ids, service ids) the member's data belongs to; empty where it is not one team's or
    service's (a country, a channel, the whole organisation)."""
    if dimension == "group":
        return {int(member)}, set()
    if dimension == "supplier":
        return set(Group.objects.filter(supplier_id=int(member)).values_list("id", flat=True)), set()
    if dimension == "agent":
        group_id = Agent.objects.filter(pk=int(member)).values_list("group_id", flat=True).first()
        return ({group_id} if group_id else set()), set()
    if dimension == "service":
        return set(), {int(member)}
    if dimension == "category":
        service_id = Category.objects.filter(pk=int(member)).values_list("service_id", flat=True).first()
        return set(), ({service_id} if service_id else set())
    return set(), set()


def check_within(scope: Scope, dimension: str, member: str) -> tuple[set[int], set[int]]:
    """A restricted reader may only define things about its own groups or services."""
    groups, services = covered(dimension, member)
    if scope.group_ids is not None and (not groups or not groups <= scope.group_ids):
        raise PermissionDenied("outside your groups")
    if scope.service_ids is not None and (not services or not services <= scope.service_ids):
        raise PermissionDenied("outside your services")
    return groups, services
