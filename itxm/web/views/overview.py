"""The overview: how people experience IT, beside the SLA and the XLAs, with the trend."""

from django.urls import path, reverse
from django.utils.translation import gettext as _

from itxm.analytics import services as analytics
from itxm.analytics import xla as xlas
from itxm.web import charts
from itxm.web.pages import factor_label, page_context, render_page
from itxm.web.tables import Column, Table

TOP_WATERMELONS = 5
TOP_PRIORITIES = 5


def overview(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    period, narrowed = found.period, found.analytics_filters()
    summary = analytics.overview(scope, period, narrowed)
    if summary is None:
        return render_page(request, "web/overview.html", context | {"summary": None})
    bucket = "month" if period.days > 120 else "week"
    points = analytics.trend(scope, "all", "", period, bucket, narrowed)
    melons = analytics.watermelons(scope, "service", period, filters=narrowed)
    ranked = analytics.priorities(scope, "service", period, filters=narrowed, limit=TOP_PRIORITIES)
    tables = [_watermelon_table(melons, found), _priority_table(ranked, found), _xla_table(scope)]
    context |= {"summary": summary, "m": summary.metrics, "bucket": bucket}
    return render_page(request, "web/overview.html", context, tables, _trend_charts(points, bucket))


def _bucket_label(point: dict, bucket: str) -> str:
    return point["start"].strftime("%Y-%m") if bucket == "month" else point["start"].isoformat()


def _trend_charts(points: list[dict], bucket: str) -> list[charts.Chart]:
    labels = [_bucket_label(p, bucket) for p in points]
    happiness = [p["metrics"]["happiness"] if p["metrics"]["enough_answers"] else None for p in points]
    sla = [p["metrics"]["sla_compliance"] for p in points]
    lost = [p["metrics"]["lost_hours"] for p in points]
    return [
        charts.line(
            "trend_experience", _("Happiness and SLA compliance"), labels,
            [(_("Happiness"), happiness), (_("SLA compliance %"), sla)], y_min=-100, y_max=100,
            summary=_("Happiness and SLA compliance per period; happiness is left out where too few answered."),
        ),
        charts.bar(
            "trend_lost", _("Work time lost (hours)"), labels, [(_("Lost hours"), lost)],
            summary=_("Hours of work lost per period, as people reported them."),
        ),
    ]  # fmt: skip


def _member_link(member: str, filters) -> str:
    return reverse("explore_member", args=["service", member]) + "?" + filters.query()


def _watermelon_table(found: dict, filters) -> Table:
    rows = [
        {"label": m.label, "sla": m.sla_compliance, "happiness": m.happiness, "lost_hours": m.lost_hours,
         "lost_cost": m.lost_cost, "link": _member_link(m.member, filters)}
        for m in found["watermelons"][:TOP_WATERMELONS]
    ]  # fmt: skip
    return Table(
        "watermelons", _("Watermelons: SLA met, people unhappy"),
        [Column("label", _("Service"), link="link"), Column("sla", _("SLA compliance %"), "percent"),
         Column("happiness", _("Happiness"), "signed"), Column("lost_hours", _("Lost hours"), "hours"),
         Column("lost_cost", _("Cost of lost time"), "money")],
        rows, _("No watermelons: where the SLA is met, people are happy too (or too few answered to judge)."),
    )  # fmt: skip


def _priority_table(found: dict, filters) -> Table:
    rows = [
        {"label": p["label"], "impact": p["impact"], "happiness": p["happiness"], "lost_hours": p["lost_hours"],
         "factor": _top_factor(p),
         "link": _member_link(p["member"], filters)}
        for p in found["rows"]
    ]  # fmt: skip
    return Table(
        "priorities", _("Fix these first"),
        [Column("label", _("Service"), link="link"), Column("impact", _("Impact"), "signed"),
         Column("happiness", _("Happiness"), "signed"), Column("lost_hours", _("Lost hours"), "hours"),
         Column("factor", _("Most named problem"))],
        rows, _("Nothing to fix first: no service has enough answers in this period."),
    )  # fmt: skip


def _top_factor(priority: dict) -> str:
    factors = priority.get("top_negative_factors") or []
    return factor_label(factors[0]) if factors else ""


def _xla_table(scope) -> Table:
    rows = []
    for item in xlas.list_xlas(scope):
        card = xlas.scorecard(scope, item.pk, history=1)
        rows.append({"name": item.name, "status": card.current.status, "score": card.current.score,
                     "period": card.current.period.label, "link": reverse("xla", args=[item.pk])})  # fmt: skip
    return Table(
        "xlas", _("XLAs this period"),
        [Column("name", _("XLA"), link="link"), Column("period", _("Period")),
         Column("score", _("Score"), "number"), Column("status", _("Status"), "status")],
        rows, _("No XLAs yet. Define one on the XLAs page."),
    )  # fmt: skip


urlpatterns = [path("", overview, name="home")]
