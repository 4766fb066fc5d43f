"""Explore in a real browser over the demo company: the service list with its charts, a drill-down to the
planted watermelon SVC-ERP and on to its groups, and the dimension switch in Turkish."""

import re

from tests.browser.conftest import charts_drawn, screenshot

ERP = "ERP (Finance)"


def members(page) -> list[str]:
    return page.locator("section[aria-labelledby=table-members] tbody tr td:first-child").all_inner_texts()


def test_drill_down_from_the_services_to_a_member_and_its_groups(signed_in):
    page = signed_in("analyst")
    page.goto("/explore/")
    assert len(members(page)) == 17 and ERP in members(page)  # the demo's 17 services
    assert charts_drawn(page) == 2
    assert page.locator("[data-chart=lost_by_member] svg text", has_text=ERP).count() == 1

    page.locator("section[aria-labelledby=table-members] a", has_text=ERP).click()
    page.wait_for_url(re.compile(r"/explore/service/\d+/"))
    assert ERP in page.locator("h1").inner_text() and "SVC-ERP" in page.locator("h1").inner_text()
    happiness = page.locator(".kpis div:has(dt:text-is('Happiness')) dd").inner_text()
    assert happiness.startswith("-")  # the watermelon: people unhappy ...
    sla = page.locator(".kpis div:has(dt:text-is('SLA compliance')) dd").inner_text().splitlines()[0]
    assert float(sla.rstrip(" %")) >= 95  # ... while the source says the SLA is met
    assert charts_drawn(page) == 4
    assert page.locator("section[aria-labelledby=table-complaints] tbody tr").count() >= 3
    screenshot(page, "explore-member-en")

    page.locator(".breakdown a", has_text="Groups").click()
    page.wait_for_url(re.compile(r"dimension=group"))
    shown = members(page)
    assert "ERP Applications" in shown and "Service Desk TR" not in shown[:1]
    assert page.locator("#f-service option:checked").inner_text() == ERP  # narrowed to the service
    screenshot(page, "explore-groups-en")


def test_the_dimension_switch_in_turkish(signed_in):
    page = signed_in("analyst", language="tr")
    page.goto("/explore/")
    page.select_option("#f-dimension", "group")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"dimension=group"))
    assert page.locator("html").get_attribute("lang") == "tr"
    codes = page.locator("section[aria-labelledby=table-members] tbody tr td:nth-child(2)").all_inner_texts()
    assert len(codes) == 14 and "GRP-SD-INT" in codes and "GRP-ERP-APP" in codes  # the demo's 14 groups
    assert charts_drawn(page) == 2
    screenshot(page, "explore-groups-tr")
