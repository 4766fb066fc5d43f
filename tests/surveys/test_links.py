"""Every way a survey link can be wrong ends on a clear page with the right status, never a 500."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from itxm.org.models import Employee
from itxm.surveys.models import Invitation, InvitationStatus, OutboxMessage, OutboxStatus, Response
from itxm.surveys.tokens import answer_token, unsubscribe_token
from tests.surveys.conftest import resolve_and_invite


@pytest.fixture
def invitation(org, settings):
    settings.BASE_URL = "http://survey.test"
    [invitation_id] = resolve_and_invite(org).invitation_ids
    return Invitation.objects.get(pk=invitation_id)


@pytest.fixture
def token(invitation):
    return answer_token(invitation.pk, invitation.nonce)


def page(path: str, method: str = "get"):
    response = getattr(Client(), method)(path)
    return response.status_code, response.content.decode()


@pytest.mark.django_db
def test_a_tampered_link_gets_400_and_a_page_that_says_so(token):
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for path in (f"/s/{tampered}/7", f"/s/{tampered}", f"/s/{tampered}/thanks", "/s/not-a-token/3", "/u/garbage"):
        status, body = page(path)
        assert status == 400, path
        assert "This link is not valid" in body
    assert not Response.objects.exists()


@pytest.mark.django_db
def test_an_expired_link_gets_410(invitation):
    with mock.patch("time.time", return_value=time.time() - 15 * 86400):
        old = answer_token(invitation.pk, invitation.nonce)
    status, body = page(f"/s/{old}/8")
    assert status == 410 and "This survey has closed" in body
    assert not Response.objects.exists()


@pytest.mark.django_db
def test_a_closed_survey_refuses_a_new_click_with_410_and_keeps_the_answer(invitation, token):
    assert page(f"/s/{token}/8")[0] == 302
    Invitation.objects.filter(pk=invitation.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    status, body = page(f"/s/{token}/2")
    assert status == 410 and "It no longer takes answers" in body
    assert Response.objects.get().score == 8
    assert page(f"/s/{token}")[0] == 410


@pytest.mark.django_db
def test_an_unknown_invitation_or_a_deleted_ticket_gets_404(invitation, token):
    assert page(f"/s/{answer_token(invitation.pk + 1000, invitation.nonce)}/5")[0] == 404
    assert page(f"/s/{answer_token(invitation.pk, 'another-nonce')}/5")[0] == 404
    invitation.ticket.delete()
    status, body = page(f"/s/{token}/5")
    assert status == 404 and "Survey not found" in body
    assert page(f"/u/{unsubscribe_token(999999)}")[0] == 404


@pytest.mark.django_db
def test_a_score_outside_0_to_10_is_refused_with_400(token):
    assert page(f"/s/{token}/11")[0] == 400
    assert page(f"/s/{token}/-1")[0] == 404  # not even a route
    assert not Response.objects.exists()


@pytest.mark.django_db
def test_the_page_works_without_a_click_first_and_a_post_without_a_score_is_refused(token):
    status, body = page(f"/s/{token}")
    assert status == 200
    assert "checked" not in body.split('<div class="scores">', 1)[1].split("</fieldset>", 1)[0]
    assert 'for="comment"' in body and 'aria-label="7 out of 10"' in body
    assert Client().post(f"/s/{token}", {"comment": "hi"}).status_code == 400
    assert not Response.objects.exists()


@pytest.mark.django_db
def test_the_survey_form_needs_its_csrf_token(token):
    client = Client(enforce_csrf_checks=True)
    assert client.post(f"/s/{token}", {"score": "5"}).status_code == 403
    assert not Response.objects.exists()


@pytest.mark.django_db
def test_unsubscribe_by_get_only_asks_and_by_post_opts_out_and_holds_back_waiting_mail(org, invitation):
    path = f"/u/{unsubscribe_token(org['caller'].pk)}"
    status, body = page(path)
    assert status == 200 and "Stop receiving surveys?" in body and '<form method="post"' in body
    assert not Employee.objects.get(pk=org["caller"].pk).opted_out

    client = Client(enforce_csrf_checks=True)
    client.get(path)
    done = client.post(path, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert done.status_code == 200 and "You will not get surveys any more" in done.content.decode()
    assert Employee.objects.get(pk=org["caller"].pk).opted_out
    assert OutboxMessage.objects.get().status == OutboxStatus.FAILED
    assert Invitation.objects.get().status == InvitationStatus.HELD_BACK


@pytest.mark.django_db
def test_pages_follow_the_language_switch(token):
    assert "Neler iyi gitti?" in page(f"/s/{token}?lang=tr")[1]
    assert "What went well?" in page(f"/s/{token}?lang=en")[1]
    assert "Bu bağlantı geçerli değil" in page("/s/broken?lang=tr")[1]
