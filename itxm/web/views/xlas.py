"""XLA pages: the list with each XLA's status this period, the scorecard (indicators, history, and the
period's gaming signals beside it: an XLA is a measure, not a target), and the editor.

The editor works without JavaScript: "add indicator" and "remove" are submit buttons that re-render the
form with the input kept; with htmx they post the same form and swap in the indicator rows only. Saving
goes through ``xla.create_xla``/``update_xla``, which validate and keep each reader inside its scope.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from itxm.analytics import services as analytics
from itxm.analytics import xla
from itxm.analytics.models import Direction, IndicatorKind, PeriodKind
from itxm.analytics.periods import Period, calendar_period
from itxm.org import queries as org
from itxm.org.scopes import Permission, Scope
from itxm.tickets.models import Channel
from itxm.web import charts
from itxm.web.pages import factor_label, is_shared, member_label, page_context, reader_scope, render_page
from itxm.web.tables import Column, Table

METRIC_LABELS = {
    "happiness": gettext_lazy("Happiness"),
    "average_score": gettext_lazy("Average score (0–10)"),
    "lost_minutes_per_answer": gettext_lazy("Time lost per answer (minutes)"),
    "lost_hours": gettext_lazy("Work time lost (hours)"),
    "response_rate": gettext_lazy("Survey response rate %"),
    "sla_compliance": gettext_lazy("SLA compliance % (as the source reports it)"),
    "itxm_sla_compliance": gettext_lazy("SLA compliance % (measured by ITXM)"),
    "reopen_rate": gettext_lazy("Reopen rate %"),
    "reassignment_rate": gettext_lazy("Reassignment rate %"),
    "first_contact_resolution": gettext_lazy("First-contact resolution %"),
    "mean_resolution_hours": gettext_lazy("Mean resolution time (hours)"),
    "device_health": gettext_lazy("Device health (0–100)"),
    "factor_share": gettext_lazy("Share of answers naming a factor %"),
}
DIMENSION_LABELS = {
    "all": gettext_lazy("Everyone"),
    "service": gettext_lazy("Service"),
    "category": gettext_lazy("Category"),
    "group": gettext_lazy("Group"),
    "supplier": gettext_lazy("Supplier"),
    "agent": gettext_lazy("Agent"),
    "department": gettext_lazy("Department"),
    "location": gettext_lazy("Location"),
    "country": gettext_lazy("Country"),
    "channel": gettext_lazy("Channel"),
    "priority": gettext_lazy("Priority"),
    "kind": gettext_lazy("Survey kind"),
}
SIGNAL_LABELS = {
    "response_rate_spike": gettext_lazy("Unusually many surveys answered"),
    "fast_answers": gettext_lazy("Answers within minutes of the resolution"),
    "same_network": gettext_lazy("Many answers from one network address"),
    "tens_jump": gettext_lazy("A sudden rise in 10s"),
    "score_disagrees_with_journey": gettext_lazy("High scores after a bad experience"),
}
NEW_INDICATOR = {"metric": "happiness", "factor": "", "target": "", "direction": "", "weight": "1", "margin": ""}
ROW_FIELD = re.compile(r"^ind-(\d+)-metric$")


# --- what an XLA or an initiative is about ---------------------------------------------------------


def about_choices(scope: Scope) -> list[tuple[str, list[tuple[str, str]]]]:
    """What the reader may define an XLA or an initiative about, grouped for a select: the whole
    organisation and everything else for unrestricted readers; a supplier's groups and the supplier for
    a supplier's users; a service owner's services and their categories (the services enforce the same)."""
    teams = scope.group_ids is not None
    owned = scope.service_ids is not None
    found: list[tuple[str, list[tuple[str, str]]]] = []

    def named(dimension: str, rows) -> list[tuple[str, str]]:
        return [(f"{dimension}:{pk}", name) for pk, name in rows.order_by("name").values_list("pk", "name")]

    if not teams and not owned:
        found.append((str(DIMENSION_LABELS["all"]), [("all", _("The whole organisation"))]))
    if not teams:
        found.append((_("Services"), named("service", org.services(scope))))
    if not owned:
        found.append((_("Suppliers"), named("supplier", org.suppliers(scope))))
        found.append((_("Groups"), named("group", org.groups(scope))))
    if not teams:
        categories = org.categories(scope).order_by("service__name", "name")
        found.append((_("Categories"), [(f"category:{c.pk}", f"{c.service.name} › {c.name}") for c in categories]))
    if not teams and not owned:
        found.append((_("Departments"), named("department", org.departments(scope))))
        found.append((_("Locations"), named("location", org.locations(scope))))
        countries = sorted(set(org.locations(scope).exclude(country="").values_list("country", flat=True)))
        found.append((_("Countries"), [(f"country:{code}", code) for code in countries]))
        found.append((_("Channels"), [(f"channel:{value}", str(label)) for value, label in Channel.choices]))
    return [(label, options) for label, options in found if options]


def with_current(choices: list, dimension: str, member: str, label: str) -> list:
    """The choices, holding the current value even when it is not one of them (defined through the API)."""
    value = about_value(dimension, member)
    if any(value == option for _group, options in choices for option, _text in options):
        return choices
    return [(str(DIMENSION_LABELS.get(dimension, dimension)), [(value, label)]), *choices]


def about_value(dimension: str, member: str) -> str:
    return "all" if dimension == "all" else f"{dimension}:{member}"


def parse_about(value: str) -> tuple[str, str]:
    if value == "all":
        return "all", ""
    dimension, _sep, member = value.partition(":")
    return dimension, member


def about_label(scope: Scope, dimension: str, member: str, names: dict | None = None) -> str:
    """What an XLA is about, for people to read (agents by code for readers who may not see people)."""
    if dimension == "all":
        return _("The whole organisation")
    names = analytics.labels(dimension, [member]) if names is None else names
    name, code = names.get(member, (member, member))
    if dimension == "agent" and not scope.allows(Permission.VIEW_PEOPLE):
        name = code
    name = member_label(dimension, member, name)
    return f"{DIMENSION_LABELS.get(dimension, dimension)}: {name}"


def scope_error(error: PermissionDenied) -> str:
    if "services" in str(error):
        return _("You may define this only about the services you own: choose one of them.")
    if "groups" in str(error):
        return _("You may define this only about your own groups or your supplier: choose one of them.")
    return _("You may not define this about what you chose.")


def number(text: str) -> float | None:
    """A number as people type it (a decimal comma too); None when it is not one."""
    try:
        return float(text.strip().replace(",", "."))
    except (AttributeError, ValueError):
        return None


def plain(value: float | None) -> str:
    """A stored number as an input's value (``12.5``, ``40``)."""
    return "" if value is None else f"{value:g}"


