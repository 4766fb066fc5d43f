"""Journeys: the paths tickets take through groups and states (and which of them hurt), the channels
people come by (and the services whose people avoid the portal), and what drives scores, lost time and
resolution times."""

from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from itxm.analytics import drivers as driver_analysis
from itxm.analytics import journeys as journey_analysis
from itxm.analytics import services as analytics
from itxm.org import queries as org
from itxm.web import charts
from itxm.web.filters import Select
from itxm.web.pages import factor_label, member_label, page_context, render_page
from itxm.web.tables import Column, Table

SUB_NAV = (("journeys", gettext_lazy("Paths")), ("channels", gettext_lazy("Channels")),
           ("drivers", gettext_lazy("Drivers")))  # fmt: skip
# The page's own query keys: left out of the links between the three pages.
PAGE_KEYS = ("path", "limit", "outcome")
STEP = " → "
PING_PONG_MARK = "⇄ "
LIMITS = ("15", "30", "50")
# The ping-pong variants of a busy service sit just below the top 20 paths: 30 shows them.
DEFAULT_LIMIT = "30"
INK = "#1b1f24"
ABOUT_AVERAGE = "#4c7fc0"


def _sub_nav(request, found) -> list[dict]:
    keep = found.query(**dict.fromkeys(PAGE_KEYS))
    current = request.resolver_match.url_name
    suffix = f"?{keep}" if keep else ""
    return [{"url": reverse(name) + suffix, "label": label, "current": name == current} for name, label in SUB_NAV]


