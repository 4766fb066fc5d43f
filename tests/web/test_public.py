"""The public "you said, we did" page: anyone may read it, in English or Turkish, without a menu."""

from datetime import date, timedelta
from itertools import count

import pytest
from django.test import Client
from django.utils import translation

from itxm.analytics import facts, initiatives
from itxm.analytics.initiatives import InitiativeSpec
from itxm.analytics.models import InitiativeStatus, SurveyFact, TicketFact
from itxm.org.scopes import EVERYTHING

STARTS = date(2025, 3, 3)
fact_ids = count(1)


@pytest.fixture(autouse=True)
def default_language_after():
    """A Turkish request leaves Turkish active in this thread: later tests expect the default."""
    yield
    translation.deactivate()


@pytest.fixture
def measured(org):
    """The e-mail service's reopen rate falls from 20 % to 5 % at the start: a clear improvement."""
    facts.catch_up()
    TicketFact.objects.all().delete()
    SurveyFact.objects.all().delete()
    for day, reopened, resolved in ((STARTS - timedelta(days=10), 40, 200), (STARTS + timedelta(days=10), 10, 200)):
        TicketFact.objects.bulk_create(
            TicketFact(ticket_id=next(fact_ids), opened_day=day, resolved_day=day, kind="incident", channel="portal",
                       service_id=org["email"].id, reopens=1 if number < reopened else 0)
            for number in range(resolved)
        )  # fmt: skip
    return org


def initiative(org, title, **values):
    values = {"metric": "reopen_rate", "starts_on": STARTS, "dimension": "service", "member": str(org["email"].id),
              "public": True} | values  # fmt: skip
    return initiatives.create_initiative(EVERYTHING, InitiativeSpec(title=title, **values))


@pytest.mark.django_db
def test_anyone_reads_what_people_said_what_it_did_and_what_changed(measured):
    initiative(measured, "Mail fixes that last", owner="Messaging team", you_said="My mail breaks again a week later",
               we_did="A checklist for every mail fix")  # fmt: skip
    response = Client().get("/you-said-we-did/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Mail fixes that last" in page and "Messaging team" in page and "E-mail" in page
    assert "My mail breaks again a week later" in page and "A checklist for every mail fix" in page
    assert '<span class="good">Reopen rate: 20.0 % → 5.0 % (improved)</span>' in page


@pytest.mark.django_db
def test_only_public_initiatives_that_go_on_are_shown(measured):
    initiative(measured, "Shown to everyone")
    initiative(measured, "Kept inside IT", public=False)
    initiative(measured, "Given up", status=InitiativeStatus.CANCELLED)
    page = Client().get("/you-said-we-did/").content.decode()
    assert "Shown to everyone" in page and "Kept inside IT" not in page and "Given up" not in page


@pytest.mark.django_db
def test_an_effect_not_measurable_yet_is_said_in_words(measured):
    initiative(measured, "Starts next year", starts_on=date(2099, 1, 1))
    page = Client().get("/you-said-we-did/").content.decode()
    assert "Starts next year" in page and "not measurable yet" in page


@pytest.mark.django_db
def test_a_fresh_installation_says_why_the_page_is_empty(db):
    response = Client().get("/you-said-we-did/")
    assert response.status_code == 200 and "Nothing to show yet" in response.content.decode()


@pytest.mark.django_db
def test_there_is_no_menu_even_for_a_signed_in_reader(measured, users, client_for):
    initiative(measured, "Mail fixes that last")
    page = client_for(users["admin"]).get("/you-said-we-did/").content.decode()
    assert "Mail fixes that last" in page
    assert 'href="/settings/"' not in page and 'href="/watermelons/"' not in page and "Share a link" not in page


@pytest.mark.django_db
def test_what_people_wrote_is_escaped(measured):
    initiative(measured, "<b>Bold</b> plan", you_said="<script>alert('said')</script>", we_did="<img src=x>")
    page = Client().get("/you-said-we-did/").content.decode()
    assert "<script>alert(" not in page and "<img src=x>" not in page and "<b>Bold</b>" not in page
    assert "&lt;script&gt;alert(&#x27;said&#x27;)&lt;/script&gt;" in page and "&lt;b&gt;Bold&lt;/b&gt; plan" in page


@pytest.mark.django_db
def test_the_page_speaks_turkish_to_a_turkish_browser(measured):
    initiative(measured, "Mail fixes that last")
    page = Client(headers={"Accept-Language": "tr-TR,tr;q=0.9"}).get("/you-said-we-did/").content.decode()
    assert '<html lang="tr">' in page
    assert "Yeniden açılma oranı: 20,0 % → 5,0 % (iyileşti)" in page  # Turkish decimals, as on every page


@pytest.mark.django_db
def test_the_language_links_switch_an_anonymous_reader_and_remember_it(measured):
    initiative(measured, "Mail fixes that last")
    reader = Client()
    switched = reader.get("/you-said-we-did/?lang=tr")
    assert '<html lang="tr">' in switched.content.decode() and switched.cookies["django_language"].value == "tr"
    assert '<html lang="tr">' in reader.get("/you-said-we-did/").content.decode()
    assert '<html lang="en">' in reader.get("/you-said-we-did/?lang=en").content.decode()
    assert '<html lang="en">' in reader.get("/you-said-we-did/?lang=xx").content.decode()  # unknown: unchanged


@pytest.mark.django_db
def test_the_header_language_switch_works_for_an_anonymous_reader(db):
    """The switch in every page's header posts to Django's set_language, which must not ask to sign in."""
    reader = Client()
    switched = reader.post("/i18n/setlang/", {"language": "tr", "next": "/you-said-we-did/"})
    assert switched.status_code == 302 and switched["Location"] == "/you-said-we-did/"
    assert '<html lang="tr">' in reader.get("/you-said-we-did/").content.decode()


@pytest.mark.django_db
def test_the_public_page_only_answers_get(db):
    assert Client().post("/you-said-we-did/").status_code == 405
