"""Template helpers shared by every page: tables, charts, filters and cell formatting."""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

register = template.Library()

STATUS_LABELS = {
    "met": _("met"),
    "at_risk": _("at risk"),
    "breached": _("breached"),
    "not_judged": _("not judged"),
    "improved": _("improved"),
    "worsened": _("worsened"),
    "no_change": _("no significant change"),
}

# Units after a number, in the reader's language: the catalogue's "unit" family ("12 dk", "3,5 sa" in Turkish).
UNITS = {"h": pgettext_lazy("unit", "%(number)s h"), "min": pgettext_lazy("unit", "%(number)s min")}


def number_with_unit(number: str, unit: str) -> str:
    """A number already written out, followed by its unit (none: the number alone)."""
    if unit in UNITS:
        return str(UNITS[unit]) % {"number": number}
    return f"{number} {unit}".rstrip()


@register.filter
def cell(value, kind: str = "text") -> str:
    """A value as the page shows it: localised numbers with their unit; an en dash for nothing."""
    if value is None or value == "":
        return "–"
    if kind == "status":
        return str(STATUS_LABELS.get(str(value), value))
    if isinstance(value, datetime):  # a filter gets the stored UTC moment: shown in the installation's zone
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if not isinstance(value, int | float):
        return str(value)
    if kind == "int":
        return number_format(value, 0, force_grouping=True)
    if kind == "percent":
        return f"{number_format(value, 1)} %"
    if kind == "signed":
        return ("+" if value > 0 else "") + number_format(value, 1)
    if kind == "hours":
        return number_with_unit(number_format(value, 1, force_grouping=True), "h")
    if kind == "money":
        return number_format(value, 0, force_grouping=True)
    if kind == "number":
        return number_format(value, 1, force_grouping=True)
    return str(value)


@register.filter
def status_class(value) -> str:
    return {"met": "good", "improved": "good", "at_risk": "warn", "breached": "bad", "worsened": "bad"}.get(
        str(value), "neutral"
    )


@register.inclusion_tag("web/_chart.html")
def chart(chart):
    return {"chart": chart}


@register.inclusion_tag("web/_table.html", takes_context=True)
def table(context, table, exportable=True):
    request = context["request"]
    params = request.GET.copy()
    params["table"] = table.name
    links = {}
    for fmt in ("csv", "xlsx"):
        params["export"] = fmt
        links[fmt] = "?" + params.urlencode()
    shared = getattr(request, "share_link", None) is not None
    return {"table": table, "exports": links if exportable else {}, "shared": shared}


@register.inclusion_tag("web/_filters.html", takes_context=True)
def filter_bar(context, extra=None):
    """The period and service/group form; ``extra`` is a template with the page's own fields."""
    return {
        "filters": context["filters"],
        "filter_choices": context["filter_choices"],
        "presets": context["presets"],
        "extra": extra,
        "request": context["request"],
        "shared": context.get("shared"),
        **{key: context.get(key) for key in ("dimension", "dimensions", "page_fields")},
    }


@register.simple_tag
def query(filters, **changes) -> str:
    """This page's query string with some keys changed: ``{% query filters dimension='group' %}``."""
    return "?" + filters.query(**changes)
