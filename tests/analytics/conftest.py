"""Tickets sent through ingestion and answered through the survey services, as in production."""

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from itxm.analytics.periods import Period
from itxm.org.models import Employee
from itxm.org.scopes import EVERYTHING
from itxm.surveys import services as surveys
from itxm.surveys.models import FatigueRule, Invitation
from itxm.surveys.tokens import answer_token
from itxm.tickets.services import ingest_payload

# Resolutions must be recent (a week) to be surveyed: the tickets open three days ago; answers come today.
TODAY = timezone.now().date()
DAY = datetime.combine(TODAY - timedelta(days=3), time(9), tzinfo=UTC)
PERIOD = Period(TODAY - timedelta(days=5), TODAY + timedelta(days=1))


def ingest(rows: list[dict]):
    report = ingest_payload(EVERYTHING, "test", json.dumps(rows).encode(), "application/json")
    assert not report.errors, report.errors
    return report


def ticket_row(number: str, caller: str, *, hours: float = 4, opened=DAY, **fields) -> dict:
    resolved = opened + timedelta(hours=hours)
    return {
        "source_id": number, "number": number, "kind": "incident", "state": "resolved",
        "opened_at": opened.isoformat(), "resolved_at": resolved.isoformat(),
        "updated_at": (resolved + timedelta(seconds=1)).isoformat(), "group": "GRP-ALPHA", "service": "SVC-MAIL",
        "assignee": "AG-ALPHA", "caller": caller, "channel": "phone", "priority": 3,
    } | fields  # fmt: skip


def answer(number: str, score: int, lost_minutes: int | None = None, factors=()):
    invitation = Invitation.objects.get(ticket__number=number)
    token = answer_token(invitation.pk, invitation.nonce)
    if lost_minutes is None and not factors:
        return surveys.record_score(token, score)
    return surveys.complete(token, score, lost_minutes, list(factors), "")


@pytest.fixture
def people(org):
    """Ten callers with an hourly cost (60 for the first, 30 for the others); fatigue rules off."""
    FatigueRule.objects.update(enabled=False)
    callers = [org["caller"]]
    Employee.objects.filter(pk=org["caller"].pk).update(cost_per_hour=60)
    for i in range(2, 11):
        callers.append(Employee.objects.create(
            external_id=f"E{i}", name=f"Caller {i}", email=f"caller{i}@example.com", cost_per_hour=30,
            location=org["caller"].location, department=org["caller"].department, country="TR",
        ))  # fmt: skip
    return callers
