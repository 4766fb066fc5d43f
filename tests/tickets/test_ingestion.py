import json
from datetime import UTC, datetime

import pytest

from itxm.analytics.models import PendingFact
from itxm.org.models import Agent, Employee, Group, Service
from itxm.tickets.models import Ticket, TicketEvent


def ticket(source_id: str, **overrides) -> dict:
    base = {
        "source_id": source_id,
        "number": source_id,
        "kind": "incident",
        "state": "resolved",
        "opened_at": "2026-03-02T09:00:00Z",
        "resolved_at": "2026-03-02T13:30:00+03:00",
        "updated_at": "2026-03-02T10:31:00Z",
        "priority": "2 - High",
        "channel": "Self service",
        "service": "SVC-MAIL",
        "group": "GRP-ALPHA",
        "assignee": "AG-ALPHA",
        "caller": "E1",
        "reassignment_count": 1,
        "reopen_count": 0,
        "made_sla": "true",
        "history": [
            {"at": "2026-03-02T09:00:00Z", "kind": "state", "to": "New"},
            {"at": "2026-03-02T09:01:00Z", "kind": "assignment", "to": "GRP-NET"},
            {"at": "2026-03-02T09:20:00Z", "kind": "assignment", "from": "GRP-NET", "to": "GRP-ALPHA"},
            {"at": "2026-03-02T10:30:00Z", "kind": "state", "from": "New", "to": "Resolved"},
        ],
    }
    return base | overrides


def send(client, tickets, source="servicenow", ndjson=False):
    if ndjson:
        body = "\n".join(t if isinstance(t, str) else json.dumps(t) for t in tickets)
        return client.post(f"/api/v1/tickets/batch?source={source}", body, content_type="application/x-ndjson")
    return client.post(f"/api/v1/tickets/batch?source={source}", json.dumps(tickets), content_type="application/json")


@pytest.fixture
def admin_client(users, client_for):
    return client_for(users["admin"])


@pytest.mark.django_db
def test_a_batch_creates_tickets_with_history_and_times_in_utc(admin_client, org):
    response = send(admin_client, [ticket("INC1"), ticket("INC2", state="in progress", resolved_at=None)])

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["rejected"], body["resolved_tickets"]) == (2, 0, 1)
    stored = Ticket.objects.get(source="servicenow", source_id="INC1")
    assert stored.resolved_at.isoformat() == "2026-03-02T10:30:00+00:00"
    assert (stored.priority, stored.channel, stored.state, stored.source_made_sla) == (2, "portal", "resolved", True)
    assert stored.group == org["alpha_group"] and stored.assignee == org["alpha_agent"]
    events = list(stored.events.values_list("seq", "kind", "from_value", "to_value", "group__external_id"))
    assert events == [
        (1, "state", "", "new", None),
        (2, "assignment", "", "GRP-NET", "GRP-NET"),
        (3, "assignment", "GRP-NET", "GRP-ALPHA", "GRP-ALPHA"),
        (4, "state", "new", "resolved", None),
    ]


@pytest.mark.django_db
def test_resending_changes_nothing(admin_client, org):
    batch = [ticket("INC1"), ticket("INC2")]
    send(admin_client, batch)
    before = list(Ticket.objects.order_by("id").values()), list(TicketEvent.objects.order_by("id").values())

    again = send(admin_client, batch).json()

    assert (again["created"], again["updated"], again["unchanged"], again["resolved_tickets"]) == (0, 0, 2, 0)
    assert (list(Ticket.objects.order_by("id").values()), list(TicketEvent.objects.order_by("id").values())) == before


@pytest.mark.django_db
def test_a_newer_version_updates_and_an_older_one_is_ignored(admin_client, org):
    send(admin_client, [ticket("INC1")])

    newer = send(admin_client, [ticket("INC1", reopen_count=1, updated_at="2026-03-03T08:00:00Z")]).json()
    older = send(admin_client, [ticket("INC1", reopen_count=5, updated_at="2026-03-01T08:00:00Z")]).json()

    assert newer["updated"] == 1 and older["stale"] == 1
    assert Ticket.objects.get(source="servicenow").reopen_count == 1


