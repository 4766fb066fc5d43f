"""The period a reader asks for: defaults, and one refusal worded the same by every API that takes one."""

from datetime import date

import pytest

from itxm.analytics.periods import InvertedPeriod, Period, requested

TODAY = date(2026, 3, 10)


def test_the_default_is_the_90_days_up_to_today():
    assert requested(None, None, TODAY) == Period(date(2025, 12, 11), date(2026, 3, 11))
    assert requested(date(2026, 3, 1), None, TODAY) == Period(date(2026, 3, 1), date(2026, 3, 11))
    assert requested(None, date(2026, 2, 1), TODAY, days=31) == Period(date(2026, 1, 1), date(2026, 2, 1))


def test_an_end_not_after_the_start_is_refused():
    with pytest.raises(InvertedPeriod, match="end comes after start"):
        requested(date(2026, 3, 15), date(2026, 3, 15), TODAY)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/analytics/metrics", "/api/v1/devices/experience/people"])
def test_both_apis_answer_an_inverted_period_alike(path, users, client_for):
    response = client_for(users["admin"]).get(f"{path}?start=2026-03-15&end=2026-03-01")
    assert response.status_code == 400
    assert response.json() == {"message": "end comes after start", "field": "end"}
