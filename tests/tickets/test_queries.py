"""Ticket reads inside the reader's scope (itxm/tickets/queries.py), through the API as a reader meets them."""

from datetime import UTC, datetime

import pytest

from itxm.tickets.models import EventKind, TicketEvent
from itxm.tickets.queries import HIDDEN_GROUP


@pytest.fixture
def passed_on(org):
    """Alpha's ticket came to Alpha's desk from Zeta's: assigned to Zeta first, then to Alpha."""
    ticket = org["alpha_ticket"]
    ticket.events.all().delete()
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    TicketEvent.objects.bulk_create([
        TicketEvent(ticket=ticket, seq=1, at=at, kind=EventKind.ASSIGNMENT, to_value="GRP-ZETA",
                    group=org["zeta_group"]),
        TicketEvent(ticket=ticket, seq=2, at=at, kind=EventKind.STATE, from_value="new", to_value="in_progress"),
        TicketEvent(ticket=ticket, seq=3, at=at, kind=EventKind.ASSIGNMENT, from_value="GRP-ZETA",
                    to_value="GRP-ALPHA", group=org["alpha_group"]),
    ])  # fmt: skip
    return ticket


def history(client, ticket) -> list[tuple[str, str, str]]:
    response = client.get(f"/api/v1/tickets/{ticket.pk}")
    assert response.status_code == 200
    return [(event["kind"], event["from_value"], event["to_value"]) for event in response.json()["events"]]


@pytest.mark.django_db
def test_a_supplier_reads_its_own_group_in_a_tickets_history_and_not_another_suppliers(passed_on, users, client_for):
    assert history(client_for(users["alpha"]), passed_on) == [
        ("assignment", "", HIDDEN_GROUP),
        ("state", "new", "in_progress"),
        ("assignment", HIDDEN_GROUP, "GRP-ALPHA"),
    ]


@pytest.mark.django_db
def test_unrestricted_readers_read_every_group_in_the_history(passed_on, users, client_for):
    for reader in ("admin", "owner"):  # the owner of the e-mail service is restricted by service, not group
        assert history(client_for(users[reader]), passed_on) == [
            ("assignment", "", "GRP-ZETA"),
            ("state", "new", "in_progress"),
            ("assignment", "GRP-ZETA", "GRP-ALPHA"),
        ]


@pytest.mark.django_db
def test_a_tickets_assignee_is_named_only_for_readers_who_may_see_people(org, users, client_for):
    ticket = org["alpha_ticket"]

    def assignee(reader: str, path: str = f"/api/v1/tickets/{ticket.pk}") -> str:
        response = client_for(users[reader]).get(path)
        assert response.status_code == 200
        return response.json()["assignee"]["name"]

    assert [assignee(reader) for reader in ("alpha", "viewer", "analyst")] == ["AG-ALPHA", "AG-ALPHA", "Alan Alpha"]
    listed = client_for(users["alpha"]).get("/api/v1/tickets").json()["items"]
    assert [item["assignee"]["name"] for item in listed if item["id"] == ticket.pk] == ["AG-ALPHA"]
