"""Webhooks: signed deliveries from the connected tools, per product, through the one ingestion."""

import hashlib
import hmac
import json

import pytest
from django.test import Client

from itxm.org.models import Role
from itxm.org.services import create_user
from itxm.tickets.models import Connector, EventKind, Ticket
from tests.tickets.fake_glpi import FakeGlpi
from tests.tickets.fake_jira import GROUP_FIELD, FakeJira
from tests.tickets.fake_zammad import FakeZammad

pytestmark = pytest.mark.django_db

SECRET = "whsec-4f1c9a"  # noqa: S105


def sign(body: bytes, secret: str = SECRET, digest=hashlib.sha256) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


def deliver(source: str, body, client: Client | None = None, **headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    client = client or Client()
    return client.post(
        f"/api/v1/tickets/webhooks/{source}", data=data, content_type="application/json", headers=headers
    )


def make_connector(name: str, kind: str, url: str = "https://itsm.example.com", secret: str = SECRET, **fields):
    connector = Connector(name=name, kind=kind, base_url=url, **fields)
    if secret:
        connector.set_webhook_secret(secret)
    connector.save()
    return connector


def canonical(number: str, **fields) -> dict:
    return {
        "source_id": number,
        "state": "in_progress",
        "opened_at": "2026-03-02T09:00:00Z",
        "updated_at": "2026-03-02T10:00:00Z",
        "group": "Service Desk",
        **fields,
    }


@pytest.fixture
def servicenow():
    return make_connector("servicenow", "servicenow", username="itxm.integration")


# The canonical shape, signed with X-ITXM-Signature (ServiceNow and any tool that does not sign itself).


def test_a_signed_delivery_of_canonical_tickets_is_stored(servicenow):
    body = json.dumps([canonical("INC0010001"), canonical("INC0010002", state="resolved")]).encode()

    answer = deliver("servicenow", body, **{"X-ITXM-Signature": f"sha256={sign(body)}"})

    assert answer.status_code == 200, answer.json()
    assert (answer.json()["created"], answer.json()["rejected"]) == (2, 0)
    assert set(Ticket.objects.values_list("source", "number")) == {
        ("servicenow", "INC0010001"),
        ("servicenow", "INC0010002"),
    }


def test_one_ticket_as_an_object_is_taken_too(servicenow):
    body = json.dumps(canonical("INC0010003")).encode()

    answer = deliver("servicenow", body, **{"X-ITXM-Signature": f"sha256={sign(body)}"})

    assert answer.json()["created"] == 1


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({}, "X-ITXM-Signature"),
        ({"X-ITXM-Signature": "sha256=" + "0" * 64}, "X-ITXM-Signature"),
        ({"X-ITXM-Signature": "sha256=" + sign(b"[]", "another secret")}, "X-ITXM-Signature"),
        ({"X-ITXM-Signature": sign(b"[]")}, "X-ITXM-Signature"),  # no sha256= prefix
        ({"Authorization": "Bearer whatever"}, "X-ITXM-Signature"),
    ],
    ids=["unsigned", "wrong signature", "other secret", "bare hex", "a token is no signature"],
)
def test_unsigned_or_badly_signed_deliveries_are_refused_and_store_nothing(servicenow, headers, field):
    body = json.dumps([canonical("INC0010001")]).encode()

    answer = deliver("servicenow", body, **headers)

    assert answer.status_code == 401
    assert answer.json()["field"] == field and answer.json()["message"]
    assert Ticket.objects.count() == 0


def test_a_tampered_body_does_not_match_its_signature(servicenow):
    signed = json.dumps([canonical("INC0010001")]).encode()
    tampered = json.dumps([canonical("INC0010001", state="closed")]).encode()

    answer = deliver("servicenow", tampered, **{"X-ITXM-Signature": f"sha256={sign(signed)}"})

    assert answer.status_code == 401 and Ticket.objects.count() == 0


def test_replaying_a_delivery_changes_nothing(servicenow):
    body = json.dumps([canonical("INC0010001"), canonical("INC0010002")]).encode()
    headers = {"X-ITXM-Signature": f"sha256={sign(body)}"}
    deliver("servicenow", body, **headers)

    again = deliver("servicenow", body, **headers)

    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 2)
    assert Ticket.objects.count() == 2