def period_name(kind: str, period: Period) -> str:
    if kind == PeriodKind.QUARTER:
        return _("Q%(quarter)d %(year)d") % {"quarter": (period.start.month - 1) // 3 + 1, "year": period.start.year}
    return date_format(period.start, "F Y")


def short_period_name(kind: str, period: Period) -> str:
    if kind == PeriodKind.QUARTER:
        return period_name(kind, period)
    return date_format(period.start, "M Y")


def read_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def refuse_changes(request) -> None:
    """A share link shows pages read-only, and viewers only read: neither may define or change anything."""
    if is_shared(request):
        raise PermissionDenied("read-only")
    reader_scope(request).require(Permission.MANAGE_IMPROVEMENT)


# --- list ------------------------------------------------------------------------------------------


def xla_list(request):
    context = page_context(request)
    scope = context["scope"]
    show_archived = request.GET.get("archived") == "1"
    items = list(xla.list_xlas(scope, include_archived=True))
    names = _names(items)
    day = timezone.now().date()  # as the scorecard counts its periods
    active = [_list_row(scope, item, day, names) for item in items if not item.archived]
    archived = [_list_row(scope, item, day, names, evaluate=False) for item in items if item.archived]
    name, about, period, indicators = (
        Column("name", _("XLA"), link="link"), Column("about", _("About")), Column("period", _("Period")),
        Column("indicators", _("Indicators"), "int"),
    )  # fmt: skip
    columns = [name, Column("status", _("Status"), "status"), Column("score", _("Score"), "number"), about, period,
               indicators]  # fmt: skip
    tables = [
        Table("xlas", _("XLAs this period"), columns, active,
              _("No XLAs yet. An XLA says what a good experience looks like, with targets for happiness, lost "
                "time and the operational figures: define the first one with “New XLA”.")),
    ]  # fmt: skip
    if show_archived:
        tables.append(
            Table("archived", _("Archived XLAs"), [name, about, period, indicators], archived,
                  _("No archived XLAs."))
        )  # fmt: skip
    context |= {"show_archived": show_archived, "archived_count": len(archived)}
    return render_page(request, "web/xlas/list.html", context, tables)


def _names(items) -> dict[str, dict]:
    by_dimension: dict[str, set] = {}
    for item in items:
        by_dimension.setdefault(item.dimension, set()).add(item.member)
    return {dimension: analytics.labels(dimension, members) for dimension, members in by_dimension.items()}


def _list_row(scope, item, day: date, names: dict, evaluate: bool = True) -> dict:
    row = {
        "name": item.name, "about": about_label(scope, item.dimension, item.member, names.get(item.dimension, {})),
        "period": str(PeriodKind(item.period).label) if item.period in PeriodKind.values else item.period,
        "indicators": len(item.indicators.all()), "link": reverse("xla", args=[item.pk]),
    }  # fmt: skip
    if evaluate:
        result = current_result(scope, item, day)
        row |= {"score": result.score, "status": result.status}
    return row


def current_result(scope: Scope, item, day: date) -> xla.XlaResult:
    """The XLA in the period holding ``day``, from the monthly rollups (one member, one period)."""
    period = calendar_period(item.period, day)
    member = item.member if item.dimension != "all" else ""
    found = analytics.calendar_metrics(scope, item.dimension, member, [period]).get(period)
    return xla.evaluate(scope, item, period, found)


# --- scorecard -------------------------------------------------------------------------------------


def xla_detail(request, pk: int):
    context = page_context(request)
    scope = context["scope"]
    on = read_day(request.GET.get("on"))
    try:
        card = xla.scorecard(scope, pk, on)
    except ObjectDoesNotExist:
        raise Http404("no such XLA") from None
    item, current = card.xla, card.current
    polarities = analytics.factor_polarities()
    results = [*card.history, current]
    tables = [
        _indicator_table(item, current, polarities),
        _history_table(item, results, polarities),
    ]
    labels = [short_period_name(item.period, result.period) for result in results]
    chart = charts.line(
        "xla_history", _("Score per period"), labels, [(_("Score"), [result.score for result in results])],
        y_name=_("Score"), y_min=0, y_max=100, mark_line=(_("met from %(score)d") % {"score": xla.XLA_MET_FROM},
                                                            xla.XLA_MET_FROM),
        summary=_("The XLA's score in each period, 0 to 100; it is met from %(met)d and at risk from %(risk)d.")
        % {"met": xla.XLA_MET_FROM, "risk": xla.XLA_AT_RISK_FROM},
    )  # fmt: skip
    _fit(chart)
    context |= {
        "xla": item, "current": current, "about": about_label(scope, item.dimension, item.member),
        "period_name": period_name(item.period, current.period),
        "period_kind": PeriodKind(item.period).label if item.period in PeriodKind.values else item.period,
        "on": on.isoformat() if on else "", "met_from": xla.XLA_MET_FROM, "at_risk_from": xla.XLA_AT_RISK_FROM,
        "judged": [i for i in current.indicators if i.status != xla.NOT_JUDGED],
    }  # fmt: skip
    return render_page(request, "web/xlas/scorecard.html", context, tables, [chart])


def _fit(chart: charts.Chart) -> None:
    """Periods as columns (the first and last labels stay whole) and the target's label inside the plot."""
    chart.option["xAxis"]["boundaryGap"] = True
    for series in chart.option["series"]:
        if "markLine" in series:
            series["markLine"]["label"]["position"] = "insideEndTop"


def indicator_name(metric: str, factor: str, polarities: dict) -> str:
    if metric == "factor_share":
        _polarity, label_en, label_tr = polarities.get(factor, ("", factor, factor))
        return _("Answers naming “%(factor)s” %%") % {
            "factor": factor_label({"label_en": label_en, "label_tr": label_tr})
        }
    return str(METRIC_LABELS.get(metric, metric))


def _default_margin(result: xla.IndicatorResult, item) -> float | None:
    stored = next((i.at_risk_margin for i in item.indicators.all() if i.pk == result.id), None)
    if stored is not None:
        return stored
    rule = xla.METRICS.get(result.metric)
    if rule is None:
        return None
    return round(abs(result.target) * rule.margin, 2) if rule.relative else rule.margin


def _indicator_table(item, current: xla.XlaResult, polarities: dict) -> Table:
    kinds, directions = dict(IndicatorKind.choices), dict(Direction.choices)
    rows = [
        {"indicator": indicator_name(i.metric, i.factor, polarities), "kind": str(kinds.get(i.kind, i.kind)),
         "value": i.value, "target": i.target, "direction": str(directions.get(i.direction, i.direction)),
         "margin": _default_margin(i, item), "weight": i.weight, "sample": i.sample, "status": i.status}
        for i in current.indicators
    ]  # fmt: skip
    return Table(
        "indicators", _("Indicators"),
        [Column("indicator", _("Indicator")), Column("value", _("Value"), "number"),
         Column("target", _("Target"), "number"), Column("status", _("Status"), "status"),
         Column("direction", _("Direction")),
         Column("margin", _("At risk within"), "number",
                help=_("A miss by no more than this is at risk; a larger miss is breached.")),
         Column("weight", _("Weight"), "number"),
         Column("sample", _("Based on"), "int", help=_("Answers, or resolved tickets for operational indicators.")),
         Column("kind", _("Kind"))],
        rows, _("This XLA has no indicators: edit it to add some."),
    )  # fmt: skip


def _history_table(item, results: list[xla.XlaResult], polarities: dict) -> Table:
    indicators = results[-1].indicators
    columns = [Column("period", _("Period"), link="link"), Column("score", _("Score"), "number"),
               Column("status", _("Status"), "status")]  # fmt: skip
    columns += [
        Column(f"i{n}", indicator_name(i.metric, i.factor, polarities), "number") for n, i in enumerate(indicators)
    ]
    rows = []
    for result in reversed(results):
        row = {"period": period_name(item.period, result.period), "score": result.score, "status": result.status,
               "link": reverse("xla", args=[item.pk]) + f"?on={result.period.start.isoformat()}"}  # fmt: skip
        row |= {f"i{n}": i.value for n, i in enumerate(result.indicators)}
        rows.append(row)
    return Table("history", _("History"), columns, rows, _("No periods to show yet."))


def xla_warnings(request, pk: int):
    """The gaming signals of the XLA's period: computed over months of answers, so loaded apart (htmx)."""
    scope = reader_scope(request)
    on = read_day(request.GET.get("on"))
    try:
        item = xla.get_xla(scope, pk)
        signals = xla.gaming_signals(scope, pk, on)
    except ObjectDoesNotExist:
        raise Http404("no such XLA") from None
    found = signals.warnings
    table = _warnings_table(scope, found)
    partial = bool(request.headers.get("HX-Request")) and not request.GET.get("export")
    template = "web/xlas/_warnings.html" if partial else "web/xlas/warnings.html"
    context = {"scope": scope, "xla": item, "on": on.isoformat() if on else "", "count": len(found),
               "counted_at": signals.counted_at}  # fmt: skip
    return render_page(request, template, context, [table])


def _warnings_table(scope: Scope, found: list) -> Table:
    agent_names = analytics.labels("agent", [str(w.subject_id) for w in found if w.subject == "agent"])
    group_names = analytics.labels("group", [str(w.group_id) for w in found if w.group_id is not None])
    rows = []
    for warning in found:
        if warning.subject == "agent":
            name, code = agent_names.get(str(warning.subject_id), (warning.name, str(warning.subject_id)))
            who = name if scope.allows(Permission.VIEW_PEOPLE) else code
            team = group_names.get(str(warning.group_id), ("", ""))[0]
            who = _("%(agent)s (agent in %(group)s)") % {"agent": who, "group": team} if team else who
        else:
            who = _("%(group)s (group)") % {"group": warning.name}
        rows.append({"signal": str(SIGNAL_LABELS.get(warning.signal, warning.signal)), "who": who,
                     "seen": signal_summary(warning), "examples": ", ".join(warning.examples)})  # fmt: skip
    return Table(
        "gaming", _("Gaming signals this period"),
        [Column("signal", _("Signal")), Column("who", _("About")), Column("seen", _("What was seen")),
         Column("examples", _("Example tickets"))],
        rows, _("No gaming signals this period: answers look as earned as usual."),
    )  # fmt: skip


def signal_summary(warning) -> str:
    """What the rule saw, in the reader's language (the evidence holds the figures)."""
    e = warning.evidence
    try:
        if warning.signal == "response_rate_spike":
            expected = max(v for v in (e["peers_rate_pct"], e["own_baseline_rate_pct"]) if v is not None)
            return _(
                "%(rate)s %% of surveys answered (%(answered)d of %(delivered)d), against %(expected)s %% "
                "expected from the past and from peers"
            ) % {"rate": e["rate_pct"], "answered": e["answered"], "delivered": e["delivered"], "expected": expected}
        if warning.signal == "fast_answers":
            return _(
                "%(fast)d of %(answers)d answers came within %(seconds)d seconds of the resolution, before the "
                "e-mail could be read"
            ) % {"fast": e["fast_answers"], "answers": e["answers"], "seconds": e["threshold_seconds"]}
        if warning.signal == "same_network":
            return _("%(answers)d answers from %(callers)d different callers came from one address, %(ip)s") % {
                "answers": e["answers_from_ip"],
                "callers": e["different_callers"],
                "ip": e["client_ip"],
            }
        if warning.signal == "tens_jump":
            expected = max(v for v in (e["peers_tens_share_pct"], e["own_baseline_tens_share_pct"]) if v is not None)
            return _("%(share)s %% of answers are 10s (%(tens)d of %(answers)d), against %(expected)s %% expected") % {
                "share": e["tens_share_pct"],
                "tens": e["tens"],
                "answers": e["answers"],
                "expected": expected,
            }
        if warning.signal == "score_disagrees_with_journey":
            return _("%(high)d of %(bad)d reopened or costly tickets got a 9 or 10") % {
                "high": e["high_scores"],
                "bad": e["bad_journeys_answered"],
            }
    except (KeyError, TypeError, ValueError):
        pass
    return warning.summary  # fmt: skip


# --- archive ---------------------------------------------------------------------------------------


@require_POST
def xla_archive(request, pk: int):
    refuse_changes(request)
    restore = request.POST.get("restore") == "1"
    try:
        item = xla.archive_xla(reader_scope(request), pk, archived=not restore)
    except ObjectDoesNotExist:
        raise Http404("no such XLA") from None
    if restore:
        messages.success(request, _("“%(name)s” is back in the list of XLAs.") % {"name": item.name})
    else:
        messages.success(request, _("“%(name)s” is archived: it stays on record but leaves the list and the "
                                    "overview. Restore it at any time.") % {"name": item.name})  # fmt: skip
    return redirect("xla", pk=pk)


# --- editor ----------------------------------------------------------------------------------------


@dataclass
class IndicatorRow:
    metric: str = "happiness"
    factor: str = ""
    target: str = ""
    direction: str = ""
    weight: str = "1"
    margin: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    focus: bool = False


@dataclass
class XlaForm:
    name: str = ""
    description: str = ""
    about: str = "all"
    period: str = PeriodKind.MONTH
    rows: list[IndicatorRow] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, item) -> "XlaForm":
        rows = [
            IndicatorRow(metric=i.metric, factor=i.factor, target=plain(i.target), direction=i.direction,
                         weight=plain(i.weight), margin=plain(i.at_risk_margin))
            for i in item.indicators.all()
        ]  # fmt: skip
        return cls(item.name, item.description, about_value(item.dimension, item.member), item.period, rows)

    @classmethod
    def read(cls, data) -> "XlaForm":
        numbers = sorted({int(m.group(1)) for key in data for m in [ROW_FIELD.match(key)] if m})
        rows = [
            IndicatorRow(**{name: data.get(f"ind-{n}-{name}", "").strip() for name in NEW_INDICATOR}) for n in numbers
        ]
        return cls(data.get("name", ""), data.get("description", ""), data.get("about", ""),
                   data.get("period", ""), rows)  # fmt: skip

    def spec(self) -> xla.XlaSpec | None:
        """The definition for the service, or None when a number cannot be read (errors say where)."""
        indicators = []
        for row in self.rows:
            target, weight, margin = number(row.target), number(row.weight or "1"), number(row.margin)
            if target is None:
                row.errors["target"] = _("Give the target as a number.")
            if weight is None:
                row.errors["weight"] = _("Give the weight as a number, 1 unless this indicator counts more.")
            if row.margin and margin is None:
                row.errors["margin"] = _("Give the margin as a number, or leave it empty for the usual one.")
            indicators.append(xla.IndicatorSpec(
                metric=row.metric, target=target or 0.0, direction=row.direction, weight=weight or 0.0,
                factor=row.factor if row.metric == "factor_share" else "",
                at_risk_margin=margin if row.margin else None,
            ))  # fmt: skip
        if any(row.errors for row in self.rows):
            return None
        dimension, member = parse_about(self.about)
        return xla.XlaSpec(name=self.name, description=self.description, dimension=dimension, member=member,
                           period=self.period, indicators=tuple(indicators))  # fmt: skip

    def refused(self, error: xla.InvalidXla) -> None:
        """Show the service's refusal at the field it names."""
        where = re.match(r"^indicators\[(\d+)\]\.(\w+)$", error.field)
        if where and int(where.group(1)) < len(self.rows):
            name = {"at_risk_margin": "margin"}.get(where.group(2), where.group(2))
            name = name if name in NEW_INDICATOR else "metric"
            self.rows[int(where.group(1))].errors[name] = _indicator_message(name, str(error))
        else:
            key = {"member": "about"}.get(error.field, error.field)
            key = key if key in ("name", "period", "indicators", "about") else "name"
            self.errors[key] = _field_message(key, str(error))


