"""Devices meet experience on the demo: the planted driver regression (docs/demo.md, "Devices") shows as
the most work time lost per device in the telemetry, beside what the same people reported."""

from datetime import timedelta

import pytest

from itxm.analytics.periods import Period
from itxm.devices import experience
from itxm.devices.demo import PLANTED
from itxm.org.scopes import EVERYTHING

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_the_degraded_model_loses_the_most_measured_time(demo, demo_end):
    found = experience.experience(EVERYTHING, Period(demo_end - timedelta(days=30), demo_end + timedelta(days=1)))
    assert found.answers > 300 and found.answers_with_band > 100
    models = {group.key: group for group in found.by_model}
    degraded = models.pop(PLANTED.model)
    # 70 % of its laptops crash 1.2 times a day (10 minutes each) for the last 10 days.
    assert degraded.measured_lost_per_week > 2 * max(group.measured_lost_per_week for group in models.values())
    assert degraded.health < min(group.health for group in models.values())
    # Self-reported lost time is there beside it (test_campaigns_demo checks the answers' link to health).
    assert degraded.reported_lost_per_answer is not None and degraded.answers > 30