def test_one_bad_ticket_among_good_ones_is_reported_and_the_good_ones_stored(servicenow):
    tickets = [canonical("INC1"), canonical("INC2", opened_at="yesterday"), canonical("INC3")]
    body = json.dumps(tickets).encode()

    answer = deliver("servicenow", body, **{"X-ITXM-Signature": f"sha256={sign(body)}"})

    assert answer.status_code == 200
    report = answer.json()
    assert (report["created"], report["rejected"]) == (2, 1)
    assert [(e["line"], e["field"]) for e in report["errors"]] == [(2, "opened_at")]
    assert sorted(Ticket.objects.values_list("number", flat=True)) == ["INC1", "INC3"]


def test_a_body_that_is_not_json_is_a_bad_request(servicenow):
    body = b"{not json"

    answer = deliver("servicenow", body, **{"X-ITXM-Signature": f"sha256={sign(body)}"})

    assert answer.status_code == 400 and answer.json()["field"] == "body"


def test_unknown_disabled_or_webhookless_sources_are_not_found(servicenow):
    make_connector("old-desk", "servicenow", enabled=False)
    make_connector("pull-only", "servicenow", secret="")
    body = json.dumps([canonical("INC1")]).encode()
    headers = {"X-ITXM-Signature": f"sha256={sign(body)}"}

    for source in ("nosuch", "old-desk", "pull-only", "5"):
        answer = deliver(source, body, **headers)
        assert answer.status_code == 404, source
        assert set(answer.json()) == {"message", "field"}
    assert Ticket.objects.count() == 0


def test_the_signature_is_the_authentication_not_a_session(servicenow):
    body = json.dumps([canonical("INC1")]).encode()
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(create_user("admin", "correct-horse-battery-staple", Role.ADMIN))

    assert deliver("servicenow", body, client=admin).status_code == 401  # signed in, but unsigned
    signed = deliver(
        "servicenow", body, client=Client(enforce_csrf_checks=True), **{"X-ITXM-Signature": f"sha256={sign(body)}"}
    )
    assert signed.status_code == 200  # no session, no token, no CSRF cookie


def test_the_webhook_secret_is_kept_encrypted(servicenow):
    stored = Connector.objects.get(pk=servicenow.pk)

    assert SECRET not in stored.webhook_secret_ciphertext and stored.webhook_secret() == SECRET


# Zammad: X-Hub-Signature: sha1=…, {"ticket": {…}, "article": {…}}.


@pytest.fixture
def zammad_site():
    with FakeZammad() as server:
        desk = server.add_group("Service Desk")
        ayse = server.add_user("ayse@example.com", "Ayşe", "Yılmaz")
        ticket = server.add_ticket("2026-03-02 09:00", title="VPN drops every hour", customer=ayse, channel=11)
        server.update(ticket, "2026-03-02 09:30", state=2, group=desk)
        yield server


@pytest.fixture
def zammad_connector(zammad_site):
    connector = make_connector("zammad", "zammad", zammad_site.url, auth_kind="bearer")
    connector.set_secret("zammad-token-1")
    connector.save()
    return connector


def zammad_payload(server: FakeZammad, ticket_id: int) -> dict:
    ticket = server._expanded(server.tickets[ticket_id])
    group = {"id": ticket["group_id"], "name": ticket["group"]}
    return {
        "ticket": dict(ticket, group=group, priority={"id": 2, "name": ticket["priority"]}),
        "article": {"id": 104, "ticket_id": ticket_id, "type": "web", "body": "It drops again."},
    }


def test_a_zammad_webhook_brings_the_ticket_it_names_with_its_history(zammad_site, zammad_connector):
    body = json.dumps(zammad_payload(zammad_site, 1)).encode()
    headers = {"X-Hub-Signature": f"sha1={sign(body, digest=hashlib.sha1)}", "X-Zammad-Delivery": "d1"}

    answer = deliver("zammad", body, **headers)

    assert answer.status_code == 200, answer.json()
    assert answer.json()["created"] == 1
    ticket = Ticket.objects.select_related("group", "caller").get()
    assert (ticket.source, ticket.number, ticket.state, ticket.group.name) == (
        "zammad",
        "31001",
        "in_progress",
        "Service Desk",
    )
    assert ticket.caller.name == "Ayşe Yılmaz"
    assert [(e.kind, e.to_value) for e in ticket.events.all()][-2:] == [
        (EventKind.STATE, "in_progress"),
        (EventKind.ASSIGNMENT, "Service Desk"),
    ]
    assert [r.path for r in zammad_site.seen("GET", "/api/v1/tickets/")] == ["/api/v1/tickets/1"]
    again = deliver("zammad", body, **headers)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 1)


