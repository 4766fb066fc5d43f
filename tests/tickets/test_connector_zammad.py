"""The Zammad connector against a local Zammad that answers its REST API as the real one does."""

from datetime import UTC, datetime

import pytest

from itxm.tickets import outbound
from itxm.tickets.connectors import zammad  # noqa: F401  (registers the connector)
from itxm.tickets.connectors.sync import sync_connector
from itxm.tickets.models import Connector, EventKind, OutboundStatus, SyncStatus, Ticket
from itxm.tickets.outbound import create_remote_ticket
from tests.tickets.fake_zammad import FakeZammad

pytestmark = pytest.mark.django_db


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fill(server: FakeZammad) -> None:
    desk, network = server.add_group("Service Desk"), server.add_group("Network Team")
    ayse = server.add_user("ayse@example.com", "Ayşe", "Yılmaz")
    alan = server.add_user("alan@example.com", "Alan", "Agent")
    first = server.add_ticket(
        "2026-03-02 09:00", title="VPN drops every hour", customer=ayse, group=desk, priority=3, channel=11
    )
    server.update(first, "2026-03-02 09:20", state=2, owner=alan)
    server.respond(first, "2026-03-02 09:25", sla_minutes_left=35)
    server.update(first, "2026-03-02 09:40", group=network)
    server.update(first, "2026-03-02 11:00", state=4)
    server.set_solution_sla(first, 120)
    second = server.add_ticket("2026-03-03 10:00", customer=ayse, channel=1, type="Service Request", priority=1)
    server.update(second, "2026-03-03 10:30", state=3)
    server.respond(second, "2026-03-03 10:35", sla_minutes_left=-5)  # answered late
    third = server.add_ticket("2026-03-04 10:00", group=desk, channel=3)
    for at, state in (("11:00", 4), ("12:00", 2), ("13:00", 4)):  # closed, reopened, closed again
        server.update(third, f"2026-03-04 {at}", state=state)
    fourth = server.add_ticket("2026-03-05 10:00", channel=10)
    server.update(fourth, "2026-03-05 10:05", state=5)  # merged into another
    server.add_ticket("2026-03-06 10:00", channel=5)


@pytest.fixture
def instance():
    with FakeZammad() as server:
        fill(server)
        yield server


def make_connector(url: str, **options) -> Connector:
    connector = Connector(
        name="zammad", kind="zammad", base_url=url, auth_kind="bearer", options={"page_size": 2, **options}
    )
    connector.set_secret("zammad-token-1")
    connector.save()
    return connector


@pytest.fixture
def connector(instance):
    return make_connector(instance.url, create_group="Service Desk", create_customer="itxm-bot@example.com")


def tickets() -> dict[str, Ticket]:
    return {t.number: t for t in Ticket.objects.select_related("group", "caller", "assignee")}


def searches(server: FakeZammad):
    return server.seen("GET", "/api/v1/tickets/search")


def test_full_sync_brings_every_ticket_once(instance, connector):
    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.SUCCEEDED and report.complete
    assert (report.fetched, report.created, report.rejected) == (5, 5, 0)
    found = tickets()
    first = found["31001"]
    assert first.source == "zammad" and first.source_id == "1"
    assert (first.kind, first.state, first.priority, first.channel) == ("incident", "closed", 2, "portal")
    assert (first.group.name, first.caller.name, first.assignee.name) == ("Network Team", "Ayşe Yılmaz", "Alan Agent")
    assert first.opened_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert first.first_response_at == datetime(2026, 3, 2, 9, 25, tzinfo=UTC)
    assert first.resolved_at == first.closed_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert (first.reassignment_count, first.reopen_count, first.source_made_sla) == (1, 0, True)
    second = found["31002"]
    assert (second.kind, second.state, second.priority, second.channel) == ("request", "on_hold", 4, "email")
    assert second.source_made_sla is False and second.assignee is None  # owned by nobody ("-")
    third = found["31003"]
    assert (third.state, third.reopen_count, third.channel) == ("closed", 1, "chat")
    assert third.closed_at == datetime(2026, 3, 4, 13, 0, tzinfo=UTC)  # the last closing, not the first
    assert (found["31004"].state, found["31004"].resolved_at) == ("cancelled", None)
    assert (found["31005"].state, found["31005"].channel, found["31005"].source_made_sla) == ("new", "phone", None)
    connector.refresh_from_db()
    assert connector.last_seen_updated_at == datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


def test_the_api_is_read_as_documented(instance, connector):
    sync_connector(connector, sleep=Sleeps(), now=lambda: datetime(2026, 3, 20, 12, tzinfo=UTC))

    listing = searches(instance)
    first = listing[0].params
    assert first["query"] == "updated_at:[* TO 2026-03-20T12:00:00.000Z}"
    assert (first["sort_by"], first["order_by"], first["per_page"], first["expand"]) == (
        "updated_at",
        "asc",
        "2",
        "true",
    )
    # Each page starts at the last update seen (that ticket comes again and is dropped), not at an offset
    # that shifts when a ticket changes.
    assert [r.params["query"].split(" TO ")[0] for r in listing] == [
        "updated_at:[*",
        "updated_at:[2026-03-03T10:35:00.000Z",
        "updated_at:[2026-03-04T13:00:00.000Z",
        "updated_at:[2026-03-05T10:05:00.000Z",
        "updated_at:[2026-03-06T10:00:00.000Z",
    ]
    assert all(r.params["page"] == "1" for r in listing)
    assert len(instance.seen("GET", "/api/v1/ticket_history/1")) == 1
    assert sorted(r.path for r in instance.seen("GET", "/api/v1/users/")) == [
        "/api/v1/users/2",
        "/api/v1/users/3",
        "/api/v1/users/4",
    ]


