"""static/itxm/charts.js in a real browser: numbers in the page's language, names escaped in tooltips."""

from tests.browser.conftest import screenshot

NAME = '<img src=x onerror="window.hacked=1">Telephony'  # a service named by whoever fed the ticket tool
OPTION = {
    "animation": False,
    "tooltip": {"trigger": "item", "formatter": "{b}: {c}"},
    "xAxis": {"type": "category", "data": [NAME, "E-mail"]},
    "yAxis": {"type": "value"},
    "series": [{"name": "Lost hours", "type": "bar", "data": [1234.5, 1800], "label": {"show": True}}],
}


def draw(page, option: dict) -> None:
    """Add a chart to the page as a template would and let charts.js draw it (as after an htmx swap)."""
    page.evaluate(
        """option => {
            const source = document.createElement("script");
            source.type = "application/json"; source.id = "probe"; source.textContent = JSON.stringify(option);
            const box = document.createElement("div");
            box.dataset.chart = "probe"; box.style.cssText = "width: 480px; height: 320px";
            document.querySelector("main").append(source, box);
            document.querySelector("main").dispatchEvent(new Event("htmx:afterSettle", {bubbles: true}));
        }""",
        option,
    )
    page.wait_for_selector("[data-chart=probe][data-drawn] svg")


def test_chart_numbers_follow_turkish_and_tooltips_escape_names(signed_in):
    page = signed_in("viewer", language="tr")
    page.goto("/")
    draw(page, OPTION)
    texts = page.locator("[data-chart=probe] svg text").evaluate_all("texts => texts.map(t => t.textContent)")
    assert "1.234,5" in texts  # the bar's label, Turkish decimals and thousands
    assert "1.800" in texts and "1,800" not in texts  # the value axis

    page.evaluate("echarts.getInstanceByDom(document.querySelector('[data-chart=probe]'))"
                  ".dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0})")  # fmt: skip
    tooltip = page.locator("[data-chart=probe] > div", has_text="Telephony").last  # after the drawing
    tooltip.wait_for()
    assert "&lt;img" in tooltip.inner_html() and "1.234,5" in tooltip.inner_text()
    assert page.locator("img[src=x]").count() == 0 and page.evaluate("window.hacked") is None
    screenshot(page, "charts-probe-tr")
