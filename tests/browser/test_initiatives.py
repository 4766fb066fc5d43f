"""Improvement initiatives in a real browser, in Turkish: the planted "Laptop first-time fix" found to work,
its before/after chart drawn, and the placebo on Printing found to change nothing (docs/demo.md)."""

import re

from tests.browser.conftest import charts_drawn, screenshot


def test_the_planted_initiative_works_and_the_placebo_does_not_in_turkish(signed_in):
    page = signed_in("analyst", language="tr")
    page.goto("/initiatives/")
    assert page.locator("html").get_attribute("lang") == "tr"
    page.get_by_role("link", name="Laptop first-time fix").click()
    page.wait_for_url(re.compile(r"/initiatives/\d+/$"))
    assert page.locator(".verdict").get_attribute("data-direction") == "improved"
    values = [text.splitlines()[0] for text in page.locator(".kpis dd").all_inner_texts()[:2]]
    before, after = (float(re.sub(r"[^\d,]", "", text).replace(",", ".")) for text in values)
    assert 12 <= before <= 18 and 2 <= after <= 8  # planted: 15 % → 5 %
    assert charts_drawn(page) == 1
    assert page.locator("[data-chart=effect] svg path").count() >= 2  # two bars
    screenshot(page, "initiatives-effect-tr")
    page.goto("/initiatives/")
    page.get_by_role("link", name="Printer driver refresh").click()
    assert page.locator(".verdict").get_attribute("data-direction") == "no_clear_change"
