"""Explore: every metric per member of a dimension (services, groups, suppliers, agents, ...), then one
member's page with its trend, what people said about it and the next break-down."""

import math

from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from itxm.analytics import services as analytics
from itxm.analytics.overview import trend_bucket
from itxm.org import queries as org
from itxm.org.scopes import Permission, Scope
from itxm.surveys.models import SurveyKind
from itxm.tickets.models import Channel
from itxm.web import charts
from itxm.web.filters import Select
from itxm.web.pages import factor_label, member_label, page_context, render_page
from itxm.web.tables import Column, Table
from itxm.web.templatetags.itxm_web import cell

PAGE_SIZE = 50
CHART_MEMBERS = 15  # members in the lost-hours chart of the list
DEFAULT_DIMENSION = "service"

# (one member, the select's text) per dimension, in the order people explore them.
DIMENSIONS = {
    "service": (gettext_lazy("Service"), gettext_lazy("Services")),
    "category": (gettext_lazy("Category"), gettext_lazy("Categories")),
    "group": (gettext_lazy("Group"), gettext_lazy("Groups")),
    "supplier": (gettext_lazy("Supplier"), gettext_lazy("Suppliers")),
    "agent": (gettext_lazy("Agent"), gettext_lazy("Agents")),
    "department": (gettext_lazy("Department"), gettext_lazy("Departments")),
    "location": (gettext_lazy("Office"), gettext_lazy("Offices")),
    "country": (gettext_lazy("Country"), gettext_lazy("Countries")),
    "channel": (gettext_lazy("Channel"), gettext_lazy("Channels")),
    "priority": (gettext_lazy("Priority"), gettext_lazy("Priorities")),
    "kind": (gettext_lazy("Kind"), gettext_lazy("Ticket and survey kinds")),
}
# Members that are rows of the organisation: a member page needs one inside the reader's scope.
MEMBER_ROWS = {
    "service": org.services,
    "category": org.categories,
    "group": org.groups,
    "supplier": org.suppliers,
    "agent": org.agents,
    "department": org.departments,
    "location": org.locations,
}
# The page filters a member narrows to (the analytics filters know services and groups), and the
# dimensions its break-down offers.
NARROWS = {"service": "service", "group": "group"}
BREAK_DOWN = {
    "service": ("group", "category", "agent", "channel", "country", "location", "department", "priority", "kind"),
    "group": ("agent", "service", "category", "channel", "country", "location", "department", "priority", "kind"),
}


# --- the list -------------------------------------------------------------------------------------


