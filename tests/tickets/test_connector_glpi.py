"""The GLPI connector against a local GLPI that answers its REST API (apirest.php) as the real one does."""

from datetime import UTC, datetime

import pytest

from itxm.tickets import outbound
from itxm.tickets.connectors import glpi  # noqa: F401  (registers the connector)
from itxm.tickets.connectors.sync import sync_connector
from itxm.tickets.models import Connector, EventKind, OutboundStatus, OutboundTicket, SyncStatus, Ticket
from itxm.tickets.outbound import create_remote_ticket
from tests.tickets.fake_glpi import FakeGlpi

pytestmark = pytest.mark.django_db


class Sleeps(list):
    """Stands in for time.sleep: remembers each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fill(server: FakeGlpi) -> dict[str, int]:
    desk, network = server.add_group("Service Desk"), server.add_group("Network Team")
    ayse, alan = server.add_user("ayse", "Ayşe", "Yılmaz"), server.add_user("alan", "Alan", "Agent")
    software = server.add_category("Software")
    first = server.add_ticket(
        "2026-03-02 09:00:00",
        name="Outlook keeps asking for my password",
        priority=4,
        urgency=5,
        impact=4,
        source=1,
        category=software,
        requester=ayse,
        group=desk,
        time_to_resolve="2026-03-02 17:00:00",
    )
    server.update(first, "2026-03-02 09:20:00", technician=alan, take=True)
    server.update(first, "2026-03-02 09:30:00", group=network)
    server.update(first, "2026-03-02 11:00:00", status=5)
    second = server.add_ticket(
        "2026-03-03 10:00:00", type=2, source=2, group=desk, time_to_resolve="2026-03-03 12:00:00"
    )
    server.update(second, "2026-03-03 14:00:00", status=5)  # solved two hours late
    third = server.add_ticket("2026-03-04 10:00:00", source=3, requester=ayse)
    server.update(third, "2026-03-04 10:30:00", status=4)
    fourth = server.add_ticket("2026-03-05 10:00:00", group=desk)
    for at, status in (("11:00", 5), ("12:00", 2), ("13:00", 6)):
        server.update(fourth, f"2026-03-05 {at}:00", status=status)
    fifth = server.add_ticket("2026-03-06 10:00:00", source=4, priority=6, urgency=1)
    return {"first": first, "second": second, "third": third, "fourth": fourth, "fifth": fifth}


@pytest.fixture
def instance():
    with FakeGlpi() as server:
        fill(server)
        yield server


def make_connector(url: str, **options) -> Connector:
    connector = Connector(
        name="glpi",
        kind="glpi",
        base_url=url,
        auth_kind="bearer",
        options={"app_token": "glpi-app-token-1", "page_size": 2, **options},
    )
    connector.set_secret("glpi-user-token-1")
    connector.save()
    return connector


@pytest.fixture
def connector(instance):
    return make_connector(instance.url)


def tickets() -> dict[str, Ticket]:
    return {t.number: t for t in Ticket.objects.select_related("group", "caller", "category", "assignee")}


def searches(server: FakeGlpi):
    return server.seen("GET", "/apirest.php/search/Ticket")


def test_full_sync_brings_every_ticket_once(instance, connector):
    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.SUCCEEDED and report.complete
    assert (report.fetched, report.created, report.rejected, report.pages) == (5, 5, 0, 3)
    found = tickets()
    first = found["1"]
    assert first.source == "glpi" and first.source_id == "1"
    assert (first.kind, first.state, first.short_description) == (
        "incident",
        "resolved",
        "Outlook keeps asking for my password",
    )
    # GLPI's 1 is very low, 5 very high, 6 major; ITXM's 1 is the highest.
    assert (first.priority, first.urgency, first.impact) == (2, 1, 2)
    assert (first.channel, first.group.name, first.caller.name, first.assignee.name, first.category.name) == (
        "portal",
        "Network Team",
        "Ayşe Yılmaz",
        "Alan Agent",
        "Software",
    )
    assert first.opened_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert first.first_response_at == datetime(2026, 3, 2, 9, 20, tzinfo=UTC)  # taken into account
    assert first.resolved_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC) and first.closed_at is None
    assert (first.reassignment_count, first.reopen_count, first.source_made_sla) == (1, 0, True)
    second = found["2"]
    assert (second.kind, second.channel, second.source_made_sla) == ("request", "email", False)
    assert (found["3"].state, found["3"].channel, found["3"].source_made_sla) == ("on_hold", "phone", None)
    fourth = found["4"]
    assert (fourth.state, fourth.reopen_count) == ("closed", 1)
    assert fourth.resolved_at == fourth.closed_at == datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
    assert (found["5"].channel, found["5"].priority, found["5"].urgency, found["5"].state) == ("walk_in", 1, 5, "new")
    connector.refresh_from_db()
    assert connector.last_seen_updated_at == datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


def test_the_api_is_read_as_documented(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    init = instance.seen("GET", "/apirest.php/initSession")
    assert len(init) == 1 and instance.seen("GET", "/apirest.php/killSession")
    assert not instance.sessions  # killed at the end
    listing = searches(instance)
    assert [r.params["range"] for r in listing] == ["0-1", "2-3", "4-5"]
    assert [r.status for r in listing] == [206, 206, 206]  # each page is part of five
    first = listing[0].params
    assert (first["criteria[0][field]"], first["criteria[0][searchtype]"]) == ("19", "lessthan")
    assert (first["sort"], first["order"]) == ("19", "ASC")
    assert {"2", "12", "19", "8", "4", "5"} <= {v for k, v in first.items() if k.startswith("forcedisplay")}
    assert len(instance.seen("GET", "/apirest.php/Ticket/1/Log")) == 1
    # Users come as ids in search results: each is read once, however many tickets name them.
    assert sorted(r.path for r in instance.seen("GET", "/apirest.php/User/")) == [
        "/apirest.php/User/3",
        "/apirest.php/User/4",
    ]


def test_basic_credentials_open_the_session_too(instance):
    connector = make_connector(instance.url)
    connector.auth_kind, connector.username = "basic", "itxm"
    connector.set_secret("s3cret!")
    connector.save()

    assert sync_connector(connector, sleep=Sleeps()).created == 5


def test_history_from_the_log_lands_as_ticket_events(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    events = [(e.kind, e.from_value, e.to_value) for e in tickets()["1"].events.all()]
    assert events == [
        (EventKind.STATE, "", "new"),  # the status it opened with, from the first change
        (EventKind.ASSIGNMENT, "", "Service Desk"),
        (EventKind.STATE, "new", "in_progress"),  # assigning moves a new ticket to "processing"
        (EventKind.ASSIGNMENT, "Service Desk", "Network Team"),
        (EventKind.STATE, "in_progress", "resolved"),
    ]
    moved = tickets()["1"].events.filter(kind=EventKind.ASSIGNMENT).last()
    assert moved.group.name == "Network Team"
    reopened = [(e.from_value, e.to_value) for e in tickets()["4"].events.filter(kind=EventKind.STATE)]
    assert reopened[-3:] == [("in_progress", "resolved"), ("resolved", "in_progress"), ("in_progress", "closed")]


def test_incremental_sync_reads_only_what_changed_and_updates_it(instance, connector):
    sync_connector(connector, sleep=Sleeps())
    instance.update(2, "2026-03-09 08:00:00", status=2)  # reopened
    instance.requests.clear()

    report = sync_connector(connector, sleep=Sleeps())

    query = searches(instance)[0].params
    # The window starts five minutes before the newest update seen (ticket 5 at 2026-03-06 10:00).
    assert (query["criteria[0][field]"], query["criteria[0][searchtype]"]) == ("19", "morethan")
    assert query["criteria[0][value]"] == "2026-03-06 09:55:00"
    assert (query["criteria[1][link]"], query["criteria[1][searchtype]"]) == ("AND", "lessthan")
    assert (report.fetched, report.created, report.updated, report.unchanged) == (2, 0, 1, 1)
    changed = tickets()["2"]
    assert (changed.state, changed.reopen_count, changed.resolved_at) == ("in_progress", 1, None)
    assert Ticket.objects.count() == 5


def test_resync_changes_nothing(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    again = sync_connector(connector, full=True, sleep=Sleeps())

    assert (again.fetched, again.created, again.updated, again.unchanged) == (5, 0, 0, 5)


def test_a_429_and_a_500_midway_lose_and_duplicate_nothing(instance, connector):
    def search_at(start):
        return lambda method, path, params: (
            path.endswith("/search/Ticket") and params.get("range", "").startswith(f"{start}-")
        )

    instance.fail(429, search_at(2), retry_after="7")
    instance.fail(500, search_at(4))
    sleeps = Sleeps()

    report = sync_connector(connector, sleep=sleeps)

    assert report.status == SyncStatus.SUCCEEDED and report.complete and report.retries == 2
    assert sleeps[0] == 7.0 and 0 < sleeps[1] <= 0.5  # Retry-After honoured, then a short backoff
    assert [r.status for r in searches(instance)] == [206, 429, 206, 500, 206]
    assert (report.fetched, report.created) == (5, 5) and Ticket.objects.count() == 5


def test_an_expired_session_is_opened_again_once(instance, connector):
    def expire_after_first_page(request):
        if request.path.endswith("/search/Ticket"):
            instance.on_request = None
            instance.sessions.clear()  # idle too long: GLPI forgot it

    instance.on_request = expire_after_first_page

    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.SUCCEEDED and report.created == 5
    refused = [r for r in instance.requests if r.status == 401]
    assert [r.path for r in refused] == ["/apirest.php/Ticket/1/Log"]  # the call right after the first page
    assert [r.path for r in instance.requests].count("/apirest.php/Ticket/1/Log") == 2  # asked again
    assert instance.sessions_opened == 2 and not instance.sessions


def test_a_session_refused_again_fails_the_sync(instance, connector):
    instance.user_token = "revoked"  # noqa: S105

    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.FAILED and "HTTP 401" in report.error
    assert "ERROR_GLPI_LOGIN_USER_TOKEN" in report.error and Ticket.objects.count() == 0


def test_a_listing_that_shrinks_while_paging_is_read_again(instance, connector):
    """Three tickets leave the window after the second page: the third page starts past the new end."""

    def change_once(request):
        if request.path.endswith("/search/Ticket") and request.params.get("range") == "2-3":
            instance.on_request = None
            for ticket_id in (1, 2, 3):
                instance.update(ticket_id, "2026-03-15 09:00:00", name="changed later")

    instance.on_request = change_once
    report = sync_connector(connector, sleep=Sleeps(), now=lambda: datetime(2026, 3, 12, tzinfo=UTC))

    assert report.complete and Ticket.objects.count() == 5
    assert [(r.params["range"], r.status) for r in searches(instance)] == [
        ("0-1", 206),
        ("2-3", 206),
        ("4-5", 400),  # ERROR_RANGE_EXCEED_TOTAL: only two are left
        ("0-1", 200),
    ]


def test_a_ticket_is_opened_once_for_its_correlation_id_even_after_a_crash(instance, connector, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("the worker was killed")

    monkeypatch.setattr(outbound, "_record", crash)
    with pytest.raises(RuntimeError):
        create_remote_ticket(connector, "proactive-vpn_42", "VPN client outdated on PC042", caller="ayse")
    assert len(instance.created) == 1
    monkeypatch.undo()

    ticket = create_remote_ticket(connector, "proactive-vpn_42", "VPN client outdated on PC042", caller="ayse")

    assert (ticket.status, ticket.remote_number, ticket.attempts) == (OutboundStatus.CREATED, "6", 2)
    assert ticket.remote_url == f"{instance.url}/front/ticket.form.php?id=6"
    made = instance.created[0]
    assert (made["externalid"], made["name"], made["type"]) == (
        "itxm-proactive-vpn_42",
        "VPN client outdated on PC042",
        1,
    )
    assert "Caller: ayse" in made["content"]
    assert len(instance.seen("POST", "/apirest.php/Ticket")) == 1
    lookups = instance.seen("GET", "/apirest.php/Ticket")
    assert lookups[0].params["searchText[externalid]"] == "itxm-proactive-vpn_42"
    again = create_remote_ticket(connector, "proactive-vpn_42", "VPN client outdated on PC042")
    assert again.pk == ticket.pk and len(instance.created) == 1


def test_a_lookalike_external_id_is_not_taken_for_ours(instance, connector):
    # searchText is a LIKE: "_" matches "-", so this ticket would be found by a careless lookup.
    instance.add_ticket("2026-03-19 10:00:00", externalid="itxm-proactive-vpn-42")

    ticket = create_remote_ticket(connector, "proactive-vpn_42", "VPN client outdated on PC042")

    assert ticket.remote_number == "7" and len(instance.created) == 1


def test_an_unclear_500_on_create_is_followed_by_a_search_not_a_second_create(instance, connector):
    instance.fail_after_create = 1  # the ticket is made, then the answer is a 500

    ticket = create_remote_ticket(connector, "proactive-9", "Battery failing on LT-19")

    assert ticket.status == OutboundStatus.CREATED and ticket.remote_number == "6"
    assert [r.status for r in instance.seen("POST")] == [500] and len(instance.created) == 1
    assert OutboundTicket.objects.get().attempts == 1
