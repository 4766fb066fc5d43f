"""The ServiceNow connector against a local instance that answers as the Table API does."""

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from itxm.tickets import tasks
from itxm.tickets.connectors.sync import sync_connector
from itxm.tickets.models import Connector, EventKind, SyncRun, SyncStatus, Ticket
from tests.tickets.fake_servicenow import FakeServiceNow

pytestmark = pytest.mark.django_db


class Sleeps(list):
    """Stands in for time.sleep: remembers each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def instance():
    with FakeServiceNow() as server:
        desk, network = server.add_group("Service Desk"), server.add_group("Network Team")
        old_desk = server.add_group("Old Desk")
        ayse, alan = server.add_user("Ayşe Yılmaz"), server.add_user("Alan Agent")
        mail = server.add_service("E-mail")
        first = server.add_ticket(
            opened_at="2026-03-02 09:00:00",
            state="2",
            short_description="Outlook keeps asking for my password",
            priority="2",
            impact="2",
            urgency="1",
            contact_type="self-service",
            category="software",
            caller_id=ayse,
            assignment_group=desk,
            assigned_to=alan,
            business_service=mail,
        )
        server.update(first, "2026-03-02 09:30:00", assignment_group=network)
        server.update(first, "2026-03-02 11:00:00", state="6")
        server.add_task_sla(first, "P2 resolution", stage="completed", has_breached=False)
        second = server.add_ticket(opened_at="2026-03-03 10:00:00", contact_type="email", assignment_group=desk)
        server.add_task_sla(second, "P4 resolution", stage="in_progress", has_breached=True)
        server.add_ticket(opened_at="2026-03-04 10:00:00", state="3", made_sla="false", assignment_group=desk)
        fourth = server.add_ticket(opened_at="2026-03-05 10:00:00", contact_type="virtual_agent", state="2")
        server.update(fourth, "2026-03-05 12:00:00", state="7")
        fifth = server.add_ticket(opened_at="2026-03-06 10:00:00", assignment_group=old_desk)
        server.update(fifth, "2026-03-06 10:05:00", assignment_group=desk, state="8")
        server.tables["sys_user_group"][old_desk]["name"] = "Old Desk"  # known only through sys_audit now
        laptop = server.add_catalog_item("Laptop")
        server.add_ticket(
            "sc_req_item",
            opened_at="2026-03-07 10:00:00",
            updated_at="2026-03-07 15:00:00",
            state="3",
            closed_at="2026-03-07 15:00:00",
            cat_item=laptop,
            requested_for=ayse,
        )
        server.add_ticket("sc_req_item", opened_at="2026-03-08 10:00:00", state="-5", cat_item=laptop)
        yield server


@pytest.fixture
def connector(instance):
    connector = Connector(
        name="servicenow",
        kind="servicenow",
        base_url=instance.url,
        username="itxm.integration",
        options={"page_size": 2},
    )
    connector.set_secret("s3cret!")
    connector.save()
    return connector


def tickets() -> dict[str, Ticket]:
    return {t.number: t for t in Ticket.objects.select_related("group", "caller", "service", "category", "assignee")}


def test_full_sync_brings_every_incident_and_request_once(instance, connector):
    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.SUCCEEDED and report.complete
    assert (report.fetched, report.created, report.rejected) == (7, 7, 0)
    assert report.pages == 3 + 1  # 5 incidents and 2 requested items, two a page
    found = tickets()
    assert len(found) == 7
    first = found["INC0010001"]
    assert first.source == "servicenow" and len(first.source_id) == 32
    assert (first.kind, first.state, first.priority, first.impact, first.urgency) == ("incident", "resolved", 2, 2, 1)
    assert first.channel == "portal" and first.short_description == "Outlook keeps asking for my password"
    assert (first.group.name, first.caller.name, first.service.name, first.assignee.name) == (
        "Network Team",
        "Ayşe Yılmaz",
        "E-mail",
        "Alan Agent",
    )
    assert first.category.name == "Software"
    assert first.opened_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert first.resolved_at == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    assert first.reassignment_count == 1
    assert found["INC0010002"].channel == "email" and found["INC0010004"].channel == "chat"
    assert found["INC0010004"].state == "closed" and found["INC0010005"].state == "cancelled"
    request = found["RITM0010001"]
    assert (request.kind, request.state, request.category.name) == ("request", "closed", "Laptop")
    assert request.resolved_at == request.closed_at == datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    assert found["RITM0010002"].state == "on_hold"
    connector.refresh_from_db()
    assert connector.last_seen_updated_at == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
    assert connector.running_since is None and connector.last_error == ""


def test_the_api_is_read_as_documented(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    listing = instance.seen("GET", "/api/now/table/incident")[0].params
    assert listing["sysparm_display_value"] == "all" and listing["sysparm_limit"] == "2"
    assert listing["sysparm_query"].endswith("ORDERBYsys_updated_on^ORDERBYsys_id")
    assert [r.params["sysparm_offset"] for r in instance.seen("GET", "/api/now/table/incident")] == ["0", "2", "4"]
    assert (
        "fieldnameINstate,assignment_group"
        in instance.seen("GET", "/api/now/table/sys_audit")[0].params["sysparm_query"]
    )


def test_history_from_sys_audit_lands_as_ticket_events(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    events = [(e.kind, e.from_value, e.to_value) for e in tickets()["INC0010001"].events.all()]
    # Opening sets state and group in the same second: those two come in either order.
    assert sorted(events[:2]) == [(EventKind.ASSIGNMENT, "", "Service Desk"), (EventKind.STATE, "", "in_progress")]
    assert events[2:] == [
        (EventKind.ASSIGNMENT, "Service Desk", "Network Team"),
        (EventKind.STATE, "in_progress", "resolved"),
    ]
    moved = tickets()["INC0010005"].events.filter(kind=EventKind.ASSIGNMENT).last()
    assert (moved.from_value, moved.to_value, moved.group.name) == ("Old Desk", "Service Desk", "Service Desk")


def test_the_source_sla_verdict_comes_from_task_sla_then_made_sla(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    found = tickets()
    assert found["INC0010001"].source_made_sla is True  # task SLA completed in time
    assert found["INC0010002"].source_made_sla is False  # task SLA breached
    assert found["INC0010003"].source_made_sla is False  # no task SLA: the legacy made_sla
    assert found["INC0010004"].source_made_sla is True


def test_incremental_sync_reads_only_what_changed_and_updates_it(instance, connector):
    sync_connector(connector, sleep=Sleeps())
    second = next(k for k, v in instance.tables["incident"].items() if v["number"] == "INC0010002")
    instance.update(second, "2026-03-09 08:00:00", state="2")
    instance.requests.clear()

    report = sync_connector(connector, sleep=Sleeps())

    # The window starts five minutes before the newest update seen (RITM0010002 at 2026-03-08 10:00).
    query = instance.seen("GET", "/api/now/table/incident")[0].params["sysparm_query"]
    assert query.startswith("sys_updated_on>=2026-03-08 09:55:00^sys_updated_on<")
    assert (report.fetched, report.created, report.updated, report.unchanged) == (2, 0, 1, 1)
    changed = tickets()["INC0010002"]
    assert changed.state == "in_progress"
    assert [e.to_value for e in changed.events.filter(kind=EventKind.STATE)] == ["new", "in_progress"]
    assert Ticket.objects.count() == 7


def test_resync_changes_nothing(instance, connector):
    sync_connector(connector, sleep=Sleeps())

    again = sync_connector(connector, full=True, sleep=Sleeps())

    assert (again.fetched, again.created, again.updated, again.unchanged) == (7, 0, 0, 7)


def test_a_429_and_a_500_midway_lose_and_duplicate_nothing(instance, connector):
    def incidents_at(offset):
        return lambda method, path, params: path.endswith("/incident") and params.get("sysparm_offset") == offset

    instance.fail(429, incidents_at("2"), retry_after="7")
    instance.fail(500, incidents_at("4"))
    sleeps = Sleeps()

    report = sync_connector(connector, sleep=sleeps)

    assert report.status == SyncStatus.SUCCEEDED and report.retries == 2
    assert sleeps[0] == 7.0 and 0 < sleeps[1] <= 0.5  # Retry-After honoured, then a short backoff
    assert [r.status for r in instance.seen("GET", "/api/now/table/incident")] == [200, 429, 200, 500, 200]
    assert (report.fetched, report.created) == (7, 7) and Ticket.objects.count() == 7
    assert SyncRun.objects.get().retries == 2


def test_a_source_that_keeps_failing_fails_the_sync_and_keeps_the_window(instance, connector):
    sync_connector(connector, sleep=Sleeps())
    seen_before = Connector.objects.get().last_seen_updated_at
    first = next(k for k, v in instance.tables["incident"].items() if v["number"] == "INC0010001")
    instance.update(first, "2026-03-10 08:00:00", state="2")
    instance.fail(500, lambda method, path, params: path.endswith("/sys_audit"), times=99)

    failed = sync_connector(connector, sleep=Sleeps())

    assert failed.status == SyncStatus.FAILED and "HTTP 500" in failed.error
    connector.refresh_from_db()
    assert connector.last_seen_updated_at == seen_before and "HTTP 500" in connector.last_error
    assert connector.running_since is None
    instance.failures.clear()
    recovered = sync_connector(connector, sleep=Sleeps())
    assert recovered.status == SyncStatus.SUCCEEDED and recovered.updated == 1
    assert Ticket.objects.count() == 7 and tickets()["INC0010001"].reopen_count == 1


def test_a_ticket_changed_while_paging_is_read_again_not_skipped(instance, connector):
    """Offset paging skips a row when one before it moves to the end: the changed total gives it away."""
    first = next(k for k, v in instance.tables["incident"].items() if v["number"] == "INC0010001")

    def change_once(request):
        if request.path.endswith("/incident") and request.params.get("sysparm_offset") == "0":
            instance.on_request = None
            instance.update(first, "2026-03-15 09:00:00", state="2")  # after the window's end

    instance.on_request = change_once
    report = sync_connector(connector, sleep=Sleeps(), now=lambda: datetime(2026, 3, 12, tzinfo=UTC))

    assert report.complete and Ticket.objects.count() == 7  # INC0010003 shifted into page 1: read on a 2nd pass
    offsets = [r.params["sysparm_offset"] for r in instance.seen("GET", "/api/now/table/incident")]
    assert offsets == ["0", "2", "0", "2"]
    later = sync_connector(connector, sleep=Sleeps(), now=lambda: datetime(2026, 3, 16, tzinfo=UTC))
    assert later.updated == 1 and tickets()["INC0010001"].state == "in_progress"


def test_wrong_credentials_fail_with_the_sources_answer(instance, connector):
    connector.set_secret("wrong")
    connector.save()

    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.FAILED and "HTTP 401" in report.error
    assert "User Not Authenticated" in report.error and Ticket.objects.count() == 0


def test_a_second_sync_while_one_runs_is_skipped(connector):
    Connector.objects.filter(pk=connector.pk).update(running_since=datetime.now(UTC))

    report = sync_connector(connector, sleep=Sleeps())

    assert report.status == SyncStatus.SKIPPED and Ticket.objects.count() == 0
    assert SyncRun.objects.get().status == SyncStatus.SKIPPED


def test_sync_command_prints_the_report(instance, connector):
    out = io.StringIO()
    call_command("sync", "servicenow", stdout=out, stderr=io.StringIO())

    assert "servicenow (full): 7 fetched in 4 pages (0 retries); 7 created" in out.getvalue()
    with pytest.raises(CommandError, match="no connector named 'jira'"):
        call_command("sync", "jira", stdout=io.StringIO())


def test_due_connectors_are_queued_once_and_the_task_syncs_them(instance, connector):
    assert tasks.sync_due_connectors.call() == [connector.pk]
    assert tasks.sync_due_connectors.call() == []  # queued already: not queued twice

    result = tasks.sync_connector.call(connector.pk)

    assert result["status"] == "succeeded" and result["created"] == 7
    assert tasks.sync_connector.call(connector.pk)["created"] == 0  # safe to run twice
    assert tasks.sync_due_connectors.call() == []  # synced just now: due again in 15 minutes


def test_sync_due_queues_for_the_worker_or_runs_inline(instance, connector):
    out = io.StringIO()
    call_command("sync", "--due", stdout=out)
    assert out.getvalue() == "servicenow: sync queued\n"
    assert Connector.objects.get().queued_at is not None and Ticket.objects.count() == 0

    Connector.objects.update(queued_at=None)
    out = io.StringIO()
    call_command("sync", "--due", "--inline", stdout=out)
    assert "servicenow (full): 7 fetched" in out.getvalue() and Ticket.objects.count() == 7
    with pytest.raises(CommandError, match="name a connector"):
        call_command("sync", stdout=io.StringIO())
