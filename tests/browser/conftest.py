"""Browser tests: Debian's Chromium (Playwright with ``executable_path``) against the demo company served
by `itxm serve` (``demo_server.py``). Every test saves screenshots into artefacts/screenshots/ (not committed).

Fixtures: ``site`` (the server's URL), ``browser``, and ``signed_in(username, language="en")`` that
returns a Playwright page signed in as that demo user, its interface in that language.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser import demo_server

CHROMIUM = os.environ.get("ITXM_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artefacts" / "screenshots"
DEMO_PASSWORD = "itxm-demo"  # noqa: S105 - the demo's published password (docs/demo.md)
# Chromium's own background connections would only be refused on a closed network.
QUIET_CHROMIUM = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="session")
def site():
    if not demo_server.runs_here():
        pytest.skip("the browser tests run in the SQLite pass (pages are tested on PostgreSQL in tests/web)")
    server = demo_server.serve()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser(site):
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: .ci/run installs Debian's chromium (or set ITXM_CHROMIUM)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET_CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser, site):
    contexts = []

    def sign_in(username: str, language: str = "en", width: int = 1280):
        context = browser.new_context(
            base_url=site, viewport={"width": width, "height": 900}, locale="tr-TR" if language == "tr" else "en-GB"
        )
        context.add_cookies([{"name": "django_language", "value": language, "url": site}])
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield sign_in
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def charts_drawn(page) -> int:
    """How many ECharts charts the page drew (an SVG inside each chart box)."""
    page.wait_for_function("document.querySelectorAll('[data-chart]').length === "
                           "document.querySelectorAll('[data-chart][data-drawn]').length")  # fmt: skip
    return page.locator("[data-chart][data-drawn] svg").count()
