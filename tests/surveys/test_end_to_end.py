"""Resolution → invitation → outbox → worker → a real SMTP server → the link in the e-mail → one response."""

import re

import pytest
from django.test import Client

from itxm.org.models import Employee
from itxm.surveys import outbox
from itxm.surveys.models import Invitation, InvitationStatus, OutboxMessage, Response
from itxm.surveys.tasks import send_outbox
from tests.surveys.conftest import BASE_URL, resolve_and_invite, score_links


@pytest.mark.django_db
def test_a_resolved_ticket_mails_eleven_score_links_and_a_click_records_one_response_a_second_click_updates_it(
    org, inbox
):
    report = resolve_and_invite(org)
    assert report.created == 1
    assert send_outbox.call() == {"sent": 1, "retry": 0, "failed": 0, "requeued": 0, "unknown": 0}

    [message] = inbox.messages
    assert message["To"] == "ayse@example.com"
    assert message["Subject"].strip() == "Your ticket INC-ALPHA-1 is resolved: how did it go?"
    assert message["Message-ID"] == OutboxMessage.objects.get().message_id
    assert message["List-Unsubscribe"].strip().startswith(f"<{BASE_URL}/u/")
    links = score_links(message)
    assert sorted(links) == list(range(11))
    text = message.get_body(("plain",)).get_content()
    assert all(BASE_URL + path in text for path in links.values())

    client = Client(enforce_csrf_checks=True)
    first = client.get(links[9])
    assert first.status_code == 302
    page = client.get(first["Location"])
    assert page.status_code == 200
    assert 'value="9" required checked' in page.content.decode()
    assert Response.objects.get().score == 9
    assert Invitation.objects.get().status == InvitationStatus.ANSWERED

    assert client.get(links[4]).status_code == 302
    response = Response.objects.get()
    assert (response.score, response.score_changes) == (4, 1)

    survey_url = first["Location"].split("?")[0]
    csrf = client.cookies["csrftoken"].value
    posted = client.post(
        survey_url,
        {
            "csrfmiddlewaretoken": csrf,
            "score": "3",
            "lost_minutes": "150",
            "factors": ["slow", "fast"],
            "comment": "<b>x</b>",
        },
    )
    assert posted.status_code == 302 and posted["Location"].startswith(survey_url + "/thanks")
    response = Response.objects.get()
    assert (response.score, response.lost_minutes, response.factors) == (3, 150, ["slow"])  # "fast" is praise
    assert response.completed_at is not None
    again = client.get(survey_url).content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in again and "<b>x</b>" not in again


@pytest.mark.django_db
def test_a_turkish_employee_gets_the_e_mail_and_the_page_in_turkish_and_answers_in_turkish(org, inbox):
    Employee.objects.filter(pk=org["caller"].pk).update(language="tr")
    resolve_and_invite(org)
    outbox.send_due()

    [message] = inbox.messages
    assert message["Subject"].strip() == "INC-ALPHA-1 numaralı kaydınız çözüldü: nasıl geçti?"
    html = message.get_body(("html",)).get_content()
    assert 'lang="tr"' in html
    assert "Merhaba Ayşe Yılmaz," in html
    assert "INC-ALPHA-1 “Printer jam” kaydını nasıl çözdüğümüzden ne kadar memnun kaldınız?" in html
    assert "Artık bana anket gönderme" in html
    assert "Hiç memnun değilim" in html and "Çok memnunum" in html

    client = Client()
    page = client.get(client.get(score_links(message)[10])["Location"]).content.decode()
    assert '<html lang="tr">' in page
    assert "Neler iyi gitti?" in page and "Hızlı çözüldü" in page and "İlk seferde çözüldü" in page
    assert "Bunun yüzünden ne kadar çalışma süresi kaybettiniz?" in page
    english = client.get(re.sub(r"\?.*", "", score_links(message)[10].rsplit("/", 1)[0]) + "?lang=en").content.decode()
    assert '<html lang="en">' in english and "Solved quickly" in english
    assert Response.objects.get().language == "tr"
