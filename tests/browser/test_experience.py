"""The watermelon board and the priorities in a real browser over the demo company: the planted watermelon
SVC-ERP on top with its charts, the hotspot heatmap, a Turkish run and a download from under a table."""

import csv
import io
import re

from tests.browser.conftest import charts_drawn, screenshot

ERP = "ERP (Finance)"  # SVC-ERP, the demo's planted watermelon (docs/demo.md)


def table_rows(page, name: str):
    return page.locator(f"section[aria-labelledby=table-{name}] tbody tr")


def first_cell(page, name: str) -> str:
    return table_rows(page, name).first.locator("td").first.inner_text().strip()


def percent(text: str) -> float:
    return float(re.sub(r"[^\d,.-]", "", text).replace(",", "."))


def test_the_watermelon_board_shows_the_planted_watermelon_first(signed_in):
    page = signed_in("analyst")
    page.goto("/watermelons/")
    assert first_cell(page, "watermelons") == ERP
    top = table_rows(page, "watermelons").first.locator("td")
    source_sla, itxm_sla, happiness = (top.nth(i).inner_text() for i in (1, 2, 3))
    assert percent(source_sla) >= 95 and percent(itxm_sla) < 85 and percent(happiness) < 0
    assert charts_drawn(page) == 2  # the quadrant and the paired bars
    assert page.locator("[data-chart=melon_quadrant] svg text", has_text=ERP).count() == 1
    screenshot(page, "experience-watermelons-en")

    # Choosing another dimension in the filter bar: the ERP application group is the watermelon.
    page.select_option("#f-dimension", "group")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"dimension=group"))
    assert first_cell(page, "watermelons") == "ERP Applications"
    assert page.locator("section[aria-labelledby=table-watermelons] th").first.inner_text() == "Group"


def test_priorities_put_the_watermelon_first_with_the_hotspot_heatmap(signed_in):
    page = signed_in("analyst")
    page.goto("/priorities/")
    assert first_cell(page, "priorities") == ERP
    assert first_cell(page, "hotspots") == ERP
    assert charts_drawn(page) >= 3  # impact, hotspot heatmap, productivity
    heatmap = page.locator("[data-chart=hotspots] svg")
    assert heatmap.locator("text", has_text=ERP).count() == 1
    assert heatmap.locator("text", has_text="TR").count() >= 1
    figure = page.locator("#concentration-head + .big-figure").inner_text()
    assert 0 < percent(figure) < 50  # a few tickets cause most of the lost time
    assert table_rows(page, "productivity").count() >= 12  # the weeks since 90 days before the end
    screenshot(page, "experience-priorities-en")


def test_priorities_in_turkish(signed_in):
    page = signed_in("owner", language="tr")
    page.goto("/priorities/?rows=service&columns=channel")
    assert page.locator("html").get_attribute("lang") == "tr"
    assert first_cell(page, "priorities") == ERP  # the owner's services: ERP and CRM
    assert table_rows(page, "priorities").count() == 2
    assert charts_drawn(page) >= 3
    assert page.locator("[data-chart=hotspots] svg text", has_text=ERP).count() == 1
    # The charts write numbers the Turkish way, as the tables do: "-49,4" in a heatmap cell, never "-49.4".
    texts = page.locator("[data-chart] svg text").evaluate_all("texts => texts.map(text => text.textContent)")
    numbers = [text for text in texts if re.search(r"\d", text)]
    assert any(re.fullmatch(r"-?\d+,\d", text) for text in numbers)
    assert not [text for text in numbers if re.search(r"\d\.\d", text)]
    screenshot(page, "experience-priorities-tr")


def test_a_table_downloads_from_the_link_under_it(signed_in):
    page = signed_in("supplier-a")
    page.goto("/watermelons/?dimension=group")
    shown = [row.locator("td").first.inner_text().strip() for row in table_rows(page, "watermelons").all()]
    assert shown and "ERP Applications" not in shown  # Anka's groups only
    with page.expect_download() as event:
        page.locator("section[aria-labelledby=table-watermelons] .exports a", has_text="CSV").click()
    download = event.value
    assert download.suggested_filename == "itxm-watermelons.csv"
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert rows[0][0] == "Group" and [row[0] for row in rows[1:]] == shown
    screenshot(page, "experience-download-en")