def _field_message(key: str, message: str) -> str:
    known = {
        "name": _("Give the XLA a name."),
        "period": _("Choose whether it is measured per month or per quarter."),
        "indicators": _("An XLA has at least one indicator: add one."),
        "about": _("Choose what the XLA is about from the list."),
    }
    return known.get(key, message)


def _indicator_message(name: str, message: str) -> str:
    if name == "factor":
        return _("Choose the survey factor whose share this indicator measures.")
    if name == "weight":
        return _("A weight is more than 0.")
    if name == "margin":
        return _("The at-risk margin cannot be negative.")
    if name == "metric":
        return _("Choose one of the metrics in the list.")
    if name == "direction":
        return _("Choose whether higher or lower is better.")
    return message


def _editor(request, item=None):
    refuse_changes(request)
    context = page_context(request)
    scope = context["scope"]
    if request.method != "POST":
        form = XlaForm.of(item) if item is not None else XlaForm(rows=[IndicatorRow()])
        return _render_editor(request, context, form, item)
    form = XlaForm.read(request.POST)
    action = request.POST.get("action", "save")
    if action == "add":
        form.rows.append(IndicatorRow(focus=True))
        return _render_editor(request, context, form, item, rows_only=True)
    if action.startswith("remove-"):
        index = int(action.removeprefix("remove-")) if action.removeprefix("remove-").isdigit() else -1
        if 0 <= index < len(form.rows):
            del form.rows[index]
        return _render_editor(request, context, form, item, rows_only=True)
    spec = form.spec()
    if spec is None:
        return _render_editor(request, context, form, item, status=400)
    try:
        saved = xla.create_xla(scope, spec) if item is None else xla.update_xla(scope, item.pk, spec)
    except xla.InvalidXla as error:
        form.refused(error)
        return _render_editor(request, context, form, item, status=400)
    except PermissionDenied as error:
        form.errors["about"] = scope_error(error)
        return _render_editor(request, context, form, item, status=403)
    messages.success(request, _("The XLA “%(name)s” is saved.") % {"name": saved.name})
    return redirect("xla", pk=saved.pk)