def test_a_zammad_delivery_signed_otherwise_is_refused(zammad_site, zammad_connector):
    body = json.dumps(zammad_payload(zammad_site, 1)).encode()

    for signature in (f"sha256={sign(body)}", f"sha1={sign(body, 'other', hashlib.sha1)}", ""):
        answer = deliver("zammad", body, **({"X-Hub-Signature": signature} if signature else {}))
        assert answer.status_code == 401 and answer.json()["field"] == "X-Hub-Signature"
    assert Ticket.objects.count() == 0 and zammad_site.requests == []


def test_a_ticket_outside_the_connectors_query_is_not_taken(zammad_site, zammad_connector):
    zammad_connector.options = {"query": 'group.name:"Network Team"'}
    zammad_connector.save()
    body = json.dumps(zammad_payload(zammad_site, 1)).encode()  # a Service Desk ticket

    answer = deliver("zammad", body, **{"X-Hub-Signature": f"sha1={sign(body, digest=hashlib.sha1)}"})

    assert answer.status_code == 200 and answer.json()["created"] == 0 and Ticket.objects.count() == 0
    query = zammad_site.seen("GET", "/api/v1/tickets/search")[0].params["query"]
    assert query == '(group.name:"Network Team") AND id:1'


def test_a_ticket_the_tool_cannot_give_is_answered_502_for_the_sender_to_retry(zammad_site, zammad_connector):
    body = json.dumps(zammad_payload(zammad_site, 1) | {"ticket": {"id": 99}}).encode()

    answer = deliver("zammad", body, **{"X-Hub-Signature": f"sha1={sign(body, digest=hashlib.sha1)}"})

    assert answer.status_code == 502 and "HTTP 404" in answer.json()["message"]
    assert Ticket.objects.count() == 0


# Jira Cloud admin webhooks: X-Hub-Signature: sha256=…, {"webhookEvent", "issue", "changelog"}.


class FakeJiraById(FakeJira):
    """Jira's JQL also finds an issue by its id (``id = 10001``)."""

    def _clause(self, name, op, wanted):
        if name == "id":
            return lambda issue: (issue["id"] == wanted) == (op == "=")
        return super()._clause(name, op, wanted)


@pytest.fixture
def jira_site():
    with FakeJiraById() as server:
        issue = server.add_issue("2026-03-02 09:00", summary="VPN drops every hour", group="Service Desk")
        server.update(issue, "2026-03-02 09:20", status="In Progress", assignee="Alan Agent")
        server.update(issue, "2026-03-02 09:40", group="Network Team")
        yield server


@pytest.fixture
def jira_connector(jira_site):
    options = {"jql": "project = ITS", "group_field": GROUP_FIELD}
    connector = make_connector("jira", "jira", jira_site.url, username="bot@example.com", options=options)
    connector.set_secret("api-token-1")
    connector.save()
    return connector


def jira_payload(event: str = "jira:issue_updated") -> dict:
    return {
        "timestamp": 1772444400000,
        "webhookEvent": event,
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": "acc-alan.agent", "displayName": "Alan Agent"},
        "issue": {"id": "10001", "key": "ITS-1", "fields": {"summary": "VPN drops every hour"}},
        "changelog": {"id": "1002", "items": [{"field": "Assignment group", "toString": "Network Team"}]},
    }


def test_a_jira_webhook_brings_the_issue_it_names_with_its_whole_changelog(jira_site, jira_connector):
    body = json.dumps(jira_payload()).encode()

    answer = deliver("jira", body, **{"X-Hub-Signature": f"sha256={sign(body)}"})

    assert answer.status_code == 200, answer.json()
    ticket = Ticket.objects.select_related("group").get()
    assert (ticket.number, ticket.state, ticket.group.name, ticket.reassignment_count) == (
        "ITS-1",
        "in_progress",
        "Network Team",
        1,
    )
    assert [e.to_value for e in ticket.events.filter(kind=EventKind.ASSIGNMENT)] == ["Network Team"]
    assert jira_site.seen("GET", "/rest/api/2/search/jql")[0].params["jql"] == "(project = ITS) AND id = 10001"


