"""Who is invited for which resolution, and who is held back and why."""

from datetime import timedelta

import pytest
from django.utils import timezone

from itxm.org.models import Employee
from itxm.surveys import services
from itxm.surveys.models import FatigueRule, HeldBackReason, Invitation, InvitationStatus, OutboxMessage
from itxm.tickets.models import Ticket
from tests.surveys.conftest import resolve, resolve_and_invite


@pytest.mark.django_db
def test_a_reopened_ticket_gets_no_second_survey_for_the_same_resolution_but_one_for_the_next(org):
    FatigueRule.objects.update(enabled=False)
    resolved_at = timezone.now() - timedelta(hours=2)
    first = resolve_and_invite(org, resolved_at=resolved_at)
    assert first.created == 1

    again = services.invite_for_resolutions([org["alpha_ticket"].pk])  # the same resolution, asked again
    assert again.created == 0 and again.skipped["already_invited"] == 1

    reopened = resolve(org, state="in progress", resolved_at=None, updated_at=timezone.now() - timedelta(hours=1))
    assert services.invite_for_resolutions(reopened or [org["alpha_ticket"].pk]).created == 0

    second = resolve_and_invite(org, resolved_at=timezone.now())
    assert second.created == 1
    assert Invitation.objects.filter(ticket=org["alpha_ticket"]).count() == 2
    assert OutboxMessage.objects.count() == 2


@pytest.mark.django_db
def test_the_fatigue_window_holds_back_a_second_survey_and_counts_why(org):
    FatigueRule.objects.filter(kind="incident").update(days=7, enabled=True)
    assert resolve_and_invite(org, "INC-1").created == 1
    report = resolve_and_invite(org, "INC-2")
    assert report.created == 0 and report.held_back == {HeldBackReason.FATIGUE: 1}
    held = Invitation.objects.get(ticket__number="INC-2")
    assert (held.status, held.held_back_reason) == (InvitationStatus.HELD_BACK, "fatigue")
    assert OutboxMessage.objects.count() == 1

    FatigueRule.objects.filter(kind="incident").update(enabled=False)
    assert resolve_and_invite(org, "INC-3").created == 1


@pytest.mark.django_db
def test_opted_out_people_and_people_without_an_address_are_held_back(org):
    Employee.objects.filter(pk=org["caller"].pk).update(opted_out=True)
    Employee.objects.create(external_id="E2", name="Kerem Işık", email="")
    first, second = resolve_and_invite(org, "INC-1"), resolve_and_invite(org, "INC-2", caller="E2")
    assert first.created == second.created == 0
    assert first.held_back + second.held_back == {HeldBackReason.OPTED_OUT: 1, HeldBackReason.NO_EMAIL: 1}
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_historical_import_mails_nobody(org, settings):
    settings.ITXM_SURVEY_MAX_RESOLUTION_AGE_DAYS = 7
    report = resolve_and_invite(org, resolved_at=timezone.now() - timedelta(days=30))
    assert report.created == 0 and report.skipped == {"too_old": 1}
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_a_ticket_without_a_caller_or_not_resolved_any_more_is_skipped(org):
    org["zeta_ticket"].caller = None
    org["zeta_ticket"].state, org["zeta_ticket"].resolved_at = "resolved", timezone.now()
    org["zeta_ticket"].save()
    report = services.invite_for_resolutions([org["zeta_ticket"].pk, org["inhouse_ticket"].pk])
    assert report.skipped == {"no_caller": 1, "not_resolved": 1}


def _ticket_for(caller: Employee, number: str, resolved_at, kind: str = "incident"):
    return Ticket.objects.create(
        source="test", source_id=number, number=number, kind=kind, state="resolved", caller=caller,
        opened_at=resolved_at - timedelta(hours=3), resolved_at=resolved_at,
    )  # fmt: skip


@pytest.mark.django_db
def test_two_resolutions_of_one_person_in_one_delivery_send_one_survey(org):
    FatigueRule.objects.filter(kind="incident").update(days=7, enabled=True)
    now = timezone.now()
    tickets = [_ticket_for(org["caller"], f"INC-{n}", now - timedelta(minutes=10 - n)) for n in range(3)]
    report = services.invite_for_resolutions([t.pk for t in tickets], now)
    assert report.created == 1 and report.held_back == {HeldBackReason.FATIGUE: 2}
    assert Invitation.objects.get(status=InvitationStatus.QUEUED).ticket_id == tickets[0].pk  # the first resolved
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_batch_decides_as_one_invitation_at_a_time_would(org, settings):
    """Fatigue per kind and across kinds, earlier invitations, opted-out and address-less people, mixed."""
    settings.ITXM_SURVEY_MAX_RESOLUTION_AGE_DAYS = 7
    FatigueRule.objects.update(enabled=False)
    FatigueRule.objects.update_or_create(kind="incident", defaults={"days": 3, "enabled": True})
    FatigueRule.objects.update_or_create(kind="any", defaults={"days": 1, "enabled": True})
    people = [Employee.objects.create(external_id=f"P{n}", name=f"P{n}", email=f"p{n}@example.com") for n in range(5)]
    Employee.objects.filter(pk=people[3].pk).update(opted_out=True)
    Employee.objects.filter(pk=people[4].pk).update(email="")
    now = timezone.now()
    Invitation.objects.create(employee=people[0], kind="request", status="sent", created_at=now - timedelta(hours=5))
    Invitation.objects.create(employee=people[1], kind="incident", status="sent", created_at=now - timedelta(days=2))
    Invitation.objects.create(employee=people[2], kind="incident", status="held_back", created_at=now)
    tickets = [
        _ticket_for(
            people[n % 5], f"T-{n}", now - timedelta(hours=n % 9, minutes=n), "request" if n % 4 else "incident"
        )
        for n in range(40)
    ]
    tickets.append(_ticket_for(people[0], "T-old", now - timedelta(days=30)))

    def decisions():
        rows = Invitation.objects.filter(ticket__isnull=False).values_list(
            "ticket__number", "status", "held_back_reason"
        )
        return sorted(rows), OutboxMessage.objects.count()

    from django.db import transaction

    with transaction.atomic():
        batch_report = services.invite_for_resolutions([t.pk for t in tickets], now)
        batch = decisions()
        transaction.set_rollback(True)
    one_report = services.InvitationReport()
    rules = services.fatigue.active_rules()
    stored = Ticket.objects.filter(pk__in=[t.pk for t in tickets]).select_related("caller")
    for ticket in stored.order_by("resolved_at", "pk"):
        if ticket.number != "T-old":
            services._invite_one(ticket, now, rules, one_report)
    assert batch == decisions()
    assert (batch_report.created, batch_report.held_back) == (one_report.created, one_report.held_back)
    assert batch_report.skipped == {"too_old": 1}
    assert {"fatigue", "opted_out", "no_email", ""} <= {reason for _, _, reason in batch[0]}
