from datetime import date

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from itxm.analytics import drivers as drivers_module
from itxm.analytics.drivers import drivers
from itxm.analytics.models import SAMPLE_SLICES, SurveyFact, TicketFact
from itxm.analytics.periods import Period
from itxm.analytics.services import AnalyticsError
from itxm.org.scopes import EVERYTHING
from tests.analytics.conftest import PERIOD as RECENT
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

DAY = date(2025, 3, 10)
PERIOD = Period(date(2025, 3, 1), date(2025, 4, 1))


def add_tickets(hours, reassignments, reopens=None, waiting_hours=None, channels=None, priorities=None,
                services=None, groups=None, countries=None):  # fmt: skip
    count = len(hours)
    services = [1] * count if services is None else services
    groups = [1] * count if groups is None else groups
    countries = ["TR"] * count if countries is None else countries
    reopens = [0] * count if reopens is None else reopens
    waiting_hours = [0] * count if waiting_hours is None else waiting_hours
    channels = ["portal"] * count if channels is None else channels
    priorities = [3] * count if priorities is None else priorities
    TicketFact.objects.bulk_create(
        TicketFact(
            ticket_id=i + 1, opened_day=DAY, resolved_day=DAY, kind="incident", channel=channels[i],
            priority=priorities[i], service_id=int(services[i]), group_id=int(groups[i]), country=countries[i],
            resolution_seconds=int(round(hours[i] * 3600)), reassignments=int(reassignments[i]),
            reopens=int(reopens[i]), waiting_seconds=int(round(waiting_hours[i] * 3600)),
            sample=(i + 1) % SAMPLE_SLICES,
        )
        for i in range(count)
    )  # fmt: skip


def planted_tickets(count=400, seed=1):
    """Resolution hours = 10 + 5 × reassignments + 3 if by e-mail + noise; reopenings do nothing."""
    rng = np.random.default_rng(seed)
    reassignments = rng.poisson(1.0, count)
    reopens = rng.binomial(1, 0.3, count)
    channels = rng.choice(["portal", "portal", "email"], count)
    hours = 10 + 5 * reassignments + 3 * (channels == "email") + rng.normal(0, 2, count)
    add_tickets(hours, reassignments, reopens, channels=list(channels))


def by_name(report):
    return {effect.name: effect for effect in report.effects}


def test_planted_reassignment_effect_is_recovered_within_its_interval():
    planted_tickets()
    report = drivers(EVERYTHING, PERIOD, "resolution_hours")
    reassignments = by_name(report)["reassignments"]
    assert report.reason is None and report.rows_used == report.rows_total == 400
    assert reassignments.low <= 5 <= reassignments.high
    assert reassignments.effect > 0 and reassignments.significant
    assert reassignments.unit == "hours"


def test_categorical_effect_is_against_the_most_common_level():
    planted_tickets()
    report = drivers(EVERYTHING, PERIOD, "resolution_hours")
    email = by_name(report)["channel:email"]
    assert report.references["channel"] == "portal"
    assert email.low <= 3 <= email.high and email.significant


def test_variable_without_effect_is_not_significant():
    planted_tickets()
    reopens = by_name(drivers(EVERYTHING, PERIOD, "resolution_hours"))["reopens"]
    assert not reopens.significant
    assert reopens.low <= 0 <= reopens.high
    assert "could be chance" in reopens.sentence_en


def test_significant_effects_come_first_by_size():
    planted_tickets()
    effects = drivers(EVERYTHING, PERIOD, "resolution_hours").effects
    flags = [effect.significant for effect in effects]
    assert flags == sorted(flags, reverse=True)
    sizes = [abs(effect.effect) for effect in effects if effect.significant]
    assert sizes == sorted(sizes, reverse=True)


def test_effect_equals_least_squares_by_hand():
    rng = np.random.default_rng(7)
    reassignments, reopens = rng.poisson(1.5, 60), rng.binomial(1, 0.4, 60)
    waiting = rng.exponential(4, 60)
    hours = 2 + 4 * reassignments + 6 * reopens + 0.5 * waiting + rng.normal(0, 3, 60)
    add_tickets(hours, reassignments, reopens, waiting)
    found = by_name(drivers(EVERYTHING, PERIOD, "resolution_hours"))
    # The data as stored: whole seconds.
    stored_hours = np.round(hours * 3600) / 3600
    stored_waiting = np.round(waiting * 3600) / 3600
    design = np.column_stack([np.ones(60), reassignments, reopens, stored_waiting])
    expected = np.linalg.lstsq(design, stored_hours, rcond=None)[0]
    assert found["reassignments"].effect == pytest.approx(expected[1])
    assert found["reopens"].effect == pytest.approx(expected[2])
    assert found["waiting_hours"].effect == pytest.approx(expected[3])


