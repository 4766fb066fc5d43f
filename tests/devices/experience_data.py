"""A small, hand-computable join of survey answers and device health (docs/devices.md, "Devices meet
experience"), shared by the service, API and page tests.

Period 2026-03-01 to 2026-03-14 (``PERIOD``). Daily health on 1–10 March:

| device | model, build | user | score | lost min/day |
| --- | --- | --- | --- | --- |
| PC-LAT-1 | Latitude 5440, 22631.3007 | Ayşe Yılmaz (E1) | 40 | 30 |
| PC-TP-2 | ThinkPad T14, 22631.3296 | Zoe Zeta-Answer (E2) | 90 | 0 |
| PC-TP-4 | ThinkPad T14, 22631.3296 | Dora Devices (E4) | 60 | 10 |
| PC-LAT-5 | Latitude 5440, 22631.3007 | nobody | 70 | 14 |

Answers: E1 on 9 March (3, 60 min lost, about the Alpha ticket) and 10 March (5, 30 min, Alpha ticket);
E2 on 9 March (10, 0 min, about the Zeta ticket); E3 Cem (no device) on 5 March (7, no lost time, the
in-house ticket); E1 on 20 February (outside the period, 0).
"""

from datetime import UTC, date, datetime, timedelta

from itxm.analytics.periods import Period
from itxm.devices.models import Device, DeviceHealth
from itxm.org.models import Employee
from itxm.surveys.models import Invitation, InvitationStatus, Response

PERIOD = Period(date(2026, 3, 1), date(2026, 3, 15))
HEALTH_DAYS = [date(2026, 3, 1) + timedelta(days=n) for n in range(10)]


def answer(person, day: date, score: int, lost: int | None, ticket=None) -> Response:
    at = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
    invitation = Invitation.objects.create(
        employee=person, ticket=ticket, kind="incident", resolution_at=at - timedelta(hours=2),
        status=InvitationStatus.ANSWERED, sent_at=at - timedelta(hours=1),
    )  # fmt: skip
    return Response.objects.create(invitation=invitation, score=score, lost_minutes=lost, answered_at=at)


def build(org) -> dict:
    ayse = org["caller"]
    zoe = Employee.objects.create(external_id="E2", name="Zoe Zeta-Answer")
    cem = Employee.objects.create(external_id="E3", name="Cem Kaya")
    dora = Employee.objects.create(external_id="E4", name="Dora Devices")
    devices = {
        "PC-LAT-1": (Device.objects.create(hostname="PC-LAT-1", model="Latitude 5440", os_build="22631.3007",
                                           primary_user=ayse), 40.0, 30.0),
        "PC-TP-2": (Device.objects.create(hostname="PC-TP-2", model="ThinkPad T14", os_build="22631.3296",
                                          primary_user=zoe), 90.0, 0.0),
        "PC-TP-4": (Device.objects.create(hostname="PC-TP-4", model="ThinkPad T14", os_build="22631.3296",
                                          primary_user=dora), 60.0, 10.0),
        "PC-LAT-5": (Device.objects.create(hostname="PC-LAT-5", model="Latitude 5440", os_build="22631.3007"),
                     70.0, 14.0),
    }  # fmt: skip
    DeviceHealth.objects.bulk_create(
        DeviceHealth(device=device, day=day, score=score, lost_minutes=lost)
        for device, score, lost in devices.values()
        for day in HEALTH_DAYS
    )
    answer(ayse, date(2026, 3, 9), 3, 60, org["alpha_ticket"])
    answer(ayse, date(2026, 3, 10), 5, 30, org["alpha_ticket"])
    answer(zoe, date(2026, 3, 9), 10, 0, org["zeta_ticket"])
    answer(cem, date(2026, 3, 5), 7, None, org["inhouse_ticket"])
    answer(ayse, date(2026, 2, 20), 0, 600, org["inhouse_ticket"])
    return {"ayse": ayse, "zoe": zoe, "cem": cem, "dora": dora, "devices": {k: v[0] for k, v in devices.items()}}
