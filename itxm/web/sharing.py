"""Share links: a read-only view of one dashboard page, as its creator sees it now, for whoever holds the link.

The token is shown once, when the link is made; only its SHA-256 is kept. A link opens only the dashboard
pages named in ``SHAREABLE`` (by URL name), with GET, in the creator's current scope: a supplier's link
shows that supplier's data whoever opens it. Settings, the admin, the list of links and every form are
never reachable through a link, neither when it is made nor when it is used.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.db.models import F
from django.http import QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itxm.web.models import ShareLink

DEFAULT_DAYS = 14
MAX_DAYS = 90
MAX_TITLE = 200
# Dashboard pages a link may show, by URL name, with what to call them when the creator gives no title.
SHAREABLE = {
    "home": _("Overview"),
    "overview": _("Overview"),
    "explore": _("Explore"),
    "explore_member": _("Explore"),
    "watermelons": _("Watermelons"),
    "priorities": _("Priorities"),
    "journeys": _("Journeys"),
    "channels": _("Channels"),
    "drivers": _("Drivers"),
    "surveys": _("Surveys"),
    "gaming": _("Gaming warnings"),
    "xlas": _("XLAs"),
    "xla": _("XLA scorecard"),
    "initiatives": _("Initiatives"),
    "initiative": _("Initiative"),
    "devices": _("Devices"),
    "device_models": _("Device models"),
    "anomalies": _("Anomalies"),
    "alerts": _("Proactive alerts"),
}
# What a visitor may add to the page as it was shared: downloading its tables. Filters stay as shared,
# so a link shows what its creator chose to show, not everything their scope holds.
VISITOR_KEYS = ("export", "table")


class ShareRefused(ValueError):
    """The page cannot be shared, or the expiry is out of bounds."""


class LinkNotFound(LookupError):
    """No link has this token (never made, mistyped or tampered with)."""


class LinkGone(LookupError):
    """The link existed but no longer opens: expired, revoked, or its creator was disabled."""

    def __init__(self, link: ShareLink):
        super().__init__(link.pk)
        self.link = link


@dataclass(frozen=True)
class SharedPage:
    """A shareable page: which view shows it, and its query string without the visitor's keys."""

    url_name: str
    path: str
    query: str
    view: object
    args: tuple
    kwargs: dict

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def label(self) -> str:
        return str(SHAREABLE[self.url_name])


@dataclass(frozen=True)
class LinkRow:
    """One of a user's links as the list of links shows it."""

    id: int
    title: str
    path: str
    created_at: datetime
    expires_at: datetime
    views: int
    last_viewed_at: datetime | None
    status: str  # live, expired, revoked

    @property
    def is_live(self) -> bool:
        return self.status == "live"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def shared_page(path: str) -> SharedPage:
    """The page a path shows, if a link may show it; ``ShareRefused`` otherwise."""
    parts = urlsplit(path or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        raise ShareRefused(_("Only a page of this site can be shared."))
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise ShareRefused(_("This page cannot be shared.")) from None
    if match.namespace or match.url_name not in SHAREABLE:
        raise ShareRefused(_("This page cannot be shared."))
    params = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in VISITOR_KEYS]
    return SharedPage(match.url_name, parts.path, urlencode(params), match.func, match.args, match.kwargs)


def default_title(path: str) -> str:
    try:
        return shared_page(path).label
    except ShareRefused:
        return ""


def expiry_days(value) -> int:
    """The days a link lasts, from what the form sent: 1 to ``MAX_DAYS``."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        wanted = _("Give the number of days the link works, from 1 to %(max)s.") % {"max": MAX_DAYS}
        raise ShareRefused(wanted) from None
    if not 1 <= days <= MAX_DAYS:
        raise ShareRefused(_("A link works for 1 to %(max)s days.") % {"max": MAX_DAYS})
    return days


def create_link(
    user, path: str, days: int = DEFAULT_DAYS, title: str = "", now: datetime | None = None
) -> tuple[ShareLink, str]:
    """Make a link to a page and return it with its token, which is shown once and never stored."""
    page = shared_page(path)
    days = expiry_days(days)
    now = now or timezone.now()
    token = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        token_hash=token_hash(token), path=page.full_path, title=(title or "").strip()[:MAX_TITLE],
        created_by=user, created_at=now, expires_at=now + timedelta(days=days),
    )  # fmt: skip
    return link, token


def live_link(token: str, now: datetime | None = None) -> ShareLink:
    """The link a token opens; ``LinkNotFound`` for an unknown token, ``LinkGone`` for a dead link."""
    if not token or len(token) > 100:
        raise LinkNotFound(token)
    link = ShareLink.objects.select_related("created_by").filter(token_hash=token_hash(token)).first()
    if link is None:
        raise LinkNotFound(token)
    if not link.is_live(now):
        raise LinkGone(link)
    return link


def visitor_query(page: SharedPage, asked: QueryDict) -> QueryDict:
    """The query string the page is shown with: the one shared, plus the visitor's download keys."""
    query = QueryDict(page.query, mutable=True)
    for key in VISITOR_KEYS:
        if key in asked:
            query[key] = asked[key]
    query._mutable = False
    return query


def record_view(link: ShareLink, now: datetime | None = None) -> None:
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=now or timezone.now())


def status(link: ShareLink, now: datetime | None = None) -> str:
    if link.revoked_at is not None:
        return "revoked"
    return "live" if link.expires_at > (now or timezone.now()) else "expired"


def title_of(link: ShareLink) -> str:
    return link.title or default_title(link.path) or link.path


def links_of(user, now: datetime | None = None) -> list[LinkRow]:
    """The links a user made, newest first."""
    now = now or timezone.now()
    return [
        LinkRow(id=link.pk, title=title_of(link), path=link.path, created_at=link.created_at,
                expires_at=link.expires_at, views=link.views, last_viewed_at=link.last_viewed_at,
                status=status(link, now))
        for link in ShareLink.objects.filter(created_by=user)
    ]  # fmt: skip


def revoke_link(user, link_id: int, now: datetime | None = None) -> ShareLink:
    """Stop one of the user's links for good (revoking twice changes nothing); another's: ``LinkNotFound``."""
    link = ShareLink.objects.filter(pk=link_id, created_by=user).first()
    if link is None:
        raise LinkNotFound(link_id)
    if link.revoked_at is None:
        link.revoked_at = now or timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def live_count(now: datetime | None = None) -> int:
    """Links that open today, everyone's (for the settings page)."""
    now = now or timezone.now()
    return ShareLink.objects.filter(revoked_at__isnull=True, expires_at__gt=now, created_by__is_active=True).count()