def test_absorbed_controls_give_what_a_full_regression_gives():
    rng = np.random.default_rng(11)
    count = 300
    data = pd.DataFrame({
        "reassignments": rng.poisson(1.0, count), "reopens": rng.binomial(1, 0.2, count),
        "waiting_hours": np.round(rng.exponential(2, count) * 3600) / 3600,
        "service": rng.integers(1, 4, count), "group": rng.integers(1, 3, count),
        "country": rng.choice(["TR", "DE", "GB"], count),
    })  # fmt: skip
    noise = rng.normal(0, 2, count) * (1 + data["reassignments"])
    data["hours"] = np.round((4 * data["service"] + 3 * data["reassignments"] + noise + 20) * 3600) / 3600
    add_tickets(data["hours"], data["reassignments"], data["reopens"], data["waiting_hours"],
                services=data["service"], groups=data["group"], countries=data["country"])  # fmt: skip
    found = by_name(drivers(EVERYTHING, PERIOD, "resolution_hours"))
    full = smf.ols("hours ~ reassignments + reopens + waiting_hours + C(service) + C(group) + C(country)", data).fit(
        cov_type="HC1"
    )
    for name in ("reassignments", "reopens", "waiting_hours"):
        assert found[name].effect == pytest.approx(full.params[name])
        assert (found[name].low, found[name].high) == pytest.approx(tuple(full.conf_int().loc[name]))


def test_sentences_give_the_effect_and_its_interval_in_both_languages():
    planted_tickets()
    effect = by_name(drivers(EVERYTHING, PERIOD, "resolution_hours"))["reassignments"]
    numbers = [f"{value:.1f}" for value in (effect.effect, effect.low, effect.high)]
    assert effect.sentence_en.startswith("Each extra reassignment adds")
    assert all(number in effect.sentence_en for number in numbers)
    assert all(number.replace(".", ",") in effect.sentence_tr for number in numbers)
    assert "çözüm süresine" in effect.sentence_tr


def test_score_drivers_include_journey_and_factors_in_points():
    rng = np.random.default_rng(3)
    count = 300
    reassignments = rng.poisson(1.0, count)
    slow, friendly = rng.random(count) < 0.3, rng.random(count) < 0.5
    add_tickets([10] * count, reassignments)
    scores = np.clip(np.rint(8 - 1.0 * reassignments - 2.0 * slow + rng.normal(0, 0.7, count)), 0, 10)
    SurveyFact.objects.bulk_create(
        SurveyFact(
            invitation_id=i + 1, ticket_id=i + 1, kind="incident", sent_day=DAY, answered_day=DAY,
            channel="portal", priority=3, score=int(scores[i]),
            factors="," + "".join(key + "," for key, named in (("slow", slow[i]), ("friendly", friendly[i])) if named),
        )
        for i in range(count)
    )  # fmt: skip
    report = drivers(EVERYTHING, PERIOD, "score")
    found = by_name(report)
    assert report.unit == "points" and report.rows_used == count
    assert found["reassignments"].effect < 0 and found["reassignments"].significant
    assert found["factor:slow"].low < -1.5 and found["factor:slow"].high > -2.5
    assert not found["factor:friendly"].significant
    assert "takes" in found["factor:slow"].sentence_en and "points off the score" in found["factor:slow"].sentence_en


def test_too_few_rows_give_a_reason_and_no_effects():
    add_tickets([5, 6, 7], [0, 1, 2])
    report = drivers(EVERYTHING, PERIOD, "resolution_hours")
    assert report.effects == []
    assert "too few rows" in report.reason


def test_rows_outside_the_period_are_not_used():
    planted_tickets()
    report = drivers(EVERYTHING, Period(date(2025, 4, 1), date(2025, 5, 1)), "resolution_hours")
    assert report.rows_total == 0 and report.effects == []


def test_unknown_outcome_is_an_error():
    with pytest.raises(AnalyticsError):
        drivers(EVERYTHING, PERIOD, "happiness")


def test_collinear_regressors_are_dropped_not_crashed_on():
    rng = np.random.default_rng(5)
    reassignments = rng.poisson(1.0, 200)
    email = rng.random(200) < 0.4
    # Every e-mail ticket is P2 and every P2 ticket came by e-mail: the two cannot be told apart.
    add_tickets(
        10 + 5 * reassignments + rng.normal(0, 1, 200), reassignments,
        channels=["email" if e else "portal" for e in email], priorities=[2 if e else 3 for e in email],
    )  # fmt: skip
    report = drivers(EVERYTHING, PERIOD, "resolution_hours")
    assert report.reason is None
    assert "priority:2" in report.dropped
    assert by_name(report)["reassignments"].significant


def test_large_data_is_sampled_and_says_so(monkeypatch):
    monkeypatch.setattr(drivers_module, "MAX_ROWS", 150)
    planted_tickets()
    report = drivers(EVERYTHING, PERIOD, "resolution_hours")
    # the id slices that hold about 150 of the 400 tickets (256 × 150 / 400 of 256, rounded up)
    slices = -(-SAMPLE_SLICES * 150 // 400)
    assert (report.rows_used, report.rows_total) == (sum(i % SAMPLE_SLICES < slices for i in range(1, 401)), 400)
    assert by_name(report)["reassignments"].significant


def test_the_api_explains_drivers_and_refuses_unknown_outcomes(answered, users, client_for):  # noqa: F811
    admin = client_for(users["admin"])
    period = f"start={RECENT.start}&end={RECENT.end}"
    report = admin.get(f"/api/v1/analytics/drivers?{period}&outcome=score")
    assert report.status_code == 200, report.content
    assert report.json()["effects"] == [] and report.json()["reason"]  # six answers are too few
    assert admin.get(f"/api/v1/analytics/drivers?{period}&outcome=mood").status_code == 400
