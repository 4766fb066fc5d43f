"""Drivers find what the demo plants: each reassignment adds about 8 hours to the resolution time, and
reassignments and reopenings lower the score (docs/demo.md, "6. Driver", and the survey step)."""

from datetime import timedelta

import pytest

from itxm.analytics.drivers import drivers
from itxm.analytics.periods import Period
from itxm.org.scopes import EVERYTHING

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def year(demo, demo_end) -> Period:
    return Period(demo_end - timedelta(days=365), demo_end)


def effects_of(report):
    return {effect.name: effect for effect in report.effects}


def test_each_reassignment_adds_about_eight_hours_to_the_resolution_time(year):
    report = drivers(EVERYTHING, year, "resolution_hours")
    reassignments = effects_of(report)["reassignments"]

    assert reassignments.significant
    assert 5 < reassignments.low <= reassignments.effect <= reassignments.high < 11
    assert "Each extra reassignment adds" in reassignments.sentence_en


def test_reassignments_and_reopenings_lower_the_score(year):
    found = effects_of(drivers(EVERYTHING, year, "score"))

    assert found["reassignments"].effect < 0 and found["reassignments"].significant
    assert found["reopens"].effect < 0 and found["reopens"].significant