@pytest.mark.django_db
def test_changed_history_replaces_the_stored_one(admin_client, org):
    send(admin_client, [ticket("INC1")])
    shorter = ticket("INC1")
    shorter["history"] = shorter["history"][:2]

    result = send(admin_client, [shorter]).json()

    assert result["updated"] == 1
    assert TicketEvent.objects.filter(ticket__source="servicenow").count() == 2


@pytest.mark.django_db
def test_bad_tickets_are_reported_and_the_good_ones_around_them_stored(admin_client, org):
    batch = [
        ticket("INC1"),
        ticket("INC2", opened_at="yesterday"),
        ticket("INC3"),
        ticket("", priority="9"),
        ticket("INC5", resolved_at="2026-03-01T00:00:00Z"),
        ticket("INC6", state="teleported"),
        ticket("INC7"),
    ]

    result = send(admin_client, batch).json()

    assert result["created"] == 3
    stored = Ticket.objects.filter(source="servicenow").values_list("source_id", flat=True)
    assert sorted(stored) == ["INC1", "INC3", "INC7"]
    found = {(e["line"], e["field"]) for e in result["errors"]}
    assert found == {(2, "opened_at"), (4, "source_id"), (4, "priority"), (5, "resolved_at"), (6, "state")}
    assert result["rejected"] == 4


@pytest.mark.django_db
def test_ndjson_with_a_broken_line(admin_client, org):
    lines = [ticket("INC1"), "{not json", ticket("INC3"), "[1]", "", ticket("INC6")]
    result = send(admin_client, lines, ndjson=True).json()
    assert result["created"] == 3 and [e["line"] for e in result["errors"]] == [2, 4]
    assert result["errors"][0]["reason"].startswith("not valid JSON")
    assert result["errors"][1]["reason"] == "not a JSON object"


@pytest.mark.django_db
def test_unknown_reference_data_is_created_not_lost(admin_client, org):
    result = send(admin_client, [ticket("INC1", group="Group 56", service="Payroll", caller="Caller 2403")]).json()

    assert result["created"] == 1
    assert result["references_created"] == {"group": 1, "service": 1, "caller": 1}
    assert Group.objects.filter(external_id="Group 56").exists()
    assert Service.objects.filter(external_id="Payroll").exists() and Employee.objects.filter(name="Caller 2403")
    assert Agent.objects.filter(external_id="AG-ALPHA").count() == 1


@pytest.mark.django_db
def test_sending_tickets_needs_the_import_permission(users, client_for, org):
    assert send(client_for(users["analyst"]), [ticket("INC1")]).status_code == 403
    assert not Ticket.objects.filter(source="servicenow").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "source, body, message",
    [
        ("Service Now!", "[]", "source must be"),
        ("servicenow", "", "the body is empty"),
        ("servicenow", "[{", "not valid JSON"),
    ],
)
def test_a_delivery_that_cannot_be_taken_gets_a_clear_400(admin_client, source, body, message):
    response = admin_client.post(f"/api/v1/tickets/batch?source={source}", body, content_type="application/json")
    assert response.status_code == 400 and message in response.json()["message"]


@pytest.mark.django_db
def test_the_same_ticket_twice_in_one_delivery_keeps_the_newer(admin_client, org):
    batch = [
        ticket("INC1", reopen_count=2, updated_at="2026-03-05T00:00:00Z"),
        ticket("INC1", reopen_count=1, updated_at="2026-03-04T00:00:00Z"),
    ]
    result = send(admin_client, batch).json()
    assert result["created"] == 1 and Ticket.objects.get(source="servicenow").reopen_count == 2


