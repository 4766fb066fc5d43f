"""Apache ECharts options built in Python from plain data, drawn by static/itxm/charts.js.

A page view builds ``Chart`` objects; the ``chart`` template tag writes a container and the option as
JSON (``json_script``, so user text in labels cannot break out). Each chart also carries a short text
summary for screen readers.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

PALETTE = ["#0b5cad", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#1098ad", "#c2255c", "#5c940d"]
GOOD, BAD, NEUTRAL = "#2b8a3e", "#c92a2a", "#868e96"


@dataclass(frozen=True)
class Chart:
    id: str  # unique on the page, letters, digits and _ (a template key): the DOM id of its <script>
    title: str
    option: dict
    summary: str = ""  # read by screen readers in place of the picture
    height: int = 320


def bucket_label(start: date, bucket: str) -> str:
    """A trend point's label on the time axis: the month, or the first day of the week or day."""
    return start.strftime("%Y-%m") if bucket == "month" else start.isoformat()


def _base(title: str = "") -> dict:
    return {
        "color": PALETTE,
        "animation": False,
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 8, "right": 16, "top": 40 if title else 24, "bottom": 8, "containLabel": True},
        "legend": {"type": "scroll", "top": 0},
    }


def line(
    id: str, title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
    y_name: str = "", y_min: float | None = None, y_max: float | None = None, summary: str = "",
    mark_line: tuple[str, float] | None = None,
) -> Chart:  # fmt: skip
    """One line per series over the categories (e.g. weeks); ``None`` leaves a gap (too few answers)."""
    option = _base(title) | {
        "xAxis": {"type": "category", "data": list(categories), "boundaryGap": False},
        "yAxis": {"type": "value", "name": y_name, "min": y_min, "max": y_max},
        "series": [
            {"name": name, "type": "line", "data": list(values), "connectNulls": False, "symbolSize": 6}
            for name, values in series
        ],  # fmt: skip
    }
    if mark_line and option["series"]:
        label, value = mark_line
        option["series"][0]["markLine"] = {
            "symbol": "none", "lineStyle": {"type": "dashed", "color": NEUTRAL},
            "label": {"formatter": label}, "data": [{"yAxis": value}],
        }  # fmt: skip
    return Chart(id, title, option, summary)


def bar(
    id: str, title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
    horizontal: bool = False, stacked: bool = False, x_name: str = "", summary: str = "",
    colors_by_sign: bool = False,
) -> Chart:  # fmt: skip
    """Bars per category; horizontal for ranked lists (the first category on top)."""
    categories = list(categories)
    data_series = []
    for name, values in series:
        data = list(values)
        if colors_by_sign:
            data = [{"value": v, "itemStyle": {"color": GOOD if (v or 0) >= 0 else BAD}} for v in data]
        entry = {"name": name, "type": "bar", "data": data}
        if stacked:
            entry["stack"] = "all"
        data_series.append(entry)
    category_axis = {"type": "category", "data": categories, "axisLabel": {"width": 160, "overflow": "truncate"}}
    value_axis = {"type": "value", "name": x_name}
    option = _base(title) | {"series": data_series, "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}}}
    if horizontal:
        option |= {"xAxis": value_axis, "yAxis": category_axis | {"inverse": True}}
    else:
        option |= {"xAxis": category_axis, "yAxis": value_axis}
    height = max(240, 28 * len(categories) + 80) if horizontal else 320
    return Chart(id, title, option, summary, height)


def heatmap(
    id: str, title: str, columns: Sequence[str], rows: Sequence[str], cells: Sequence[tuple[int, int, float]],
    value_name: str = "", summary: str = "",
) -> Chart:  # fmt: skip
    """``cells`` are (column index, row index, value); negative values red, positive green."""
    values = [abs(value) for _, _, value in cells] or [1]
    bound = max(values) or 1
    option = {
        "animation": False,
        "tooltip": {"position": "top"},
        "grid": {"left": 8, "right": 16, "top": 16, "bottom": 64, "containLabel": True},
        "xAxis": {"type": "category", "data": list(columns), "splitArea": {"show": True},
                  "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "category", "data": list(rows), "splitArea": {"show": True}},
        "visualMap": {"min": -bound, "max": bound, "calculable": True, "orient": "horizontal", "left": "center",
                      "bottom": 0, "text": [value_name, ""], "inRange": {"color": [BAD, "#f8f9fa", GOOD]}},
        "series": [{"name": value_name, "type": "heatmap", "data": [list(cell) for cell in cells],
                    "label": {"show": len(cells) <= 150}}],
    }  # fmt: skip
    return Chart(id, title, option, summary, max(280, 30 * len(rows) + 120))


def gauge(id: str, title: str, value: float | None, low: float, high: float, summary: str = "") -> Chart:
    option = {
        "animation": False,
        "series": [{"type": "gauge", "min": low, "max": high, "progress": {"show": True},
                    "detail": {"formatter": "{value}", "fontSize": 24},
                    "data": [{"value": value if value is not None else 0, "name": title}]}],
    }  # fmt: skip
    return Chart(id, title, option, summary, 220)
