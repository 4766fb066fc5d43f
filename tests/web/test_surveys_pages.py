"""The survey pages: response rates and what was held back, campaigns (list, page, the create form), gaming
warnings; for every role, on an empty database, in exports, and never across suppliers."""

import csv
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone
from openpyxl import load_workbook

from itxm.org.models import Employee
from itxm.org.scopes import EVERYTHING
from itxm.surveys import campaigns, services
from itxm.surveys.models import (
    Campaign,
    HeldBackReason,
    Invitation,
    InvitationStatus,
    OutboxMessage,
    OutboxStatus,
    Response,
)
from itxm.surveys.tokens import answer_token
from itxm.tickets.models import Ticket
from itxm.web.views import surveys as surveys_views

NOW = timezone.now()
ROLES = ("admin", "analyst", "viewer", "alpha", "zeta", "owner")
PAGES = ("/surveys/", "/surveys/campaigns/", "/surveys/gaming/")


@pytest.fixture(autouse=True)
def forget_kept_results():
    # Kept results are keyed by a summary of the data; each test's rolled-back data must not answer the next.
    services.forget_remembered()
    yield
    services.forget_remembered()


def _ticket(number, group, agent, service, caller, resolved):
    return Ticket.objects.create(
        source="test", source_id=number, number=number, opened_at=resolved - timedelta(hours=5), resolved_at=resolved,
        group=group, assignee=agent, service=service, caller=caller, short_description=f"{number} broke",
    )  # fmt: skip


def _invitation(ticket, caller, resolved, *, score=None, ip="", after=7200, held_back=""):
    sent = None if held_back else resolved + timedelta(seconds=30)
    invitation = Invitation.objects.create(
        ticket=ticket, employee=caller, kind="incident", resolution_at=resolved,
        created_at=resolved + timedelta(seconds=20), sent_at=sent,
        status=InvitationStatus.HELD_BACK if held_back else InvitationStatus.SENT, held_back_reason=held_back,
        closes_at=None if held_back else resolved + timedelta(days=14),
    )  # fmt: skip
    if score is not None:
        answered = resolved + timedelta(seconds=after)
        Response.objects.create(invitation=invitation, score=score, client_ip=ip or None, answered_at=answered,
                                updated_at=answered)  # fmt: skip
        Invitation.objects.filter(pk=invitation.pk).update(status=InvitationStatus.ANSWERED)
    return invitation


@pytest.fixture
def surveyed(org, users):
    """Ten days ago: six tickets of each supplier's agent, every one answered 10 within a minute of the
    resolution from one address per agent (a planted pattern: both agents are flagged); four in-house tickets,
    one answered; two in-house callers held back; one bounced e-mail."""
    callers = [org["caller"]] + [
        Employee.objects.create(external_id=f"E{n}", name=f"Caller {n}", email=f"c{n}@example.com") for n in range(2, 5)
    ]
    when = NOW - timedelta(days=10)
    for side, ip in (("alpha", "10.9.9.9"), ("zeta", "10.8.8.8")):
        group, agent = org[f"{side}_group"], org[f"{side}_agent"]
        service = org["email"] if side == "alpha" else org["erp"]
        for n in range(6):
            resolved = when + timedelta(hours=n)
            caller = callers[n % 3]
            ticket = org[f"{side}_ticket"] if n == 0 else _ticket(f"INC-{side.upper()}-{n + 1}", group, agent,
                                                                   service, caller, resolved)  # fmt: skip
            _invitation(ticket, caller, resolved, score=10, ip=ip, after=60)
    inhouse = [org["inhouse_ticket"]] + [
        _ticket(f"INC-NET-{n}", org["inhouse"], None, org["erp"], callers[3], when) for n in range(2, 6)
    ]
    first = _invitation(inhouse[0], callers[3], when, score=3, ip="10.1.1.1")
    for ticket in inhouse[1:4]:
        _invitation(ticket, callers[3], when)
    _invitation(inhouse[4], callers[3], when, held_back=HeldBackReason.FATIGUE)
    _invitation(_ticket("INC-NET-9", org["inhouse"], None, org["erp"], callers[2], when), callers[2], when,
                held_back=HeldBackReason.OPTED_OUT)  # fmt: skip
    OutboxMessage.objects.create(
        invitation=first, to="c4@example.com", subject="Survey", text="…", message_id="<bounce-1@itxm>",
        status=OutboxStatus.BOUNCED, last_error="550 no mailbox c4@example.com", created_at=when,
    )  # fmt: skip
    return {"callers": callers}


