"""Initiative pages: the list, the measured effect in plain words with its chart, the form, deleting with
a confirmation, exports, and a supplier kept to its own initiatives."""

import csv
import io
from datetime import date, timedelta
from itertools import count

import pytest
from openpyxl import load_workbook

from itxm.analytics import facts, initiatives
from itxm.analytics.initiatives import InitiativeSpec
from itxm.analytics.models import Initiative, SurveyFact, TicketFact
from itxm.org.scopes import EVERYTHING

pytestmark = pytest.mark.django_db

STARTS = date(2025, 3, 3)
ROLES = ["admin", "analyst", "viewer", "owner", "alpha", "zeta"]
fact_ids = count(1)


@pytest.fixture
def made_up_facts(org):
    """Only the facts these tests make (the fixture's own tickets would move the windows)."""
    facts.catch_up()
    TicketFact.objects.all().delete()
    SurveyFact.objects.all().delete()


def tickets(service, number: int, day: date, reopens: int = 0):
    TicketFact.objects.bulk_create(
        TicketFact(ticket_id=next(fact_ids), opened_day=day, resolved_day=day, kind="incident", channel="portal",
                   service_id=service.id, reopens=reopens)
        for _ in range(number)
    )  # fmt: skip


def initiative(org, **changes):
    values = {
        "title": "Laptop first-time fix", "metric": "reopen_rate", "starts_on": STARTS, "dimension": "service",
        "member": str(org["email"].pk), "you_said": "Fixed <em>twice</em>", "we_did": "Checked properly",
    }  # fmt: skip
    return initiatives.create_initiative(EVERYTHING, InitiativeSpec(**(values | changes)))


def form(about: str, title: str = "Fewer reopenings", **extra) -> dict:
    return {"title": title, "owner": "Desk lead", "about": about, "metric": "reopen_rate",
            "starts_on": "2025-03-03", "status": "active", "you_said": "", "we_did": ""} | extra  # fmt: skip


def test_a_fresh_installation_says_what_initiatives_are_for(users, client_for):
    for role in ROLES:
        page = client_for(users[role]).get("/initiatives/")
        assert page.status_code == 200 and "No initiatives yet" in page.content.decode()


@pytest.mark.parametrize(("role", "sees"), [("admin", True), ("analyst", True), ("viewer", True), ("owner", True),
                                            ("alpha", False), ("zeta", False)])  # fmt: skip
def test_the_list_shows_the_initiatives_of_the_readers_scope(users, client_for, org, role, sees):
    made = initiative(org, public=True)
    client = client_for(users[role])
    page = client.get("/initiatives/")
    assert page.status_code == 200
    assert (f'href="/initiatives/{made.id}/"' in page.content.decode()) == sees
    rows = list(
        csv.reader(io.StringIO(client.get("/initiatives/?export=csv&table=initiatives").content.decode("utf-8-sig")))
    )
    assert rows[0][:4] == ["Initiative", "About", "Measured by", "Start"]
    assert rows[1:] == ([["Laptop first-time fix", "Service: E-mail", "Reopen rate", "2025-03-03", "In progress", "yes",
                          ""]] if sees else [])  # fmt: skip


