"""Share links and the public page in a real browser: a link made on a page, opened by a visitor who has
never signed in, shows that page read-only in its creator's scope; the public page needs no sign-in."""

import json
import re
from datetime import date, timedelta

import pytest

from tests.browser.conftest import charts_drawn, screenshot

ANKA_GROUPS = ["Field Services TR", "Print Services"]
BRIDGEWATER = re.compile(r"Bridgewater|Service Desk International|Field Services Europe", re.IGNORECASE)


@pytest.fixture
def visitor(browser, site):
    """A browser that has never signed in: a new context, no cookies but the language."""
    contexts = []

    def open_context(language: str = "en", width: int = 1280):
        context = browser.new_context(base_url=site, viewport={"width": width, "height": 900},
                                      locale="tr-TR" if language == "tr" else "en-GB")  # fmt: skip
        context.add_cookies([{"name": "django_language", "value": language, "url": site}])
        contexts.append(context)
        return context.new_page()

    yield open_context
    for context in contexts:
        context.close()


def share_overview(page, days: int = 14) -> str:
    """Press "Share a link" on the overview, choose the days, and read the link shown once."""
    page.goto("/?period=90d")
    page.click("form.share button")
    page.fill("#share-days", str(days))
    page.click("button:has-text('Create the link')")
    url = page.input_value("#share-url")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/shared/[A-Za-z0-9_-]{43}/", url), url
    return url


def test_a_link_made_by_an_analyst_opens_read_only_for_a_visitor(signed_in, visitor):
    analyst = signed_in("analyst")
    url = share_overview(analyst, days=7)
    assert analyst.locator("button[data-copy]").is_visible()

    page = visitor()
    page.goto(url)
    assert "analyst" in page.locator(".shared-banner").inner_text()
    assert page.locator("header nav a").count() == 0 and page.locator("text=Sign out").count() == 0
    assert page.locator("form.share").count() == 0
    assert charts_drawn(page) > 0
    tickets = page.locator(".kpis div", has_text="Tickets").locator("dd").inner_text()
    assert int(re.sub(r"\D", "", tickets.split()[0])) > 1000  # the demo's tickets of the last 90 days
    download = page.request.get(page.locator(".exports a", has_text="CSV").first.get_attribute("href"))
    assert download.ok and len(download.text().splitlines()) > 1
    screenshot(page, "sharing-shared-en")

    analyst.goto("/share/links/")
    row = analyst.locator("table.share-links tbody tr").first
    assert int(row.locator("td.int").inner_text()) >= 1 and "works" in row.inner_text()


def test_a_suppliers_link_shows_only_its_data_to_a_visitor(signed_in, visitor):
    url = share_overview(signed_in("supplier-a"))

    page = visitor()
    page.goto(url)
    assert "Anka" in page.locator("main").inner_text()
    groups = page.locator("#f-group option").all_inner_texts()[1:]
    assert sorted(groups) == ANKA_GROUPS
    assert not BRIDGEWATER.search(page.content())
    assert charts_drawn(page) > 0
    screenshot(page, "sharing-supplier-en")

    page.goto(url.replace("/shared/", "/shared/x"))
    assert "Link not found" in page.locator("main").inner_text()


def test_the_public_page_in_turkish_for_a_visitor(signed_in, visitor, site):
    analyst = signed_in("analyst")
    services = analyst.request.get("/api/v1/services?limit=100").json()["items"]
    laptops = next(s["id"] for s in services if s["external_id"] == "SVC-WORKPLACE")
    csrf = next(c["value"] for c in analyst.context.cookies() if c["name"] == "csrftoken")
    body = {"title": "Laptop first-time fix", "metric": "reopen_rate", "dimension": "service", "member": str(laptops),
            "starts_on": str(date.today() - timedelta(days=120)), "public": True, "owner": "Workplace team",
            "you_said": "My laptop came back with the same fault.", "we_did": "Spare parts at every desk."}  # fmt: skip
    created = analyst.request.post("/api/v1/initiatives", data=json.dumps(body),
                                   headers={"Content-Type": "application/json", "X-CSRFToken": csrf})  # fmt: skip
    assert created.status == 201, created.text()
    try:
        page = visitor("tr")
        page.goto("/you-said-we-did/")
        assert page.locator("html").get_attribute("lang") == "tr"
        # The demo has a public "Laptop first-time fix" of its own: find this test's one by what it says.
        item = page.locator("ol.said-did article", has_text="My laptop came back with the same fault.").first
        assert "Laptop first-time fix" in item.inner_text()
        effect = item.locator(".effect span").inner_text()
        assert re.search(r"\d+,\d % → \d+,\d %", effect), effect  # Turkish decimals, as on every page
        assert page.locator("header nav a").count() == 0
        screenshot(page, "public-you-said-tr")
    finally:
        analyst.request.delete(f"/api/v1/initiatives/{created.json()['id']}", headers={"X-CSRFToken": csrf})
