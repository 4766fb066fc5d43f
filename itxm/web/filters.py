"""The period and filters every dashboard page reads from its query string, parsed in one place.

``?period=90d`` (the default), ``30d``, ``365d``, ``month`` (this month), ``last-month``, ``quarter``,
or ``custom`` with ``start`` and ``end`` (the end day included, as people read dates). ``service`` and
``group`` narrow every figure on the page; their choices are the ones the reader's scope holds.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itxm.analytics.periods import Period, month_of, quarter_of
from itxm.org import queries as org
from itxm.org.scopes import Scope

PRESETS = {
    "30d": _("Last 30 days"),
    "90d": _("Last 90 days"),
    "365d": _("Last 12 months"),
    "month": _("This month"),
    "last-month": _("Last month"),
    "quarter": _("This quarter"),
    "custom": _("Custom"),
}
DEFAULT_PRESET = "90d"
# Query-string keys the filter form owns; a page's own keys (dimension, rank_by, ...) ride along.
FILTER_KEYS = ("period", "start", "end", "service", "group")


@dataclass(frozen=True)
class PageFilters:
    period: Period
    preset: str
    service: int | None = None
    group: int | None = None
    params: dict[str, str] = field(default_factory=dict)  # the query string as given, for links
    errors: tuple[str, ...] = ()

    def analytics_filters(self) -> dict[str, int | None]:
        return {"service": self.service, "group": self.group}

    @property
    def last_day(self) -> date:
        return self.period.end - timedelta(days=1)

    def query(self, **changes) -> str:
        """This page's query string with some keys changed (``None`` removes one)."""
        params = {**self.params, **{key: value for key, value in changes.items()}}
        return urlencode({key: value for key, value in params.items() if value not in (None, "")})


def today() -> date:
    return timezone.localdate()


def preset_period(preset: str, day: date) -> Period:
    tomorrow = day + timedelta(days=1)
    if preset.endswith("d") and preset[:-1].isdigit():
        return Period(tomorrow - timedelta(days=int(preset[:-1])), tomorrow)
    if preset == "month":
        return Period(month_of(day).start, tomorrow)
    if preset == "last-month":
        return month_of(month_of(day).start - timedelta(days=1))
    if preset == "quarter":
        return Period(quarter_of(day).start, tomorrow)
    raise ValueError(preset)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def page_filters(request, default: str = DEFAULT_PRESET, day: date | None = None) -> PageFilters:
    """The filters of a request; anything unreadable falls back to the default and is reported, never a 500."""
    day = day or today()
    params = {key: value for key, value in request.GET.items() if key not in ("export", "table")}
    preset = params.get("period", default)
    errors: list[str] = []
    if preset == "custom":
        start, end = _day(params.get("start")), _day(params.get("end"))
        if start and end and start <= end:
            period = Period(start, end + timedelta(days=1))
        else:
            errors.append(str(_("Give a start day and an end day on or after it.")))
            preset, period = default, preset_period(default, day)
    elif preset in PRESETS:
        period = preset_period(preset, day)
    else:
        errors.append(str(_("Unknown period; showing the default.")))
        preset, period = default, preset_period(default, day)
    return PageFilters(
        period=period, preset=preset, service=_number(params.get("service")), group=_number(params.get("group")),
        params=params, errors=tuple(errors),
    )  # fmt: skip


def filter_choices(scope: Scope) -> dict[str, list[tuple[int, str]]]:
    """The services and groups the reader may narrow to (only those inside the scope)."""
    return {
        "services": list(org.services(scope).order_by("name").values_list("id", "name")),
        "groups": list(org.groups(scope).order_by("name").values_list("id", "name")),
    }


@dataclass(frozen=True)
class Select:
    """A page's own choice in the filter form (dimension, ranking, ...)."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...]
    value: str

    @classmethod
    def read(cls, request, name: str, label: str, choices, default: str) -> "Select":
        """The choice from the query string; an unknown value falls back to ``default``."""
        choices = tuple((str(key), str(text)) for key, text in choices)
        value = request.GET.get(name, default)
        return cls(name, label, choices, value if value in dict(choices) else default)
