"""The demo's planted initiative (docs/demo.md, section 7): SVC-WORKPLACE tickets opened from the start date
reopen 5 % instead of 15 %, while the placebo SVC-PRINT keeps 10 %. The demo creates no initiatives: these
tests define both and measure them."""

import pytest

from itxm.analytics import initiatives
from itxm.analytics.initiatives import IMPROVED, NO_CLEAR_CHANGE, InitiativeSpec
from itxm.demo import PLANTED
from itxm.org.models import Service
from itxm.org.scopes import EVERYTHING

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def measured(demo, service_code: str):
    starts = demo.planted_dates["initiative_starts"]
    service = Service.objects.get(external_id=service_code)
    made = initiatives.create_initiative(
        EVERYTHING,
        InitiativeSpec(
            title=service_code, metric="reopen_rate", starts_on=starts, dimension="service", member=str(service.id)
        ),
    )
    return initiatives.measure_effect(EVERYTHING, made.id)


def test_the_planted_initiative_cuts_reopenings(demo):
    effect = measured(demo, PLANTED.initiative.service)
    assert effect.value_before == pytest.approx(100 * PLANTED.initiative.reopen_share_before, abs=2.5)
    assert effect.value_after == pytest.approx(100 * PLANTED.initiative.reopen_share_after, abs=2.5)
    assert effect.significant and effect.direction == IMPROVED
    assert effect.interval.high < 0


def test_the_placebo_changes_nothing(demo):
    effect = measured(demo, PLANTED.initiative.placebo_service)
    assert effect.value_before == pytest.approx(100 * PLANTED.initiative.placebo_reopen_share, abs=2.5)
    assert not effect.significant and effect.direction == NO_CLEAR_CHANGE
    assert effect.interval.low < 0 < effect.interval.high
