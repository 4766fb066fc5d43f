"""What every dashboard page does the same way: the reader's scope and filters, exports of its tables,
read-only rendering through a share link. Page views call ``page_context`` then ``render_page``."""

from collections.abc import Mapping, Sequence

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from itxm.org.scopes import Permission, Scope, scope_for
from itxm.surveys.models import SurveyKind
from itxm.tickets.models import Channel
from itxm.web import filters as page_filters
from itxm.web.charts import Chart
from itxm.web.tables import EXPORTS, Table


def reader_scope(request) -> Scope:
    """The scope of whoever reads the page: the signed-in user, or the creator of the share link used."""
    return scope_for(request.user)


def is_shared(request) -> bool:
    return getattr(request, "share_link", None) is not None


def page_context(request, default_period: str = page_filters.DEFAULT_PRESET) -> dict:
    scope = reader_scope(request)
    found = page_filters.page_filters(request, default_period)
    return {
        "scope": scope,
        "filters": found,
        "filter_choices": page_filters.filter_choices(scope),
        "presets": page_filters.PRESETS,
        "shared": is_shared(request),
        "can_improve": scope.allows(Permission.MANAGE_IMPROVEMENT) and not is_shared(request),
    }


def render_page(
    request, template: str, context: dict, tables: Sequence[Table] = (), charts: Sequence[Chart] = ()
) -> HttpResponse:
    """The page, or one of its tables as a file when asked (``?export=csv|xlsx&table=NAME``)."""
    if export := request.GET.get("export"):
        return export_table(request, export, tables)
    context = context | {
        "tables": {table.name: table for table in tables},
        "charts": {chart.id: chart for chart in charts},
        "shared": is_shared(request),
    }
    return render(request, template, context)


def export_table(request, fmt: str, tables: Sequence[Table]) -> HttpResponse:
    writer = EXPORTS.get(fmt)
    wanted = request.GET.get("table") or (tables[0].name if len(tables) == 1 else "")
    table = next((table for table in tables if table.name == wanted), None)
    if writer is None or table is None:
        raise Http404("no such export")
    return writer(table)


def factor_label(factor) -> str:
    """A factor's name in the reader's language (factors carry both; analytics results are shared).
    ``factor`` is a dict or an object with ``label_en`` and ``label_tr``."""
    factor = factor if isinstance(factor, Mapping) else vars(factor)
    if get_language() == "tr" and factor.get("label_tr"):
        return factor["label_tr"]
    return factor.get("label_en", "")


def member_label(dimension: str, member: str, label: str) -> str:
    """Channel and survey-area names come translated from their choices: translate them for this reader
    (analytics results are remembered across readers of every language)."""
    if dimension == "channel" and member in Channel.values:
        return str(Channel(member).label)
    if dimension == "kind" and member in SurveyKind.values:
        return str(SurveyKind(member).label)
    return label or member
