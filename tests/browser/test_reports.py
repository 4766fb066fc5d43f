"""The monthly report in a browser: an analyst subscribes and downloads the PDF; a supplier reads the page in
Turkish on a phone."""

from pathlib import Path

from tests.browser.conftest import charts_drawn, screenshot


def test_an_analyst_subscribes_to_the_monthly_email_and_downloads_the_pdf(signed_in):
    page = signed_in("analyst")
    page.goto("/reports/")
    assert page.locator("h1").inner_text() == "Monthly report"
    month = page.locator("#r-month option:checked").inner_text()
    assert page.locator("#report-month-head").inner_text() == month  # the last complete month by default
    answers = page.locator(".report-month .kpis div", has_text="Answers").locator("dd").inner_text()
    assert int(answers.split()[0].replace(",", "")) > 100  # the demo company answers hundreds of surveys a month
    assert charts_drawn(page) > 0
    assert page.locator("section[aria-labelledby=table-months] tbody tr").count() == 12

    if page.get_by_role("button", name="Stop the monthly e-mail").count():  # left subscribed by an earlier run
        page.get_by_role("button", name="Stop the monthly e-mail").click()
    page.get_by_role("button", name="Subscribe to the monthly e-mail").click()
    page.wait_for_url("**/reports/?month=*")
    assert page.get_by_role("status").inner_text() == "You will get the monthly report by e-mail."
    state = page.inner_text(".report-subscription")
    assert "You get each month's report by e-mail at analyst@meridyen.example" in state
    screenshot(page, "reports-en")

    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("link", name="Download PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename.startswith("itxm-report-") and pdf.startswith(b"%PDF")
    assert len(pdf) > 20_000  # charts and tables, not an empty page

    page.get_by_role("button", name="Stop the monthly e-mail").click()  # leave the demo as it was
    assert page.get_by_role("button", name="Subscribe to the monthly e-mail").is_visible()


def test_a_supplier_reads_the_report_page_in_turkish_on_a_phone(signed_in):
    page = signed_in("supplier-a", "tr", width=375)
    page.goto("/reports/")
    assert page.locator("html").get_attribute("lang") == "tr"
    assert "Anka" in page.locator("p.note").first.inner_text()  # only its own supplier's groups
    assert "Bridgewater" not in page.content()
    assert charts_drawn(page) > 0
    assert page.locator(".report-month .kpis div").count() == 6
    href = page.locator(".report-month-head a.button").get_attribute("href")
    assert href.startswith("/reports/monthly.pdf?month=") and href.endswith("&lang=tr")
    # Nothing wider than the phone but the table, which scrolls in its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "reports-tr-375")
