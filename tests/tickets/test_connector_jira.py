"""The Jira Service Management connector against a local site that answers as the REST API does."""

from datetime import UTC, datetime

import pytest

from itxm.tickets.connectors.sync import sync_connector
from itxm.tickets.models import Connector, EventKind, SyncStatus, Ticket
from tests.tickets.fake_jira import GROUP_FIELD, RESOLUTION_SLA, RESPONSE_SLA, FakeJira

pytestmark = pytest.mark.django_db


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fill(site: FakeJira) -> dict[str, str]:
    first = site.add_issue("2026-03-02 09:00", priority="High", summary="VPN drops every hour", group="Service Desk")
    site.update(first, "2026-03-02 09:20", status="In Progress", assignee="Alan Agent")
    site.complete_sla(first, RESPONSE_SLA, "2026-03-02 09:20", breached=False)
    site.update(first, "2026-03-02 09:40", group="Network Team")
    site.update(first, "2026-03-02 11:00", status="Resolved")
    site.complete_sla(first, RESOLUTION_SLA, "2026-03-02 11:00", breached=False)
    second = site.add_issue("2026-03-03 10:00", issue_type="Service Request", status="Waiting for customer")
    site.breach_ongoing(second, RESOLUTION_SLA)
    third = site.add_issue("2026-03-04 10:00", priority="Lowest")
    site.update(third, "2026-03-04 10:10", status="Triage")  # a status name only its category explains
    fourth = site.add_issue("2026-03-05 10:00", group="Service Desk")
    reopened = [("11:00", "In Progress"), ("12:00", "Resolved"), ("13:00", "In Progress"), ("14:00", "Resolved")]
    for at, status in reopened:
        site.update(fourth, f"2026-03-05 {at}", status=status)
    site.update(fourth, "2026-03-05 15:00", status="Closed")
    fifth = site.add_issue("2026-03-06 10:00", status="Canceled", priority="Low")
    return {"first": first, "second": second, "third": third, "fourth": fourth, "fifth": fifth}


@pytest.fixture
def site():
    with FakeJira() as server:
        fill(server)
        yield server


def make_connector(url: str, **options) -> Connector:
    connector = Connector(
        name="jira",
        kind="jira",
        base_url=url,
        username="bot@example.com",
        options={
            "jql": "project = ITS",
            "page_size": 2,
            "sla_fields": [RESOLUTION_SLA, RESPONSE_SLA],
            "first_response_sla_field": RESPONSE_SLA,
            "group_field": GROUP_FIELD,
            "project_key": "ITS",
            **options,
        },
    )
    connector.set_secret("api-token-1")
    connector.save()
    return connector


@pytest.fixture
def connector(site):
    return make_connector(site.url)


def tickets() -> dict[str, Ticket]:
    return {t.number: t for t in Ticket.objects.select_related("group", "caller", "assignee")}


def test_full_sync_pages_with_next_page_tokens_and_maps_every_issue(site, connector):
    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.SUCCEEDED and report.complete
    assert (report.fetched, report.created, report.rejected, report.pages) == (5, 5, 0, 3)
    searches = site.seen("GET", "/rest/api/2/search/jql")
    assert [("nextPageToken" in r.params) for r in searches] == [False, True, True]
    assert searches[0].params["jql"].startswith('(project = ITS) AND updated < "')
    assert searches[0].params["jql"].endswith("ORDER BY updated ASC, key ASC")
    assert searches[0].params["expand"] == "changelog"
    found = tickets()
    first = found["ITS-1"]
    assert (first.source_id, first.kind, first.state, first.priority) == ("10001", "incident", "resolved", 2)
    assert (first.group.name, first.caller.name, first.assignee.name) == ("Network Team", "Ayşe Yılmaz", "Alan Agent")
    assert first.short_description == "VPN drops every hour" and first.reassignment_count == 1
    assert first.opened_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert first.first_response_at == datetime(2026, 3, 2, 9, 20, tzinfo=UTC)
    assert first.resolved_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert (found["ITS-2"].kind, found["ITS-2"].state) == ("request", "on_hold")
    assert found["ITS-3"].state == "in_progress" and found["ITS-3"].priority == 5
    assert found["ITS-5"].state == "cancelled"
    assert Connector.objects.get().last_seen_updated_at == datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


