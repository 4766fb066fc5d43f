"""The survey pages in Chromium over the demo company: response rates with their charts, the planted
soliciting agent on the gaming page, a campaign created through the form in Turkish, a supplier's phone view."""

import re
import time

from tests.browser.conftest import charts_drawn, screenshot

PLANTED_IP = "10.40.12.77"  # the soliciting agent's desk (docs/demo.md, "Survey answers")


def test_an_analyst_sees_response_rates_with_charts(signed_in):
    page = signed_in("analyst")
    page.goto("/surveys/")
    assert charts_drawn(page) >= 2
    delivered = page.locator(".kpis div", has_text="Delivered").locator("dd")
    assert int(re.sub(r"\D", "", delivered.inner_text().split("\n")[0])) > 1000
    groups = page.locator("#table-groups").locator("xpath=ancestor::section[1]")
    assert groups.locator("tbody tr", has_text="Service Desk TR").count() == 1
    assert page.locator("#table-held_back").is_visible()
    screenshot(page, "surveys-overview-en")
    page.locator("#table-groups").locator("xpath=ancestor::section[1]").get_by_role(
        "link", name="Service Desk TR"
    ).click()
    page.wait_for_url(re.compile(r"group=\d+"))
    assert page.locator("#f-group option:checked").inner_text() == "Service Desk TR"
    assert page.locator("#table-groups").locator("xpath=ancestor::section[1]").locator("tbody tr").count() == 1


def test_the_gaming_page_shows_the_planted_agent_as_a_signal(signed_in):
    page = signed_in("analyst")
    page.goto("/surveys/gaming/")
    assert page.get_by_text("An XLA is a measure, not a target.").is_visible()
    card = page.locator(".warning", has_text=PLANTED_IP).first
    assert "Agent" in card.locator("h2").inner_text() and "Service Desk TR" in card.locator("h2").inner_text()
    titles = card.locator("h3").all_inner_texts()
    assert {"Answers right after the resolution", "Many callers answered from one address"} <= set(titles)
    assert card.locator(".examples").count() == len(titles)
    screenshot(page, "surveys-gaming-en")


def test_an_admin_creates_a_campaign_through_the_form_in_turkish(signed_in):
    page = signed_in("admin", language="tr")
    page.goto("/surveys/campaigns/new/")
    assert page.locator("html").get_attribute("lang") == "tr"
    name = f"Dizüstü nabzı {int(time.time())}"
    page.fill("#id_name", name)
    page.select_option("#id_kind", "devices")
    page.check("#id_audience_1")  # people matching the filters, and none chosen yet
    page.uncheck("#id_by_email")
    page.click("form.campaign-form button[type=submit]")
    assert page.locator("#id_audience-error").is_visible() and page.locator("#id_by_email-error").is_visible()
    assert page.input_value("#id_name") == name  # nothing typed is lost
    page.check("#id_departments_0")
    page.fill("#id_countries", "tr")
    page.fill("#id_sampling_percent", "50")
    page.check("#id_by_email")
    page.check("#id_by_link")
    page.click("form.campaign-form button[type=submit]")
    page.wait_for_url(re.compile(r"/surveys/campaigns/\d+/$"))
    assert page.locator("h1").inner_text().startswith(name)
    assert "TR" in page.locator(".surveys-facts").inner_text()
    assert page.locator("#surveys-link, .surveys-link").count() == 1  # by link: its card waits for the first run
    screenshot(page, "surveys-campaign-tr")
    page.goto("/surveys/campaigns/")
    assert page.locator("tbody tr", has_text=name).count() == 1


def test_a_supplier_on_a_phone_sees_its_own_groups_only(signed_in):
    page = signed_in("supplier-a", width=375)
    page.goto("/surveys/")
    assert charts_drawn(page) >= 2
    groups = page.locator("#table-groups").locator("xpath=ancestor::section[1]").locator("tbody tr td:first-child")
    assert set(groups.all_inner_texts()) == {"Field Services TR", "Print Services"}
    assert page.locator("text=Service Desk International").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    page.goto("/surveys/gaming/")
    assert page.locator(".warning", has_text=PLANTED_IP).count() == 0  # the planted agent is in-house
    screenshot(page, "surveys-supplier-phone-en")
