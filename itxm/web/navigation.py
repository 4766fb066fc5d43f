"""The main menu: every area of the product, in the order people use them, shown to whoever may use it."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from itxm.org.models import Role


@dataclass(frozen=True)
class Entry:
    url_name: str
    label: str
    prefix: str  # the entry is current on every path under this one
    roles: tuple[str, ...] = ()  # empty: every signed-in user


MENU = (
    Entry("home", _("Overview"), "/overview/"),
    Entry("watermelons", _("Watermelons"), "/watermelons/"),
    Entry("priorities", _("Priorities"), "/priorities/"),
    Entry("explore", _("Explore"), "/explore/"),
    Entry("journeys", _("Journeys"), "/journeys/"),
    Entry("surveys", _("Surveys"), "/surveys/"),
    Entry("xlas", _("XLAs"), "/xlas/"),
    Entry("initiatives", _("Initiatives"), "/initiatives/"),
    Entry("devices", _("Devices"), "/devices/"),
    Entry("reports", _("Reports"), "/reports/"),
    Entry("settings_hub", _("Settings"), "/settings/", roles=(Role.ADMIN,)),
)


def menu(request) -> dict:
    """Context processor: the menu entries this user may open (areas not installed are left out)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "share_link", None) is not None:
        return {"menu": []}
    entries = []
    for entry in MENU:
        if entry.roles and user.role not in entry.roles:
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        current = request.path == url or (entry.prefix != "/" and request.path.startswith(entry.prefix))
        entries.append({"url": url, "label": entry.label, "current": current})
    return {"menu": entries}