@pytest.fixture
def campaign(surveyed, settings):
    """A campaign that ran once: every caller invited by e-mail, one answered 9; answers by link allowed."""
    settings.BASE_URL = "http://survey.test"
    made = services.create_campaign(
        EVERYTHING,
        campaigns.CampaignSpec(name="Laptop pulse", kind="devices", starts_at=NOW - timedelta(days=2), everyone=True,
                               by_link=True),
    )  # fmt: skip
    run = campaigns.launch_run(made.pk, made.starts_at, NOW - timedelta(days=2))
    Invitation.objects.filter(run=run).exclude(status=InvitationStatus.HELD_BACK).update(
        status=InvitationStatus.SENT, sent_at=NOW - timedelta(days=2)
    )
    first = Invitation.objects.filter(run=run, status=InvitationStatus.SENT).order_by("pk").first()
    services.record_score(answer_token(first.pk, first.nonce), 9)
    return made


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def export(client, url, fmt, table):
    return client.get(f"{url}{'&' if '?' in url else '?'}export={fmt}&table={table}")


def csv_rows(client, url, table) -> list[dict]:
    response = export(client, url, "csv", table)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(client, url, table) -> list[list]:
    response = export(client, url, "xlsx", table)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- every role, empty states ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_role_opens_the_survey_pages(surveyed, users, client_for, role):
    client = client_for(users[role])
    for url in PAGES:
        assert 'aria-label="Surveys"' in page(client, url)  # the sub-navigation
    expected = 200 if role == "admin" else 403
    assert client.get("/surveys/campaigns/new/").status_code == expected


@pytest.mark.django_db
def test_an_empty_installation_says_what_to_do(users, client_for):
    admin = client_for(users["admin"])
    assert "No survey invitations in this period" in page(admin, "/surveys/")
    assert "No campaigns yet." in page(admin, "/surveys/campaigns/")
    assert "No warnings in this period" in page(admin, "/surveys/gaming/")
    form = page(admin, "/surveys/campaigns/new/")
    assert "Finance" in form and 'name="device_models"' not in form  # no devices known: no device filter


# --- the overview -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_overview_shows_rates_per_service_group_and_agent_and_a_trend(surveyed, users, client_for):
    analyst = client_for(users["analyst"])
    html = page(analyst, "/surveys/")
    assert 'data-chart="response_trend"' in html and 'data-chart="invitation_trend"' in html
    groups = {row["Group"]: row for row in csv_rows(analyst, "/surveys/", "groups")}
    assert set(groups) == {"Alpha Desk", "Zeta Desk", "Network Team"}
    net = groups["Network Team"]
    assert (net["Invitations"], net["Held back"], net["Delivered"], net["Answered"], net["Response rate %"]) == (
        "6", "2", "4", "1", "25.0"
    )  # fmt: skip
    assert groups["Alpha Desk"]["Response rate %"] == "100.0"
    services_ = {row["Service"]: row["Delivered"] for row in csv_rows(analyst, "/surveys/", "services")}
    assert services_ == {"E-mail": "6", "ERP": "10"}
    agents = {row["Agent"]: row["Answered"] for row in csv_rows(analyst, "/surveys/", "agents")}
    assert agents == {"Alan Alpha": "6", "Zed Zeta": "6"}


@pytest.mark.django_db
def test_held_back_invitations_are_counted_per_reason_and_fatigue_rule(surveyed, users, client_for):
    analyst = client_for(users["analyst"])
    reasons = {row["Reason"]: row["Invitations held back"] for row in csv_rows(analyst, "/surveys/", "held_back")}
    assert reasons == {"Opted out": "1", "Invited recently (fatigue rule)": "1"}
    rules = {row["Applies to"]: row for row in csv_rows(analyst, "/surveys/", "fatigue_rules")}
    assert rules["Incident"]["Held back as invited recently"] == "1"
    assert rules["Incident"]["At most one survey per (days)"] == "7" and rules["Incident"]["Enabled"] == "yes"
    assert rules["Proactive surveys"]["Held back as invited recently"] == "0"
    assert rules["Any survey"]["Enabled"] == "no" and rules["Any survey"]["Held back as invited recently"] == ""


@pytest.mark.django_db
def test_bounces_show_with_what_the_mail_server_said_to_readers_of_people_data_only(surveyed, users, client_for):
    analyst, viewer = client_for(users["analyst"]), client_for(users["viewer"])
    bounced = csv_rows(analyst, "/surveys/", "bounces")
    assert [(row["About"], row["Status"], row["What the mail server said"]) for row in bounced] == [
        ("INC-NET-1", "Bounced", "550 no mailbox c4@example.com")
    ]
    assert {row["Status"]: row["E-mails"] for row in csv_rows(analyst, "/surveys/", "outbox")} == {"Bounced": "1"}
    seen_by_viewer = csv_rows(viewer, "/surveys/", "bounces")
    assert seen_by_viewer[0]["About"] == "INC-NET-1" and "What the mail server said" not in seen_by_viewer[0]
    assert "c4@example.com" not in page(viewer, "/surveys/")


