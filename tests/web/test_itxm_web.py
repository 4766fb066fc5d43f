"""Cell formatting shared by every page (itxm/web/templatetags/itxm_web.py)."""

from datetime import UTC, datetime

from django.test import override_settings
from django.utils import translation
from django.utils.translation import trans_real

from itxm.web.templatetags.itxm_web import cell, number_with_unit

HOURS = "unit\x04%(number)s h"  # the hours unit's message id with its context, as the catalogue keys it


def test_hours_are_written_with_the_english_unit():
    with translation.override("en"):
        assert cell(1427.0, "hours") == "1,427.0 h"
        assert number_with_unit("12.0", "min") == "12.0 min"


def test_hours_take_their_unit_from_the_readers_language(monkeypatch):
    # Turkish writes "sa" (saat): put in here so that the test holds before the catalogue has it.
    monkeypatch.setitem(trans_real.translation("tr")._catalog._catalogs[0], HOURS, "%(number)s sa")
    with translation.override("tr"):
        assert cell(1427.0, "hours") == "1.427,0 sa"
        assert cell(None, "hours") == "–"


def test_minutes_and_other_units_in_turkish():
    with translation.override("tr"):
        assert number_with_unit("12,0", "min") == "12,0 dk"  # the catalogue's unit for minutes
        assert number_with_unit("+1,5", "") == "+1,5"
        assert number_with_unit("3,0", "puan") == "3,0 puan"


@override_settings(TIME_ZONE="Europe/Istanbul")
def test_a_moment_is_shown_in_the_installations_time_zone():
    opened = datetime(2026, 11, 24, 8, 51, 59, tzinfo=UTC)  # stored in UTC; Istanbul is three hours ahead
    with translation.override("tr"):
        assert cell(opened) == "24 Kas 2026 11:51"
