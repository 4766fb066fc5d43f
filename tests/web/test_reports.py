"""The monthly report: its data and PDF for a reader's scope and language, the page, the download, the
subscription, the scheduled e-mail over real SMTP, and the admins' command.

Reports with data are drawn once for the module (``drawn``): a supplier's in Turkish through the command,
an analyst's in English through the download view. Tests needing their own data draw empty months.
"""

import csv
import io
import re
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext, override
from openpyxl import load_workbook

from itxm.analytics import initiatives, xla
from itxm.analytics import services as analytics
from itxm.analytics.periods import Period, month_of
from itxm.analytics.remembered import forget
from itxm.org.models import Agent, Department, Employee, Group, Location, Role, Service, Supplier, User
from itxm.org.scopes import EVERYTHING
from itxm.org.services import create_user
from itxm.surveys.models import FatigueRule
from itxm.web import reports
from itxm.web.models import ReportSubscription
from itxm.web.tasks import send_monthly_reports
from tests.analytics.conftest import DAY, answer, ingest, ticket_row
from tests.conftest import PASSWORD
from tests.surveys.conftest import inbox, smtp_server  # noqa: F401 (fixtures: a real SMTP server)

# Every test asks for the database, even those reading the module's reports: pytest-django runs such tests
# before transactional ones, which empty the database (the survey choices of its migrations with it).
pytestmark = pytest.mark.django_db
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"
MONTH = month_of(DAY.date())  # the month the answers of tests.analytics.conftest fall in
BEFORE = reports.previous_month(MONTH)
TRANSLATED = ("Monthly report", "Key figures", "Happiness", "Watermelons: SLA met, people unhappy", "Fix these first",
              "Improvement initiatives", "Gaming warnings", "The last twelve months")  # fmt: skip
BAR_RED = (0xC9, 0x2A, 0x2A)  # the report month's bar in the lost-hours chart (charts.BAD)


# --- one company, drawn once --------------------------------------------------------------------


def build_company() -> dict:
    """Suppliers Alpha and Zeta each run a desk; everything of Zeta's says "zeta", its own service too."""
    FatigueRule.objects.update(enabled=False)
    alpha = Supplier.objects.create(external_id="SUP-ALPHA", name="Alpha Outsourcing")
    zeta = Supplier.objects.create(external_id="SUP-ZETA", name="Zeta Outsourcing")
    alpha_desk = Group.objects.create(external_id="GRP-ALPHA", name="Alpha Desk", supplier=alpha)
    zeta_desk = Group.objects.create(external_id="GRP-ZETA", name="Zeta Desk", supplier=zeta)
    Group.objects.create(external_id="GRP-NET", name="Network Team")
    Service.objects.create(external_id="SVC-MAIL", name="E-mail")
    Service.objects.create(external_id="SVC-ZLEDGER", name="Zeta Ledger")
    Agent.objects.create(external_id="AG-ALPHA", name="Alan Alpha", group=alpha_desk)
    Agent.objects.create(external_id="AG-ZETA", name="Zed Zeta", group=zeta_desk)
    istanbul = Location.objects.create(name="Istanbul", country="TR", time_zone="Europe/Istanbul")
    finance = Department.objects.create(name="Finance")
    for i in range(1, 8):
        Employee.objects.create(external_id=f"E{i}", name=f"Caller {i}", email=f"caller{i}@example.com",
                                cost_per_hour=30, location=istanbul, department=finance, country="TR")  # fmt: skip
    zeta_ticket = {"group": "GRP-ZETA", "service": "SVC-ZLEDGER", "assignee": "AG-ZETA", "made_sla": "true"}
    ingest([
        ticket_row("M1", "E1", hours=2, made_sla="true"), ticket_row("M2", "E2", hours=4, made_sla="true"),
        ticket_row("M3", "E3", hours=6, made_sla="true"), ticket_row("M4", "E4", hours=8, made_sla="true"),
        ticket_row("Z1", "E5", hours=10, **zeta_ticket), ticket_row("Z2", "E6", hours=20, **zeta_ticket),
        # Resolved in the month before, too long ago to be surveyed: the SLA has a trend.
        ticket_row("M0", "E7", hours=3, made_sla="false", opened=DAY.replace(day=1) - timedelta(days=20)),
    ])  # fmt: skip
    # Alpha: SLA all met, happiness 25 (two 9-10s, one 0-6 of four): a watermelon.
    answer("M1", 10, 0, ["fast"])
    answer("M2", 9, 10, ["fast"])
    answer("M3", 3, 150, ["slow"])
    answer("M4", 7, 10, ["slow"])
    answer("Z1", 2, 360, ["slow"])
    answer("Z2", 4, 720, ["slow"])
    for name, group in (("Alpha desk experience", alpha_desk), ("Zeta desk experience", zeta_desk)):
        indicators = (xla.IndicatorSpec(metric="happiness", target=20),)
        xla.create_xla(EVERYTHING, xla.XlaSpec(name, dimension="group", member=str(group.pk), indicators=indicators))
        initiatives.create_initiative(EVERYTHING, initiatives.InitiativeSpec(
            title=name.replace("experience", "coaching"), metric="happiness", starts_on=MONTH.start,
            dimension="group", member=str(group.pk),
        ))  # fmt: skip
    users = {
        "alpha": create_user("alpha-user", PASSWORD, Role.SUPPLIER, email="alpha@example.com",
                             supplier_external_id="SUP-ALPHA", language="tr"),
        "analyst": create_user("analyst", PASSWORD, Role.ANALYST, email="analyst@example.com"),
    }  # fmt: skip
    return users