def test_the_effect_page_says_in_plain_words_that_reopenings_fell(users, client_for, org, made_up_facts):
    made = initiative(org)
    tickets(org["email"], 40, STARTS - timedelta(days=5), reopens=1)
    tickets(org["email"], 160, STARTS - timedelta(days=5))
    tickets(org["email"], 10, STARTS + timedelta(days=5), reopens=1)
    tickets(org["email"], 190, STARTS + timedelta(days=5))
    client = client_for(users["owner"])
    page = client.get(f"/initiatives/{made.id}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-direction="improved"' in text
    assert "Reopen rate improved from the start: 20.0 % before, 5.0 % after." in text
    assert "(p &lt; 0.001)" in text and "two-proportion z-test" in text
    assert "-15.0" in text and "percentage points; 95 % interval" in text
    assert "Fixed &lt;em&gt;twice&lt;/em&gt;" in text  # user text escaped
    assert 'data-chart="effect"' in text
    sheet = load_workbook(io.BytesIO(client.get(f"/initiatives/{made.id}/?export=xlsx&table=effect").content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Window", "From", "To", "Counted (tickets)", "Reopen rate (%)")
    assert [(row[0], row[3], row[4]) for row in rows[1:]] == [("Before", 200, 20.0), ("After", 200, 5.0)]


def test_no_clear_change_and_overlapping_initiatives_are_said_so(users, client_for, org, made_up_facts):
    made = initiative(org)
    other = initiative(org, title="Mail server upgrade", starts_on=STARTS + timedelta(days=2))
    for day in (STARTS - timedelta(days=5), STARTS + timedelta(days=5)):
        tickets(org["email"], 20, day, reopens=1)
        tickets(org["email"], 180, day)
    text = client_for(users["analyst"]).get(f"/initiatives/{made.id}/").content.decode()
    assert "No clear change in “Reopen rate”: 10.0 % before, 10.0 % after" in text
    assert "Other initiatives overlap" in text and f'href="/initiatives/{other.id}/"' in text


def test_too_few_data_give_the_reason_not_a_verdict(users, client_for, org, made_up_facts):
    made = initiative(org)
    tickets(org["email"], 5, STARTS - timedelta(days=5))
    tickets(org["email"], 5, STARTS + timedelta(days=5), reopens=1)
    text = client_for(users["analyst"]).get(f"/initiatives/{made.id}/").content.decode()
    assert 'data-direction="none"' in text and "Too few data to judge: 5 before and 5 after" in text


def test_an_initiative_not_started_has_no_effect_yet(users, client_for, org):
    made = initiative(org, starts_on=date.today() + timedelta(days=30))
    page = client_for(users["analyst"]).get(f"/initiatives/{made.id}/").content.decode()
    assert "There are no data from the start date yet." in page
    assert "Nothing to compare yet" in page


def test_an_initiative_is_created_and_edited_through_the_form(users, client_for, org):
    client = client_for(users["analyst"])
    page = client.get("/initiatives/new/").content.decode()
    assert 'name="starts_on" type="date"' in page and '<option value="reopen_rate" selected>' in page
    created = client.post("/initiatives/new/", form(f"service:{org['email'].pk}", public="on", we_did="New checks"))
    assert created.status_code == 302
    made = Initiative.objects.get()
    assert created["Location"] == f"/initiatives/{made.pk}/"
    assert (made.title, made.public, made.owner_user_id, made.member) == (
        "Fewer reopenings",
        True,
        users["analyst"].pk,
        str(org["email"].pk),
    )
    edit = client.get(f"/initiatives/{made.pk}/edit/").content.decode()
    assert 'value="Fewer reopenings"' in edit and 'name="public" type="checkbox" checked' in edit
    saved = client_for(users["admin"]).post(
        f"/initiatives/{made.pk}/edit/", form("all", title="Renamed", status="done")
    )
    assert saved.status_code == 302
    made.refresh_from_db()
    assert (made.title, made.dimension, made.status, made.public) == ("Renamed", "all", "done", False)
    assert made.owner_user_id == users["analyst"].pk  # the one who recorded it stays its owner


@pytest.mark.parametrize(
    ("changes", "message", "kept"),
    [
        ({"title": "  "}, "Give the initiative a title.", 'value="Desk lead"'),
        ({"starts_on": "someday"}, "Give the start date", 'value="Fewer reopenings"'),
        ({"metric": "bogus"}, "Choose the metric that should show the effect.", 'value="Desk lead"'),
        ({"status": "forgotten"}, "Choose a status from the list.", 'value="Fewer reopenings"'),
        ({"about": "planet:mars"}, "Choose what the initiative is about from the list.", 'value="Fewer reopenings"'),
    ],
)  # fmt: skip
def test_a_refused_initiative_shows_why_at_its_field_and_keeps_the_input(users, client_for, changes, message, kept):
    response = client_for(users["analyst"]).post("/initiatives/new/", form("all") | changes)
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text and kept in text and 'aria-invalid="true"' in text
    assert not Initiative.objects.exists()


def test_deleting_asks_first_and_is_done_by_post(users, client_for, org):
    made = initiative(org)
    client = client_for(users["analyst"])
    confirm = client.get(f"/initiatives/{made.id}/delete/")
    assert confirm.status_code == 200 and "Delete “Laptop first-time fix”?" in confirm.content.decode()
    assert Initiative.objects.filter(pk=made.id).exists()
    deleted = client.post(f"/initiatives/{made.id}/delete/")
    assert deleted.status_code == 302 and deleted["Location"] == "/initiatives/"
    assert not Initiative.objects.filter(pk=made.id).exists()
    assert "is deleted" in client.get("/initiatives/").content.decode()


def test_a_supplier_sees_and_changes_its_own_initiatives_only(users, client_for, org):
    mine = initiative(org, title="Alpha callbacks", dimension="group", member=str(org["alpha_group"].pk))
    zeta = client_for(users["zeta"])
    for url in (f"/initiatives/{mine.id}/", f"/initiatives/{mine.id}/edit/", f"/initiatives/{mine.id}/delete/",
                f"/initiatives/{mine.id}/?export=csv&table=effect"):  # fmt: skip
        assert zeta.get(url).status_code == 404, url
    assert zeta.post(f"/initiatives/{mine.id}/delete/").status_code == 404
    assert Initiative.objects.filter(pk=mine.id).exists()
    refused = zeta.post("/initiatives/new/", form(f"group:{org['alpha_group'].pk}"))
    assert refused.status_code == 403
    assert "You may define this only about your own groups or your supplier" in refused.content.decode()
    assert "zeta" not in client_for(users["alpha"]).get("/initiatives/new/").content.decode().lower()
    alpha = client_for(users["alpha"])
    assert alpha.get(f"/initiatives/{mine.id}/").status_code == 200
    assert "Alpha callbacks" in alpha.get("/initiatives/").content.decode()


def test_a_viewer_reads_initiatives_but_cannot_create_edit_or_delete_them(users, client_for, org):
    made = initiative(org)
    viewer = client_for(users["viewer"])
    listing = viewer.get("/initiatives/").content.decode()
    detail = viewer.get(f"/initiatives/{made.id}/").content.decode()
    assert "Laptop first-time fix" in listing and "/initiatives/new/" not in listing
    assert f"/initiatives/{made.id}/edit/" not in detail and f"/initiatives/{made.id}/delete/" not in detail
    for url in ("/initiatives/new/", f"/initiatives/{made.id}/edit/", f"/initiatives/{made.id}/delete/"):
        assert viewer.get(url).status_code == 403, url
    assert viewer.post("/initiatives/new/", form(f"service:{org['email'].pk}")).status_code == 403
    assert viewer.post(f"/initiatives/{made.id}/delete/").status_code == 403
    assert list(Initiative.objects.values_list("title", flat=True)) == ["Laptop first-time fix"]
