"""The watermelon board (SLA met, people unhappy) and the priorities ("fix these first"), with the hotspot
grid, how concentrated lost time is and the work time given back since a chosen day."""

import math
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, path, reverse
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itxm.analytics import services as analytics
from itxm.web import charts
from itxm.web.filters import FILTER_KEYS, Select
from itxm.web.pages import factor_label, member_label, page_context, render_page
from itxm.web.tables import Column, Table

DIMENSION_NAMES = {
    "service": gettext_lazy("Service"),
    "category": gettext_lazy("Category"),
    "group": gettext_lazy("Group"),
    "supplier": gettext_lazy("Supplier"),
    "location": gettext_lazy("Location"),
    "country": gettext_lazy("Country"),
    "department": gettext_lazy("Department"),
    "channel": gettext_lazy("Channel"),
    "priority": gettext_lazy("Priority"),
    "kind": gettext_lazy("Ticket kind"),
}
# Teams and places, not people: a board that ranks single agents would read as blame.
MELON_DIMENSIONS = ("service", "category", "group", "supplier", "location", "country", "department", "channel",
                    "priority")  # fmt: skip
PRIORITY_DIMENSIONS = ("service", "category", "group")
GRID_DIMENSIONS = tuple(DIMENSION_NAMES)
HAPPINESS_TARGETS = (-20, -10, 0, 10, 20, 30, 40, 50, 60, 70, 80)
SLA_TARGETS = (70, 75, 80, 85, 90, 95, 98, 99)
REFERENCE_NAMES = {
    "target": gettext_lazy("the happiness target"),
    "baseline": gettext_lazy("the whole organisation"),
    "previous": gettext_lazy("the previous period"),
}
RANK_NAMES = {
    "impact": gettext_lazy("Impact"),
    "lost_hours": gettext_lazy("Lost hours"),
    "lost_cost": gettext_lazy("Cost of lost time"),
    "volume": gettext_lazy("Tickets"),
}
# The grid chart keeps the rows that cost the most and the busiest columns; its table the worst cells.
GRID_ROWS, GRID_COLUMNS, GRID_TABLE_ROWS = 20, 12, 20
PRODUCTIVITY_DAYS = 90
THIN = "#e9ecef"  # cells with too few answers: no verdict colour


# --- reading the page's own fields ----------------------------------------------------------------


def _choice(request, errors: list[str], name: str, label: str, choices, default: str) -> Select:
    """A Select; a value that is not one of its choices is reported and the default shown."""
    select = Select.read(request, name, label, choices, default)
    given = request.GET.get(name, "")
    if given and given != select.value:
        errors.append(
            _("“%(value)s” is not a choice for %(field)s; showing %(shown)s.")
            % {"value": given, "field": label, "shown": dict(select.choices)[select.value]}
        )
    return select


def _number_key(value: float) -> str:
    return f"{value:g}"


def _target(
    request, errors: list[str], name: str, label: str, steps, default: float, low: float, high: float,
    signed: bool = False,
) -> tuple[Select, float]:  # fmt: skip
    """A numeric target from the query string: any number in range (shown among the usual steps);
    anything else is reported and the default used."""
    value = float(default)
    given = request.GET.get(name, "").strip()
    if given:
        try:
            number = float(given)
        except ValueError:
            number = math.nan
        if math.isfinite(number) and low <= number <= high:
            value = number
        else:
            errors.append(
                _("%(field)s must be a number from %(low)s to %(high)s; showing %(shown)s.")
                % {
                    "field": label,
                    "low": _plain_number(low),
                    "high": _plain_number(high),
                    "shown": _plain_number(value),
                }
            )
    values = sorted({float(step) for step in steps} | {value})
    choices = [(_number_key(v), ("+" if signed and v > 0 else "") + _plain_number(v)) for v in values]
    return Select(name, label, tuple(choices), _number_key(value)), value


