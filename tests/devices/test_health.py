"""Health scores against hand computations, and their explanations in words."""

from datetime import date

import numpy as np
import pytest

from itxm.devices import health
from itxm.devices.health import COMPONENTS, Component, Frame

BY_KEY = {c.key: c for c in COMPONENTS}


def frame(rows: list[dict], days: list[int] | None = None) -> Frame:
    values = np.full((len(rows), len(COMPONENTS)), np.nan)
    counts = np.zeros(values.shape)
    for i, row in enumerate(rows):
        for j, component in enumerate(COMPONENTS):
            if component.key in row:
                values[i, j] = row[component.key]
                counts[i, j] = row.get(component.key + "_count", 1)
    return Frame(np.arange(len(rows)), np.array(days or [1] * len(rows)), values, counts)


def test_thresholds_normalise_linearly_in_both_directions():
    boot = BY_KEY["boot"]  # good 60 s, frustrating 180 s
    assert health.normalise(np.array([30, 60, 120, 180, 400.0]), boot.good, boot.frustrating).tolist() == [
        100,
        100,
        50,
        0,
        0,
    ]
    disk = BY_KEY["disk"]  # higher is better: good 25 %, frustrating 10 %
    assert health.normalise(np.array([40, 25, 17.5, 10, 2.0]), disk.good, disk.frustrating).tolist() == [
        100,
        100,
        50,
        0,
        0,
    ]


def test_the_score_is_the_weighted_average_of_the_reported_components():
    # boot 120 s -> 50 (weight 2), cpu p95 95 % -> 0 (weight 1), no other component reported.
    scores = health.score(frame([{"boot": 120, "cpu": 95}]))
    assert scores.score[0] == pytest.approx((2 * 50 + 1 * 0) / 3, abs=0.05)


def test_a_component_that_ruins_the_whole_caps_the_score():
    # Fast boot (100) but disk at 13 % free scores 20: the weighted average would be 60, the cap is 20.
    scores = health.score(frame([{"boot": 50, "disk": 13}]))
    assert scores.score[0] == 20.0
    assert health.score(frame([{"boot": 50, "crashes": 0}])).score[0] == 100.0


def test_nothing_reported_means_no_score():
    assert np.isnan(health.score(frame([{}])).score[0])


def test_lost_time_counts_the_time_beyond_the_good_threshold_and_each_crash():
    # two boots of 150 s: 2 × 90 s beyond 60 s = 3 min; 2 crashes × 10 min.
    scores = health.score(frame([{"boot": 150, "boot_count": 2, "crashes": 2}]))
    assert scores.lost_minutes[0] == 23.0


def test_fleet_shares_and_the_explanation_in_words():
    rows = [{"boot": seconds} for seconds in (40, 50, 60, 70, 80, 90, 100, 110, 120, 192)]
    scores = health.score(frame(rows))
    figures = health.component_figures(scores)[-1]["boot"]
    assert figures["better_share"] == 0.9 and figures["worse_share"] == 0.0
    text = health.explain(BY_KEY["boot"], figures["value"], figures["better_share"], figures["worse_share"])
    assert text == (
        "boot takes 3.2 min, slower than 90 % of the fleet (frustrating: good up to 60 s, frustrating from 3.0 min)"
    )
    fastest = health.component_figures(scores)[0]["boot"]
    assert health.explain(BY_KEY["boot"], 40, fastest["better_share"], fastest["worse_share"]).startswith(
        "boot takes 40 s, faster than 90 % of the fleet (good"
    )


def test_the_slowest_of_a_large_fleet_is_slower_than_99_percent_not_100():
    # The slowest of 2,000 devices: 1,999 of them (99.95 %) boot faster, but never all of the fleet.
    rows = [{"boot": 40 + seconds / 10} for seconds in range(2000)]
    slowest = health.component_figures(health.score(frame(rows)))[-1]["boot"]
    assert slowest["better_share"] > 0.999
    text = health.explain(BY_KEY["boot"], slowest["value"], slowest["better_share"], slowest["worse_share"])
    assert "slower than 99 % of the fleet" in text


def test_explanations_list_the_worst_component_first():
    figures = {"boot": {"value": 50, "score": 100, "better_share": 0, "worse_share": 0.5},
               "disk": {"value": 8, "score": 0, "better_share": 0.9, "worse_share": 0}}  # fmt: skip
    rows = health.explanations(figures)
    assert [r["component"] for r in rows] == ["disk", "boot"]
    assert rows[0]["text"].startswith("8 % of the disk is free, less free space than 90 % of the fleet")
    assert rows[0]["rating"] == "frustrating" and rows[0]["ruins_the_whole"]


def test_the_component_table_is_configurable():
    only_boot = (
        Component("boot", "boot_seconds", "mean", 30, 90, 1, True, "s", "boot takes {value}", "slower", "faster"),
    )
    rows = [(1, date(2026, 3, 2), "boot_seconds", 1, 60.0, 60.0, 60.0, 60.0, 60.0)]
    scores = health.score(health.frame_from_rows(rows, only_boot))
    assert scores.score.tolist() == [50.0]