def _render_editor(request, context: dict, form: XlaForm, item, rows_only: bool = False, status: int = 200):
    scope = context["scope"]
    choices = about_choices(scope)
    if item is not None:
        choices = with_current(choices, item.dimension, item.member, about_label(scope, item.dimension, item.member))
    polarities = analytics.factor_polarities()
    factors = {"negative": [], "positive": []}
    for key, (polarity, label_en, label_tr) in sorted(polarities.items()):
        factors["positive" if polarity == "positive" else "negative"].append(
            (key, factor_label({"label_en": label_en, "label_tr": label_tr}))
        )
    context |= {
        "form": form, "xla": item, "about_choices": choices, "metric_groups": _metric_groups(),
        "factor_groups": [(_("Complaints"), factors["negative"]), (_("Praise"), factors["positive"])],
        "directions": [("", _("as usual for the metric")), *Direction.choices], "periods": PeriodKind.choices,
        "action_url": request.path, "has_errors": bool(form.errors or any(row.errors for row in form.rows)),
    }  # fmt: skip
    if rows_only and request.headers.get("HX-Request"):
        return render(request, "web/xlas/_indicators.html", context)
    return render(request, "web/xlas/editor.html", context, status=status)


def _metric_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (str(label), [(metric, str(METRIC_LABELS.get(metric, metric)))
                      for metric, rule in xla.METRICS.items() if rule.kind == kind])
        for kind, label in IndicatorKind.choices
    ]  # fmt: skip


def xla_new(request):
    return _editor(request)


def xla_edit(request, pk: int):
    try:
        item = xla.get_xla(reader_scope(request), pk)
    except ObjectDoesNotExist:
        raise Http404("no such XLA") from None
    return _editor(request, item)


urlpatterns = [
    path("xlas/", xla_list, name="xlas"),
    path("xlas/new/", xla_new, name="xla_new"),
    path("xlas/<int:pk>/", xla_detail, name="xla"),
    path("xlas/<int:pk>/edit/", xla_edit, name="xla_edit"),
    path("xlas/<int:pk>/archive/", xla_archive, name="xla_archive"),
    path("xlas/<int:pk>/warnings/", xla_warnings, name="xla_warnings"),
]
