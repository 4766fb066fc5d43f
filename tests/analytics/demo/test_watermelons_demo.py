"""On the demo, the planted watermelon service comes first, and the priorities agree."""

from datetime import timedelta

import pytest

from itxm.analytics import services
from itxm.analytics.periods import Period
from itxm.org.scopes import EVERYTHING

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.mark.parametrize("days", [90, 365])
def test_the_watermelon_service_tops_the_watermelon_list(demo, demo_end, days):
    period = Period(demo_end - timedelta(days=days), demo_end)
    found = services.watermelons(EVERYTHING, "service", period)
    top = found["watermelons"][0]
    assert top.code == "SVC-ERP"
    assert top.sla_compliance >= 95 and top.happiness < 0
    assert top.itxm_sla_compliance < 85  # ITXM's own SLAs see through the source's clock
    assert top.negative_factors[0]["factor"] in {"passed_around", "slow"}
    assert top.lost_cost == max(m.lost_cost for m in found["watermelons"])


def test_the_watermelon_service_is_the_first_thing_to_fix(demo, demo_end):
    period = Period(demo_end - timedelta(days=90), demo_end)
    for reference in ("target", "baseline"):
        rows = services.priorities(EVERYTHING, "service", period, reference=reference)["rows"]
        assert rows[0]["code"] == "SVC-ERP", reference
    by_cost = services.priorities(EVERYTHING, "service", period, rank_by="lost_cost")["rows"]
    assert by_cost[0]["code"] == "SVC-ERP"
    grid = services.hotspots(EVERYTHING, "service", "country", period)
    assert grid["cells"][0]["row_label"] == "ERP (Finance)"


def test_the_slow_supplier_group_is_slower_and_reopens_more(demo, demo_end):
    period = Period(demo_end - timedelta(days=365), demo_end)
    groups = {item.code: item.metrics for item in services.metrics(EVERYTHING, "group", period)}
    slow, home = groups["GRP-SD-INT"], groups["GRP-SD-TR"]
    assert slow["reopen_rate"] > 2 * home["reopen_rate"]
    assert slow["sla_compliance"] < home["sla_compliance"]