def explore(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    choices = [(key, plural) for key, (_one, plural) in DIMENSIONS.items()]
    dimension_field = Select.read(request, "dimension", _("Explore by"), choices, DEFAULT_DIMENSION)
    dimension = dimension_field.value
    errors = []
    if request.GET.get("dimension", dimension) != dimension:
        errors.append(_("There is no such dimension to explore; showing services."))
    page = _page_number(request.GET.get("page"))
    exporting = bool(request.GET.get("export"))
    # An export holds every member, not only the page shown.
    limit, offset = (None, 0) if exporting else (PAGE_SIZE, (page - 1) * PAGE_SIZE)
    count, members = analytics.metrics_page(scope, dimension, found.period, found.analytics_filters(),
                                            limit=limit, offset=offset)  # fmt: skip
    pages = max(1, math.ceil(count / PAGE_SIZE))
    if not exporting and page > pages:
        page = pages
        count, members = analytics.metrics_page(scope, dimension, found.period, found.analytics_filters(),
                                                limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)  # fmt: skip
    rows = [_member_row(scope, dimension, item, found) for item in members]
    table = _members_table(dimension, rows)
    context |= {
        "page_fields": [dimension_field],
        "dimension": dimension,
        "dimension_label": DIMENSIONS[dimension][1],
        "member_count": count,
        "page_errors": errors,
        "pages": _page_links(found, page, pages),
        "page": page,
        "page_count": pages,
    }
    return render_page(request, "web/explore/index.html", context, [table], _list_charts(dimension, rows))


def _page_number(text: str | None) -> int:
    return max(1, int(text)) if text and text.isdigit() and len(text) < 7 else 1


def _page_links(found, page: int, pages: int) -> list[dict]:
    """Page links: the first, the last and three either side of the current one."""
    if pages <= 1:
        return []
    shown = sorted({1, pages, *range(max(1, page - 3), min(pages, page + 3) + 1)})
    links, previous = [], 0
    for number in shown:
        if number - previous > 1:
            links.append({"gap": True})
        links.append({"number": number, "url": "?" + found.query(page=number), "current": number == page})
        previous = number
    return links


def member_url(dimension: str, member: str, found) -> str:
    """A member's page, with the period and filters of the page linking to it."""
    url = reverse("explore_member", args=[dimension, member])
    query = found.query(dimension=None, page=None)
    return url + ("?" + query if query else "")


def _label(scope: Scope, dimension: str, member: str, label: str, code: str) -> str:
    """A member's name for this reader: agents are people, named only to readers who may see people."""
    if dimension == "agent" and not scope.allows(Permission.VIEW_PEOPLE):
        return code
    return member_label(dimension, member, label)


def _interval_text(m: dict) -> str:
    if not m["enough_answers"]:
        return _("too few answers (%(answers)s)") % {"answers": m["responses"]}
    interval = m["happiness_interval"]
    if interval is None:
        return ""
    # A true minus sign: the text reads as typeset, and no spreadsheet takes it for a formula.
    low, high = (cell(value, "signed").replace("-", "\u2212") for value in (interval.low, interval.high))
    return _("%(low)s to %(high)s") % {"low": low, "high": high}


def _member_row(scope: Scope, dimension: str, item, found) -> dict:
    m = item.metrics
    label = _label(scope, dimension, item.member, item.label, item.code)
    row = {
        "label": label,
        "code": item.code if dimension in MEMBER_ROWS and item.code != label else "",
        "link": member_url(dimension, item.member, found),
        "happiness": m["happiness"] if m["enough_answers"] else None,
        "interval": _interval_text(m),
        "enough": m["enough_answers"],
        "answers": m["responses"],
        "response_rate": m["response_rate"],
        "lost_hours": m["lost_hours"],
        "lost_cost": m["lost_cost"],
        "opened": m["opened"],
        "resolved": m["resolved"],
        "sla": m["sla_compliance"],
        "itxm_sla": m["itxm_sla_compliance"],
        "reassigned": m["reassignment_rate"],
        "reopened": m["reopen_rate"],
        "ping_pong": m["ping_pong_rate"],
        "fcr": m["first_contact_resolution"],
        "p50": item.resolution_hours.get("p50"),
        "p90": item.resolution_hours.get("p90"),
    }
    if "device_health" in m:
        row["device_health"] = m["device_health"]
    return row


def _members_table(dimension: str, rows: list[dict]) -> Table:
    one = DIMENSIONS[dimension][0]
    columns = [Column("label", str(one), link="link")]
    if any(row["code"] for row in rows):
        columns.append(Column("code", _("Code")))
    columns += [
        Column("happiness", _("Happiness"), "signed", help=_("Share of 9–10 answers minus share of 0–6 answers.")),
        Column("interval", _("95 % interval")),
        Column("answers", _("Answers"), "int"),
        Column("response_rate", _("Response rate %"), "percent"),
        Column("lost_hours", _("Lost hours"), "hours"),
        Column("lost_cost", _("Cost of lost time"), "money"),
        Column("opened", _("Tickets opened"), "int"),
        Column("resolved", _("Tickets resolved"), "int"),
        Column("sla", _("SLA met % (source)"), "percent", help=_("As the ticketing tool reported it.")),
        Column("itxm_sla", _("SLA met % (ITXM)"), "percent", help=_("As ITXM measured it from the history.")),
        Column("reassigned", _("Reassigned %"), "percent"),
        Column("reopened", _("Reopened %"), "percent"),
        Column("ping_pong", _("Ping-pong %"), "percent", help=_("Sent to another group and back.")),
        Column("fcr", _("First contact resolution %"), "percent"),
        Column("p50", _("Resolution, median"), "hours"),
        Column("p90", _("Resolution, 90th percentile"), "hours"),
    ]  # fmt: skip
    if any("device_health" in row for row in rows):
        columns.append(Column("device_health", _("Device health"), "number", help=_("Mean score 0–100.")))
    return Table(
        "members", _("%(dimension)s in this period") % {"dimension": DIMENSIONS[dimension][1]}, columns, rows,
        _("Nothing was recorded for these filters in this period. Try a longer period or remove a filter."),
    )  # fmt: skip


def _list_charts(dimension: str, rows: list[dict]) -> list[charts.Chart]:
    found = []
    losing = sorted((row for row in rows if row["lost_hours"]), key=lambda row: -row["lost_hours"])[:CHART_MEMBERS]
    if losing:
        found.append(charts.bar(
            "lost_by_member", _("Most work time lost (hours)"), [row["label"] for row in losing],
            [(_("Lost hours"), [row["lost_hours"] for row in losing])], horizontal=True,
            summary=_("The members whose users lost the most work time, most first."),
        ))  # fmt: skip
    judged = [row for row in rows if row["enough"] and row["happiness"] is not None]
    if judged:
        found.append(_scatter(
            "happiness_lost", _("Happiness and lost time"), [(row["label"], row["happiness"], row["lost_hours"],
                                                              row["answers"]) for row in judged],
            _("Happiness"), _("Lost hours"),
            _("Each member with enough answers: its happiness (across) and the work time its users lost (up)."),
        ))  # fmt: skip
    return found


def _scatter(
    id: str, title: str, points: list[tuple[str, float, float, int]], x_name: str, y_name: str, summary: str
) -> charts.Chart:
    """One dot per member: (name, x, y, answers); bigger dots for more answers."""
    most = max(answers for *_rest, answers in points) or 1
    option = {
        "color": charts.PALETTE,
        "animation": False,
        "tooltip": {"trigger": "item"},
        "grid": {"left": 8, "right": 24, "top": 32, "bottom": 32, "containLabel": True},
        "xAxis": {"type": "value", "name": x_name, "min": -100, "max": 100, "nameLocation": "middle", "nameGap": 24},
        "yAxis": {"type": "value", "name": y_name},
        "series": [{
            "type": "scatter", "name": y_name,
            # Labels of dots near the right edge go to their left, where there is room.
            "data": [{"name": name, "value": [x, y], "symbolSize": round(8 + 16 * math.sqrt(answers / most)),
                      "label": {"position": "left" if x > 40 else "right"}}
                     for name, x, y, answers in points],
            "label": {"show": True, "formatter": "{b}", "position": "right", "fontSize": 11},
            "labelLayout": {"hideOverlap": True},
            "emphasis": {"focus": "self", "label": {"show": True}},
        }],
    }  # fmt: skip
    return charts.Chart(id, title, option, summary)


# --- one member -----------------------------------------------------------------------------------


def member_page(request, dimension: str, member: str):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    if dimension not in DIMENSIONS or not _within_scope(scope, dimension, member):
        return render(request, "web/explore/not_found.html", context | {"dimension": dimension}, status=404)
    period, narrowed = found.period, found.analytics_filters()
    _count, items = analytics.metrics_page(scope, dimension, period, narrowed, member=member)
    item = items[0] if items else None
    name, code = analytics.labels(dimension, [member]).get(member, (member, member))
    label = _label(scope, dimension, member, name, code)
    context |= {
        "dimension": dimension,
        "dimension_one": DIMENSIONS[dimension][0],
        "dimension_label": DIMENSIONS[dimension][1],
        "list_url": reverse("explore") + "?" + found.query(dimension=dimension, page=None),
        "label": label,
        "code": code if dimension in MEMBER_ROWS and code not in ("", label) else "",
        "item": item,
        "breakdown": _breakdown(dimension, member, found),
    }
    if item is None:
        return render_page(request, "web/explore/member.html", context)
    bucket = trend_bucket(period, item.metrics["responses"])
    points = analytics.trend(scope, dimension, member, period, bucket, narrowed)
    tables = [_factor_table("complaints", _("What people complained about"), item.factors.get("negative", []),
                            _("No complaints were named in this period.")),
              _factor_table("praise", _("What people praised"), item.factors.get("positive", []),
                            _("No praise was named in this period."))]  # fmt: skip
    context |= {"m": item.metrics, "resolution": item.resolution_hours, "bucket": bucket}
    return render_page(request, "web/explore/member.html", context, tables, _member_charts(points, bucket, item))


def _within_scope(scope: Scope, dimension: str, member: str) -> bool:
    """Whether the member may be shown to this reader (an unknown one is not)."""
    if dimension in MEMBER_ROWS:
        return member.isdigit() and len(member) < 19 and MEMBER_ROWS[dimension](scope).filter(pk=member).exists()
    if dimension == "channel":
        return member in Channel.values
    if dimension == "kind":
        return member in SurveyKind.values
    if dimension == "priority":
        return member.isdigit() and len(member) < 3
    return len(member) <= 2 and member.isalpha()  # country: an ISO code


def _breakdown(dimension: str, member: str, found) -> list[dict]:
    """Links to the member's break-down by the next dimensions, through the page filters."""
    narrows = NARROWS.get(dimension)
    if narrows is None:
        return []
    return [
        {"label": DIMENSIONS[next_one][1],
         "url": reverse("explore") + "?" + found.query(**{narrows: member, "dimension": next_one, "page": None})}
        for next_one in BREAK_DOWN[dimension]
    ]  # fmt: skip


def _factor_table(name: str, title: str, factors: list[dict], empty: str) -> Table:
    rows = [{"factor": factor_label(f), "answers": f["answers"], "share": f["share"]} for f in factors]
    return Table(
        name, title,
        [Column("factor", _("Factor")), Column("answers", _("Answers"), "int"),
         Column("share", _("Share of answers %"), "percent")],
        rows, empty,
    )  # fmt: skip


def _member_charts(points: list[dict], bucket: str, item) -> list[charts.Chart]:
    labels = [charts.bucket_label(p["start"], bucket) for p in points]
    metrics = [p["metrics"] for p in points]
    found = [
        charts.line(
            "member_experience", _("Happiness and SLA compliance"), labels,
            [(_("Happiness"), [m["happiness"] if m["enough_answers"] else None for m in metrics]),
             (_("SLA met % (source)"), [m["sla_compliance"] for m in metrics]),
             (_("SLA met % (ITXM)"), [m["itxm_sla_compliance"] for m in metrics])],
            y_min=-100, y_max=100,
            summary=_("Happiness and SLA compliance per period; happiness is left out where too few answered."),
        ),
        charts.bar(
            "member_lost", _("Work time lost (hours)"), labels, [(_("Lost hours"), [m["lost_hours"] for m in metrics])],
            summary=_("Hours of work lost per period, as people reported them."),
        ),
        charts.bar(
            "member_tickets", _("Tickets"), labels,
            [(_("Opened"), [m["opened"] for m in metrics]), (_("Resolved"), [m["resolved"] for m in metrics])],
            summary=_("Tickets opened and resolved per period."),
        ),
    ]  # fmt: skip
    negative = item.factors.get("negative", [])[:10]
    if negative:
        found.append(charts.bar(
            "member_complaints", _("Most named complaints (% of answers)"), [factor_label(f) for f in negative],
            [(_("Share of answers %"), [f["share"] for f in negative])], horizontal=True,
            summary=_("The problems people named most often, as a share of the answers."),
        ))  # fmt: skip
    return found


urlpatterns = [
    path("explore/", explore, name="explore"),
    path("explore/<str:dimension>/<str:member>/", member_page, name="explore_member"),
]
