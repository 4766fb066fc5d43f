"""The survey settings a deployer may change (docs/surveys.md, docs/configuration.md).

Each is read from Django's settings when set there (tests use the ``settings`` fixture), else from the
``ITXM_SURVEY_*`` environment variable of the same name, else a default.
"""

import os
from datetime import timedelta

from django.conf import settings


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        raw = os.environ.get(name, "").strip()
        value = int(raw) if raw else default
    return int(value)


def open_period() -> timedelta:
    """How long a survey can be answered (and its links work), from the invitation."""
    return timedelta(days=_int("ITXM_SURVEY_OPEN_DAYS", 14))


def max_resolution_age() -> timedelta:
    """Resolutions older than this are not surveyed, so importing history mails nobody."""
    return timedelta(days=_int("ITXM_SURVEY_MAX_RESOLUTION_AGE_DAYS", 7))


def max_attempts() -> int:
    """SMTP attempts before a message is marked failed."""
    return max(1, _int("ITXM_SURVEY_MAX_ATTEMPTS", 6))


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt: base, 2×base, 4×base… at most a day."""
    base = _int("ITXM_SURVEY_RETRY_SECONDS", 60)
    return timedelta(seconds=min(base * 2 ** max(0, attempts - 1), 86400))


def lease() -> timedelta:
    """How long a worker holds a message it is sending; a worker that died frees it after this."""
    return timedelta(seconds=_int("ITXM_SURVEY_LEASE_SECONDS", 300))


def link_max_per_ip() -> int:
    """Answers one network address may give through one campaign run's shared link (offices share one)."""
    return max(1, _int("ITXM_SURVEY_LINK_MAX_PER_IP", 50))