def _since(request, errors: list[str], period) -> date:
    """The day from which productivity gained is counted: 90 days before the period's end unless given."""
    default = period.end - timedelta(days=PRODUCTIVITY_DAYS)
    given = request.GET.get("since", "").strip()
    if not given:
        return default
    try:
        day = date.fromisoformat(given)
    except ValueError:
        errors.append(_("“%(value)s” is not a day (YYYY-MM-DD); counting from %(shown)s.")
                      % {"value": given, "shown": date_format(default, "SHORT_DATE_FORMAT")})  # fmt: skip
        return default
    if day >= period.end:
        errors.append(_("Pick a day before the end of the period; counting from %(shown)s.")
                      % {"shown": date_format(default, "SHORT_DATE_FORMAT")})  # fmt: skip
        return default
    return day


# --- formatting ---------------------------------------------------------------------------------


def _member_link(dimension: str, member: str, filters) -> str:
    """The member's page in Explore, keeping the period and the narrowing filters (not this page's fields)."""
    try:
        url = reverse("explore_member", args=[dimension, member])
    except NoReverseMatch:  # the Explore area is not installed: no link (as the menu leaves it out)
        return ""
    kept = {key: filters.params[key] for key in FILTER_KEYS if filters.params.get(key)}
    return f"{url}?{urlencode(kept)}" if kept else url


def _interval(interval) -> str:
    if interval is None:
        return ""
    return _("%(low)s to %(high)s") % {"low": _signed(interval.low), "high": _signed(interval.high)}


def _plain_number(value: float) -> str:
    return number_format(int(value)) if float(value).is_integer() else number_format(value)


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + number_format(value, 1)


def _factors(factors: list[dict]) -> str:
    return ", ".join(
        _("%(factor)s (%(share)s %%)") % {"factor": factor_label(f), "share": number_format(f["share"], 0)}
        for f in factors
    )


# --- watermelons --------------------------------------------------------------------------------


