"""Tickets ITXM opens in the connected tool: one per correlation id, whatever fails on the way."""

from datetime import timedelta

import pytest
from django.utils import timezone

from itxm.tickets import outbound
from itxm.tickets.models import Connector, OutboundStatus, OutboundTicket
from itxm.tickets.outbound import OutboundBusy, OutboundError, create_remote_ticket
from tests.tickets.fake_jira import FakeJira
from tests.tickets.fake_servicenow import FakeServiceNow

pytestmark = pytest.mark.django_db


@pytest.fixture
def instance():
    with FakeServiceNow() as server:
        server.add_group("Service Desk")
        server.add_user("Ayşe Yılmaz")
        yield server


@pytest.fixture
def servicenow(instance):
    connector = Connector(
        name="servicenow",
        kind="servicenow",
        base_url=instance.url,
        username="itxm.integration",
        options={"create_fields": {"contact_type": "monitoring"}},
    )
    connector.set_secret("s3cret!")
    connector.save()
    return connector


@pytest.fixture
def site():
    with FakeJira() as server:
        yield server


@pytest.fixture
def jira(site):
    connector = Connector(
        name="jira", kind="jira", base_url=site.url, username="bot@example.com", options={"project_key": "ITS"}
    )
    connector.set_secret("api-token-1")
    connector.save()
    return connector


def crash(*args, **kwargs):
    raise RuntimeError("the worker was killed")


def test_a_ticket_is_opened_once_for_its_correlation_id(instance, servicenow):
    ticket = create_remote_ticket(
        servicenow,
        "proactive-disk-PC042",
        "Disk almost full on PC042",
        "C: has 2% free space left.",
        caller="Ayşe Yılmaz",
        group="Service Desk",
    )

    assert (ticket.status, ticket.remote_number, ticket.attempts) == (OutboundStatus.CREATED, "INC0010001", 1)
    assert ticket.remote_url == f"{instance.url}/incident.do?sys_id={ticket.remote_id}"
    made = instance.created[0]
    assert (made["correlation_id"], made["correlation_display"]) == ("proactive-disk-PC042", "ITXM")
    assert made["assignment_group"] == instance.group_id("Service Desk")  # the name, given as display value
    assert made["contact_type"] == "monitoring" and made["short_description"] == "Disk almost full on PC042"
    lookup = instance.seen("GET")[0].params["sysparm_query"]
    assert lookup.startswith("correlation_id=proactive-disk-PC042")

    again = create_remote_ticket(servicenow, "proactive-disk-PC042", "Disk almost full on PC042")

    assert again.pk == ticket.pk and len(instance.created) == 1 and len(instance.seen("POST")) == 1


def test_a_crash_after_the_remote_create_makes_no_second_ticket(instance, servicenow, monkeypatch):
    monkeypatch.setattr(outbound, "_record", crash)
    with pytest.raises(RuntimeError):
        create_remote_ticket(servicenow, "proactive-vpn-42", "VPN client outdated on PC042")
    assert len(instance.created) == 1
    assert OutboundTicket.objects.get().status == OutboundStatus.PENDING
    monkeypatch.undo()

    ticket = create_remote_ticket(servicenow, "proactive-vpn-42", "VPN client outdated on PC042")

    assert ticket.status == OutboundStatus.CREATED and ticket.remote_number == "INC0010001"
    assert len(instance.created) == 1 and ticket.attempts == 2


def test_a_process_that_died_holding_a_request_frees_it_after_a_while(instance, servicenow):
    # It had opened the ticket in ServiceNow, then died before writing anything more.
    OutboundTicket.objects.create(
        connector=servicenow, correlation_id="proactive-7", claimed_until=timezone.now() + timedelta(minutes=5)
    )
    instance.add_ticket(opened_at="2026-03-20 11:00:00", correlation_id="proactive-7")

    with pytest.raises(OutboundBusy):
        create_remote_ticket(servicenow, "proactive-7", "Printer offline")
    later = create_remote_ticket(
        servicenow, "proactive-7", "Printer offline", now=lambda: timezone.now() + timedelta(minutes=6)
    )

    assert later.status == OutboundStatus.CREATED and later.remote_number == "INC0010001"
    assert instance.seen("POST") == []


def test_an_unclear_500_on_create_is_followed_by_a_search_not_a_second_create(instance, servicenow):
    instance.fail_after_create = 1  # the incident is made, then the answer is a 500

    ticket = create_remote_ticket(servicenow, "proactive-9", "Battery failing on LT-19")

    assert ticket.status == OutboundStatus.CREATED and len(instance.created) == 1
    assert [r.status for r in instance.seen("POST")] == [500]


def test_a_429_on_create_is_waited_out_and_sent_once_more(instance, servicenow):
    instance.fail(429, lambda method, path, params: method == "POST", retry_after="2")
    waits = []

    ticket = create_remote_ticket(servicenow, "proactive-10", "Slow boot on PC007", sleep=waits.append)

    assert ticket.status == OutboundStatus.CREATED and waits == [2.0] and len(instance.created) == 1


def test_a_jira_issue_is_labelled_with_the_correlation_id_and_never_made_twice(site, jira, monkeypatch):
    monkeypatch.setattr(outbound, "_record", crash)
    with pytest.raises(RuntimeError):
        create_remote_ticket(jira, "proactive-disk-PC042", "Disk almost full", "2% free", caller="Ayşe Yılmaz")
    monkeypatch.undo()

    ticket = create_remote_ticket(jira, "proactive-disk-PC042", "Disk almost full", "2% free")

    assert (ticket.remote_id, ticket.remote_number) == ("10001", "ITS-1")
    assert ticket.remote_url == f"{site.url}/browse/ITS-1"
    assert len(site.created) == 1
    fields = site.created[0]["fields"]
    assert fields["labels"] == ["itxm-proactive-disk-PC042"]
    assert fields["description"] == "2% free\n\nCaller: Ayşe Yılmaz"
    search = site.seen("GET", "/rest/api/2/search/jql")[-1].params["jql"]
    assert search == 'labels = "itxm-proactive-disk-PC042" ORDER BY created ASC'


def test_a_refused_create_fails_and_a_later_call_can_succeed(site, jira):
    jira.options = {"project_key": "NOPE"}
    jira.save()
    with pytest.raises(OutboundError, match="Specify a valid project"):
        create_remote_ticket(jira, "proactive-11", "Fan noise on PC011")
    failed = OutboundTicket.objects.get()
    assert failed.status == OutboundStatus.FAILED and "HTTP 400" in failed.last_error

    jira.options = {"project_key": "ITS"}
    jira.save()
    ticket = create_remote_ticket(jira, "proactive-11", "Fan noise on PC011")

    assert ticket.pk == failed.pk and ticket.status == OutboundStatus.CREATED and len(site.created) == 1


def test_a_correlation_id_must_be_safe_to_search_for(servicenow):
    with pytest.raises(ValueError, match="correlation id"):
        create_remote_ticket(servicenow, "disk full^ORDERBYnumber", "x")