@pytest.mark.django_db
def test_filters_narrow_every_table_and_the_period_can_leave_nothing(surveyed, users, client_for, org):
    analyst = client_for(users["analyst"])
    url = f"/surveys/?group={org['inhouse'].pk}"
    assert [row["Group"] for row in csv_rows(analyst, url, "groups")] == ["Network Team"]
    assert [row["Service"] for row in csv_rows(analyst, url, "services")] == ["ERP"]
    html = page(analyst, url)
    assert "clear the service and group filters" in html  # campaigns and the outbox are not about one group
    by_service = f"/surveys/?service={org['email'].pk}"
    assert [row["Group"] for row in csv_rows(analyst, by_service, "groups")] == ["Alpha Desk"]
    long_ago = "/surveys/?period=custom&start=2020-01-01&end=2020-01-31"
    assert "No survey invitations in this period" in page(analyst, long_ago)


@pytest.mark.django_db
def test_every_overview_table_downloads_as_csv_and_xlsx(surveyed, campaign, users, client_for):
    admin = client_for(users["admin"])
    for table in ("campaigns", "services", "groups", "agents", "held_back", "fatigue_rules", "outbox", "bounces"):
        as_csv = csv_rows(admin, "/surveys/", table)
        as_xlsx = xlsx_rows(admin, "/surveys/", table)
        assert as_csv, table
        assert len(as_xlsx) == len(as_csv) + 1 and as_xlsx[0] == list(as_csv[0]), table
    campaigns_ = xlsx_rows(admin, "/surveys/", "campaigns")
    assert campaigns_[1][0] == "Laptop pulse" and campaigns_[1][campaigns_[0].index("Answered")] == 1
    assert admin.get("/surveys/", {"export": "csv", "table": "nonsense"}).status_code == 404


@pytest.mark.django_db
def test_the_overview_follows_new_answers(surveyed, users, client_for, org):
    analyst = client_for(users["analyst"])
    assert {r["Group"]: r["Answered"] for r in csv_rows(analyst, "/surveys/", "groups")}["Network Team"] == "1"
    waiting = Invitation.objects.filter(ticket__group=org["inhouse"], status=InvitationStatus.SENT).first()
    services.record_score(answer_token(waiting.pk, waiting.nonce), 7)
    assert {r["Group"]: r["Answered"] for r in csv_rows(analyst, "/surveys/", "groups")}["Network Team"] == "2"


# --- supplier isolation -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_supplier_sees_only_its_own_groups_and_agents(surveyed, campaign, users, client_for, org):
    alpha = client_for(users["alpha"])
    for url in PAGES:
        html = page(alpha, url)
        assert "zeta" not in html.lower(), url
    assert [row["Group"] for row in csv_rows(alpha, "/surveys/", "groups")] == ["Alpha Desk"]
    assert [row["Agent"] for row in csv_rows(alpha, "/surveys/", "agents")] == ["Alan Alpha"]
    assert csv_rows(alpha, "/surveys/", "campaigns") == []  # campaigns are the whole organisation's
    for table in ("services", "groups", "agents", "held_back"):
        for fmt in ("csv", "xlsx"):
            content = alpha.get("/surveys/", {"export": fmt, "table": table}).content
            text = content.decode("utf-8-sig") if fmt == "csv" else str(xlsx_rows(alpha, "/surveys/", table))
            assert "zeta" not in text.lower() and "Network Team" not in text, (table, fmt)
    # The outbox's tables are not for restricted readers at all.
    assert alpha.get("/surveys/", {"export": "csv", "table": "bounces"}).status_code == 404
    # Trying a zeta group in the filter narrows to nothing of zeta's.
    assert "Zeta" not in page(alpha, f"/surveys/?group={org['zeta_group'].pk}")
    # Gaming warnings: its own agent and group only.
    warnings = csv_rows(alpha, "/surveys/gaming/", "warnings")
    assert warnings and {row["Name"] for row in warnings} == {"Alan Alpha", "Alpha Desk"}
    assert "zeta" not in str(xlsx_rows(alpha, "/surveys/gaming/", "warnings")).lower()
    # A campaign is not theirs to open.
    assert alpha.get(f"/surveys/campaigns/{campaign.pk}/").status_code == 404
    assert "not shown to supplier and service-owner accounts" in page(alpha, "/surveys/campaigns/")


