"""The arithmetic of the metrics against hand-computed examples."""

from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from itxm.analytics import metrics
from itxm.analytics.periods import Period, buckets, last_periods, month_of, quarter_of


def test_happiness_worked_example():
    # 10 answers: five 9-10s (10, 9, 9, 10, 10), two 7-8s, three 0-6s (6, 3, 0): 50 % - 30 % = +20.
    scores = [10, 9, 9, 8, 7, 6, 3, 0, 10, 10]
    assert metrics.happiness(scores) == 20.0
    assert metrics.happiness_from_counts(promoters=5, detractors=3, answers=10) == 20.0
    assert metrics.happiness([]) is None
    assert metrics.happiness([10, 10]) == 100.0
    assert metrics.happiness([0, 6, 5]) == -100.0
    assert metrics.happiness([7, 8]) == 0.0


@given(st.lists(st.integers(min_value=0, max_value=10), min_size=1, max_size=200))
def test_happiness_is_between_minus_and_plus_100_and_counts_agree(scores):
    value = metrics.happiness(scores)
    assert -100 <= value <= 100
    good, bad = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    assert value == metrics.happiness_from_counts(good, bad, len(scores))


def test_wilson_interval_matches_the_textbook_values():
    # 8 of 10: the Wilson 95 % interval is 0.490 to 0.943.
    interval = metrics.wilson(8, 10)
    assert (interval.low, interval.high) == (49.0, 94.3)
    assert metrics.wilson(0, 0) is None
    zero = metrics.wilson(0, 20)
    assert zero.low == 0.0 and 10 < zero.high < 20


def test_happiness_interval_holds_the_estimate_and_narrows_with_more_answers():
    small = metrics.happiness_interval(promoters=3, detractors=0, answers=3)
    large = metrics.happiness_interval(promoters=300, detractors=0, answers=300)
    assert small.low < 50 and small.high <= 100  # three 10s are not a certain +100
    assert large.low > 95
    middle = metrics.happiness_interval(promoters=50, detractors=30, answers=100)
    assert middle.low < 20 < middle.high
    assert middle.high - middle.low < small.high - small.low
    assert metrics.happiness_interval(0, 0, 0) is None


def test_percentiles_match_numpy():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert metrics.percentiles(values, (50, 90)) == {"p50": 3.0, "p90": 7.6}
    assert metrics.percentiles([], (50,)) == {"p50": None}
    rng = np.random.default_rng(1)
    sample = rng.lognormal(3, 1, 1001)
    assert metrics.percentiles(sample, (90,))["p90"] == round(float(np.percentile(sample, 90)), 2)


def test_concentration_is_the_smallest_share_of_items_that_makes_80_percent():
    # 200 minutes in total; 100 + 50 + 50 = 200 ≥ 160 needs three of the six answers: 50 %.
    assert metrics.concentration([100, 0, 0, 0, 50, 50]) == 50.0
    # one answer holds 90 % of the time: one of ten.
    assert metrics.concentration([90] + [10 / 9] * 9) == 10.0
    assert metrics.concentration([0, 0]) is None


def test_derive_computes_each_metric_from_sums():
    sums = {
        "opened": 12, "resolved": 10, "sla_known": 8, "sla_met": 6, "itxm_sla_known": 10, "itxm_sla_met": 7,
        "reassigned": 4, "reassignments": 9, "reopened": 1, "ping_ponged": 2, "first_contact": 3,
        "resolution_seconds": 10 * 7200, "waiting_seconds": 3600, "invited": 20, "answered": 5, "score_sum": 37,
        "promoters": 2, "detractors": 1, "lost_known": 4, "lost_minutes": 200, "lost_cost": 180.5,
    }  # fmt: skip
    m = metrics.derive(sums, min_answers=5)
    assert m["happiness"] == 20.0 and m["average_score"] == 7.4 and m["enough_answers"]
    assert m["response_rate"] == 25.0
    assert m["sla_compliance"] == 75.0 and m["itxm_sla_compliance"] == 70.0
    assert m["reassignment_rate"] == 40.0 and m["reassignments_per_ticket"] == 0.9
    assert m["reopen_rate"] == 10.0 and m["ping_pong_rate"] == 20.0 and m["first_contact_resolution"] == 30.0
    assert m["mean_resolution_hours"] == 2.0 and m["mean_waiting_hours"] == 0.1
    assert m["lost_minutes_per_answer"] == 50.0 and m["lost_hours"] == 3.3 and m["lost_cost"] == 180.5
    assert not metrics.derive(sums, min_answers=6)["enough_answers"]
    empty = metrics.derive({}, min_answers=1)
    assert empty["happiness"] is None and empty["sla_compliance"] is None and empty["responses"] == 0


def test_periods():
    assert month_of(date(2025, 12, 15)) == Period(date(2025, 12, 1), date(2026, 1, 1))
    assert quarter_of(date(2025, 11, 3)) == Period(date(2025, 10, 1), date(2026, 1, 1))
    assert quarter_of(date(2025, 2, 3)) == Period(date(2025, 1, 1), date(2025, 4, 1))
    assert [p.start for p in last_periods("month", date(2025, 2, 10), 3)] == [
        date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)
    ]  # fmt: skip
    weeks = buckets(Period(date(2025, 6, 4), date(2025, 6, 20)), "week")  # a Wednesday to a Friday
    assert [(w.start.isoformat(), w.end.isoformat()) for w in weeks] == [
        ("2025-06-04", "2025-06-09"), ("2025-06-09", "2025-06-16"), ("2025-06-16", "2025-06-20")
    ]  # fmt: skip
    assert Period(date(2025, 3, 1), date(2025, 3, 11)).previous() == Period(date(2025, 2, 19), date(2025, 3, 1))
    with pytest.raises(ValueError):
        Period(date(2025, 3, 1), date(2025, 3, 1))


@pytest.mark.parametrize(
    ("promoters", "detractors", "answers"),
    [(120, 50, 200), (300, 100, 600), (150, 150, 400), (20, 5, 30), (30, 2, 40), (10, 25, 45)],
)
def test_the_normal_interval_of_large_samples_agrees_with_the_bootstrap(promoters, detractors, answers, monkeypatch):
    normal = metrics.happiness_interval(promoters, detractors, answers)
    monkeypatch.setattr(metrics, "LARGE_SAMPLE", 10**9)
    monkeypatch.setattr(metrics, "BOOTSTRAP_DRAWS", 40_000)
    bootstrap = metrics.happiness_interval(promoters, detractors, answers)
    assert abs(normal.low - bootstrap.low) < 2.5 and abs(normal.high - bootstrap.high) < 2.5


def test_grouped_percentiles_equal_numpy_per_group():
    rng = np.random.default_rng(3)
    groups = {"a": list(rng.lognormal(2, 1, 101)), "b": [5.0], "c": [], "d": list(rng.normal(10, 2, 7))}
    found = metrics.grouped_percentiles(groups, (50, 90))
    for key, values in groups.items():
        assert found[key] == metrics.percentiles(values, (50, 90)), key


def test_many_intervals_at_once_match_one_at_a_time():
    counts = [(3, 0, 3), (10, 5, 20), (120, 50, 200), (0, 0, 0), (1, 1, 2)]
    together = metrics.happiness_intervals(counts)
    alone = [metrics.happiness_interval(*c) for c in counts]
    assert together[3] is None and together[2] == alone[2]  # the large sample is the same formula
    for one, other in zip(together, alone, strict=True):
        if one is not None:  # other random draws: the same to within a point or two
            assert abs(one.low - other.low) < 3 and abs(one.high - other.high) < 3
