"""Improvement initiatives: what was changed, for whom, and whether the target metric moved.

The effect page compares the days before the start with the days from it (``initiatives.measure_effect``):
both values, the difference with its 95 % interval, the p-value and the test, in plain words, and other
initiatives that may share the credit.
"""

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from itxm.analytics import initiatives
from itxm.analytics.initiatives import HAPPINESS, IMPROVED, MEAN, PROPORTION, WORSENED, InitiativeSpec
from itxm.analytics.models import InitiativeStatus
from itxm.web import charts
from itxm.web.pages import page_context, reader_scope, render_page
from itxm.web.tables import Column, Table
from itxm.web.templatetags.itxm_web import cell, number_with_unit
from itxm.web.views.xlas import (
    DIMENSION_LABELS,
    about_choices,
    about_label,
    about_value,
    parse_about,
    read_day,
    refuse_changes,
    scope_error,
    with_current,
)

TESTS = {
    PROPORTION: lambda: _("two-proportion z-test, with Newcombe's interval of the difference"),
    MEAN: lambda: _("Welch's t-test (means with unequal spread), with its interval of the difference"),
    HAPPINESS: lambda: _("permutation test, with a bootstrap interval (happiness resampled from its answer groups)"),
}


def metric_label(metric: str) -> str:
    rule = initiatives.METRICS.get(metric)
    return str(rule.label) if rule else metric


def status_label(status: str) -> str:
    return str(InitiativeStatus(status).label) if status in InitiativeStatus.values else status


def initiative_about(item) -> str:
    if item.dimension == "all":
        return _("The whole organisation")
    return f"{DIMENSION_LABELS.get(item.dimension, item.dimension)}: {item.scope_label}"


def with_unit(value: float | None, unit: str) -> str:
    """A value as people read it: 14,7 %, 5,2 h, 7,9/10, 12,0 min, +35,0 (happiness)."""
    if value is None:
        return "–"
    if unit == "%":
        return cell(value, "percent")
    if unit == "h":
        return cell(value, "hours")
    if unit == "":
        return cell(value, "signed")
    if unit == "/10":
        return cell(value, "number") + "/10"
    return number_with_unit(cell(value, "number"), unit)


UNIT_NAMES = {
    "%": lambda: _("percentage points"),
    "h": lambda: _("hours"),
    "min": lambda: _("minutes"),
    "": lambda: _("points"),
    "/10": lambda: _("points out of 10"),
}


def unit_name(unit: str) -> str:
    return UNIT_NAMES[unit]() if unit in UNIT_NAMES else unit


def p_number(p_value: float | None) -> str:
    """``0.459`` or ``< 0.001``."""
    if p_value is None:
        return "–"
    if p_value < 0.001:
        return "< " + number_format(0.001, 3)
    return number_format(round(p_value, 3), 3)


def p_text(p_value: float | None) -> str:
    """``p = 0.459`` or ``p < 0.001``."""
    number = p_number(p_value)
    return f"p {number}" if number.startswith("<") else f"p = {number}"


def verdict(effect, unit: str, label: str) -> tuple[str, str]:
    """(sentence, tone) in plain language."""
    if effect.reason:
        return effect.reason, "neutral"
    values = {"metric": label, "before": with_unit(effect.value_before, unit),
              "after": with_unit(effect.value_after, unit), "p": p_text(effect.p_value)}  # fmt: skip
    if effect.direction == IMPROVED:
        return _("%(metric)s improved from the start: %(before)s before, %(after)s after. A change this large "
                 "would be unlikely by chance alone (%(p)s).") % values, "good"  # fmt: skip
    if effect.direction == WORSENED:
        return _("%(metric)s got worse from the start: %(before)s before, %(after)s after. A change this large "
                 "would be unlikely by chance alone (%(p)s).") % values, "bad"  # fmt: skip
    return _("No clear change in “%(metric)s”: %(before)s before, %(after)s after, a difference that chance alone "
             "could explain (%(p)s).") % values, "neutral"  # fmt: skip


# --- list ------------------------------------------------------------------------------------------