@pytest.mark.django_db
def test_the_other_supplier_sees_its_own_side_only(surveyed, users, client_for):
    zeta = client_for(users["zeta"])
    assert [row["Group"] for row in csv_rows(zeta, "/surveys/", "groups")] == ["Zeta Desk"]
    assert {row["Name"] for row in csv_rows(zeta, "/surveys/gaming/", "warnings")} == {"Zed Zeta", "Zeta Desk"}
    assert "Alpha" not in page(zeta, "/surveys/gaming/")


# --- campaigns --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_campaign_list_shows_area_audience_schedule_and_results(campaign, users, client_for):
    analyst = client_for(users["analyst"])
    (row,) = csv_rows(analyst, "/surveys/campaigns/", "campaigns")
    assert row["Campaign"] == "Laptop pulse" and row["Area"] == "Laptops and devices"
    assert row["Audience"] == "Everyone" and row["Schedule"].startswith("Once, ")
    assert (row["Runs"], row["Answered"], row["Happiness"]) == ("1", "1", "100.0")
    assert int(row["Invited"]) + int(row["Held back"]) == 4  # the org's caller and the three of the fixture
    (xlsx_head, xlsx_row) = xlsx_rows(analyst, "/surveys/campaigns/", "campaigns")
    assert xlsx_row[xlsx_head.index("Campaign")] == "Laptop pulse"
    assert "New campaign" not in page(analyst, "/surveys/campaigns/")  # analysts do not create campaigns


@pytest.mark.django_db
def test_the_campaign_page_shows_runs_results_and_the_link_to_admins_only(campaign, users, client_for):
    admin, analyst = client_for(users["admin"]), client_for(users["analyst"])
    url = f"/surveys/campaigns/{campaign.pk}/"
    html = page(admin, url)
    run = campaign.runs.get()
    (token,) = re.findall(r'value="http://survey\.test/c/([^"/]+)"', html)
    assert campaigns.open_link(token).pk == run.pk  # the link shown answers this run
    assert 'data-chart="scores"' in html
    (row,) = csv_rows(admin, url, "runs")
    assert row["Answered"] == "1" and row["Audience"] == "4"
    assert xlsx_rows(admin, url, "runs")[1][0] is not None
    shown_to_analyst = page(analyst, url)
    assert "/c/" not in shown_to_analyst and "only administrators see it" in shown_to_analyst
    assert admin.get("/surveys/campaigns/999999/").status_code == 404
    assert admin.get("/surveys/campaigns/99999999999999999999999/").status_code == 404


def shared_request(path, user):
    """A request as it comes through a read-only share link made by ``user``."""
    request = RequestFactory().get(path)
    request.user = user
    request.share_link = SimpleNamespace(created_by=user, expires_at=NOW + timedelta(days=7))
    return request


@pytest.mark.django_db
def test_a_shared_campaign_page_never_shows_the_answer_link_nor_the_form(campaign, users):
    url = f"/surveys/campaigns/{campaign.pk}/"
    html = surveys_views.campaign(shared_request(url, users["admin"]), campaign.pk).content.decode()
    assert "A read-only view shared by admin" in html and "Laptop pulse" in html
    assert "/c/" not in html and "only administrators see it" in html
    assert "New campaign" not in html
    with pytest.raises(Http404):
        surveys_views.campaign_new(shared_request("/surveys/campaigns/new/", users["admin"]))


@pytest.mark.django_db
def test_a_campaign_is_not_found_outside_the_scope(campaign, users, client_for):
    for role in ("alpha", "zeta", "owner"):
        assert client_for(users[role]).get(f"/surveys/campaigns/{campaign.pk}/").status_code == 404


@pytest.mark.django_db
def test_an_admin_creates_a_campaign_through_the_form(org, users, client_for):
    admin = client_for(users["admin"], enforce_csrf=True)
    form = admin.get("/surveys/campaigns/new/")
    assert 'name="departments"' in form.content.decode()
    token = form.cookies["csrftoken"].value
    finance = org["caller"].department
    response = admin.post("/surveys/campaigns/new/", {
        "csrfmiddlewaretoken": token, "name": "Finance devices", "kind": "devices", "audience": "filtered",
        "departments": [finance.pk], "countries": "tr, de", "starts_at": "2026-12-01T09:30", "repeat_days": "90",
        "sampling_percent": "50", "by_email": "on", "by_link": "on", "active": "on",
    })  # fmt: skip
    created = Campaign.objects.get(name="Finance devices")
    assert response.status_code == 302 and response["Location"] == f"/surveys/campaigns/{created.pk}/"
    assert list(created.departments.all()) == [finance] and created.countries == ["TR", "DE"]
    assert (created.everyone, created.repeat_days, created.sampling_rate, created.by_link) == (False, 90, 0.5, True)
    assert created.status == "active"
    shown = page(admin, response["Location"])
    assert "The campaign “Finance devices” was created." in shown and "Departments: Finance" in shown


