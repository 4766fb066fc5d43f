"""The monthly report: pick a month, see its key figures, download it as a PDF, subscribe to the e-mail."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from itxm.web import charts
from itxm.web import reports as monthly
from itxm.web.pages import is_shared, page_context, reader_scope, render_page
from itxm.web.tables import Column, Table

LANGUAGES = (("en", "English"), ("tr", "Türkçe"))


def _language(request) -> str:
    """The PDF's language: asked for, else the page's."""
    asked = request.GET.get("lang", "")
    return asked if asked in dict(LANGUAGES) else (get_language() or "en")


def reports(request):
    return _page(request)


def _page(request, error: str = "", status: int = 200):
    """The page for the month asked for; a month that has no report says why (400) and shows the default."""
    context = page_context(request)
    scope, day = context["scope"], monthly.today()
    try:
        month = monthly.parse_month(request.GET.get("month"), day)
    except monthly.InvalidMonth as invalid:
        error, status, month = str(invalid), 400, monthly.last_complete_month(day)
    points = monthly.month_points(scope, month)
    now, before = points[-1]["metrics"], points[-2]["metrics"]
    language = _language(request)
    pdf_url = reverse("report_pdf") + "?" + urlencode({"month": monthly.month_key(month), "lang": language})
    context |= {
        "month": month, "month_name": monthly.month_name(month.start), "month_value": monthly.month_key(month),
        "months": [(monthly.month_key(m), _month_option(m, day)) for m in monthly.offered_months(day)],
        "languages": LANGUAGES, "language": language, "pdf_url": pdf_url, "error": error,
        "has_data": monthly.has_data(now), "kpis": monthly.kpis(now, before)[:6],
        "subscription": None if is_shared(request) else monthly.subscription_of(request.user),
    }  # fmt: skip
    # No chart without a figure to draw (a new installation): the table below says the months are empty.
    trend = [_trend_chart(points)] if any(monthly.has_data(point["metrics"]) for point in points) else []
    response = render_page(request, "web/reports/index.html", context, [_month_table(points, language)], trend)
    response.status_code = status
    return response


def _month_option(month, day) -> str:
    name = monthly.month_name(month.start)
    return _("%(month)s (so far)") % {"month": name} if month.start <= day < month.end else name


def _month_table(points: list[dict], language: str) -> Table:
    rows = []
    for point in reversed(points):
        m, key = point["metrics"], point["start"].strftime("%Y-%m")
        rows.append({
            "month": monthly.month_name(point["start"]), "answers": m["responses"],
            "happiness": m["happiness"] if m["enough_answers"] else None, "sla": m["sla_compliance"],
            "lost_hours": m["lost_hours"],
            "link": reverse("report_pdf") + "?" + urlencode({"month": key, "lang": language}),
        })  # fmt: skip
    return Table(
        "months", _("Reports of the last twelve months"),
        [Column("month", _("Month (PDF)"), link="link"), Column("answers", _("Answers"), "int"),
         Column("happiness", _("Happiness"), "signed"), Column("sla", _("SLA compliance %"), "percent"),
         Column("lost_hours", _("Lost hours"), "hours")],
        rows, _("No months to show."),
    )  # fmt: skip


def _trend_chart(points: list[dict]) -> charts.Chart:
    labels = [point["start"].strftime("%Y-%m") for point in points]
    metrics = [point["metrics"] for point in points]
    return charts.line(
        "report_trend", _("Happiness and SLA compliance, the last twelve months"), labels,
        [(_("Happiness"), [m["happiness"] if m["enough_answers"] else None for m in metrics]),
         (_("SLA compliance %"), [m["sla_compliance"] for m in metrics])],
        y_min=-100, y_max=100,
        summary=_("Happiness and SLA compliance per month; happiness is left out where too few answered."),
    )  # fmt: skip


def report_pdf(request):
    scope, day = reader_scope(request), monthly.today()
    try:
        month = monthly.parse_month(request.GET.get("month"), day)
    except monthly.InvalidMonth as invalid:
        return _page(request, error=str(invalid), status=400)
    pdf = monthly.monthly_pdf(scope, month, _language(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{monthly.file_name(month)}"'
    return response


@require_POST
def subscription(request):
    """Start or stop the monthly e-mail for the signed-in user (never through a share link)."""
    if is_shared(request):
        raise PermissionDenied("a shared view cannot subscribe")
    action = request.POST.get("action")
    if action == "subscribe":
        monthly.subscribe(request.user)
        messages.success(request, _("You will get the monthly report by e-mail."))
    elif action == "unsubscribe":
        monthly.unsubscribe(request.user)
        messages.success(request, _("The monthly e-mail is stopped."))
    else:
        return HttpResponseBadRequest("action is subscribe or unsubscribe")
    month = request.POST.get("month", "")
    return redirect(reverse("reports") + (f"?{urlencode({'month': month})}" if month else ""))


urlpatterns = [
    path("reports/", reports, name="reports"),
    path("reports/monthly.pdf", report_pdf, name="report_pdf"),
    path("reports/subscription", subscription, name="report_subscription"),
]
