"""What every connector shares: retries, rate limits, paging, the sync window, secrets at rest."""

import email.utils
import socket
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from itxm.tickets.connectors import ConnectorConfig, ConnectorError, source_for
from itxm.tickets.connectors.base import (
    HttpClient,
    HttpError,
    Page,
    Pager,
    RateLimited,
    Response,
    TransportError,
    backoff_delay,
    link_next,
    parse_retry_after,
    window_for,
)
from itxm.tickets.connectors.encryption import SecretUnreadable, decrypt, encrypt
from itxm.tickets.models import Connector
from tests.tickets.fake_servicenow import FakeServiceNow, basic

INCIDENTS = "/api/now/table/incident"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def instance():
    with FakeServiceNow(user="u", password="p") as server:
        server.add_ticket(opened_at="2026-03-02 09:00:00")
        yield server


def client_for(server, sleeps, **kwargs) -> HttpClient:
    return HttpClient(server.url, basic("u", "p"), sleep=sleeps, rng=lambda: 0.5, **kwargs)


def always(method, path, params):
    return True


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Mon, 02 Mar 2026 09:00:30 GMT", now) == 30.0
    assert parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("soon", now) is None and parse_retry_after("", now) is None


def test_backoff_doubles_up_to_its_cap_with_jitter():
    assert [backoff_delay(n, 0.5, 30, rng=lambda: 0.0) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert backoff_delay(3, 0.5, 30, rng=lambda: 1.0) == 2.0
    assert backoff_delay(20, 0.5, 30, rng=lambda: 1.0) == 30.0


def test_the_next_link_is_found_in_a_link_header():
    header = '<https://x/api/now/table/incident?sysparm_offset=0>;rel="first",<https://x/i?sysparm_offset=2>;rel="next"'
    assert link_next(header) == "https://x/i?sysparm_offset=2"
    assert link_next('<https://x/i?sysparm_offset=0>;rel="first"') is None and link_next(None) is None


def test_a_500_is_retried_with_backoff_and_then_answered(instance):
    instance.fail(500, always, times=2)
    sleeps = Sleeps()
    client = client_for(instance, sleeps)

    answer = client.get(INCIDENTS)

    assert len(answer.json()["result"]) == 1
    assert sleeps == [0.375, 0.75] and client.retries == 2


def test_retries_are_bounded(instance):
    instance.fail(503, always, times=99)
    sleeps = Sleeps()

    with pytest.raises(HttpError, match="HTTP 503"):
        client_for(instance, sleeps, max_attempts=4).get(INCIDENTS)

    assert len(sleeps) == 3 and len(instance.requests) == 4


def test_a_429_waits_as_long_as_retry_after_says_even_as_a_date(instance):
    in_two_seconds = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    instance.fail(429, always, retry_after=in_two_seconds)
    sleeps = Sleeps()

    client_for(instance, sleeps).get(INCIDENTS)

    assert len(sleeps) == 1 and 0 < sleeps[0] <= 2


def test_a_retry_after_longer_than_we_wait_stops_the_work(instance):
    instance.fail(429, always, retry_after="3600")
    sleeps = Sleeps()

    with pytest.raises(RateLimited, match="Retry-After: 3600"):
        client_for(instance, sleeps, max_wait=120).get(INCIDENTS)
    assert sleeps == []


def test_a_post_is_not_sent_again_after_a_500_but_is_after_a_429(instance):
    sleeps = Sleeps()
    client = client_for(instance, sleeps)
    instance.fail(500, lambda method, path, params: method == "POST")
    with pytest.raises(HttpError, match="HTTP 500"):
        client.post(INCIDENTS, {"short_description": "x"})
    assert len(instance.seen("POST")) == 1

    instance.fail(429, lambda method, path, params: method == "POST", retry_after="1")
    client.post(INCIDENTS, {"short_description": "y"})
    assert [r.status for r in instance.seen("POST")] == [500, 429, 201] and sleeps == [1.0]


def test_a_refused_connection_is_retried_then_reported():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()

    with pytest.raises(TransportError, match="cannot reach") as caught:
        HttpClient(f"http://127.0.0.1:{port}", sleep=sleeps, max_attempts=3, rng=lambda: 0).post("x", {})

    assert caught.value.sent is False and len(sleeps) == 2


def test_links_to_another_host_are_not_followed(instance):
    with pytest.raises(ConnectorError, match="another host"):
        client_for(instance, Sleeps()).get("https://evil.example/api/now/table/incident")


def test_an_answer_that_is_not_json_is_an_error():
    hibernating = Response(200, {}, b"<html>Your instance is hibernating</html>", "https://acme.example/api")

    with pytest.raises(ConnectorError, match="did not answer JSON"):
        hibernating.json()


def test_the_pager_reads_again_when_the_total_moves_and_gives_up_after_its_passes():
    totals = iter([3, 2, 2, 2])

    def fetch(offset):
        total = next(totals)
        return Page([offset], total, offset + 1 if offset + 1 < total else None)

    pager = Pager(fetch, 0)
    assert [page.items for page in pager] == [[0], [1], [0], [1]] and pager.complete and pager.passes == 2

    restless = Pager(lambda offset: Page([offset], offset + 5, offset + 1 if offset < 1 else None), 0)
    assert len(list(restless)) == 6 and not restless.complete


def test_the_window_starts_a_little_before_the_last_update_seen():
    now, seen = datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
    window = window_for(seen, now, timedelta(minutes=5))
    assert (window.since, window.until) == (datetime(2026, 3, 8, 9, 55, tzinfo=UTC), now)
    assert window_for(seen, now, timedelta(minutes=5), full=True).since is None
    assert window_for(None, now, timedelta(minutes=5)).since is None


def test_a_product_without_a_connector_says_so():
    with pytest.raises(ConnectorError, match="no connector for 'otrs' yet"):
        source_for(ConnectorConfig(name="otrs", kind="otrs", base_url="https://otrs.example"))


def test_options_are_checked_before_anything_is_sent():
    with pytest.raises(ConnectorError, match="unknown option table for servicenow"):
        source_for(ConnectorConfig("sn", "servicenow", "https://x.example", options={"table": ["incident"]}))
    with pytest.raises(ConnectorError, match="time_zone 'Mars/Olympus'"):
        source_for(ConnectorConfig("j", "jira", "https://x.example", options={"time_zone": "Mars/Olympus"}))
    with pytest.raises(ConnectorError, match="page_size must be a positive number"):
        source_for(ConnectorConfig("j", "jira", "https://x.example", options={"page_size": 0}))


@pytest.mark.django_db
def test_secrets_are_stored_encrypted():
    connector = Connector(name="servicenow", kind="servicenow", base_url="https://acme.service-now.com")
    connector.set_secret("hunter2-plaintext")
    connector.save()

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM tickets_connector")
        stored = " ".join(str(value) for value in cursor.fetchone())
    assert "hunter2-plaintext" not in stored
    assert Connector.objects.get().secret() == "hunter2-plaintext"
    assert Connector.objects.get().config().authorization() == basic("", "hunter2-plaintext")


def test_an_encryption_key_can_be_set_and_rotated(monkeypatch):
    from_secret_key = encrypt("token-a")
    monkeypatch.setenv("ITXM_ENCRYPTION_KEY", "old passphrase")
    with_old = encrypt("token-b")
    assert decrypt(from_secret_key) == "token-a"  # moving to an explicit key loses nothing

    monkeypatch.setenv("ITXM_ENCRYPTION_KEY", "new passphrase,old passphrase")
    assert decrypt(with_old) == "token-b"

    monkeypatch.setenv("ITXM_ENCRYPTION_KEY", "new passphrase")
    with pytest.raises(SecretUnreadable, match="enter it again"):
        decrypt(with_old)


@pytest.mark.django_db
def test_the_admin_writes_the_secret_and_never_shows_it(users, client_for):
    admin = client_for(users["admin"])
    form = {
        "name": "servicenow",
        "kind": "servicenow",
        "base_url": "https://acme.service-now.com",
        "enabled": "on",
        "sync_interval_minutes": "15",
        "auth_kind": "basic",
        "username": "itxm.integration",
        "secret": "hunter2-plaintext",
        "options": '{"tables": ["incident"]}',
    }
    assert admin.post("/admin/tickets/connector/add/", form).status_code == 302
    connector = Connector.objects.get()
    assert connector.secret() == "hunter2-plaintext" and connector.options == {"tables": ["incident"]}

    page = admin.get(f"/admin/tickets/connector/{connector.pk}/change/").content.decode()
    assert "hunter2-plaintext" not in page and connector.secret_ciphertext not in page

    bad = admin.post(f"/admin/tickets/connector/{connector.pk}/change/", form | {"options": '{"tables": ["problem"]}'})
    assert bad.status_code == 200 and "tables must be a list drawn from incident, sc_req_item" in bad.content.decode()

    form["secret"] = ""  # saving without typing the secret keeps it
    form["sync_interval_minutes"] = "30"
    assert admin.post(f"/admin/tickets/connector/{connector.pk}/change/", form).status_code == 302
    connector.refresh_from_db()
    assert connector.secret() == "hunter2-plaintext" and connector.sync_interval_minutes == 30
