"""The overview: how people experience IT, beside the SLA and the XLAs, with the trend."""

from datetime import timedelta

from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _

from itxm.analytics import overview as overview_figures
from itxm.analytics import xla as xlas
from itxm.web import charts
from itxm.web.pages import factor_label, page_context, render_page
from itxm.web.tables import Column, Table
from itxm.web.views.explore import member_url

TOP_WATERMELONS = 5
TOP_PRIORITIES = 5
TOP_COMPLAINTS = 5


def overview(request):
    context = page_context(request)
    scope, found = context["scope"], context["filters"]
    period, narrowed = found.period, found.analytics_filters()
    # Computed once per scope, period and facts version (and by the worker for the default period).
    figures = overview_figures.figures(scope, period, narrowed)
    summary = figures.summary
    if summary is None:
        longer = "?" + found.query(period="365d", start=None, end=None) if found.preset != "365d" else ""
        return render_page(request, "web/overview.html", context | {"summary": None, "longer_url": longer})
    melons = figures.watermelons
    xla_table = _xla_table(scope)
    tables = [_watermelon_table(melons, found), _priority_table(figures.priorities, found), xla_table]
    statuses = [row["status"] for row in xla_table.rows]
    context |= {
        "summary": summary,
        "m": summary.metrics,
        "bucket": figures.bucket,
        "xlas_met": statuses.count(xlas.MET),
        "xlas_judged": sum(status != xlas.NOT_JUDGED for status in statuses),
        "xlas_total": len(statuses),
        "melon_count": len(melons["watermelons"]),
        "explore_url": reverse("explore") + ("?" + found.query() if found.params else ""),
    }
    found_charts = _trend_charts(figures.trend, figures.bucket) + _complaint_charts(summary)
    return render_page(request, "web/overview.html", context, tables, found_charts)


def _trend_charts(points: list[dict], bucket: str) -> list[charts.Chart]:
    labels = [charts.bucket_label(p["start"], bucket) for p in points]
    happiness = [p["metrics"]["happiness"] if p["metrics"]["enough_answers"] else None for p in points]
    sla = [p["metrics"]["sla_compliance"] for p in points]
    itxm_sla = [p["metrics"]["itxm_sla_compliance"] for p in points]
    lost = [p["metrics"]["lost_hours"] for p in points]
    return [
        charts.line(
            "trend_experience", _("Happiness and SLA compliance"), labels,
            [(_("Happiness"), happiness), (_("SLA met % (source)"), sla), (_("SLA met % (ITXM)"), itxm_sla)],
            y_min=-100, y_max=100,
            summary=_("Happiness and SLA compliance per period; happiness is left out where too few answered."),
        ),
        charts.bar(
            "trend_lost", _("Work time lost (hours)"), labels, [(_("Lost hours"), lost)],
            summary=_("Hours of work lost per period, as people reported them."),
        ),
    ]  # fmt: skip


def _complaint_charts(summary) -> list[charts.Chart]:
    negative = summary.factors.get("negative", [])[:TOP_COMPLAINTS]
    if not negative:
        return []
    return [
        charts.bar(
            "complaints", _("Most named complaints (% of answers)"), [factor_label(f) for f in negative],
            [(_("Share of answers %"), [f["share"] for f in negative])], horizontal=True,
            summary=_("The problems people named most often, as a share of the answers."),
        )
    ]  # fmt: skip


def _watermelon_table(found: dict, filters) -> Table:
    rows = [
        {"label": m.label, "sla": m.sla_compliance, "itxm_sla": m.itxm_sla_compliance, "happiness": m.happiness,
         "lost_hours": m.lost_hours, "lost_cost": m.lost_cost, "link": member_url("service", m.member, filters)}
        for m in found["watermelons"][:TOP_WATERMELONS]
    ]  # fmt: skip
    return Table(
        "watermelons", _("Watermelons: SLA met, people unhappy"),
        [Column("label", _("Service"), link="link"), Column("sla", _("SLA met % (source)"), "percent"),
         Column("itxm_sla", _("SLA met % (ITXM)"), "percent"), Column("happiness", _("Happiness"), "signed"),
         Column("lost_hours", _("Lost hours"), "hours"), Column("lost_cost", _("Cost of lost time"), "money")],
        rows, _("No watermelons: where the SLA is met, people are happy too (or too few answered to judge)."),
    )  # fmt: skip


def _priority_table(found: dict, filters) -> Table:
    rows = [
        {"label": p["label"], "impact": p["impact"], "happiness": p["happiness"],
         "answers": p["responses"], "lost_hours": p["lost_hours"], "factor": _top_factor(p),
         "link": member_url("service", p["member"], filters)}
        for p in [row for row in found["rows"] if row["enough_answers"]][:TOP_PRIORITIES]
    ]  # fmt: skip
    return Table(
        "priorities", _("Fix these first"),
        [Column("label", _("Service"), link="link"),
         Column("impact", _("Impact"), "signed",
                help=_("Answers × (happiness − target) / 100: how many answers' worth of happiness it costs.")),
         Column("happiness", _("Happiness"), "signed"), Column("answers", _("Answers"), "int"),
         Column("lost_hours", _("Lost hours"), "hours"), Column("factor", _("Most named problem"))],
        rows, _("Nothing to fix first: no service has enough answers in this period."),
    )  # fmt: skip


def _top_factor(priority: dict) -> str:
    factors = priority.get("top_negative_factors") or []
    return factor_label(factors[0]) if factors else ""


def _xla_link(pk: int) -> str | None:
    """The XLA's page, once the XLA pages are installed."""
    try:
        return reverse("xla", args=[pk])
    except NoReverseMatch:
        return None


def _xla_table(scope) -> Table:
    rows = [
        {"name": line.name, "status": line.status, "score": line.score, "period": _period_text(line.period),
         "link": _xla_link(line.pk)}
        for line in overview_figures.xla_lines(scope)
    ]  # fmt: skip
    return Table(
        "xlas", _("XLAs this period"),
        [Column("name", _("XLA"), link="link"), Column("period", _("Period")),
         Column("score", _("Score"), "number"), Column("status", _("Status"), "status")],
        rows, _("No XLAs yet. Define one on the XLAs page."),
    )  # fmt: skip


def _period_text(period) -> str:
    """A calendar month or quarter as people write it: 2026-11, or 2026-10 – 2026-12."""
    first, last = period.start.strftime("%Y-%m"), (period.end - timedelta(days=1)).strftime("%Y-%m")
    return first if first == last else f"{first} – {last}"


urlpatterns = [path("", overview, name="home")]