def test_changelog_lands_as_ticket_events(site, connector):
    sync_connector(connector, sleep=Sleeps())

    events = [(e.kind, e.from_value, e.to_value) for e in tickets()["ITS-1"].events.all()]
    assert events == [
        (EventKind.STATE, "new", "in_progress"),
        (EventKind.ASSIGNMENT, "Service Desk", "Network Team"),
        (EventKind.STATE, "in_progress", "resolved"),
    ]
    triage = tickets()["ITS-3"].events.get()
    assert (triage.from_value, triage.to_value) == ("new", "in_progress")  # by status id, from /status
    assert len(site.seen("GET", "/rest/api/2/status")) == 1


def test_a_long_changelog_is_read_in_full_from_its_own_pages(site, connector):
    site.changelog_embed_limit = site.changelog_page_limit = 2

    sync_connector(connector, sleep=Sleeps())

    fourth = tickets()["ITS-4"]
    assert [e.to_value for e in fourth.events.all()] == ["in_progress", "resolved", "in_progress", "resolved", "closed"]
    assert fourth.reopen_count == 1 and fourth.state == "closed"
    pages = site.seen("GET", "/rest/api/2/issue/10004/changelog")
    assert [r.params["startAt"] for r in pages] == ["0", "2", "4"]


def test_the_sla_verdict_comes_from_the_cycles(site, connector):
    sync_connector(connector, sleep=Sleeps())

    found = tickets()
    assert found["ITS-1"].source_made_sla is True  # both SLAs completed in time
    assert found["ITS-2"].source_made_sla is False  # the ongoing cycle has breached
    assert found["ITS-5"].source_made_sla is None  # still running, not breached: no verdict yet


def test_incremental_sync_reads_only_what_changed(site, connector):
    sync_connector(connector, sleep=Sleeps())
    site.update("10002", "2026-03-09 08:00", status="In Progress", assignee="Alan Agent")
    site.requests.clear()

    report = sync_connector(connector, sleep=Sleeps())

    jql = site.seen("GET", "/rest/api/2/search/jql")[0].params["jql"]
    assert 'updated >= "2026/03/06 09:55"' in jql
    assert (report.fetched, report.created, report.updated, report.unchanged) == (2, 0, 1, 1)
    assert tickets()["ITS-2"].state == "in_progress" and tickets()["ITS-2"].assignee.name == "Alan Agent"
    assert Ticket.objects.count() == 5


def test_resync_changes_nothing(site, connector):
    sync_connector(connector, sleep=Sleeps())

    again = sync_connector(connector, full=True, sleep=Sleeps())

    assert (again.fetched, again.created, again.updated, again.unchanged) == (5, 0, 0, 5)


def test_a_429_and_a_500_midway_lose_and_duplicate_nothing(site, connector):
    def later_page(method, path, params):
        return path.endswith("/search/jql") and "nextPageToken" in params

    site.fail(429, later_page, retry_after="3")
    site.fail(500, later_page)
    sleeps = Sleeps()

    report = sync_connector(connector, sleep=sleeps)

    assert report.status == SyncStatus.SUCCEEDED and report.retries == 2 and sleeps[0] == 3.0
    assert [r.status for r in site.seen("GET", "/rest/api/2/search/jql")] == [200, 429, 500, 200, 200]
    assert (report.fetched, report.created) == (5, 5) and Ticket.objects.count() == 5


def test_data_center_pages_with_start_at_and_a_personal_access_token():
    with FakeJira(deployment="datacenter", token="pat-123") as site:
        fill(site)
        site.changelog_embed_limit = 2  # Data Center has no changelog endpoint: what is embedded is kept
        connector = make_connector(site.url, deployment="datacenter")
        connector.auth_kind = "bearer"
        connector.set_secret("pat-123")
        connector.save()

        report = sync_connector(connector, sleep=Sleeps())

        assert report.status == SyncStatus.SUCCEEDED and (report.created, report.pages) == (5, 3)
        assert [r.params["startAt"] for r in site.seen("GET", "/rest/api/2/search")] == ["0", "2", "4"]
    first = tickets()["ITS-1"]
    assert first.caller.name == "Ayşe Yılmaz" and first.group.name == "Network Team"
    # Only the two most recent histories: the group change and the resolution.
    assert [(e.kind, e.to_value) for e in first.events.all()] == [
        (EventKind.ASSIGNMENT, "Network Team"),
        (EventKind.STATE, "resolved"),
    ]