@pytest.mark.django_db
def test_journey_facts_are_stored_with_the_ticket(admin_client, org):
    bounced = ticket(
        "INC9",
        channel="phone",
        history=[
            {"at": "2026-03-02T09:00:00Z", "kind": "assignment", "to": "GRP-ALPHA"},
            {"at": "2026-03-02T09:05:00Z", "kind": "assignment", "to": "GRP-NET"},
            {"at": "2026-03-02T09:10:00Z", "kind": "state", "from": "new", "to": "on_hold"},
            {"at": "2026-03-02T09:40:00Z", "kind": "state", "from": "on_hold", "to": "in_progress"},
            {"at": "2026-03-02T09:50:00Z", "kind": "assignment", "to": "GRP-ALPHA"},
        ],
    )
    simple = ticket("INC10", channel="phone", reassignment_count=0, history=[])
    send(admin_client, [bounced, simple])

    stored = Ticket.objects.get(source="servicenow", source_id="INC9")
    assert (stored.ping_pongs, stored.waiting_seconds, stored.first_contact_resolution) == (1, 1800, False)
    assert Ticket.objects.get(source="servicenow", source_id="INC10").first_contact_resolution is True

    without_history = {k: v for k, v in bounced.items() if k != "history"} | {"updated_at": "2026-03-04T00:00:00Z"}
    send(admin_client, [without_history])
    stored.refresh_from_db()
    assert (stored.ping_pongs, stored.waiting_seconds) == (1, 1800)


@pytest.mark.django_db
def test_resolutions_are_reported_once_and_again_after_a_reopening(admin_client, org):
    first = send(admin_client, [ticket("INC1")]).json()
    same = send(admin_client, [ticket("INC1", reopen_count=0, updated_at="2026-03-02T11:00:00Z")]).json()
    reopened = send(
        admin_client, [ticket("INC1", state="in progress", resolved_at=None, updated_at="2026-03-03T08:00:00Z")]
    ).json()
    resolved_again = send(
        admin_client, [ticket("INC1", resolved_at="2026-03-03T12:00:00Z", updated_at="2026-03-03T12:00:00Z")]
    ).json()

    assert [r["resolved_tickets"] for r in (first, same, reopened, resolved_again)] == [1, 0, 0, 1]


@pytest.mark.django_db
def test_times_in_any_notation_are_stored_as_django_stores_them(admin_client, org):
    notations = {
        "INC1": ("2026-03-02T09:00:00Z", "2026-03-02T10:30:00+00:00"),
        "INC2": ("2026-03-02T12:00:00+03:00", "2026-03-02T10:30:00.250000Z"),
        "INC3": ("2026-03-02T09:00:00", "2026-03-02 10:30:00.5+00:00"),
    }
    batch = [
        ticket(source_id, opened_at=opened, resolved_at=resolved, updated_at=resolved)
        for source_id, (opened, resolved) in notations.items()
    ]
    batch[1]["history"][0]["at"] = "2026-03-02T12:00:00.000001+03:00"
    send(admin_client, batch)
    for stored in Ticket.objects.filter(source="servicenow"):
        stored.save()  # written again by the ORM: the same values, in Django's own storage form
        for event in stored.events.all():
            event.save()

    again = send(admin_client, batch).json()

    assert (again["updated"], again["unchanged"]) == (0, 3)
    assert Ticket.objects.filter(source="servicenow", opened_at=datetime(2026, 3, 2, 9, tzinfo=UTC)).count() == 3
    assert Ticket.objects.get(source_id="INC2").resolved_at == datetime(2026, 3, 2, 10, 30, 0, 250000, tzinfo=UTC)
    assert TicketEvent.objects.filter(at=datetime(2026, 3, 2, 9, 0, 0, 1, tzinfo=UTC)).count() == 1


@pytest.mark.django_db
def test_only_tickets_that_changed_are_queued_for_analytics(admin_client, org):
    send(admin_client, [ticket("INC1"), ticket("INC2")])
    PendingFact.objects.all().delete()

    send(admin_client, [ticket("INC1"), ticket("INC2", reopen_count=1, updated_at="2026-03-03T08:00:00Z")])

    queued = set(PendingFact.objects.values_list("kind", "object_id"))
    assert queued == {(PendingFact.TICKET, Ticket.objects.get(source_id="INC2").pk)}