@pytest.mark.django_db
def test_a_bad_form_shows_each_error_by_its_field_and_keeps_the_input(org, users, client_for):
    admin = client_for(users["admin"])
    response = admin.post("/surveys/campaigns/new/", {
        "name": "Remote <b>pulse</b>", "kind": "remote_work", "audience": "filtered", "countries": "Turkey",
        "starts_at": "2026-12-01T09:30", "sampling_percent": "0", "repeat_days": "",
    })  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert "please correct what is marked below" in html
    assert 'id="id_countries-error">Not a two-letter country code: TURKEY' in html
    assert 'id="id_sampling_percent-error">' in html
    assert 'id="id_by_email-error">Deliver by e-mail, by shareable link, or both.' in html
    assert 'value="Remote &lt;b&gt;pulse&lt;/b&gt;"' in html  # kept, and escaped
    assert '<option value="remote_work" selected>' in html and 'value="Turkey"' in html
    nobody = admin.post("/surveys/campaigns/new/", {
        "name": "Nobody", "kind": "devices", "audience": "filtered", "starts_at": "2026-12-01T09:30",
        "sampling_percent": "100", "by_email": "on",
    })  # fmt: skip
    assert 'id="id_audience-error">Choose at least one department' in nobody.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["analyst", "viewer", "alpha", "owner"])
def test_only_admins_may_create_campaigns(org, users, client_for, role):
    client = client_for(users[role])
    data = {"name": "Sneaky", "kind": "devices", "audience": "everyone", "starts_at": "2026-12-01T09:30",
            "sampling_percent": "100", "by_email": "on"}  # fmt: skip
    assert client.post("/surveys/campaigns/new/", data).status_code == 403
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_campaign_names_are_escaped(users, client_for):
    services.create_campaign(EVERYTHING, campaigns.CampaignSpec(name="<script>alert(1)</script>", kind="overall",
                                                                starts_at=NOW, everyone=True))  # fmt: skip
    html = page(client_for(users["admin"]), "/surveys/campaigns/")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- gaming warnings --------------------------------------------------------------------------


@pytest.mark.django_db
def test_gaming_warnings_show_their_evidence_as_a_signal_not_a_verdict(surveyed, users, client_for):
    analyst = client_for(users["analyst"])
    html = page(analyst, "/surveys/gaming/")
    assert "An XLA is a measure, not a target." in html and "signals, not verdicts" in html
    assert "6 of 6 answers (100.0 %) came within 120 seconds of the resolution" in html
    assert "6 answers from 3 different callers came from one network address, 10.9.9.9" in html
    rows = csv_rows(analyst, "/surveys/gaming/", "warnings")
    signals = {(row["About"], row["Name"], row["Signal"]) for row in rows}
    assert ("Agent", "Alan Alpha", "Answers right after the resolution") in signals
    assert ("Agent", "Zed Zeta", "Many callers answered from one address") in signals
    assert ("Group", "Alpha Desk", "Answers right after the resolution") in signals
    alan = next(row for row in rows if row["Name"] == "Alan Alpha")
    assert alan["Group"] == "Alpha Desk" and "INC-ALPHA-1" in alan["Example tickets"]
    assert xlsx_rows(analyst, "/surveys/gaming/", "warnings")[0][:2] == ["About", "Name"]
    assert all(word not in html.lower() for word in ("cheat", "guilty", "fraud"))


@pytest.mark.django_db
def test_gaming_warnings_follow_the_period_and_the_group(surveyed, users, client_for, org):
    analyst = client_for(users["analyst"])
    by_group = csv_rows(analyst, f"/surveys/gaming/?group={org['zeta_group'].pk}", "warnings")
    assert by_group and {row["Name"] for row in by_group} == {"Zed Zeta", "Zeta Desk"}
    assert "No warnings in this period" in page(
        analyst, "/surveys/gaming/?period=custom&start=2020-01-01&end=2020-02-01"
    )


@pytest.mark.django_db
def test_a_service_owner_is_told_why_there_are_no_gaming_warnings(surveyed, users, client_for):
    html = page(client_for(users["owner"]), "/surveys/gaming/")
    assert "a service owner&#x27;s view has none" in html and "Alan Alpha" not in html
