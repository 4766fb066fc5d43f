"""The monthly report: one month of one reader's scope as an A4 PDF, downloaded from /reports/ or e-mailed on
the first days of each month to whoever subscribed.

``build_report`` gathers the month from the analytics services (the reader's scope, so a supplier's report
holds its own groups' data only), ``monthly_pdf`` renders it in the reader's language with WeasyPrint and
the charts of ``report_charts``. ``send_monthly_reports`` is what the scheduled task runs.

WeasyPrint and matplotlib are imported when a report is drawn, not when this module is: every web process
imports the views, few ever draw a report.
"""

import base64
import logging
import smtplib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from itxm.analytics import initiatives as initiative_effects
from itxm.analytics import services as analytics
from itxm.analytics import xla as xlas
from itxm.analytics.models import InitiativeStatus
from itxm.analytics.periods import Period, day_start, month_of
from itxm.org import queries as org
from itxm.org.models import User
from itxm.org.scopes import Scope, scope_for
from itxm.surveys import gaming
from itxm.web.models import ReportSubscription
from itxm.web.pages import factor_label
from itxm.web.tables import Column, Table
from itxm.web.templatetags.itxm_web import cell, number_with_unit

log = logging.getLogger(__name__)

TREND_MONTHS = 12
MONTHS_OFFERED = 12
TOP_ROWS = 5
MAX_INITIATIVES = 10
FIRST_MONTH = date(2000, 1, 1)  # older months are surely typing mistakes


class InvalidMonth(ValueError):
    """A month the reader asked for that has no report; the message says why, in the reader's language."""


# --- months ---------------------------------------------------------------------------------------


def today() -> date:
    return timezone.localdate()


def previous_month(month: Period) -> Period:
    return month_of(month.start - timedelta(days=1))


def last_complete_month(day: date) -> Period:
    return previous_month(month_of(day))


def offered_months(day: date, count: int = MONTHS_OFFERED) -> list[Period]:
    """The month so far and the ``count`` complete months before it, newest first."""
    months = [month_of(day)]
    while len(months) <= count:
        months.append(previous_month(months[-1]))
    return months


def parse_month(text: str | None, day: date) -> Period:
    """``YYYY-MM`` as a month (none given: the last complete month); an unreadable or future month is
    refused with a sentence saying what to give."""
    if not text:
        return last_complete_month(day)
    try:
        year, number = (int(part) for part in text.split("-"))
        start = date(year, number, 1)
    except ValueError:
        raise InvalidMonth(
            _("“%(month)s” is not a month: give it as YYYY-MM, for example %(example)s.")
            % {"month": text[:20], "example": last_complete_month(day).start.strftime("%Y-%m")}
        ) from None
    if start > day:
        message = _("%(month)s has not begun yet: pick this month or an earlier one.")
        raise InvalidMonth(message % {"month": month_name(start)})
    if start < FIRST_MONTH:
        raise InvalidMonth(_("Pick a month from %(first)s on.") % {"first": month_name(FIRST_MONTH)})
    return month_of(start)


def month_name(day: date) -> str:
    """The month of ``day`` as people write it, in the active language: October 2026, Ekim 2026."""
    return date_format(day, "YEAR_MONTH_FORMAT")


def month_key(month: Period) -> str:
    return month.start.strftime("%Y-%m")


# --- what the report holds ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeLabel:
    title: str  # who the report is about: the supplier, "Your services", "The whole organisation"
    kind: str  # "groups", "services" or "" (everything)
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    previous: str
    change: str
    tone: str  # "good", "bad" or "" (no verdict)
    note: str = ""


@dataclass
class MonthlyReport:
    month: Period
    scope: ScopeLabel
    language: str
    generated_on: date
    has_data: bool
    kpis: list[Kpi]
    charts: dict[str, str] = field(default_factory=dict)  # name → SVG as a data: URI
    tables: dict[str, Table] = field(default_factory=dict)
    gaming: dict = field(default_factory=dict)

    @property
    def month_name(self) -> str:
        return month_name(self.month.start)

    @property
    def previous_name(self) -> str:
        return month_name(previous_month(self.month).start)


def scope_label(scope: Scope) -> ScopeLabel:
    """Whose data the report holds, for its title page."""
    if scope.group_ids is not None:
        groups = list(org.groups(scope).order_by("name"))
        suppliers = sorted({group.supplier.name for group in groups if group.supplier_id})
        return ScopeLabel(", ".join(suppliers) or _("Your groups"), "groups", tuple(g.name for g in groups))
    if scope.service_ids is not None:
        names = org.services(scope).order_by("name").values_list("name", flat=True)
        return ScopeLabel(_("Your services"), "services", tuple(names))
    return ScopeLabel(_("The whole organisation"), "")


