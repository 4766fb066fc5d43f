"""The overview in a real browser over the demo company: key figures and drawn charts, the planted
watermelon SVC-ERP on top, the language switch in the header, a phone's width and a supplier's view."""

import re

from tests.browser.conftest import charts_drawn, screenshot

ERP = "ERP (Finance)"  # SVC-ERP, the demo's planted watermelon (docs/demo.md)
SIGNED = re.compile(r"^[+\-−]?\d+([.,]\d)?$")


def kpi(page, title: str) -> str:
    """A key figure's value (its first line; the small print follows)."""
    return page.locator(f".kpis div:has(dt:text-is('{title}')) dd").inner_text().splitlines()[0].strip()


def whole_number(text: str) -> int:
    """A count as shown, with its thousands separator (1,721 or 1.721)."""
    return int(re.sub(r"\D", "", text))


def first_cell(page, table: str) -> str:
    return page.locator(f"section[aria-labelledby=table-{table}] tbody tr").first.locator("td").first.inner_text()


def test_the_overview_shows_figures_and_charts_then_turns_turkish(signed_in):
    page = signed_in("analyst")
    page.goto("/")
    assert page.locator("h1").inner_text() == "Overview"
    assert SIGNED.match(kpi(page, "Happiness")), kpi(page, "Happiness")
    assert whole_number(kpi(page, "Answers")) > 1000  # about 6,400 answers a year (docs/demo.md)
    assert whole_number(kpi(page, "Tickets")) > 5000
    assert kpi(page, "SLA compliance").endswith("%")
    assert first_cell(page, "watermelons") == ERP and first_cell(page, "priorities") == ERP
    assert charts_drawn(page) == 3  # experience and SLA, lost time, complaints
    screenshot(page, "overview-en")

    page.select_option("#language-switch", "tr")  # the header's switch sends its form at once
    page.wait_for_selector("html[lang=tr]")
    assert charts_drawn(page) == 3
    assert first_cell(page, "watermelons") == ERP
    assert re.match(r"^[+-]?\d+,\d$", page.locator(".kpis dd").first.inner_text().splitlines()[0])  # 37,3
    screenshot(page, "overview-tr")


def test_the_overview_fits_a_phone(signed_in):
    page = signed_in("analyst", width=375)
    page.goto("/")
    assert charts_drawn(page) == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the screen
    assert page.locator(".kpis > div").count() == 8
    for box in (page.locator(".kpis > div").first, page.locator(".chart-box").first):
        assert box.bounding_box()["width"] <= 375
    screenshot(page, "overview-375-en")


def test_a_supplier_sees_its_own_groups_only(signed_in):
    page = signed_in("supplier-a")
    page.goto("/")
    assert "You see the data of Anka" in page.locator("p.note").inner_text()
    groups = page.locator("#f-group option").all_inner_texts()
    assert groups[1:] == ["Field Services TR", "Print Services"]  # Anka's two groups (docs/demo.md)
    assert charts_drawn(page) >= 2
    assert whole_number(kpi(page, "Answers")) > 0
    assert "ERP" not in page.locator("section[aria-labelledby=table-watermelons]").inner_text()
    screenshot(page, "overview-supplier-en")
