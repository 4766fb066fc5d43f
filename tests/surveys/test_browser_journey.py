"""The survey journey in a real browser: Debian's Chromium, driven by Playwright, never a downloaded one.

A ticket is resolved → the e-mail arrives at a real local SMTP server → the browser opens the score link
from that e-mail, answers in Turkish, and exactly one response is stored; a second click updates it.
Screenshots go to artefacts/screenshots/ (not committed).
"""

import importlib
import os
import re
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import sync_playwright

from itxm.org.models import Employee
from itxm.surveys.models import LostTimeChoice, Response
from itxm.surveys.tasks import send_outbox
from tests.surveys.conftest import resolve_and_invite

CHROMIUM = os.environ.get("ITXM_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"
# Chromium's own background connections would only be refused on a closed network.
QUIET_CHROMIUM = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: .ci/run installs Debian's chromium (or set ITXM_CHROMIUM)"
    # Playwright's sync API keeps an event loop in this thread; the ORM calls of the test are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET_CHROMIUM)
        yield chromium
        chromium.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def default_lists(transactional_db):
    """A live server needs committed data, and an earlier transactional test flushes every table, the
    default factors and lost-time choices of the data migration included: put them back."""
    if not LostTimeChoice.objects.exists():
        importlib.import_module("itxm.surveys.migrations.0002_default_lists").create_defaults(django_apps, None)


@pytest.mark.django_db(transaction=True)
def test_a_turkish_employee_answers_from_the_e_mail_in_chromium_and_a_second_click_updates(
    org, inbox, live_server, settings, browser, default_lists
):
    settings.BASE_URL = live_server.url
    Employee.objects.filter(pk=org["caller"].pk).update(language="tr")
    # The question quotes the ticket's description, which may hold a long word (a path, a URL).
    long_description = r"Cannot open \\files01.example\finance\month-end-close\2026-11\report_final_v3.xlsx"
    assert resolve_and_invite(org, short_description=long_description).created == 1
    assert send_outbox.call()["sent"] == 1
    [message] = inbox.messages
    links = score_links(message, live_server.url)

    page = browser.new_page(viewport={"width": 375, "height": 800}, locale="tr-TR")
    page.goto(links[8])
    assert page.locator("html").get_attribute("lang") == "tr"
    assert "report_final_v3.xlsx" in page.locator("h1").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # it wraps: nothing to scroll sideways
    assert page.locator('input[name="score"][value="8"]').is_checked()
    assert Response.objects.get().score == 8
    page.locator('input[name="lost_minutes"]').nth(1).check()
    page.locator('input[name="factors"]').first.check()
    page.fill("#comment", "Yazıcı İstanbul ofisinde yine ışık yakıyor")
    screenshot(page, "survey-tr-375px")
    page.get_by_role("button", name="Gönder").click()
    page.wait_for_url("**/thanks**")
    screenshot(page, "survey-tr-thanks")

    answered = Response.objects.get()
    assert answered.score == 8 and answered.lost_minutes is not None and answered.factors
    assert answered.comment == "Yazıcı İstanbul ofisinde yine ışık yakıyor"
    assert answered.language == "tr"

    page.goto(links[10])
    assert page.locator('input[name="score"][value="10"]').is_checked()
    assert Response.objects.count() == 1
    assert Response.objects.get().score == 10
    page.close()


def score_links(message, base_url: str) -> dict[int, str]:
    """Score → the full link in the e-mail's HTML part, as a mail client shows it."""
    html = message.get_body(("html",)).get_content()
    pattern = re.compile(r'href="(' + re.escape(base_url) + r'/s/[^"/]+/(\d+))"')
    return {int(score): link for link, score in pattern.findall(html)}