def test_a_deleted_jira_issue_changes_nothing(jira_site, jira_connector):
    body = json.dumps(jira_payload("jira:issue_deleted")).encode()

    answer = deliver("jira", body, **{"X-Hub-Signature": f"sha256={sign(body)}"})

    assert answer.status_code == 200 and answer.json()["created"] == 0 and jira_site.requests == []


# GLPI 11: X-GLPI-signature over the body and X-GLPI-timestamp, {"event", "item"}.


@pytest.fixture
def glpi_site():
    with FakeGlpi() as server:
        desk = server.add_group("Service Desk")
        server.add_ticket("2026-03-02 09:00:00", name="Printer offline", group=desk, source=3)
        yield server


@pytest.fixture
def glpi_connector(glpi_site):
    connector = make_connector(
        "glpi", "glpi", glpi_site.url, auth_kind="bearer", options={"app_token": "glpi-app-token-1"}
    )
    connector.set_secret("glpi-user-token-1")
    connector.save()
    return connector


def glpi_payload() -> dict:
    return {
        "event": "update",
        "item": {
            "id": 1,
            "name": "Printer offline",
            "status": {"id": 2, "name": "Processing (assigned)"},
            "date_mod": "2026-03-02T09:00:00+00:00",
        },
    }


def test_a_glpi_11_webhook_is_checked_with_its_timestamp(glpi_site, glpi_connector):
    body = json.dumps(glpi_payload()).encode()
    stamp = "1772442000"
    signature = hmac.new(SECRET.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()

    answer = deliver("glpi", body, **{"X-GLPI-signature": signature, "X-GLPI-timestamp": stamp})

    assert answer.status_code == 200, answer.json()
    ticket = Ticket.objects.select_related("group").get()
    assert (ticket.source_id, ticket.state, ticket.group.name, ticket.channel) == (
        "1",
        "in_progress",
        "Service Desk",
        "phone",
    )
    assert not glpi_site.sessions  # its session was closed
    later = deliver("glpi", body, **{"X-GLPI-signature": signature, "X-GLPI-timestamp": "1772442001"})
    assert later.status_code == 401 and later.json()["field"] == "X-GLPI-signature"
    unstamped = deliver("glpi", body, **{"X-GLPI-signature": signature})
    assert unstamped.status_code == 401 and unstamped.json()["field"] == "X-GLPI-timestamp"


# The admin: the webhook secret is written, never shown, kept when left empty, removed on request.


def test_the_admin_writes_the_webhook_secret_and_never_shows_it(users, client_for):
    admin = client_for(users["admin"])
    form = {
        "name": "zammad",
        "kind": "zammad",
        "base_url": "https://zammad.acme.com",
        "enabled": "on",
        "sync_interval_minutes": "15",
        "auth_kind": "bearer",
        "secret": "zammad-token-1",
        "webhook_secret": "hmac-token-plaintext",
        "options": '{"create_group": "Service Desk"}',
    }
    assert admin.post("/admin/tickets/connector/add/", form).status_code == 302
    connector = Connector.objects.get()
    assert connector.webhook_secret() == "hmac-token-plaintext"

    page = admin.get(f"/admin/tickets/connector/{connector.pk}/change/").content.decode()
    assert "hmac-token-plaintext" not in page and connector.webhook_secret_ciphertext not in page
    assert "/api/v1/tickets/webhooks/zammad" in page

    bad = admin.post(
        f"/admin/tickets/connector/{connector.pk}/change/", form | {"options": '{"state_map": {"x": "y"}}'}
    )
    assert bad.status_code == 200 and "state_map must map state names" in bad.content.decode()

    kept = form | {"secret": "", "webhook_secret": ""}
    assert admin.post(f"/admin/tickets/connector/{connector.pk}/change/", kept).status_code == 302
    connector.refresh_from_db()
    assert connector.webhook_secret() == "hmac-token-plaintext" and connector.secret() == "zammad-token-1"

    off = kept | {"clear_webhook_secret": "on"}
    assert admin.post(f"/admin/tickets/connector/{connector.pk}/change/", off).status_code == 302
    connector.refresh_from_db()
    assert connector.webhook_secret_ciphertext == "" and connector.secret() == "zammad-token-1"
