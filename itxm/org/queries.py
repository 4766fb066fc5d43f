"""Reads of the organisation, each inside the caller's scope."""

from django.db.models import Q, QuerySet

from itxm.org.models import Agent, Category, Department, Employee, Group, Location, Service, Supplier
from itxm.org.scopes import Permission, Scope


def suppliers(scope: Scope) -> QuerySet:
    return scope.apply(Supplier.objects.all())


def groups(scope: Scope) -> QuerySet:
    return scope.apply(Group.objects.select_related("supplier"))


def services(scope: Scope) -> QuerySet:
    return scope.apply(Service.objects.all())


def categories(scope: Scope) -> QuerySet:
    return scope.apply(Category.objects.select_related("service"))


def departments(scope: Scope) -> QuerySet:
    return scope.apply(Department.objects.all())


def locations(scope: Scope) -> QuerySet:
    return scope.apply(Location.objects.all())


def agents(scope: Scope) -> QuerySet:
    return scope.marking_people(scope.apply(Agent.objects.select_related("group")))


def employees(scope: Scope, search: str = "") -> QuerySet:
    scope.require(Permission.VIEW_PEOPLE)
    qs = scope.apply(Employee.objects.select_related("department", "location"))
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(external_id=search) | Q(email__iexact=search))
    return qs


def counts(scope: Scope) -> dict[str, int]:
    """How much of each kind of reference data the scope holds, for the home page."""
    result = {
        "suppliers": suppliers(scope).count(),
        "groups": groups(scope).count(),
        "services": services(scope).count(),
        "agents": agents(scope).count(),
    }
    if scope.allows(Permission.VIEW_PEOPLE):
        result["employees"] = employees(scope).count()
    return result
