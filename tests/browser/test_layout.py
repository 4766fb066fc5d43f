"""The page layout (static/itxm/itxm.css) on a phone: what people type never makes the page scroll sideways."""

from tests.browser.conftest import screenshot

LONG_WORD = "Laptop-first-time-fix-for-the-finance-month-end-close-(see-https://wiki.example/it/fixes/laptops)"


def test_a_long_word_in_a_title_wraps_on_a_phone(signed_in):
    page = signed_in("viewer", width=390)
    page.goto("/initiatives/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # A title as someone may type it (initiatives and XLAs are named by people): the heading holds it.
    page.evaluate("word => { document.querySelector('h1').textContent = word; }", LONG_WORD)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("h1").bounding_box()["width"] <= 390
    screenshot(page, "layout-long-title-390px")