def initiative_list(request):
    context = page_context(request)
    rows = [
        {"title": item.title, "about": initiative_about(item), "metric": metric_label(item.metric),
         "starts_on": item.starts_on, "status": status_label(item.status),
         "public": _("yes") if item.public else _("no"), "owner": item.owner,
         "link": reverse("initiative", args=[item.id])}
        for item in initiatives.list_initiatives(context["scope"])
    ]  # fmt: skip
    table = Table(
        "initiatives", _("Improvement initiatives"),
        [Column("title", _("Initiative"), link="link"), Column("about", _("About")), Column("metric", _("Measured by")),
         Column("starts_on", _("Start"), "date"), Column("status", _("Status")),
         Column("public", _("On the public page")), Column("owner", _("Owner"))],
        rows, _("No initiatives yet. Record what you change (a new process, a fix, training) with the metric that "
                "should show it, and ITXM measures before and after."),
    )  # fmt: skip
    return render_page(request, "web/initiatives/list.html", context, [table])


# --- effect ----------------------------------------------------------------------------------------


def initiative_detail(request, pk: int):
    context = page_context(request)
    scope = context["scope"]
    try:
        item = initiatives.get_initiative(scope, pk)
        effect = initiatives.measure_effect(scope, pk)
    except ObjectDoesNotExist:
        raise Http404("no such initiative") from None
    rule = initiatives.METRICS[item.metric]
    label = metric_label(item.metric)
    sentence, tone = verdict(effect, rule.unit, label)
    windows = [
        {"window": _("Before"), "start": effect.before_start, "last": _last_day(effect.before_start, effect.before_end),
         "n": effect.n_before, "value": effect.value_before},
        {"window": _("After"), "start": effect.after_start, "last": _last_day(effect.after_start, effect.after_end),
         "n": effect.n_after, "value": effect.value_after},
    ]  # fmt: skip
    counted = _("tickets") if rule.source == initiatives.TICKETS else _("answers")
    table = Table(
        "effect", _("Before and after"),
        [Column("window", _("Window")), Column("start", _("From"), "date"), Column("last", _("To"), "date"),
         Column("n", _("Counted (%(unit)s)") % {"unit": counted}, "int"),
         Column("value", f"{label} ({rule.unit})" if rule.unit else label, "number")],
        windows if effect.n_before or effect.n_after else [],
        _("Nothing to compare yet: no data from the start date, or none in the scope."),
    )  # fmt: skip
    chart = charts.bar(
        "effect", _("%(metric)s before and after the start") % {"metric": label},
        [_("Before"), _("After")], [(label, [effect.value_before, effect.value_after])], x_name=rule.unit,
        summary=_("%(metric)s: %(before)s before the start, %(after)s after.") % {
            "metric": label, "before": with_unit(effect.value_before, rule.unit),
            "after": with_unit(effect.value_after, rule.unit)},
    )  # fmt: skip
    after_colour = {"good": charts.GOOD, "bad": charts.BAD}.get(tone, charts.PALETTE[0])
    chart.option["series"][0]["data"] = [
        {"value": effect.value_before, "itemStyle": {"color": charts.NEUTRAL}},
        {"value": effect.value_after, "itemStyle": {"color": after_colour}},
    ]
    context |= {
        "initiative": item, "effect": effect, "metric": label, "verdict": sentence, "tone": tone,
        "about": initiative_about(item),
        "status": status_label(item.status), "test": TESTS[rule.test](), "p_value": p_number(effect.p_value),
        "before": with_unit(effect.value_before, rule.unit), "after": with_unit(effect.value_after, rule.unit),
        "difference": cell(effect.difference, "signed"), "unit_name": unit_name(rule.unit),
        "low": cell(effect.interval.low, "signed") if effect.interval else "",
        "high": cell(effect.interval.high, "signed") if effect.interval else "",
        "lower_is_better": rule.lower_is_better,
    }  # fmt: skip
    return render_page(request, "web/initiatives/detail.html", context, [table], [chart])


def _last_day(start: date, end: date) -> date | None:
    """The last day of a window (its end is excluded); none for an empty window."""
    return date.fromordinal(end.toordinal() - 1) if end > start else None


# --- editor ----------------------------------------------------------------------------------------