def month_points(scope: Scope, month: Period, count: int = TREND_MONTHS) -> list[dict]:
    """The metrics of the ``count`` months up to ``month`` (oldest first), from the daily rollups."""
    first = month
    for _step in range(count - 1):
        first = previous_month(first)
    return analytics.trend(scope, "all", "", Period(first.start, month.end), "month")


def has_data(metrics: dict) -> bool:
    return bool(metrics["opened"] or metrics["resolved"] or metrics["invited"] or metrics["responses"])


def _signed(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    text = ("+" if value > 0 else "") + number_format(round(value, digits), digits, force_grouping=True)
    return number_with_unit(text, unit)


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else round(now - before, 1)


def _tone(change: float | None, higher_is_better: bool | None, judged: bool = True) -> str:
    if change is None or change == 0 or higher_is_better is None or not judged:
        return ""
    return "good" if (change > 0) == higher_is_better else "bad"


def kpis(now: dict, before: dict) -> list[Kpi]:
    """The month's key figures beside the month before; colours only where a verdict is fair (happiness
    from enough answers in both months)."""
    rows = []

    def add(label, key, kind, change_digits, change_unit, better, note="", judged=True):
        change = _change(now[key], before[key])
        rows.append(Kpi(label=label, value=cell(now[key], kind), previous=cell(before[key], kind),
                        change=_signed(change, change_digits, change_unit), tone=_tone(change, better, judged),
                        note=note))  # fmt: skip

    interval = now["happiness_interval"]
    if not now["enough_answers"]:
        note = _("too few answers to judge (%(count)s)") % {"count": now["responses"]}
    elif interval:
        note = _("95 %% interval %(low)s to %(high)s") % {"low": cell(interval.low, "signed"),
                                                          "high": cell(interval.high, "signed")}  # fmt: skip
    else:
        note = ""
    points = _("points")
    add(_("Happiness"), "happiness", "signed", 1, "", True, note, now["enough_answers"] and before["enough_answers"])
    add(_("Answers"), "responses", "int", 0, "", None,
        _("%(invited)s invited") % {"invited": cell(now["invited"], "int")})  # fmt: skip
    add(_("Response rate"), "response_rate", "percent", 1, points, True)
    add(_("Work time lost"), "lost_hours", "hours", 1, "h", False,
        _("%(minutes)s min per answer") % {"minutes": cell(now["lost_minutes_per_answer"], "number")})  # fmt: skip
    add(_("Cost of lost time"), "lost_cost", "money", 0, "", False)
    add(_("SLA compliance (ticket tool)"), "sla_compliance", "percent", 1, points, True,
        _("as the ticket tool reports it"))  # fmt: skip
    add(_("SLA compliance (ITXM)"), "itxm_sla_compliance", "percent", 1, points, True,
        _("measured by ITXM from the ticket history"))  # fmt: skip
    add(_("Tickets opened"), "opened", "int", 0, "", None)
    return rows


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def trend_charts(labels: list[str], points: list[dict]) -> dict[str, str]:
    """The three trend charts as data: URIs for the PDF (none when the twelve months hold nothing)."""
    from itxm.web import report_charts  # matplotlib: only when a report is drawn

    metrics = [point["metrics"] for point in points]
    if not any(has_data(m) for m in metrics):
        return {}
    target = _("target")
    happiness = [m["happiness"] if m["enough_answers"] else None for m in metrics]
    intervals = [
        (m["happiness_interval"].low, m["happiness_interval"].high)
        if m["enough_answers"] and m["happiness_interval"] else None
        for m in metrics
    ]  # fmt: skip
    return {
        "happiness": _data_uri(report_charts.happiness(
            labels, happiness, intervals, settings.ANALYTICS_HAPPINESS_TARGET,
            {"happiness": _("Happiness"), "interval": _("95 %% interval") % {}, "target": target},
        )),
        "sla": _data_uri(report_charts.sla(
            labels, [m["sla_compliance"] for m in metrics], [m["itxm_sla_compliance"] for m in metrics],
            settings.ANALYTICS_SLA_TARGET,
            {"source": _("Ticket tool"), "itxm": _("Measured by ITXM"), "target": target},
        )),
        "lost": _data_uri(report_charts.lost_hours(
            labels, [m["lost_hours"] for m in metrics], len(metrics) - 1, {"lost": _("Lost hours")},
        )),
    }  # fmt: skip


def _period_name(period: Period) -> str:
    if month_of(period.start) == period:
        return month_name(period.start)
    return _("Q%(quarter)s %(year)s") % {"quarter": (period.start.month - 1) // 3 + 1, "year": period.start.year}


def xla_table(scope: Scope, month: Period) -> Table:
    """Every XLA of the scope in the period holding the month (a quarter for quarterly ones) and the one before."""
    last_day = month.end - timedelta(days=1)
    rows = []
    for item in xlas.list_xlas(scope).order_by("name"):
        card = xlas.scorecard(scope, item.pk, today=last_day, history=2)
        before = card.history[-1] if card.history else None
        rows.append({
            "name": item.name, "period": _period_name(card.current.period), "score": card.current.score,
            "status": card.current.status, "previous_score": before.score if before else None,
            "previous_status": before.status if before else None,
        })  # fmt: skip
    return Table(
        "xlas", _("XLAs"),
        [Column("name", _("XLA")), Column("period", _("Period")), Column("score", _("Score"), "number"),
         Column("status", _("Status"), "status"), Column("previous_score", _("Score before"), "number"),
         Column("previous_status", _("Status before"), "status")],
        rows, _("No XLAs in this scope. Define one on the XLAs page to judge experience against targets."),
    )  # fmt: skip


def _first_factor(factors: list[dict]) -> str:
    return factor_label(factors[0]) if factors else ""


def watermelon_table(scope: Scope, month: Period) -> Table:
    found = analytics.watermelons(scope, "service", month)
    rows = [
        {"label": m.label, "sla": m.sla_compliance, "happiness": m.happiness, "answers": m.responses,
         "lost_hours": m.lost_hours, "lost_cost": m.lost_cost, "factor": _first_factor(m.negative_factors)}
        for m in found["watermelons"][:TOP_ROWS]
    ]  # fmt: skip
    return Table(
        "watermelons", _("Watermelons: SLA met, people unhappy"),
        [Column("label", _("Service")), Column("sla", _("SLA compliance %"), "percent"),
         Column("happiness", _("Happiness"), "signed"), Column("answers", _("Answers"), "int"),
         Column("lost_hours", _("Lost hours"), "hours"), Column("lost_cost", _("Cost of lost time"), "money"),
         Column("factor", _("Most named problem"))],
        rows, _("No watermelons: where the SLA is met, people are happy too (or too few answered to judge)."),
    )  # fmt: skip


def priority_table(scope: Scope, month: Period) -> Table:
    found = analytics.priorities(scope, "service", month, limit=TOP_ROWS)
    rows = [
        {"label": p["label"], "impact": p["impact"], "happiness": p["happiness"], "answers": p["responses"],
         "lost_hours": p["lost_hours"], "factor": _first_factor(p["top_negative_factors"])}
        for p in found["rows"]
    ]  # fmt: skip
    return Table(
        "priorities", _("Fix these first"),
        [Column("label", _("Service")), Column("impact", _("Impact"), "signed"),
         Column("happiness", _("Happiness"), "signed"), Column("answers", _("Answers"), "int"),
         Column("lost_hours", _("Lost hours"), "hours"), Column("factor", _("Most named problem"))],
        rows, _("Nothing to fix first: no service had answers in this month."),
    )  # fmt: skip


def _with_unit(value: float | None, unit: str, signed: bool = False) -> str:
    if value is None:
        return "–"
    text = _signed(value) if signed else number_format(round(value, 1), 1, force_grouping=True)
    # A no-break space: in the PDF's narrow columns "7,9 %" wrapped between the number and its unit.
    return text + unit if unit == "/10" else number_with_unit(text, unit).replace(" ", "\u00a0")


def initiative_table(scope: Scope, month: Period) -> Table:
    """The initiatives started before the month ends (not cancelled), newest first, with their effect
    measured from their start to the month's end."""
    verdicts = {
        initiative_effects.IMPROVED: _("improved"),
        initiative_effects.WORSENED: _("worsened"),
        initiative_effects.NO_CLEAR_CHANGE: _("no clear change"),
    }
    started = [
        item for item in initiative_effects.list_initiatives(scope)
        if item.starts_on < month.end and item.status != InitiativeStatus.CANCELLED
    ]  # fmt: skip
    started.sort(key=lambda item: (item.starts_on, item.id), reverse=True)
    rows = []
    for item in started[:MAX_INITIATIVES]:
        rule = initiative_effects.METRICS[item.metric]
        after_end = min(month.end, item.starts_on + timedelta(days=initiative_effects.MAX_AFTER_DAYS))
        effect = initiative_effects.measure_effect(scope, item.id, after_end=after_end)
        rows.append({
            "title": item.title, "scope": item.scope_label, "metric": str(rule.label), "starts_on": item.starts_on,
            "before": _with_unit(effect.value_before, rule.unit), "after": _with_unit(effect.value_after, rule.unit),
            "change": _with_unit(effect.difference, rule.unit, signed=True),
            "verdict": effect.reason or verdicts[effect.direction],
        })  # fmt: skip
    return Table(
        "initiatives", _("Improvement initiatives"),
        [Column("title", _("Initiative")), Column("scope", _("About")), Column("metric", _("Metric")),
         Column("starts_on", _("Started"), "date"), Column("before", _("Before")), Column("after", _("After")),
         Column("change", _("Difference")), Column("verdict", _("Effect"))],
        rows, _("No improvement initiatives started by the end of this month. Record one on the Initiatives page "
                "to see whether it worked."),
    )  # fmt: skip


def _signal_names() -> dict[str, str]:
    return {
        gaming.RESPONSE_RATE: _("Response rate far above the usual"),
        gaming.FAST_ANSWERS: _("Answers within two minutes of the resolution"),
        gaming.SAME_NETWORK: _("Several callers answering from one network"),
        gaming.TENS_JUMP: _("A jump in the share of 10s"),
        gaming.DISAGREEMENT: _("High scores after a bad journey"),
    }


def gaming_summary(scope: Scope, month: Period) -> dict:
    """How many gaming warnings the month raised about the scope's agents and groups, per signal (service
    owners get none: agents are not a service's data)."""
    if scope.service_ids is not None:
        return {"applies": False, "count": 0, "agents": 0, "groups": 0, "signals": []}
    warnings = analytics.gaming_warnings(scope, day_start(month.start), day_start(month.end))
    names = _signal_names()
    by_signal = Counter(w.signal for w in warnings)
    return {
        "applies": True,
        "count": len(warnings),
        "agents": len({w.subject_id for w in warnings if w.subject == "agent"}),
        "groups": len({w.subject_id for w in warnings if w.subject == "group"}),
        "signals": [(names.get(signal, signal), count) for signal, count in by_signal.most_common()],
    }


def build_report(scope: Scope, month: Period) -> MonthlyReport:
    """The month for this scope; call it in the reader's language (texts and numbers are made here)."""
    points = month_points(scope, month)
    now, before = points[-1]["metrics"], points[-2]["metrics"]
    labels = [date_format(point["start"], "M y") for point in points]
    return MonthlyReport(
        month=month, scope=scope_label(scope), language=_language(), generated_on=today(), has_data=has_data(now),
        kpis=kpis(now, before), charts=trend_charts(labels, points),
        tables={table.name: table for table in (
            xla_table(scope, month), watermelon_table(scope, month), priority_table(scope, month),
            initiative_table(scope, month),
        )},
        gaming=gaming_summary(scope, month),
    )  # fmt: skip


def _language() -> str:
    return get_language() or settings.LANGUAGE_CODE


# --- rendering ------------------------------------------------------------------------------------


def _css_text(text: str) -> str:
    """A CSS string: quotes and backslashes escaped, and nothing that could end the <style> element."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{escaped}"'


def page_counter() -> str:
    """CSS ``content`` for "Page 2 of 5" in the active language (translators may reorder the words)."""
    text = _("Page %(page)s of %(pages)s")
    parts = []
    for piece in text.replace("%(pages)s", "\0pages\0").replace("%(page)s", "\0page\0").split("\0"):
        if piece in ("page", "pages"):
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_text(piece))
    return " ".join(parts)


def render_html(report: MonthlyReport) -> str:
    return render_to_string("web/reports/monthly.html", {"report": report, "page_counter": page_counter()})


def _data_urls_only():
    """The report embeds everything it shows: WeasyPrint fetches nothing from anywhere else."""
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint 68 on
    except ImportError:  # before 68: a function
        from weasyprint import default_url_fetcher

        def fetch(url: str, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"the report does not load {url[:40]!r}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols=("data",))


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_data_urls_only()).write_pdf()


def monthly_pdf(scope: Scope, month: Period, language: str) -> bytes:
    """The month's report for this scope as a PDF, in ``language``."""
    with override(language):
        return render_pdf(render_html(build_report(scope, month)))


def file_name(month: Period) -> str:
    return f"itxm-report-{month_key(month)}.pdf"


# --- subscriptions --------------------------------------------------------------------------------


def subscription_of(user: User) -> ReportSubscription | None:
    return ReportSubscription.objects.filter(user=user).first()


def subscribe(user: User) -> ReportSubscription:
    """Start (or restart) the monthly e-mail; a restarted one keeps the month last sent, so it never sends
    a month twice."""
    subscription, _created = ReportSubscription.objects.update_or_create(user=user, defaults={"active": True})
    return subscription


def unsubscribe(user: User) -> None:
    ReportSubscription.objects.filter(user=user).update(active=False)


# --- the scheduled e-mail -------------------------------------------------------------------------


def due_subscriptions(month: Period):
    """Active subscriptions that have not had ``month``'s report yet."""
    return (
        ReportSubscription.objects.filter(active=True)
        .filter(Q(last_sent_month__isnull=True) | Q(last_sent_month__lt=month.start))
        .select_related("user")
        .order_by("pk")
    )


def _claim(subscription: ReportSubscription, month: Period) -> bool:
    """Take the subscription for this month, unless another run took it first (two workers may run the
    task at once: the compare-and-set lets one of them send)."""
    return bool(
        ReportSubscription.objects.filter(
            pk=subscription.pk, active=True, last_sent_month=subscription.last_sent_month
        ).update(last_sent_month=month.start)
    )


def _release(subscription: ReportSubscription, month: Period, error: str) -> None:
    """A failed sending gives the month back, so that the next run tries again, and says what went wrong."""
    ReportSubscription.objects.filter(pk=subscription.pk, last_sent_month=month.start).update(
        last_sent_month=subscription.last_sent_month, last_error=error[:2000]
    )


def report_email(user: User, month: Period, pdf: bytes, connection=None) -> EmailMessage:
    """The e-mail with the report attached, in the user's language."""
    with override(user.language):
        name = month_name(month.start)
        url = settings.BASE_URL + reverse("reports")
        body = "\n\n".join([
            _("Hello %(name)s,") % {"name": user.get_full_name() or user.username},
            _("Attached is the ITXM report for %(month)s: how people experienced IT, the SLA beside it, the XLAs, "
              "watermelons, priorities and improvement initiatives of the data you may see.") % {"month": name},
            _("You get this e-mail because you subscribed to the monthly report. To stop it, open %(url)s and "
              "choose “Stop the monthly e-mail”.") % {"url": url},
        ])  # fmt: skip
        subject = _("ITXM monthly report: %(month)s") % {"month": name}
    email = EmailMessage(subject, body, to=[user.email], connection=connection)
    email.attach(file_name(month), pdf, "application/pdf")
    return email


def _unsendable(user: User) -> str:
    if not user.is_active:
        return "the account is disabled"
    if not user.email:
        return "the user has no e-mail address"
    return ""


def send_monthly_reports(day: date | None = None) -> dict[str, int]:
    """On or after the first of a month, send the month before to every active subscriber who has not had
    it: rendered for that user's scope and language, over SMTP. Safe to run twice (``last_sent_month``).

    Each subscription is claimed before it is sent (``last_sent_month`` set to the month), so two runs at
    once never send it twice; a failure gives the month back and records ``last_error``, and the next run
    tries again. A worker that dies during the SMTP transfer leaves the month marked sent: a report may be
    missed then, never sent twice. One user's failure never stops the others."""
    month = last_complete_month(day or today())
    counts = {"sent": 0, "failed": 0}
    smtp = None
    try:
        for subscription in due_subscriptions(month):
            user = subscription.user
            if problem := _unsendable(user):
                ReportSubscription.objects.filter(pk=subscription.pk).update(last_error=problem)
                counts["failed"] += 1
                continue
            if not _claim(subscription, month):
                continue  # another run has it
            try:
                pdf = monthly_pdf(scope_for(user), month, user.language)
                smtp = smtp or get_connection(fail_silently=False)
                report_email(user, month, pdf, smtp).send()
            except (smtplib.SMTPException, OSError) as error:
                if smtp is not None:
                    smtp.close()  # a broken connection is not reused; the next e-mail opens a new one
                _release(subscription, month, f"{type(error).__name__}: {error}")
                counts["failed"] += 1
                log.warning("monthly report for %s not sent: %s", user.username, error)
            except Exception as error:  # a report that cannot be drawn must not stop the others
                _release(subscription, month, f"{type(error).__name__}: {error}")
                counts["failed"] += 1
                log.exception("monthly report for %s failed", user.username)
            else:
                ReportSubscription.objects.filter(pk=subscription.pk).update(last_error="")
                counts["sent"] += 1
    finally:
        if smtp is not None:
            smtp.close()
    return counts
