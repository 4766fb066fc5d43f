"""Device health in a real browser over the demo company (docs/demo.md, "Devices"): 2,000 laptops, the
planted driver regression on the Dell Latitude 5440, and a device explained in Turkish."""

import re

from tests.browser.conftest import charts_drawn, screenshot

# docs/demo.md: 70 % of the Latitude 5440 laptops take this driver 10 days before the end.
PLANTED_DRIVER = "Intel Iris Xe Graphics"
# A Latitude 5440 that took the driver: listed by both planted anomalies, with open alerts.
AFFECTED_LAPTOP = "LT00029"


def test_the_analyst_sees_the_fleet_health_with_its_charts(signed_in):
    page = signed_in("analyst")
    page.goto("/devices/")
    assert charts_drawn(page) >= 3
    kpis = page.locator("dl.kpis")
    assert kpis.locator("div", has_text="Devices scored").locator("dd").inner_text().startswith("2,000")
    assert kpis.locator("div", has_text="Open anomalies").locator("dd").inner_text().strip() == "2"
    worst = page.locator("section[aria-labelledby=table-worst]").locator("tbody tr")
    assert worst.count() == 20
    assert page.locator("section[aria-labelledby=table-worst]").locator("th", has_text="Primary user").count() == 1
    lost = page.locator("section[aria-labelledby=table-lost_time]").locator("tbody tr")
    assert lost.count() >= 4
    screenshot(page, "devices-fleet-en")
    # Narrowed to the planted model, only its laptops are listed.
    page.select_option("#f-model", "Latitude 5440")
    page.click(".filters button[type=submit]")
    page.wait_for_url(re.compile(r"model=Latitude"))
    assert charts_drawn(page) >= 3
    models = page.locator("section[aria-labelledby=table-worst]").locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert models and set(models) == {"Latitude 5440"}


def test_the_planted_driver_regression_shows_with_its_evidence(signed_in):
    page = signed_in("analyst")
    page.goto("/devices/anomalies/")
    cards = page.locator("article.anomaly")
    assert cards.count() == 2
    crashes = cards.filter(has_text="crashes a day rose")
    assert crashes.count() == 1
    headline = crashes.locator("h2").inner_text()
    assert headline.startswith("Latitude 5440: crashes a day rose from 0.12 to 1.21 on 312 devices after driver")
    assert PLANTED_DRIVER in headline and "31.0.101.4502 → 31.0.101.4887" in headline
    evidence = crashes.locator("table.evidence-table tbody tr")
    assert evidence.nth(0).inner_text().split("\t")[1:] == ["0.12", "1.21", "312"]
    assert evidence.nth(1).inner_text().split("\t")[1:] == ["0.13", "0.14", "111"]
    assert cards.filter(has_text="boot time rose from 53 s to 90 s").count() == 1
    assert charts_drawn(page) == 2
    screenshot(page, "devices-anomalies-en")
    # The affected devices behind it.
    crashes.locator("h2 a").click()
    page.wait_for_url(re.compile(r"/devices/anomalies/\d+/"))
    assert charts_drawn(page) == 2
    assert "Rows 1–50 of 312" in page.locator(".pager").inner_text()


def test_a_device_explained_in_turkish(signed_in):
    page = signed_in("analyst", language="tr")
    page.goto("/devices/")
    page.fill("#f-q", AFFECTED_LAPTOP)
    page.click(".filters button[type=submit]")
    page.locator("section[aria-labelledby=table-found]").locator("a", has_text=AFFECTED_LAPTOP).click()
    page.wait_for_url(re.compile(r"/devices/\d+/$"))
    assert page.locator("html").get_attribute("lang") == "tr"
    assert page.locator("h1").inner_text() == AFFECTED_LAPTOP
    assert "Latitude 5440" in page.locator(".inventory").inner_text()
    # Every component in words, the numbers written the Turkish way (decimal comma).
    explanations = page.locator(".component-list .explanation").all_inner_texts()
    assert len(explanations) == 7 and all(text.strip() for text in explanations)
    assert "," in page.locator(".score-value").inner_text()
    assert charts_drawn(page) == 2
    assert page.locator("section[aria-labelledby=table-device_anomalies]").locator("tbody tr").count() == 2
    screenshot(page, "devices-device-tr")


def test_devices_meet_experience_in_turkish(signed_in):
    page = signed_in("analyst", language="tr")
    page.goto("/devices/experience/")
    assert page.locator("h1").inner_text() == "Cihazlar ve deneyim"
    assert charts_drawn(page) >= 2
    bands = page.locator("section[aria-labelledby=table-bands]").locator("tbody tr")
    assert bands.count() == 3
    assert bands.nth(0).inner_text().startswith("İyi (80 ve üzeri)")
    assert bands.nth(2).inner_text().startswith("Zayıf (50'nin altı)")
    people = page.locator("section[aria-labelledby=table-people]").locator("tbody tr")
    assert people.count() >= 20  # a page of people, worst first, named for an analyst
    screenshot(page, "devices-experience-tr")


def test_the_demo_campaigns_are_listed_with_their_response_rates(signed_in):
    page = signed_in("analyst")
    page.goto("/surveys/campaigns/")
    rows = page.locator("section[aria-labelledby=table-campaigns]").locator("tbody tr")
    assert rows.count() == 3
    assert rows.filter(has_text="Laptops and devices: quarterly pulse").count() == 1
    screenshot(page, "surveys-campaigns-en")
