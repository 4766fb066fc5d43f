"""Reads of devices and their rollups, each inside the caller's scope.

Devices are hidden from suppliers and service owners (``Device.scope_fields``); their primary user is a
person, shown only to roles that may see people.
"""

from datetime import date

from django.db.models import BooleanField, QuerySet, Value

from itxm.devices.models import DailyRollup, Device, EnrolmentCode
from itxm.org.scopes import Permission, Scope


def devices(scope: Scope, search: str = "") -> QuerySet:
    qs = scope.apply(Device.objects.select_related("primary_user")).annotate(
        people_visible=Value(scope.allows(Permission.VIEW_PEOPLE), output_field=BooleanField())
    )
    if search:
        qs = qs.filter(hostname__icontains=search) | qs.filter(serial=search)
    return qs


def device(scope: Scope, device_id: int) -> Device:
    return scope.get(devices(scope), device_id)


def rollups(scope: Scope, device_id: int, start: date | None = None, end: date | None = None) -> QuerySet:
    qs = DailyRollup.objects.filter(device=device(scope, device_id))
    if start:
        qs = qs.filter(day__gte=start)
    if end:
        qs = qs.filter(day__lte=end)
    return scope.apply(qs)


def enrolment_codes(scope: Scope) -> QuerySet:
    scope.require(Permission.MANAGE_REFERENCE)
    return scope.apply(EnrolmentCode.objects.all())
