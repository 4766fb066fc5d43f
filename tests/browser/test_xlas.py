"""XLAs in a real browser over the demo company: the planted watermelon's scorecard (breached, with its
history drawn and the gaming signals loaded beside it), an XLA made through the editor with htmx, and a
supplier who sees only the XLA about its own groups (docs/demo.md, "XLAs and initiatives")."""

import re
import secrets
from datetime import date

from tests.browser.conftest import charts_drawn, screenshot

ERP = "ERP (Finance)"
ANKA = "Anka field and print services"


def rows(page, table: str):
    return page.locator(f"section[aria-labelledby=table-{table}] tbody tr")


def column(page, table: str, index: int) -> list[str]:
    return [text.strip() for text in rows(page, table).locator(f"td:nth-child({index})").all_inner_texts()]


def test_the_watermelon_xla_is_breached_with_its_history_and_signals(signed_in):
    page = signed_in("analyst")
    page.goto("/xlas/")
    page.get_by_role("link", name=ERP, exact=True).click()
    page.wait_for_url(re.compile(r"/xlas/\d+/$"))
    assert page.locator("h1").inner_text().startswith(ERP)
    # Its SLA is met and everything people feel is not: breached in every past quarter, and now (unless the
    # quarter is a few days old and holds too few tickets to judge).
    history = column(page, "history", 3)
    assert len(history) == 4 and set(history[1:]) == {"breached"}
    quarter_day = (date.today() - date(date.today().year, 3 * ((date.today().month - 1) // 3) + 1, 1)).days
    badge = page.locator("h1 .badge").get_attribute("data-status")
    assert badge == "breached" or (badge == "not_judged" and quarter_day < 10)
    indicators = dict(zip(column(page, "indicators", 1), column(page, "indicators", 4), strict=True))
    assert indicators["SLA compliance % (as the source reports it)"] == "met"
    assert indicators["Happiness"] == "breached" or quarter_day < 10
    assert charts_drawn(page) == 1
    assert page.locator("[data-chart=xla_history] svg path").count() > 0
    page.locator("#xla-warnings .signals-count, #xla-warnings .empty-state").first.wait_for()
    assert "measure, not a target" in page.locator(".signals").inner_text()
    screenshot(page, "xlas-scorecard-en")


def test_an_xla_with_two_indicators_is_made_in_the_editor(signed_in):
    page = signed_in("analyst")
    page.goto("/xlas/")
    page.get_by_role("link", name="New XLA").click()
    name = f"Printing experience {secrets.token_hex(3)}"
    page.fill("#id_name", name)
    page.select_option("#id_about", label="Printing")
    page.select_option("#ind-0-metric", "happiness")
    page.fill("#ind-0-target", "30")
    # htmx swaps in a second row without reloading the page: what was typed stays, the new row has the focus.
    page.get_by_role("button", name="Add indicator").click()
    page.locator("#ind-1-metric").wait_for()
    assert page.evaluate("document.activeElement.id") == "ind-1-metric"
    assert page.input_value("#id_name") == name and page.input_value("#ind-0-target") == "30"
    page.select_option("#ind-1-metric", "reopen_rate")
    page.fill("#ind-1-target", "8")
    screenshot(page, "xlas-editor-en")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/xlas/\d+/$"))
    assert page.locator("h1").inner_text().startswith(name)
    assert column(page, "indicators", 1) == ["Happiness", "Reopen rate %"]
    assert column(page, "indicators", 3) == ["30.0", "8.0"]
    assert "Service: Printing" in page.locator(".about").inner_text()
    assert charts_drawn(page) == 1
    screenshot(page, "xlas-editor-saved-en")


def test_a_supplier_sees_only_the_xla_about_its_own_groups(signed_in):
    page = signed_in("supplier-a")
    page.goto("/xlas/")
    assert column(page, "xlas", 1) == [ANKA]
    assert "Anka Bilişim" in column(page, "xlas", 4)[0]
    screenshot(page, "xlas-supplier-a-en")
    page.get_by_role("link", name=ANKA).click()
    assert charts_drawn(page) == 1
    assert len(column(page, "history", 1)) == 12  # a year of months
    page.goto("/xlas/new/")
    choices = page.locator("#id_about option").all_inner_texts()
    assert sorted(choices) == ["Anka Bilişim Hizmetleri A.Ş.", "Field Services TR", "Print Services"]
