"""Journeys find what the demo plants: the ERP ping-pong hurts, and Payroll avoids the portal."""

from datetime import timedelta

import pytest

from itxm.analytics import journeys
from itxm.analytics.periods import Period
from itxm.org.scopes import EVERYTHING

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

ERP_PING_PONG = "ERP Applications > Integration & Middleware > ERP Applications"


@pytest.fixture
def year(demo, demo_end) -> Period:
    return Period(demo_end - timedelta(days=365), demo_end)


def test_the_erp_ping_pong_is_a_journey_that_hurts(year):
    # The ping-pong variants are split by desk and number of rounds, so each sits just below the top 20.
    found = journeys.variants(EVERYTHING, year, limit=30)

    assert any(ERP_PING_PONG in variant.label for variant in found if variant.hurts)
    # ERP also carries the planted unhappy answers (the watermelon), so its direct path hurts too.
    assert all("ERP Applications" in variant.label for variant in found if variant.hurts)


def test_the_happy_path_is_the_most_frequent_journey(year):
    found = journeys.variants(EVERYTHING, year)

    assert found[0].happy_path and not found[0].hurts
    assert found[0].tickets == max(variant.tickets for variant in found)


def test_payroll_avoids_the_portal(year):
    report = journeys.channels(EVERYTHING, year)

    payroll = next(service for service in report.avoided if service.code == "SVC-PAYROLL")
    assert payroll.portal_share < 10 < 30 < report.portal_share
    assert payroll.other_factors