def _number(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else number_format(value, decimals, force_grouping=True)


def _yes(flag: bool) -> str:
    return _("yes") if flag else _("no")


# --- paths ----------------------------------------------------------------------------------------


def journeys(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    kind = Select.read(request, "path", _("Path through"), (("group", _("Groups")), ("state", _("States"))), "group")
    shown = Select.read(request, "limit", _("Paths shown"), [(n, n) for n in LIMITS], DEFAULT_LIMIT)
    variants = journey_analysis.variants(scope, found.period, kind.value, filters=found.analytics_filters(),
                                         limit=int(shown.value))  # fmt: skip
    rows = _variant_rows(variants, kind.value, _hidden_groups(scope, kind.value))
    table = _variant_table(rows, kind.value)
    chart = [_variant_chart(rows)] if rows else []
    context |= {
        "page_fields": [kind, shown], "sub_nav": _sub_nav(request, found), "rows": rows, "kind": kind.value,
        "hurting": [row for row in rows if row["hurts"]], "ping_pong": [row for row in rows if row["ping_pong"]],
        "ping_pong_tickets": sum(row["tickets"] for row in rows if row["ping_pong"]),
        "min_answers": analytics.min_answers(), "margin": journey_analysis.HURT_MARGIN, "bands": _bands(),
    }  # fmt: skip
    return render_page(request, "web/journeys/variants.html", context, [table], chart)


def _hidden_groups(scope, kind: str):
    """A restricted reader sees its own groups in a path; the others are named "another group" (a ticket
    passed to a supplier's group may have come from another supplier's)."""
    if kind != "group" or scope.group_ids is None:
        return None
    return set(org.groups(scope).values_list("external_id", flat=True))


def _is_ping_pong(codes: tuple[str, ...]) -> bool:
    """Back to a group the ticket had left: A → B → A."""
    return any(code in codes[:index - 1] for index, code in enumerate(codes) if index > 1)  # fmt: skip


def _variant_rows(variants, kind: str, visible: set[str] | None) -> list[dict]:
    enough = analytics.min_answers()
    rows = []
    for rank, variant in enumerate(variants, start=1):
        steps = []
        for index, (code, name) in enumerate(zip(variant.codes, variant.path, strict=True)):
            hidden = visible is not None and code not in visible
            steps.append({"name": _("another group") if hidden else name,
                          "back": kind == "group" and code in variant.codes[: max(index - 1, 0)]})  # fmt: skip
        ping_pong = kind == "group" and _is_ping_pong(variant.codes)
        judged = variant.answers >= enough and variant.happiness is not None
        rows.append({
            "rank": rank, "steps": steps, "label": STEP.join(step["name"] for step in steps),
            "tickets": variant.tickets, "share": variant.share, "median_hours": variant.median_hours,
            "p90_hours": variant.p90_hours, "reassignments": variant.mean_reassignments,
            "sla": variant.sla_compliance, "reopen_rate": variant.reopen_rate, "answers": variant.answers,
            "happiness": variant.happiness, "gap": variant.gap, "lost_minutes": variant.lost_minutes_per_answer,
            "hurts": variant.hurts, "ping_pong": ping_pong, "happy_path": variant.happy_path, "judged": judged,
            "sampled": variant.sampled,
            "hurts_text": _yes(variant.hurts), "ping_pong_text": _yes(ping_pong),
        })  # fmt: skip
    return rows


def _variant_table(rows: list[dict], kind: str) -> Table:
    title = _("Most frequent paths through groups") if kind == "group" else _("Most frequent paths through states")
    return Table(
        "variants", title,
        [Column("rank", _("Rank"), "int"), Column("label", _("Path")), Column("hurts_text", _("Hurts")),
         Column("ping_pong_text", _("Ping-pong")), Column("tickets", _("Tickets"), "int"),
         Column("share", _("Share %"), "percent"), Column("median_hours", _("Median hours"), "hours"),
         Column("p90_hours", _("9 in 10 within (hours)"), "hours"),
         Column("reassignments", _("Reassignments per ticket"), "number"),
         Column("sla", _("SLA compliance %"), "percent"), Column("reopen_rate", _("Reopened %"), "percent"),
         Column("answers", _("Answers"), "int"), Column("happiness", _("Happiness"), "signed"),
         Column("gap", _("Against all paths"), "signed"),
         Column("lost_minutes", _("Lost minutes per answer"), "number")],
        rows,
        _("No resolved tickets with a path in this period and these filters. Paths come from the assignment and "
          "state history of resolved tickets: try a longer period or another service."),
    )  # fmt: skip


def _band(row: dict) -> str:
    if not row["judged"]:
        return "few"
    if row["hurts"]:
        return "hurts"
    return "happier" if (row["gap"] or 0) > journey_analysis.HURT_MARGIN else "level"


def _bands() -> list[dict]:
    """The colours of the paths' bars and what they mean (the page writes the legend, so it wraps)."""
    margin = journey_analysis.HURT_MARGIN
    return [
        {"band": "hurts", "color": charts.BAD,
         "label": _("Hurts: more than %(margin)s points below all paths") % {"margin": margin}},
        {"band": "level", "color": ABOUT_AVERAGE, "label": _("Near the happiness of all paths")},
        {"band": "happier", "color": charts.GOOD,
         "label": _("More than %(margin)s points above all paths") % {"margin": margin}},
        {"band": "few", "color": charts.NEUTRAL, "label": _("Too few answers to judge")},
    ]  # fmt: skip


def _variant_chart(rows: list[dict]) -> charts.Chart:
    """Tickets per path, one bar each with its path written above it, coloured by how happy people were."""
    names = [f"{row['rank']}. " + (PING_PONG_MARK if row["ping_pong"] else "") + row["label"] for row in rows]
    series = [
        {"name": band["label"], "type": "bar", "stack": "paths", "barWidth": 10, "itemStyle": {"color": band["color"]},
         "data": [row["tickets"] if _band(row) == band["band"] else None for row in rows],
         "label": {"show": True, "position": [0, -15], "formatter": "{b}", "color": INK, "fontSize": 12}}
        for band in _bands()
    ]  # fmt: skip
    option = {
        "animation": False,
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"show": False},
        "grid": {"left": 8, "right": 24, "top": 8, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "value"},
        "yAxis": {"type": "category", "inverse": True, "data": names, "axisLabel": {"show": False},
                  "axisTick": {"show": False}},
        "series": series,
    }  # fmt: skip
    summary = _("Tickets per path, most frequent first; red bars are paths people were much less happy with, "
                "paths marked ⇄ come back to a group they had left.")  # fmt: skip
    return charts.Chart("variants", _("Tickets per path, coloured by happiness"), option, summary, 38 * len(rows) + 40)


# --- channels -------------------------------------------------------------------------------------


def channels(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    report = journey_analysis.channels(scope, found.period, filters=found.analytics_filters())
    enough = analytics.min_answers()
    rows = [_channel_row(figures, enough) for figures in report.channels]
    avoided = [_avoided_row(service) for service in report.avoided]
    tables = [_channel_table(rows), _avoided_table(avoided)]
    chart_list = _channel_charts(rows, enough) if rows else []
    context |= {"sub_nav": _sub_nav(request, found), "report": report, "rows": rows, "avoided": avoided,
                "min_answers": enough, "ratio": round(100 * journey_analysis.AVOIDED_RATIO),
                "min_tickets": journey_analysis.AVOIDED_MIN_TICKETS}  # fmt: skip
    return render_page(request, "web/journeys/channels.html", context, tables, chart_list)


def _uses(uses) -> str:
    return ", ".join(f"{use.label or use.code or _('no service')} ({_number(use.share)} %)" for use in uses)


def _channel_row(figures, enough: int) -> dict:
    return {
        "channel": figures.channel, "label": member_label("channel", figures.channel, figures.label),
        "tickets": figures.tickets, "share": figures.share, "top_services": _uses(figures.top_services),
        "answers": figures.answers, "happiness": figures.happiness, "judged": figures.answers >= enough,
        "lost_minutes": figures.lost_minutes_per_answer, "reopen_rate": figures.reopen_rate,
        "resolution_hours": figures.mean_resolution_hours,
    }  # fmt: skip


def _factors(found) -> str:
    return ", ".join(f"{factor_label(item)} ({item.answers})" for item in found)


def _avoided_row(service) -> dict:
    return {
        "label": service.label, "code": service.code, "tickets": service.tickets, "portal": service.portal_tickets,
        "portal_share": service.portal_share, "overall": service.overall_portal_share,
        "portal_factors": _factors(service.portal_factors), "other_factors": _factors(service.other_factors),
        "portal_list": [(factor_label(f), f.answers) for f in service.portal_factors],
        "other_list": [(factor_label(f), f.answers) for f in service.other_factors],
    }  # fmt: skip


def _channel_table(rows: list[dict]) -> Table:
    return Table(
        "channels", _("Channels"),
        [Column("label", _("Channel")), Column("tickets", _("Tickets opened"), "int"),
         Column("share", _("Share %"), "percent"), Column("top_services", _("Mostly about")),
         Column("answers", _("Answers"), "int"), Column("happiness", _("Happiness"), "signed"),
         Column("lost_minutes", _("Lost minutes per answer"), "number"),
         Column("reopen_rate", _("Reopened %"), "percent"),
         Column("resolution_hours", _("Mean resolution hours"), "hours")],
        rows, _("No tickets were opened in this period with these filters."),
    )  # fmt: skip


def _avoided_table(rows: list[dict]) -> Table:
    return Table(
        "avoided", _("Services people avoid the portal for"),
        [Column("label", _("Service")), Column("code", _("Code")), Column("tickets", _("Tickets opened"), "int"),
         Column("portal", _("By the portal"), "int"), Column("portal_share", _("Portal share %"), "percent"),
         Column("overall", _("Portal share of all services %"), "percent"),
         Column("other_factors", _("Why: complaints about its tickets by other channels")),
         Column("portal_factors", _("Complaints about its portal tickets"))],
        rows,
        _("No service is avoided: every service with enough tickets comes by the portal at least half as often as "
          "all services do."),
    )  # fmt: skip


def _channel_charts(rows: list[dict], enough: int) -> list[charts.Chart]:
    mix = {
        "color": charts.PALETTE, "animation": False, "tooltip": {"trigger": "item", "formatter": "{b}: {c} ({d} %)"},
        "legend": {"type": "scroll", "bottom": 0},
        "series": [{"name": _("Tickets opened"), "type": "pie", "radius": ["38%", "66%"], "center": ["50%", "45%"],
                    "percentPrecision": 1, "minShowLabelAngle": 12,
                    "label": {"formatter": "{b}\n{d} %", "lineHeight": 16},
                    "data": [{"name": row["label"], "value": row["tickets"]} for row in rows]}],
    }  # fmt: skip
    judged = [row["happiness"] if row["judged"] else None for row in rows]
    return [
        charts.Chart("channel_mix", _("Channel mix"), mix,
                     _("Share of the tickets opened by each channel."), 320),
        charts.bar(
            "channel_happiness", _("Happiness per channel"), [row["label"] for row in rows],
            [(_("Happiness"), judged)], horizontal=True, colors_by_sign=True, x_name=_("Happiness"),
            summary=_("Happiness per channel; channels with fewer than %(count)s answers are left out.")
            % {"count": enough},
        ),
    ]  # fmt: skip


# --- drivers --------------------------------------------------------------------------------------


OUTCOMES = (
    ("score", gettext_lazy("Score (0–10)")),
    ("lost_minutes", gettext_lazy("Work time lost (minutes)")),
    ("resolution_hours", gettext_lazy("Resolution time (hours)")),
)
UNITS = {"points": gettext_lazy("points"), "minutes": gettext_lazy("minutes"), "hours": gettext_lazy("hours")}
JOURNEY_NAMES = {
    "reassignments": gettext_lazy("Reassignments (each)"),
    "reopens": gettext_lazy("Reopenings (each)"),
    "waiting_hours": gettext_lazy("Hours on hold (each)"),
}
CONTROL_NAMES = {
    "service": gettext_lazy("service"), "kind": gettext_lazy("incident or request"),
    "country": gettext_lazy("country"), "group": gettext_lazy("resolving group"),
}  # fmt: skip


def drivers(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    outcome = Select.read(request, "outcome", _("Explain"), OUTCOMES, "score")
    report = driver_analysis.drivers(scope, found.period, outcome.value, filters=found.analytics_filters())
    names = _driver_names()
    rows = [_effect_row(effect, outcome.value, names) for effect in report.effects]
    table = _driver_table(rows, report, dict(OUTCOMES)[outcome.value])
    chart = [_forest(rows, report, dict(OUTCOMES)[outcome.value])] if rows else []
    context |= {
        "page_fields": [outcome], "sub_nav": _sub_nav(request, found), "report": report, "rows": rows,
        "clear": [row for row in rows if row["significant"]],
        "outcome_label": dict(OUTCOMES)[outcome.value], "notes": _driver_notes(report),
        "why_empty": _why_empty(report) if not rows else "",
    }  # fmt: skip
    return render_page(request, "web/journeys/drivers.html", context, [table], chart)


def _driver_names() -> dict[str, str]:
    names = {key: str(label) for key, label in JOURNEY_NAMES.items()}
    turkish = get_language() == "tr"
    for key, (_polarity, english, translated) in analytics.factor_polarities().items():
        names[f"factor:{key}"] = _("Naming “%(factor)s”") % {"factor": translated if turkish else english}
    return names


def _level(kind: str, level: str) -> str:
    if kind == "priority":
        return f"P{level}" if level else _("no priority")
    if kind == "channel":
        return member_label("channel", level, level or _("unknown"))
    return level


def _driver_name(name: str, names: dict[str, str]) -> str:
    if name in names:
        return names[name]
    kind, _sep, level = name.partition(":")
    if kind == "channel":
        return _("Channel: %(channel)s") % {"channel": _level(kind, level)}
    if kind == "priority":
        return _("Priority: %(priority)s") % {"priority": _level(kind, level)}
    if kind == "factor":
        return _("Naming “%(factor)s”") % {"factor": level}
    return name


def _p_value(p: float) -> str:
    return f"< {_number(0.001, 3)}" if p < 0.001 else _number(p, 3)


def _worsens(outcome: str, effect: float) -> bool:
    return effect < 0 if outcome == "score" else effect > 0


def _effect_row(effect, outcome: str, names: dict[str, str]) -> dict:
    return {
        "name": effect.name, "driver": _driver_name(effect.name, names), "effect": effect.effect, "low": effect.low,
        "high": effect.high, "p_value": _p_value(effect.p_value), "p": effect.p_value,
        "significant": effect.significant, "worsens": _worsens(outcome, effect.effect),
        "sentence": effect.sentence_tr if get_language() == "tr" else effect.sentence_en,
        "verdict": _("clear") if effect.significant else _("could be chance"),
    }  # fmt: skip


def _driver_table(rows: list[dict], report, outcome_label) -> Table:
    unit = str(UNITS.get(report.unit, report.unit))
    return Table(
        "drivers", _("What explains it: %(outcome)s") % {"outcome": outcome_label},
        [Column("driver", _("Driver")),
         Column("effect", _("Effect (%(unit)s)") % {"unit": unit}, "signed"),
         Column("low", _("95 % interval from"), "number"), Column("high", _("95 % interval to"), "number"),
         Column("p_value", _("p-value")), Column("verdict", _("Verdict")), Column("sentence", _("In words"))],
        rows, _("No effects to show for this period and these filters."),
    )  # fmt: skip


def _forest(rows: list[dict], report, outcome_label) -> charts.Chart:
    """Each effect with its 95 % interval (a box from the low to the high end, the estimate as a dot),
    red where it makes things worse, green where better, grey where it could be chance."""

    def color(row, fill: bool = False):
        if not row["significant"]:
            return "#ced4da" if fill else charts.NEUTRAL
        if row["worsens"]:
            return "#ffc9c9" if fill else charts.BAD
        return "#b2f2bb" if fill else charts.GOOD

    unit = str(UNITS.get(report.unit, report.unit))
    option = {
        "animation": False,
        "tooltip": {"trigger": "item", "extraCssText": "max-width: 320px; white-space: normal;"},
        "grid": {"left": 8, "right": 24, "top": 16, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "value", "name": unit, "nameLocation": "middle", "nameGap": 28},
        "yAxis": {"type": "category", "inverse": True, "data": [row["driver"] for row in rows],
                  "axisLabel": {"width": 200, "overflow": "truncate"}},
        "series": [
            {"name": _("95 % interval"), "type": "boxplot", "boxWidth": [4, 12], "tooltip": {"show": False},
             "data": [{"value": [row["low"], row["low"], row["effect"], row["high"], row["high"]],
                       "itemStyle": {"color": color(row, fill=True), "borderColor": color(row)}} for row in rows],
             "markLine": {"symbol": "none", "silent": True, "label": {"show": False},
                          "lineStyle": {"color": INK, "type": "solid"}, "data": [{"xAxis": 0}]}},
            {"name": outcome_label, "type": "scatter", "symbolSize": 9, "tooltip": {"formatter": "{b}"},
             "data": [{"name": row["sentence"], "value": [row["effect"], index],
                       "itemStyle": {"color": color(row)}} for index, row in enumerate(rows)]},
        ],
    }  # fmt: skip
    summary = _("Each driver's effect on %(outcome)s with its 95 %% interval; intervals crossing zero could be "
                "chance.") % {"outcome": outcome_label}  # fmt: skip
    return charts.Chart("drivers", _("Effects with their 95 %% intervals (%(unit)s)") % {"unit": unit}, option, summary,
                        max(240, 30 * len(rows) + 90))  # fmt: skip


def _driver_notes(report) -> list[str]:
    notes = []
    if report.rows_used:
        tickets = report.outcome == "resolution_hours"
        numbers = {"used": _number(report.rows_used, 0), "total": _number(report.rows_total, 0)}
        if report.rows_used == report.rows_total:
            text = (
                ngettext("Based on %(used)s resolved ticket.", "Based on %(used)s resolved tickets.", report.rows_used)
                if tickets
                else ngettext("Based on %(used)s answer.", "Based on %(used)s answers.", report.rows_used)
            )
        else:
            text = (
                _("Based on %(used)s of the %(total)s resolved tickets (a random sample).")
                if tickets
                else _(
                    "Based on %(used)s of the %(total)s answers (a random sample, or answers whose ticket is "
                    "not analysed yet)."
                )
            )
        notes.append(text % numbers)  # fmt: skip
    if report.r_squared is not None:
        notes.append(_("R² = %(r2)s: the model explains %(share)s %% of the differences between them.")
                     % {"r2": _number(report.r_squared, 2), "share": _number(100 * report.r_squared, 0)})  # fmt: skip
    compared = []
    if "channel" in report.references:
        compared.append(_("channels with %(level)s") % {"level": _level("channel", report.references["channel"])})
    if "priority" in report.references:
        compared.append(_("priorities with %(level)s") % {"level": _level("priority", report.references["priority"])})
    if compared:
        notes.append(_("Compared with the most common level: %(levels)s.") % {"levels": "; ".join(compared)})
    notes.append(_("Each effect holds the other drivers equal (ordinary least squares, robust standard errors)."))
    if report.controls:
        held = ", ".join(str(CONTROL_NAMES.get(name, name)) for name in report.controls)
        notes.append(_("Also held equal, not shown: %(controls)s.") % {"controls": held})
    if report.dropped:
        names = _driver_names()
        left_out = ", ".join(_driver_name(name, names) for name in report.dropped)
        notes.append(_("Left out (no variation, or explained by the others): %(names)s.") % {"names": left_out})
    return notes


def _why_empty(report) -> str:
    if report.rows_used < driver_analysis.MIN_ROWS:
        return _("Too few to tell: %(rows)s in this period, at least %(needed)s are needed. Try a longer period or "
                 "fewer filters.") % {"rows": report.rows_used, "needed": driver_analysis.MIN_ROWS}  # fmt: skip
    return _("The effects could not be told apart in these data (too little variation). Try a longer period or "
             "fewer filters.")  # fmt: skip


urlpatterns = [
    path("journeys/", journeys, name="journeys"),
    path("journeys/channels/", channels, name="channels"),
    path("journeys/drivers/", drivers, name="drivers"),
]
