from datetime import UTC, datetime, timedelta

import pytest

from itxm.org.scopes import EVERYTHING
from itxm.tickets.models import BusinessCalendar, EventKind, SlaDefinition, Ticket, TicketEvent, TicketSla
from itxm.tickets.sla_verdicts import compliance, disagreements, evaluate_slas

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = MONDAY_9 + timedelta(days=2)


@pytest.fixture
def four_hour_resolution(db):
    calendar = BusinessCalendar.objects.create(
        name="Office hours",
        time_zone="Europe/Istanbul",
        hours={"mon": ["08:00-18:00"], "tue": ["08:00-18:00"], "wed": ["08:00-18:00"]},
    )
    return SlaDefinition.objects.create(
        name="Incidents resolved in 4 business hours",
        target_minutes=240,
        calendar=calendar,
        kinds=["incident"],
        pause_states=["on_hold"],
    )


def make_ticket(org, number, hours_to_resolve, source_made_sla, group="alpha_group", waited_hours=0):
    resolved = MONDAY_9 + timedelta(hours=hours_to_resolve) if hours_to_resolve is not None else None
    ticket = Ticket.objects.create(
        source="test",
        source_id=number,
        number=number,
        kind="incident",
        state="resolved" if resolved else "in_progress",
        opened_at=MONDAY_9,
        resolved_at=resolved,
        group=org[group],
        source_made_sla=source_made_sla,
    )
    seq = 1
    TicketEvent.objects.create(ticket=ticket, seq=seq, at=MONDAY_9, kind=EventKind.STATE, to_value="new")
    if waited_hours:
        TicketEvent.objects.create(
            ticket=ticket,
            seq=2,
            at=MONDAY_9 + timedelta(minutes=30),
            kind=EventKind.STATE,
            from_value="new",
            to_value="on_hold",
        )
        TicketEvent.objects.create(
            ticket=ticket,
            seq=3,
            at=MONDAY_9 + timedelta(minutes=30, hours=waited_hours),
            kind=EventKind.STATE,
            from_value="on_hold",
            to_value="in_progress",
        )
        seq = 3
    if resolved:
        TicketEvent.objects.create(
            ticket=ticket, seq=seq + 1, at=resolved, kind=EventKind.STATE, from_value="new", to_value="resolved"
        )
    return ticket


@pytest.mark.django_db
def test_verdicts_compliance_and_disagreements_with_the_source(org, four_hour_resolution):
    # 09:00 UTC is 12:00 in Istanbul: six business hours are left on Monday.
    met = make_ticket(org, "MET", 3, True)
    breached = make_ticket(org, "LATE", 5, True)  # the source says met, ITXM says breached
    paused = make_ticket(org, "PAUSED", 5, False, waited_hours=2)  # 3 business hours once the wait is paused
    running = make_ticket(org, "OPEN", None, None)

    written = evaluate_slas(now=NOW)

    # plus the three tickets of the shared fixture, opened at 09:00 and still open
    assert written == 7
    by_number = {v.ticket.number: v for v in TicketSla.objects.select_related("ticket")}
    assert (by_number["MET"].met, by_number["MET"].elapsed_seconds) == (True, 3 * 3600)
    assert by_number["LATE"].breached and by_number["LATE"].percent_used == pytest.approx(125.0)
    assert by_number["PAUSED"].met and by_number["PAUSED"].paused_seconds == 2 * 3600
    assert by_number["OPEN"].breached  # two days later, far past four business hours
    result = compliance(EVERYTHING, definition_id=four_hour_resolution.id)
    assert (result.met, result.breached, result.running) == (2, 5, 0)
    assert result.source_compliance == pytest.approx(66.7)
    assert sorted(disagreements(EVERYTHING).values_list("number", flat=True)) == ["LATE", "PAUSED"]
    assert {met.id, breached.id, paused.id, running.id} <= set(TicketSla.objects.values_list("ticket_id", flat=True))


@pytest.mark.django_db
def test_evaluating_twice_gives_the_same_verdicts(org, four_hour_resolution):
    make_ticket(org, "MET", 3, True)
    evaluate_slas(now=NOW)
    first = list(TicketSla.objects.order_by("ticket_id").values_list("ticket_id", "elapsed_seconds", "met", "breached"))
    evaluate_slas(now=NOW)
    assert (
        list(TicketSla.objects.order_by("ticket_id").values_list("ticket_id", "elapsed_seconds", "met", "breached"))
        == first
    )


@pytest.mark.django_db
def test_the_sla_api_answers_inside_the_callers_scope(org, users, client_for, four_hour_resolution):
    make_ticket(org, "ALPHA-LATE", 5, True)
    make_ticket(org, "ZETA-LATE", 5, True, group="zeta_group")
    evaluate_slas(now=NOW)

    alpha = client_for(users["alpha"])
    numbers = [t["number"] for t in alpha.get("/api/v1/sla/disagreements").json()["items"]]
    assert numbers == ["ALPHA-LATE"]
    body = alpha.get("/api/v1/sla/compliance").json()
    assert body["breached"] == 2 and body["disagreements"] == 1  # its own ticket and the fixture's open one
    assert client_for(users["admin"]).get("/api/v1/sla/compliance").json()["disagreements"] == 2
    definitions = alpha.get("/api/v1/sla/definitions").json()
    assert definitions["items"][0]["calendar"] == "Office hours"


@pytest.mark.django_db
def test_only_new_changed_and_running_tickets_are_pending(org, four_hour_resolution):
    from itxm.tickets.sla_verdicts import evaluate_pending_slas, pending_ticket_ids

    done = make_ticket(org, "DONE", 3, True)
    running = make_ticket(org, "RUNNING", None, None)
    assert {done.id, running.id} <= set(pending_ticket_ids())

    evaluate_pending_slas(now=NOW)

    pending = set(pending_ticket_ids())
    assert done.id not in pending and running.id in pending
    Ticket.objects.filter(pk=done.pk).update(source_updated_at=NOW + timedelta(hours=1))
    assert done.id in set(pending_ticket_ids())
