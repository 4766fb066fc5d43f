"""The worker computes the usual costly results right after the facts change, so that no reader waits.

"Usual": the pages' default arguments (the last 90 days; the device fleet's last 30 days), for the whole
organisation and for each restricted scope of the people who signed in lately. They are stored
(``remembered``), so every web and API process reads them; anything else (another period, a filter) is
computed when asked, and stored then. It runs with every facts catch-up of the worker (every 30 s), so
device results are redone within 30 s of the devices' health moving too.
"""

import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.utils import timezone

from itxm.analytics import drivers, facts, journeys, overview
from itxm.analytics.periods import Period
from itxm.analytics.remembered import patiently, prune, scope_key
from itxm.devices import experience
from itxm.devices import services as devices
from itxm.org.models import User
from itxm.org.scopes import EVERYTHING, Scope, scope_for

# The web pages' default period (itxm.web.filters.DEFAULT_PRESET, "90d"): the 90 days up to today.
DEFAULT_DAYS = 90
# The device fleet page's default (itxm.web.views.devices.DEFAULT_DAYS).
FLEET_DAYS = 30
# Restricted readers (suppliers, service owners) signed in within this many days get theirs computed too,
# the most recent first, at most this many scopes.
RECENT_DAYS = 30
MAX_SCOPES = 10
log = logging.getLogger(__name__)


def default_period(today: date) -> Period:
    """The period a page shows unless asked for another."""
    tomorrow = today + timedelta(days=1)
    return Period(tomorrow - timedelta(days=DEFAULT_DAYS), tomorrow)


def reader_scopes(now=None) -> list[Scope]:
    """The whole organisation's scope, then the distinct restricted scopes of recent readers."""
    now = now or timezone.now()
    found, seen = [EVERYTHING], {scope_key(EVERYTHING)}
    recent = User.objects.filter(is_active=True, last_login__gte=now - timedelta(days=RECENT_DAYS))
    for user in recent.order_by("-last_login"):
        scope = scope_for(user)
        if scope_key(scope) not in seen and len(found) <= MAX_SCOPES:
            seen.add(scope_key(scope))
            found.append(scope)
    return found


def computations(scope: Scope, period: Period) -> list[tuple[str, Callable[[], object]]]:
    """What the pages ask for first, the overview first."""
    return [
        ("overview", lambda: overview.figures(scope, period)),
        ("overview XLAs", lambda: overview.xla_lines(scope)),
        ("journeys by group", lambda: journeys.variants(scope, period, "group")),
        ("journeys by state", lambda: journeys.variants(scope, period, "state")),
        ("channels", lambda: journeys.channels(scope, period)),
        *((f"drivers of {outcome}", lambda outcome=outcome: drivers.drivers(scope, period, outcome))
          for outcome in drivers.OUTCOMES),
        ("device fleet", lambda: devices.fleet_overview(scope, FLEET_DAYS)),
        ("devices and experience", lambda: experience.experience(scope, period)),
    ]  # fmt: skip


def warm(today: date | None = None) -> int:
    """Compute (or find stored) the usual results for the facts as they are; returns how many there
    are. Cheap when nothing changed: each is then found in memory or in the table."""
    facts.catch_up()
    prune()
    today = today or timezone.localdate()  # the day the pages take their periods from
    period = default_period(today)
    done = 0
    with patiently():
        for scope in reader_scopes():
            for name, compute in computations(scope, period):
                try:
                    compute()
                    done += 1
                except Exception:  # one failing computation must not keep the others from readers
                    log.exception("could not compute %s in advance", name)
    return done