@dataclass
class InitiativeForm:
    title: str = ""
    owner: str = ""
    about: str = "all"
    metric: str = "reopen_rate"
    starts_on: str = ""
    status: str = InitiativeStatus.ACTIVE
    you_said: str = ""
    we_did: str = ""
    public: bool = False

    @classmethod
    def of(cls, item) -> "InitiativeForm":
        return cls(item.title, item.owner, about_value(item.dimension, item.member), item.metric,
                   item.starts_on.isoformat(), item.status, item.you_said, item.we_did, item.public)  # fmt: skip

    @classmethod
    def read(cls, data) -> "InitiativeForm":
        return cls(*(data.get(name, "") for name in ("title", "owner", "about", "metric", "starts_on", "status",
                                                     "you_said", "we_did")), data.get("public") == "on")  # fmt: skip


MESSAGES = {
    "title": lambda: _("Give the initiative a title."),
    "metric": lambda: _("Choose the metric that should show the effect."),
    "status": lambda: _("Choose a status from the list."),
    "starts_on": lambda: _("Give the start date (the day the change reached people)."),
    "about": lambda: _("Choose what the initiative is about from the list."),
}


def _editor(request, item=None):
    refuse_changes(request)
    context = page_context(request)
    scope = context["scope"]
    errors: dict[str, str] = {}
    if request.method != "POST":
        form = InitiativeForm.of(item) if item is not None else InitiativeForm()
        return _render_editor(request, context, form, item, errors)
    form = InitiativeForm.read(request.POST)
    starts_on = read_day(form.starts_on)
    if starts_on is None:
        errors["starts_on"] = MESSAGES["starts_on"]()
        return _render_editor(request, context, form, item, errors, 400)
    dimension, member = parse_about(form.about)
    spec = InitiativeSpec(
        title=form.title, metric=form.metric, starts_on=starts_on, dimension=dimension, member=member,
        owner=form.owner, owner_user_id=item.owner_user_id if item is not None else request.user.pk,
        status=form.status, you_said=form.you_said, we_did=form.we_did, public=form.public,
    )  # fmt: skip
    try:
        if item is None:
            saved = initiatives.create_initiative(scope, spec)
        else:
            saved = initiatives.update_initiative(scope, item.id, spec)
    except initiatives.InvalidInitiative as error:
        key = "about" if error.field in ("dimension", "member") else error.field
        errors[key if key in MESSAGES else "title"] = MESSAGES[key]() if key in MESSAGES else str(error)
        return _render_editor(request, context, form, item, errors, 400)
    except PermissionDenied as error:
        errors["about"] = scope_error(error)
        return _render_editor(request, context, form, item, errors, 403)
    messages.success(request, _("The initiative “%(title)s” is saved.") % {"title": saved.title})
    return redirect("initiative", pk=saved.id)


def _render_editor(request, context: dict, form: InitiativeForm, item, errors: dict, status: int = 200):
    scope = context["scope"]
    choices = about_choices(scope)
    if item is not None:
        choices = with_current(choices, item.dimension, item.member, about_label(scope, item.dimension, item.member))
    context |= {
        "form": form, "initiative": item, "errors": errors, "about_choices": choices,
        "metrics": [(key, str(rule.label)) for key, rule in initiatives.METRICS.items()],
        "statuses": InitiativeStatus.choices,
    }  # fmt: skip
    return render(request, "web/initiatives/editor.html", context, status=status)


def initiative_new(request):
    return _editor(request)


def _get(request, pk: int):
    try:
        return initiatives.get_initiative(reader_scope(request), pk)
    except ObjectDoesNotExist:
        raise Http404("no such initiative") from None


def initiative_edit(request, pk: int):
    return _editor(request, _get(request, pk))


def initiative_delete(request, pk: int):
    """A confirmation page; the initiative goes on POST."""
    refuse_changes(request)
    item = _get(request, pk)
    if request.method == "POST":
        initiatives.delete_initiative(reader_scope(request), pk)
        messages.success(request, _("The initiative “%(title)s” is deleted.") % {"title": item.title})
        return redirect("initiatives")
    return render(request, "web/initiatives/delete.html", page_context(request) | {"initiative": item})


urlpatterns = [
    path("initiatives/", initiative_list, name="initiatives"),
    path("initiatives/new/", initiative_new, name="initiative_new"),
    path("initiatives/<int:pk>/", initiative_detail, name="initiative"),
    path("initiatives/<int:pk>/edit/", initiative_edit, name="initiative_edit"),
    path("initiatives/<int:pk>/delete/", initiative_delete, name="initiative_delete"),
]