def test_history_lands_as_ticket_events(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    events = [(e.kind, e.from_value, e.to_value) for e in tickets()["31001"].events.all()]
    assert events == [
        (EventKind.STATE, "", "new"),  # what it opened with: the history says only "created"
        (EventKind.ASSIGNMENT, "", "Service Desk"),
        (EventKind.STATE, "new", "in_progress"),
        (EventKind.ASSIGNMENT, "Service Desk", "Network Team"),
        (EventKind.STATE, "in_progress", "closed"),
    ]


def test_incremental_sync_reads_only_what_changed_and_updates_it(instance, connector):
    sync_connector(connector, sleep=Sleeps())
    instance.update(2, "2026-03-09 08:00", state=2)
    instance.requests.clear()

    report = sync_connector(connector, sleep=Sleeps())

    query = searches(instance)[0].params["query"]
    # The window starts five minutes before the newest update seen (ticket 5 at 2026-03-06 10:00).
    assert query.startswith("updated_at:[2026-03-06T09:55:00.000Z TO ")
    assert (report.fetched, report.created, report.updated, report.unchanged) == (2, 0, 1, 1)
    assert tickets()["31002"].state == "in_progress" and Ticket.objects.count() == 5


def test_resync_changes_nothing(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    again = sync_connector(connector, full=True, sleep=Sleeps())

    assert (again.fetched, again.created, again.updated, again.unchanged) == (5, 0, 0, 5)


def test_a_429_and_a_500_midway_lose_and_duplicate_nothing(instance, connector):
    def page(number):
        return lambda method, path, params: path.endswith("/tickets/search") and searches(instance).__len__() == number

    instance.fail(429, page(2), retry_after="7")
    instance.fail(500, page(4))
    sleeps = Sleeps()

    report = sync_connector(connector, sleep=sleeps)

    assert report.status == SyncStatus.SUCCEEDED and report.complete and report.retries == 2
    assert sleeps[0] == 7.0 and 0 < sleeps[1] <= 0.5
    assert [r.status for r in searches(instance)] == [200, 429, 200, 500, 200, 200, 200]
    assert (report.fetched, report.created) == (5, 5) and Ticket.objects.count() == 5


def test_a_ticket_changed_while_paging_is_not_skipped(instance, connector):
    """With offset paging the third ticket would shift onto the first page, already read, and be lost."""

    def change_once(request):
        if request.path.endswith("/tickets/search"):
            instance.on_request = None
            instance.update(1, "2026-03-15 09:00", title="changed after the window")

    instance.on_request = change_once
    report = sync_connector(connector, sleep=Sleeps(), now=lambda: datetime(2026, 3, 12, tzinfo=UTC))

    assert report.complete and (report.fetched, Ticket.objects.count()) == (5, 5)


def test_tickets_of_one_moment_are_paged_without_duplicates(instance):
    for _ in range(3):
        instance.add_ticket("2026-03-07 08:00")
    connector = make_connector(instance.url)

    report = sync_connector(connector, sleep=Sleeps())

    assert (report.fetched, report.created, Ticket.objects.count()) == (8, 8, 8)
    pages = [(r.params["query"].split(" TO ")[0], r.params["page"]) for r in searches(instance)]
    assert ("updated_at:[2026-03-07T08:00:00.000Z", "2") in pages  # the same moment, the next page


def test_wrong_credentials_fail_with_the_sources_answer(instance, connector):
    connector.set_secret("wrong")
    connector.save()

    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.FAILED and "HTTP 401" in report.error and Ticket.objects.count() == 0


def test_people_may_be_named_by_login(instance):
    connector = make_connector(instance.url, reference_key="login")

    sync_connector(connector, sleep=Sleeps())

    first = tickets()["31001"]
    assert (first.caller.name, first.assignee.name) == ("ayse@example.com", "alan@example.com")
    assert instance.seen("GET", "/api/v1/users/") == []


def test_a_ticket_is_opened_once_for_its_correlation_id_even_after_a_crash(instance, connector, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("the worker was killed")

    monkeypatch.setattr(outbound, "_record", crash)
    with pytest.raises(RuntimeError):
        create_remote_ticket(connector, "proactive-disk-PC042", "Disk almost full on PC042", "C: has 2% left.")
    assert len(instance.created) == 1
    monkeypatch.undo()

    ticket = create_remote_ticket(connector, "proactive-disk-PC042", "Disk almost full on PC042")

    assert (ticket.status, ticket.remote_number, ticket.attempts) == (OutboundStatus.CREATED, "31006", 2)
    assert ticket.remote_url == f"{instance.url}/#ticket/zoom/6"
    made = instance.created[0]
    assert (made["tags"], made["title"], made["group_id"]) == (
        ["itxm-proactive-disk-PC042"],
        "Disk almost full on PC042",
        2,
    )
    assert made["article"]["body"] == "C: has 2% left." and made["article"]["type"] == "note"
    assert instance.users[made["customer_id"]]["email"] == "itxm-bot@example.com"
    lookup = instance.seen("GET", "/api/v1/tickets/search")[0].params
    assert lookup["query"] == 'tags:"itxm-proactive-disk-PC042"'
    assert len(instance.seen("POST", "/api/v1/tickets")) == 1


def test_an_unclear_500_on_create_is_followed_by_a_search_not_a_second_create(instance, connector):
    instance.fail_after_create = 1

    ticket = create_remote_ticket(connector, "proactive-9", "Battery failing on LT-19", caller="ayse@example.com")

    assert ticket.status == OutboundStatus.CREATED and len(instance.created) == 1
    assert [r.status for r in instance.seen("POST")] == [500]
    assert instance.users[instance.created[0]["customer_id"]]["login"] == "ayse@example.com"