def pdf_pages(content: bytes) -> list[str]:
    document = pdfium.PdfDocument(content)
    return [" ".join(page.get_textpage().get_text_range().split()) for page in document]


def page_images(content: bytes, name: str) -> list[np.ndarray]:
    """Each page as a picture (saved as artefacts/screenshots/<name>-page<N>.png for people to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pictures = []
    for number, page in enumerate(pdfium.PdfDocument(content), start=1):
        image = page.render(scale=1.5).to_pil().convert("RGB")
        image.save(SCREENSHOTS / f"{name}-page{number}.png")
        pictures.append(np.asarray(image))
    return pictures


def pixels_near(picture: np.ndarray, colour: tuple[int, int, int], tolerance: int = 24) -> int:
    return int((np.abs(picture.astype(int) - colour).max(axis=2) <= tolerance).sum())


@pytest.fixture(scope="module")
def drawn(django_db_setup, django_db_blocker, tmp_path_factory):
    """The supplier's Turkish report (through ``itxm report monthly``) and the analyst's English one
    (through the download), drawn in a transaction that is rolled back."""
    out = tmp_path_factory.mktemp("reports") / "alpha.pdf"
    fast = {"ANALYTICS_MIN_ANSWERS": 1, "PASSWORD_HASHERS": ["tests.hashers.FastArgon2PasswordHasher"]}
    with django_db_blocker.unblock(), override_settings(**fast):
        forget()
        with transaction.atomic():
            users = build_company()
            printed = io.StringIO()
            call_command("report", "monthly", "--user", "alpha-user", "--month", reports.month_key(MONTH),
                         "--out", str(out), stdout=printed)  # fmt: skip
            client = Client()
            client.force_login(users["analyst"])
            download = client.get(reverse("report_pdf"), {"month": reports.month_key(MONTH), "lang": "en"})
            found = {
                "alpha": out.read_bytes(), "printed": printed.getvalue(), "download": download,
                "analyst": download.content, "slow": analytics.factor_polarities()["slow"],
            }  # fmt: skip
            transaction.set_rollback(True)
        forget()
    found["alpha_pages"], found["analyst_pages"] = pdf_pages(found["alpha"]), pdf_pages(found["analyst"])
    return found


def test_the_command_writes_the_users_report(drawn):
    assert drawn["alpha"].startswith(b"%PDF")
    assert f"{reports.month_key(MONTH)} for alpha-user (tr)" in drawn["printed"]


def test_the_download_is_a_pdf_named_after_its_month(drawn):
    download = drawn["download"]
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="itxm-report-{reports.month_key(MONTH)}.pdf"'
    assert drawn["analyst"].startswith(b"%PDF")


def test_a_suppliers_report_holds_its_own_data_and_no_other_suppliers(drawn):
    text = " ".join(drawn["alpha_pages"])
    for own in ("Alpha Outsourcing", "Alpha Desk", "Alpha desk experience", "Alpha desk coaching", "E-mail"):
        assert own in text
    assert "zeta" not in text.lower()  # Zeta's supplier, desk, agent, service, XLA and initiative
    assert "Network Team" not in text  # nor the in-house group's


def test_the_whole_organisations_report_holds_every_supplier(drawn):
    text = " ".join(drawn["analyst_pages"])
    for name in ("Zeta Ledger", "Zeta desk experience", "Zeta desk coaching", "E-mail", "Alpha desk experience"):
        assert name in text
    assert "The whole organisation" in text


def test_the_report_is_in_the_readers_language_with_its_numbers_and_factor_names(drawn):
    text = " ".join(drawn["alpha_pages"])
    with override("tr"):
        for msgid in TRANSLATED:
            assert gettext(msgid) in text, msgid
        assert reports.month_name(MONTH.start) in text  # "Kasım 2026": Django's own Turkish month names
        # Alpha's happiness is +25 (two 9-10s and one 0-6 of four answers); Turkish writes +25,0.
        assert f"+{number_format(25.0, 1)}" == "+25,0" and "+25,0" in text
        assert gettext("Page %(page)s of %(pages)s") % {"page": 1, "pages": len(drawn["alpha_pages"])} in text
    assert drawn["slow"][2] in text  # the factor's Turkish name, "Çok uzun sürdü"
    english = " ".join(drawn["analyst_pages"])
    assert "Monthly report" in english and "Key figures" in english and drawn["slow"][1] in english
    assert "+25.0" in english  # Alpha's E-mail service, in English numbers


def test_the_key_figures_compare_with_the_month_before(drawn):
    text = " ".join(drawn["analyst_pages"])
    # SLA compliance: all six surveyed tickets met it this month, the one of the month before did not.
    assert f"{reports.month_name(MONTH.start)} {reports.month_name(BEFORE.start)}" in text
    assert "100.0 % 0.0 % +100.0 points" in text


def test_the_pdf_pages_show_the_charts(drawn):
    for name, content, language in (("alpha", drawn["alpha"], "tr"), ("analyst", drawn["analyst"], "en")):
        pictures = page_images(content, f"report-{language}")
        assert len(pictures) == len(drawn[f"{name}_pages"]) >= 3
        # The month's bar of lost hours, drawn in the report's red, and much ink around it (lines, axes).
        chart_page = max(pictures, key=lambda picture: pixels_near(picture, BAR_RED))
        assert pixels_near(chart_page, BAR_RED) > 2000
        assert (chart_page.min(axis=2) < 200).sum() > 30_000


# --- the page and the download --------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "analyst", "viewer", "alpha", "owner"])
def test_the_reports_page_opens_for_every_role(users, client_for, role):
    page = client_for(users[role]).get(reverse("reports"))
    assert page.status_code == 200
    html = page.content.decode()
    last = reports.last_complete_month(reports.today())
    assert f'href="/reports/monthly.pdf?month={reports.month_key(last)}&amp;lang=en"' in html
    assert html.count('<option value="20') == reports.MONTHS_OFFERED + 1  # this month so far and twelve before
    assert f'<option value="{reports.month_key(last)}" selected>' in html


def test_the_reports_need_a_signed_in_user(org):
    for url in (reverse("reports"), reverse("report_pdf") + "?month=2026-01"):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert Client().post(reverse("report_subscription"), {"action": "subscribe"}).status_code == 302


@pytest.mark.parametrize(
    ("month", "says"),
    [("2026-13", "is not a month"), ("October", "is not a month"), ("2999-01", "has not begun yet"),
     ("1999-12", "Pick a month from")],
)  # fmt: skip
def test_a_month_that_has_no_report_is_refused_with_a_clear_message(users, client_for, month, says):
    client = client_for(users["analyst"])
    for url in (reverse("report_pdf"), reverse("reports")):
        response = client.get(url, {"month": month})
        assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
        assert says in response.content.decode()


def test_a_month_without_data_says_so_and_its_pdf_still_opens_with_its_empty_states(users, client_for):
    client = client_for(users["alpha"])
    page = client.get(reverse("reports"), {"month": "2026-01"}).content.decode()
    assert "No tickets or survey answers were recorded in January 2026" in page
    assert 'data-chart="report_trend"' not in page  # no empty chart: nothing to draw in these twelve months
    download = client.get(reverse("report_pdf"), {"month": "2026-01", "lang": "en"})
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    text = " ".join(pdf_pages(download.content))
    assert "No tickets or survey answers were recorded in January 2026" in text
    assert "Nothing was recorded in these twelve months for this scope." in text
    assert "No XLAs in this scope." in text and "No watermelons" in text
    assert "Alpha Outsourcing" in text and "zeta" not in text.lower()


def test_the_page_shows_the_readers_month_and_exports_its_months(users, client_for, settings):
    settings.ANALYTICS_MIN_ANSWERS = 1
    build_answers_in_the_conftest_org()
    key = reports.month_key(MONTH)
    alpha, analyst = client_for(users["alpha"]), client_for(users["analyst"])
    page = alpha.get(reverse("reports"), {"month": key}).content.decode()
    assert reports.month_name(MONTH.start) in page and "zeta" not in page.lower()
    assert 'data-chart="report_trend"' in page
    rows = list(csv.reader(io.StringIO(alpha.get(reverse("reports"), {"month": key, "export": "csv", "table": "months"})
                                       .content.decode("utf-8-sig"))))  # fmt: skip
    assert rows[0][:2] == ["Month (PDF)", "Answers"] and len(rows) == 1 + reports.TREND_MONTHS
    assert rows[1][:2] == [reports.month_name(MONTH.start), "4"]  # Alpha's four answers, newest month first
    xlsx = analyst.get(reverse("reports"), {"month": key, "export": "xlsx", "table": "months"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[2]][:2] == [reports.month_name(MONTH.start), 6]  # everyone's six


def build_answers_in_the_conftest_org():
    """The four e-mail answers of Alpha and two ERP answers of Zeta (tests/conftest.py's org)."""
    FatigueRule.objects.update(enabled=False)
    for i in range(2, 7):
        Employee.objects.create(external_id=f"E{i}", name=f"Caller {i}", email=f"c{i}@example.com")
    zeta = {"group": "GRP-ZETA", "service": "SVC-ERP", "assignee": "AG-ZETA"}
    ingest([ticket_row("M1", "E1"), ticket_row("M2", "E2"), ticket_row("M3", "E3"), ticket_row("M4", "E4"),
            ticket_row("Z1", "E5", **zeta), ticket_row("Z2", "E6", **zeta)])  # fmt: skip
    for number, score in (("M1", 10), ("M2", 9), ("M3", 3), ("M4", 7), ("Z1", 2), ("Z2", 4)):
        answer(number, score)


def test_subscribing_and_unsubscribing_show_on_the_page(users, client_for):
    user = users["viewer"]
    client = client_for(user, enforce_csrf=True)
    page = client.get(reverse("reports")).content.decode()
    assert "Subscribe to the monthly e-mail" in page and "Your account has no e-mail address" in page
    token = client.cookies["csrftoken"].value

    done = client.post(reverse("report_subscription"), {"action": "subscribe", "month": "2026-01",
                                                        "csrfmiddlewaretoken": token})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/reports/?month=2026-01"
    assert ReportSubscription.objects.get(user=user).active
    page = client.get(done["Location"]).content.decode()
    assert "You will get the monthly report by e-mail." in page and "Stop the monthly e-mail" in page

    client.post(reverse("report_subscription"), {"action": "unsubscribe", "csrfmiddlewaretoken": token})
    assert not ReportSubscription.objects.get(user=user).active
    assert "Subscribe to the monthly e-mail" in client.get(reverse("reports")).content.decode()
    assert client.post(reverse("report_subscription"), {"action": "subscribe"}).status_code == 403  # no CSRF token
    assert client.get(reverse("report_subscription")).status_code == 405
    nonsense = client.post(reverse("report_subscription"), {"action": "everything", "csrfmiddlewaretoken": token})
    assert nonsense.status_code == 400 and not ReportSubscription.objects.get(user=user).active


# --- the scheduled e-mail -------------------------------------------------------------------------


def subscribe(user, email: str | None = None, language: str | None = None, **fields) -> ReportSubscription:
    if email is not None or language is not None:
        User.objects.filter(pk=user.pk).update(email=email or user.email, language=language or user.language)
        user.refresh_from_db()
    subscription = reports.subscribe(user)
    ReportSubscription.objects.filter(pk=subscription.pk).update(**fields)
    subscription.refresh_from_db()
    return subscription


def pdf_of(message: EmailMessage) -> tuple[str, bytes]:
    [attachment] = list(message.iter_attachments())
    return attachment.get_filename(), attachment.get_content()


def test_each_subscriber_gets_one_email_a_month_even_when_the_task_runs_twice(users, inbox):  # noqa: F811
    subscribe(users["alpha"], "alpha@example.com", "tr")
    subscribe(users["analyst"], "analyst@example.com")
    subscribe(users["admin"])  # no e-mail address
    subscribe(users["viewer"], "viewer@example.com", active=False)
    month = reports.last_complete_month(reports.today())

    assert send_monthly_reports.call() == {"sent": 2, "failed": 1}
    assert send_monthly_reports.call() == {"sent": 0, "failed": 1}

    messages = {message["To"]: message for message in inbox.messages}
    assert sorted(messages) == ["alpha@example.com", "analyst@example.com"]
    with override("tr"):
        turkish = gettext("ITXM monthly report: %(month)s") % {"month": reports.month_name(month.start)}
        greeting = gettext("Hello %(name)s,") % {"name": "alpha-user"}
    assert messages["alpha@example.com"]["Subject"] == turkish
    assert messages["alpha@example.com"].get_body(("plain",)).get_content().startswith(greeting)
    assert messages["analyst@example.com"]["Subject"] == f"ITXM monthly report: {reports.month_name(month.start)}"
    assert "http://survey.test/reports/" in messages["analyst@example.com"].get_body(("plain",)).get_content()
    name, content = pdf_of(messages["alpha@example.com"])
    assert name == f"itxm-report-{reports.month_key(month)}.pdf" and content.startswith(b"%PDF")
    assert "Alpha Outsourcing" in " ".join(pdf_pages(content))  # rendered in the subscriber's own scope
    sent = {s.user.username: s for s in ReportSubscription.objects.select_related("user")}
    assert sent["alpha-user"].last_sent_month == sent["analyst"].last_sent_month == month.start
    assert sent["alpha-user"].last_error == ""
    assert sent["admin"].last_sent_month is None and "no e-mail address" in sent["admin"].last_error
    assert sent["viewer"].last_sent_month is None and sent["viewer"].last_error == ""  # inactive: left alone


def test_a_refused_email_is_recorded_and_sent_on_the_next_run(users, inbox):  # noqa: F811
    subscription = subscribe(users["analyst"], "analyst@example.com")
    inbox.reply = "550 mailbox unavailable"

    assert reports.send_monthly_reports() == {"sent": 0, "failed": 1}
    subscription.refresh_from_db()
    assert subscription.last_sent_month is None and "550" in subscription.last_error
    page = Client()
    page.force_login(users["analyst"])
    assert "The last sending failed" in page.get(reverse("reports")).content.decode()

    inbox.reply = None
    assert reports.send_monthly_reports() == {"sent": 1, "failed": 0}
    subscription.refresh_from_db()
    assert subscription.last_error == "" and len(inbox.messages) == 1


def test_from_the_first_of_a_month_the_month_before_is_due_once(users):
    subscription = subscribe(users["analyst"], "analyst@example.com", last_sent_month=date(2026, 1, 1))
    february = month_of(date(2026, 2, 1))
    assert [s.pk for s in reports.due_subscriptions(february)] == [subscription.pk]
    assert reports.last_complete_month(date(2026, 3, 1)) == february  # due on the first of March
    assert reports.last_complete_month(date(2026, 2, 28)) == month_of(date(2026, 1, 1))  # not before
    # Two runs at once: the first claims the month, the second finds it taken.
    stale = ReportSubscription.objects.get(pk=subscription.pk)
    assert reports._claim(subscription, february) and not reports._claim(stale, february)
    assert list(reports.due_subscriptions(february)) == []


# --- the command ------------------------------------------------------------------------------------


def test_the_command_refuses_unknown_users_and_months(users, tmp_path):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("report", "monthly", "--user", "nobody", "--out", str(tmp_path / "r.pdf"))
    with pytest.raises(CommandError, match="is not a month"):
        call_command("report", "monthly", "--user", "analyst", "--month", "13/2026", "--out", str(tmp_path / "r.pdf"))
    assert not (tmp_path / "r.pdf").exists()


def test_months_offered_and_parsed():
    day = date(2026, 3, 15)
    offered = reports.offered_months(day)
    assert offered[0] == month_of(day) and offered[1] == month_of(date(2026, 2, 1)) and len(offered) == 13
    assert offered[-1] == month_of(date(2025, 3, 1))
    assert reports.parse_month(None, day) == month_of(date(2026, 2, 1))
    assert reports.parse_month("2026-03", day) == Period(date(2026, 3, 1), date(2026, 4, 1))
    with pytest.raises(reports.InvalidMonth):
        reports.parse_month("2026-04", day)


def test_the_page_counter_keeps_the_translators_word_order():
    assert reports.page_counter() == '"Page " counter(page) " of " counter(pages)'
    with override("tr"):  # whatever the translation, a well-formed CSS value
        assert re.fullmatch(r'("[^"]*"|counter\(pages?\))( "[^"]*"| counter\(pages?\))*', reports.page_counter())
    assert reports._css_text('a"b\\c</style>') == '"a\\"b\\\\c\\3c /style>"'


def test_an_initiatives_figures_keep_their_unit_on_the_same_line():
    with override("tr"):
        assert reports._with_unit(7.9, "%") == "7,9\u00a0%"
        assert reports._with_unit(-0.6, "%", signed=True) == "-0,6\u00a0%"
        assert reports._with_unit(12.0, "min") == "12,0\u00a0dk"
        assert reports._with_unit(7.5, "/10") == "7,5/10"