def watermelons(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    errors: list[str] = []
    dimension = _choice(request, errors, "dimension", _("Dimension"),
                        [(d, DIMENSION_NAMES[d]) for d in MELON_DIMENSIONS], "service")  # fmt: skip
    sla_field, sla_target = _target(request, errors, "sla_target", _("SLA target %"), SLA_TARGETS,
                                    settings.ANALYTICS_SLA_TARGET, 0, 100)  # fmt: skip
    happy_field, happiness_target = _target(request, errors, "happiness_target", _("Happiness target"),
                                            HAPPINESS_TARGETS, settings.ANALYTICS_HAPPINESS_TARGET, -100, 100,
                                            signed=True)  # fmt: skip
    chosen = dimension.value
    result = analytics.watermelons(scope, chosen, found.period, sla_target, happiness_target,
                                   found.analytics_filters())  # fmt: skip
    melons = [_melon_row(chosen, melon, found) for melon in result["watermelons"]]
    reverse_rows = [_melon_row(chosen, melon, found) for melon in result["reverse"]]
    name = str(DIMENSION_NAMES[chosen])
    tables = [
        Table("watermelons", _("Watermelons: SLA met, people unhappy"), _melon_columns(name), melons,
              _("No watermelons: where the SLA is met, people are happy too (or too few answered to judge). "
                "Try a longer period, another dimension or other targets.")),
        Table("reverse", _("The reverse: SLA breached, people happy (the target may be wrong)"),
              _melon_columns(name), reverse_rows,
              _("None: wherever the SLA is breached, people are unhappy too (or too few answered to judge).")),
    ]  # fmt: skip
    shown = melons or reverse_rows
    page_charts = [_quadrant_chart(melons, reverse_rows, sla_target, happiness_target)] if shown else []
    if melons:
        page_charts.append(_paired_chart(melons))
    context |= {
        "page_fields": [dimension, sla_field, happy_field],
        "page_errors": errors,
        "sla_target": _plain_number(sla_target),
        "happiness_target": ("+" if happiness_target > 0 else "") + _plain_number(happiness_target),
        "min_answers": analytics.min_answers(),
    }
    return render_page(request, "web/experience/watermelons.html", context, tables, page_charts)


def _melon_row(dimension: str, melon, filters) -> dict:
    return {
        "label": member_label(dimension, melon.member, melon.label),
        "sla": melon.sla_compliance, "itxm_sla": melon.itxm_sla_compliance, "happiness": melon.happiness,
        "interval": _interval(melon.happiness_interval), "answers": melon.responses, "lost_hours": melon.lost_hours,
        "lost_cost": melon.lost_cost, "factors": _factors(melon.negative_factors),
        "link": _member_link(dimension, melon.member, filters),
    }  # fmt: skip


def _melon_columns(name: str) -> list[Column]:
    return [
        Column("label", name, link="link"),
        Column("sla", _("Source SLA met %"), "percent", help=_("As the ticketing tool reports it")),
        Column("itxm_sla", _("ITXM SLA met %"), "percent", help=_("Measured by ITXM's own SLA definitions")),
        Column("happiness", _("Happiness"), "signed"),
        Column("interval", _("Interval (95 %)")),
        Column("answers", _("Answers"), "int"),
        Column("lost_hours", _("Lost hours"), "hours"),
        Column("lost_cost", _("Cost of lost time"), "money"),
        Column("factors", _("Most named problems")),
    ]


def _quadrant_chart(melons: list[dict], reverse_rows: list[dict], sla_target: float, happiness_target: float):
    """SLA compliance against happiness: watermelons sit right of the SLA target and below the happiness target."""
    points = melons + reverse_rows
    low = min([row["sla"] for row in points] + [sla_target])
    x_min = max(0, math.floor((low - 5) / 10) * 10)
    middle = (x_min + 100) / 2

    def series(name: str, rows: list[dict], color: str) -> dict:
        # Names to the left of the points in the right half, so that they stay inside the chart.
        return {
            "name": name, "type": "scatter", "symbolSize": 14, "itemStyle": {"color": color},
            "data": [{"name": row["label"], "value": [row["sla"], row["happiness"]],
                      "label": {"position": "left" if row["sla"] > middle else "right"}} for row in rows],
            "label": {"show": len(points) <= 20, "formatter": "{b}", "fontSize": 12},
        }  # fmt: skip

    melon_series = series(_("Watermelons"), melons, charts.BAD)
    melon_series["markLine"] = {
        "symbol": "none", "silent": True, "lineStyle": {"type": "dashed", "color": charts.NEUTRAL},
        "label": {"formatter": "{b}", "position": "insideEndTop", "color": charts.NEUTRAL},
        "data": [{"name": _("SLA target"), "xAxis": sla_target},
                 {"name": _("Happiness target"), "yAxis": happiness_target}],
    }  # fmt: skip
    melon_series["markArea"] = {
        "silent": True, "itemStyle": {"color": "rgba(201, 42, 42, 0.06)"},
        "data": [[{"xAxis": sla_target, "yAxis": -100}, {"xAxis": 100, "yAxis": happiness_target}]],
    }  # fmt: skip
    option = {
        "color": charts.PALETTE, "animation": False,
        "tooltip": {"trigger": "item", "formatter": "{a}<br>{b}: {c}"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 24, "top": 52, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value", "name": _("SLA met %"), "min": x_min, "max": 100, "nameLocation": "middle",
                  "nameGap": 28},
        "yAxis": {"type": "value", "name": _("Happiness"), "min": -100, "max": 100},
        "series": [melon_series, series(_("SLA breached, people happy"), reverse_rows, "#e67700")],
    }  # fmt: skip
    summary = "; ".join(
        _("%(name)s: SLA met %(sla)s %%, happiness %(happiness)s")
        % {"name": row["label"], "sla": number_format(row["sla"], 1), "happiness": _signed(row["happiness"])}
        for row in points
    )
    return charts.Chart("melon_quadrant", _("SLA compliance against happiness"), option, summary, 380)


def _paired_chart(melons: list[dict]):
    """Per watermelon, what the SLA says beside what people say."""
    labels = [row["label"] for row in melons]
    return charts.bar(
        "melon_pairs", _("What the SLA says, what people say"), labels,
        [(_("Source SLA met %"), [row["sla"] for row in melons]),
         (_("ITXM SLA met %"), [row["itxm_sla"] for row in melons]),
         (_("Happiness"), [row["happiness"] for row in melons])],
        horizontal=True,
        summary=_("For each watermelon, the share of SLAs met (as the source and as ITXM measure it) beside "
                  "its happiness."),
    )  # fmt: skip


# --- priorities ---------------------------------------------------------------------------------


def priorities(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    narrowed = found.analytics_filters()
    errors: list[str] = []
    fields = [
        _choice(request, errors, "dimension", _("Dimension"),
                [(d, DIMENSION_NAMES[d]) for d in PRIORITY_DIMENSIONS], "service"),
        _choice(request, errors, "reference", _("Compared with"), REFERENCE_NAMES.items(), "target"),
        _choice(request, errors, "rank_by", _("Rank by"), RANK_NAMES.items(), "impact"),
        _choice(request, errors, "rows", _("Grid rows"), [(d, DIMENSION_NAMES[d]) for d in GRID_DIMENSIONS],
                "service"),
        _choice(request, errors, "columns", _("Grid columns"), [(d, DIMENSION_NAMES[d]) for d in GRID_DIMENSIONS],
                "country"),
    ]  # fmt: skip
    dimension, reference, rank_by, grid_rows, grid_columns = (field.value for field in fields)
    since = _since(request, errors, found.period)

    ranked = analytics.priorities(scope, dimension, found.period, reference, rank_by=rank_by, filters=narrowed)
    if grid_rows == grid_columns:
        errors.append(_("The grid needs two different dimensions for its rows and columns."))
        grid = None
    else:
        grid = analytics.hotspots(scope, grid_rows, grid_columns, found.period, narrowed)
    concentration = analytics.lost_time_concentration(scope, found.period, narrowed)
    gained = analytics.productivity_gained(scope, since, found.period.end, PRODUCTIVITY_DAYS, narrowed)

    name = str(DIMENSION_NAMES[dimension])
    rows = [_priority_row(dimension, row, found) for row in ranked["rows"]]
    tables = [
        Table("priorities", _("Fix these first"), _priority_columns(name), rows,
              _("Nothing to rank: no member of this dimension has tickets or answers in this period. Try a longer "
                "period or fewer filters.")),
        _grid_table(grid, grid_rows, grid_columns, found),
        _productivity_table(gained),
    ]  # fmt: skip
    page_charts = []
    if any(row["impact"] is not None for row in rows):
        page_charts.append(_impact_chart(rows))
    if grid and grid["cells"]:
        page_charts.append(_grid_chart(grid, grid_rows, grid_columns))
    if concentration.get("curve"):
        page_charts.append(_curve_chart(concentration["curve"]))
    if gained["weeks"]:
        page_charts.append(_productivity_chart(gained["weeks"]))
    context |= {
        "page_fields": fields,
        "page_errors": errors,
        "ranked": ranked,
        "dimension_name": name,
        "grid": grid,
        "grid_names": (DIMENSION_NAMES[grid_rows], DIMENSION_NAMES[grid_columns]),
        "concentration": concentration,
        "gained": gained,
        "since": since,
        "since_fields": [(key, value) for key, value in found.params.items() if key != "since"],
        "min_answers": analytics.min_answers(),
    }
    return render_page(request, "web/experience/priorities.html", context, tables, page_charts)


def _priority_row(dimension: str, row: dict, filters) -> dict:
    change = row["change"]
    return {
        "label": member_label(dimension, row["member"], row["label"]), "impact": row["impact"],
        "happiness": row["happiness"], "interval": _interval(row["happiness_interval"]), "answers": row["responses"],
        "lost_hours": row["lost_hours"], "lost_cost": row["lost_cost"], "volume": row["volume"],
        "factors": _factors(row["top_negative_factors"]), "happiness_change": change["happiness"],
        "lost_hours_change": change["lost_hours"], "volume_change": change["opened"],
        "link": _member_link(dimension, row["member"], filters), "enough_answers": row["enough_answers"],
    }  # fmt: skip


def _priority_columns(name: str) -> list[Column]:
    return [
        Column("label", name, link="link"),
        Column("impact", _("Impact"), "signed",
               help=_("Answers × (happiness − reference) / 100: how many answers' worth of happiness it costs")),
        Column("happiness", _("Happiness"), "signed"),
        Column("interval", _("Interval (95 %)")),
        Column("answers", _("Answers"), "int"),
        Column("lost_hours", _("Lost hours"), "hours"),
        Column("lost_cost", _("Cost of lost time"), "money"),
        Column("volume", _("Tickets"), "int"),
        Column("factors", _("Most named problems")),
        Column("happiness_change", _("Happiness change"), "signed", help=_("Since the previous period")),
        Column("lost_hours_change", _("Lost hours change"), "signed", help=_("Since the previous period")),
        Column("volume_change", _("Tickets change"), "signed", help=_("Since the previous period")),
    ]  # fmt: skip


def _impact_chart(rows: list[dict]):
    shown = [row for row in rows if row["impact"] is not None]
    chart = charts.bar(
        "impact", _("Impact on happiness"), [row["label"] for row in shown],
        [(_("Impact"), [row["impact"] for row in shown])], horizontal=True, colors_by_sign=True,
        summary="; ".join(f"{row['label']}: {_signed(row['impact'])}" for row in shown),
    )  # fmt: skip
    bars = chart.option["series"][0]
    bars["barMaxWidth"] = 28
    for bar, row in zip(bars["data"], shown, strict=True):
        if not row["enough_answers"]:  # too few answers: no verdict colour
            bar["itemStyle"]["color"] = charts.NEUTRAL
    chart.option["grid"]["top"] = 8
    return _single(chart)


def _grid_table(grid: dict | None, rows: str, columns: str, filters) -> Table:
    cells = grid["cells"][:GRID_TABLE_ROWS] if grid else []
    found = [
        {"row": member_label(rows, c["row"], c["row_label"]),
         "column": member_label(columns, c["column"], c["column_label"]),
         "impact": c["impact"], "happiness": c["happiness"], "answers": c["answers"],
         "judged": _("yes") if c["enough_answers"] else _("too few answers"), "lost_hours": c["lost_hours"],
         "lost_cost": c["lost_cost"], "link": _member_link(rows, c["row"], filters)}
        for c in cells
    ]  # fmt: skip
    return Table(
        "hotspots", _("Hotspots: the cells that cost the most happiness"),
        [Column("row", str(DIMENSION_NAMES[rows]), link="link"), Column("column", str(DIMENSION_NAMES[columns])),
         Column("impact", _("Impact"), "signed"), Column("happiness", _("Happiness"), "signed"),
         Column("answers", _("Answers"), "int"), Column("judged", _("Enough answers")),
         Column("lost_hours", _("Lost hours"), "hours"), Column("lost_cost", _("Cost of lost time"), "money")],
        found, _("No answers in this period to place on the grid."),
    )  # fmt: skip


def _grid_chart(grid: dict, row_dimension: str, column_dimension: str):
    """The heatmap of impact: the rows that cost the most on top, the busiest columns; cells with too few
    answers are grey (no verdict colour)."""
    cells = grid["cells"]
    row_impact: dict[str, float] = {}
    column_answers: dict[str, int] = {}
    names: dict[tuple[str, str], str] = {}
    for cell in cells:
        row_impact[cell["row"]] = row_impact.get(cell["row"], 0) + (cell["impact"] or 0)
        column_answers[cell["column"]] = column_answers.get(cell["column"], 0) + cell["answers"]
        names["row", cell["row"]] = member_label(row_dimension, cell["row"], cell["row_label"])
        names["column", cell["column"]] = member_label(column_dimension, cell["column"], cell["column_label"])
    rows = sorted(row_impact, key=lambda r: (row_impact[r], names["row", r]))[:GRID_ROWS]
    columns = sorted(column_answers, key=lambda c: (-column_answers[c], names["column", c]))[:GRID_COLUMNS]
    row_at, column_at = {r: i for i, r in enumerate(rows)}, {c: i for i, c in enumerate(columns)}
    judged, thin = [], []
    for cell in cells:
        if cell["row"] in row_at and cell["column"] in column_at and cell["impact"] is not None:
            point = (column_at[cell["column"]], row_at[cell["row"]], cell["impact"])
            (judged if cell["enough_answers"] else thin).append(point)
    worst = min(cells, key=lambda c: c["impact"] if c["impact"] is not None else 0)
    summary = _("Impact per cell; the worst is %(row)s × %(column)s with %(impact)s.") % {
        "row": names["row", worst["row"]], "column": names["column", worst["column"]],
        "impact": _signed(worst["impact"] or 0),
    }  # fmt: skip
    chart = charts.heatmap(
        "hotspots", _("Impact on happiness by %(rows)s and %(columns)s")
        % {"rows": DIMENSION_NAMES[row_dimension], "columns": DIMENSION_NAMES[column_dimension]},
        [names["column", c] for c in columns], [names["row", r] for r in rows], judged, _("Impact"), summary,
    )  # fmt: skip
    option = chart.option
    option["yAxis"] |= {"inverse": True, "axisLabel": {"width": 140, "overflow": "truncate"}}  # worst on top
    option["visualMap"]["seriesIndex"] = 0
    option["series"].append({
        "name": _("Too few answers"), "type": "heatmap", "data": [list(point) for point in thin],
        "itemStyle": {"color": THIN}, "label": {"show": len(cells) <= 150, "color": charts.NEUTRAL},
    })  # fmt: skip
    return charts.Chart(chart.id, chart.title, option, chart.summary, chart.height)


def _curve_chart(curve: list) -> charts.Chart:
    """The answers that lost most first: how fast the lost time adds up."""
    chart = charts.line(
        "lost_curve", _("Share of lost time by share of answers"), [f"{_plain_number(x)} %" for x, _y in curve],
        [(_("Share of lost time %"), [y for _x, y in curve])], y_name="%", y_min=0, y_max=100,
        mark_line=(_("%(share)s %% of lost time") % {"share": 80}, 80),
        summary=_("Cumulative share of lost time, the answers that lost most first."),
    )  # fmt: skip
    return _single(chart, mark_label_inside=True)


def _productivity_table(gained: dict) -> Table:
    rows = [
        {"start": week["start"], "answers": week["answers"], "per_answer": week["lost_minutes_per_answer"],
         "gained": _no_minus_zero(week["gained_work_days"]), "cumulative": _no_minus_zero(week["cumulative_work_days"])}
        for week in gained["weeks"]
    ]  # fmt: skip
    return Table(
        "productivity", _("Work time given back per week"),
        [Column("start", _("Week from"), "date"), Column("answers", _("Answers"), "int"),
         Column("per_answer", _("Minutes lost per answer"), "number"),
         Column("gained", _("Work days given back"), "signed"),
         Column("cumulative", _("Work days given back so far"), "signed")],
        rows, _("Nothing to compare: no lost time was reported before this day, or none since."),
    )  # fmt: skip


def _no_minus_zero(value: float | None) -> float | None:
    return None if value is None else value or 0.0  # round(-0.04, 1) is -0.0: show 0.0


def _productivity_chart(weeks: list[dict]) -> charts.Chart:
    return _single(charts.line(
        "productivity", _("Work days given back so far"), [week["start"].isoformat() for week in weeks],
        [(_("Work days"), [week["cumulative_work_days"] for week in weeks])], y_name=_("work days"),
        summary=_("Work days given back since the chosen day, added up week by week."),
    ))  # fmt: skip


def _single(chart: charts.Chart, mark_label_inside: bool = False) -> charts.Chart:
    """One series: the title says what it is, a legend would only take room."""
    chart.option["legend"] = {"show": False}
    if mark_label_inside:
        chart.option["series"][0]["markLine"]["label"]["position"] = "insideStartTop"
    return chart


urlpatterns = [
    path("watermelons/", watermelons, name="watermelons"),
    path("priorities/", priorities, name="priorities"),
]
