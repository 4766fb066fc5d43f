"""The one-click answer as `itxm serve` runs it: ``itxm.wsgi`` hands score links to a lean handler."""

import io
import threading
from datetime import timedelta

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from itxm.analytics.models import PendingFact
from itxm.analytics.pending import mark
from itxm.surveys import services
from itxm.surveys.handlers import is_answer_link
from itxm.surveys.models import Invitation, InvitationStatus, Response
from itxm.surveys.tokens import answer_token
from tests.surveys.conftest import resolve_and_invite


@pytest.fixture
def invitation(org, settings):
    settings.BASE_URL = "http://survey.test"
    [invitation_id] = resolve_and_invite(org).invitation_ids
    return Invitation.objects.get(pk=invitation_id)


@pytest.fixture
def token(invitation):
    return answer_token(invitation.pk, invitation.nonce)


def served(path: str, query: str = "", method: str = "GET", **headers) -> tuple[int, dict, str]:
    """What `itxm serve` answers: the WSGI application it runs, called as a server calls it."""
    from itxm.wsgi import application

    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.7",
        "HTTP_HOST": "testserver", "HTTP_USER_AGENT": "MailClient/1.0", "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(),
    } | headers  # fmt: skip
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"], started["headers"] = int(status.split()[0]), response_headers

    # As Django's test client does: the test's database connection must outlive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, start_response)).decode()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    headers = {}
    for name, value in started["headers"]:
        headers.setdefault(name, []).append(value)
    return started["status"], {name: ", ".join(values) for name, values in headers.items()}, body


@pytest.mark.django_db
def test_a_click_records_the_score_and_opens_the_survey_page_without_a_session(invitation, token):
    status, headers, _ = served(f"/s/{token}/9", "lang=tr")

    assert status == 302
    assert headers["Location"] == reverse("surveys:survey", args=[token]) + "?saved=1&lang=tr"
    assert "Set-Cookie" not in headers  # no session, no CSRF cookie for a click
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert "no-store" in headers["Cache-Control"] and "Expires" in headers
    response = Response.objects.get()
    assert (response.invitation_id, response.score, response.language, response.score_changes) == (
        invitation.pk, 9, "tr", 0,
    )  # fmt: skip
    # What the gaming signals read: where the click came from.
    assert (response.client_ip, response.user_agent) == ("192.0.2.7", "MailClient/1.0")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED
    assert PendingFact.objects.filter(kind=PendingFact.INVITATION, object_id=invitation.pk).exists()


@pytest.mark.django_db
def test_a_second_click_changes_the_answer_and_counts_the_change(invitation, token):
    assert served(f"/s/{token}/3")[0] == 302
    first = Response.objects.get()
    assert served(f"/s/{token}/8", REMOTE_ADDR="198.51.100.1")[0] == 302
    assert served(f"/s/{token}/8")[0] == 302

    response = Response.objects.get()
    assert (response.pk, response.score, response.score_changes) == (first.pk, 8, 1)
    assert response.answered_at == first.answered_at and response.updated_at > first.updated_at
    assert response.client_ip == "192.0.2.7"  # the first answer's address is kept


@pytest.mark.django_db
def test_the_page_after_the_click_is_the_full_site_with_its_form_protection(token):
    served(f"/s/{token}/7")
    status, headers, body = served(f"/s/{token}", "saved=1")

    assert status == 200 and "csrfmiddlewaretoken" in body
    assert "csrftoken=" in headers["Set-Cookie"]


@pytest.mark.django_db
def test_wrong_links_get_their_page_and_status_in_the_browser_language(invitation, token):
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    status, headers, body = served(f"/s/{tampered}/7", HTTP_ACCEPT_LANGUAGE="tr")
    assert status == 400 and headers["Content-Language"] == "tr" and "<html" in body
    assert "no-store" in headers["Cache-Control"]
    assert served(f"/s/{token}/11")[0] == 400

    Invitation.objects.filter(pk=invitation.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    status, _, body = served(f"/s/{token}/5")
    assert status == 410 and "This survey has closed" in body
    invitation.delete()
    assert served(f"/s/{token}/5")[0] == 404
    assert not Response.objects.exists()


def test_only_score_links_take_the_lean_path():
    assert is_answer_link({"REQUEST_METHOD": "GET", "PATH_INFO": "/s/abc:def/7"})
    for method, path in [("POST", "/s/abc/7"), ("GET", "/s/abc"), ("GET", "/s/abc/thanks"), ("GET", "/u/abc"),
                         ("GET", "/s/abc/7/x"), ("GET", "/surveys/")]:  # fmt: skip
        assert not is_answer_link({"REQUEST_METHOD": method, "PATH_INFO": path}), (method, path)


@pytest.mark.django_db
def test_a_click_drops_the_completed_answers_factors_that_no_longer_fit_its_score(token):
    services.complete(token, 3, None, ["slow"], "")
    assert Response.objects.get().factors == ["slow"]

    services.answer_score(token, 5)  # still a complaint: the factor stays
    assert Response.objects.get().factors == ["slow"]
    services.answer_score(token, 10)  # praise now: a complaint no longer fits
    response = Response.objects.get()
    assert (response.score, response.factors, response.score_changes) == (10, [], 2)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_clicks_on_one_link_store_one_response(invitation, token):
    """Many threads, each with its own database connection, click at once: one response, the last score."""
    barrier = threading.Barrier(6)
    errors = []

    def click(score):
        try:
            barrier.wait()
            services.answer_score(token, score, "192.0.2.1", "agent")
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(score,)) for score in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    response = Response.objects.get()
    assert response.score in range(6) and response.score_changes <= 5


@pytest.mark.django_db
def test_pending_facts_are_queued_once_per_object():
    mark(PendingFact.INVITATION, [41])
    mark(PendingFact.INVITATION, [41])
    mark(PendingFact.INVITATION, [41, 42, 43])
    mark(PendingFact.TICKET, [41])

    assert sorted(PendingFact.objects.values_list("kind", "object_id")) == [
        ("i", 41), ("i", 42), ("i", 43), ("t", 41),
    ]  # fmt: skip
