"""The arithmetic of the metrics: plain numbers in, plain numbers out, no database.

Every rate carries a 95 % interval; happiness carries one from a Bayesian bootstrap. Below
``MIN_ANSWERS`` answers (``ITXM_MIN_ANSWERS``) a metric is shown with its interval but never judged.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
BOOTSTRAP_DRAWS = 2000
LARGE_SAMPLE = 30
HOURS_PER_WORK_DAY = 8


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def happiness(scores: Sequence[int]) -> float | None:
    """% of 9-10 answers minus % of 0-6 answers, from -100 to +100."""
    if not scores:
        return None
    good, bad = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    return round(100 * (good - bad) / len(scores), 1)


def happiness_from_counts(promoters: int, detractors: int, answers: int) -> float | None:
    return None if answers <= 0 else round(100 * (promoters - detractors) / answers, 1)


def happiness_interval(promoters: int, detractors: int, answers: int, seed: int = 0) -> Interval | None:
    """95 % interval of happiness from the Dirichlet posterior over (9-10, 7-8, 0-6) with one
    pseudo-answer each (a Bayesian bootstrap), so that three answers of 10 do not pretend to be a certain
    +100. Below ``LARGE_SAMPLE`` answers by drawing from it; from there on by its normal approximation
    (the posterior's own mean and variance), within 2.5 points of the draws at 30 answers, closer beyond."""
    if answers <= 0:
        return None
    if answers >= LARGE_SAMPLE:
        return _posterior_normal(promoters, detractors, answers)
    passives = answers - promoters - detractors
    draws = np.random.default_rng(seed).dirichlet([promoters + 1, passives + 1, detractors + 1], BOOTSTRAP_DRAWS)
    values = 100 * (draws[:, 0] - draws[:, 2])
    low, high = np.percentile(values, [2.5, 97.5])
    return Interval(round(float(low), 1), round(float(high), 1))


def _posterior_normal(promoters: int, detractors: int, answers: int) -> Interval:
    total = answers + 3
    good, bad = (promoters + 1) / total, (detractors + 1) / total
    variance = (good * (1 - good) + bad * (1 - bad) + 2 * good * bad) / (total + 1)
    centre, spread = good - bad, Z95 * math.sqrt(variance)
    return Interval(round(100 * max(-1.0, centre - spread), 1), round(100 * min(1.0, centre + spread), 1))


def happiness_intervals(counts: Sequence[tuple[int, int, int]], seed: int = 0) -> list[Interval | None]:
    """``happiness_interval`` of many (promoters, detractors, answers) at once: the bootstrap draws of
    all small samples in one go, so that 300 agents cost one call, not 300."""
    found: list[Interval | None] = [None] * len(counts)
    small = []
    for i, (promoters, detractors, answers) in enumerate(counts):
        if answers >= LARGE_SAMPLE:
            found[i] = happiness_interval(promoters, detractors, answers)
        elif answers > 0:
            small.append(i)
    if small:
        alphas = np.array(
            [[counts[i][0] + 1, counts[i][2] - counts[i][0] - counts[i][1] + 1, counts[i][1] + 1] for i in small],
            dtype=float,
        )
        gammas = np.random.default_rng(seed).standard_gamma(
            np.broadcast_to(alphas[:, None, :], (len(small), BOOTSTRAP_DRAWS, 3))
        )
        draws = gammas / gammas.sum(axis=2, keepdims=True)
        values = 100 * (draws[:, :, 0] - draws[:, :, 2])
        lows, highs = np.percentile(values, [2.5, 97.5], axis=1)
        for i, low, high in zip(small, lows, highs, strict=True):
            found[i] = Interval(round(float(low), 1), round(float(high), 1))
    return found


def share(part: int, whole: int) -> float | None:
    """A percentage, or None when there is nothing to divide."""
    return None if whole <= 0 else round(100 * part / whole, 1)


def wilson(part: int, whole: int) -> Interval | None:
    """Wilson score interval of a proportion, in percent."""
    if whole <= 0:
        return None
    p = part / whole
    denominator = 1 + Z95**2 / whole
    centre = (p + Z95**2 / (2 * whole)) / denominator
    spread = Z95 * math.sqrt(p * (1 - p) / whole + Z95**2 / (4 * whole**2)) / denominator
    return Interval(round(100 * max(0.0, centre - spread), 1), round(100 * min(1.0, centre + spread), 1))


def ratio(total: float, count: int, digits: int = 1) -> float | None:
    return None if count <= 0 else round(total / count, digits)


def grouped_percentiles(
    groups: Mapping[str, Sequence[float]], points: Sequence[float] = (50, 90)
) -> dict[str, dict[str, float | None]]:
    """``percentiles`` of many groups with one sort: linear interpolation between the order statistics,
    as numpy does it."""
    keys = [key for key, values in groups.items() if len(values)]
    found = {key: {f"p{int(point)}": None for point in points} for key in groups}
    if not keys:
        return found
    sizes = np.array([len(groups[key]) for key in keys])
    values = np.concatenate([np.asarray(groups[key], dtype=float) for key in keys])
    labels = np.repeat(np.arange(len(keys)), sizes)
    ordered = values[np.lexsort((values, labels))]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    for point in points:
        position = (sizes - 1) * point / 100
        below = np.floor(position).astype(int)
        above = np.minimum(below + 1, sizes - 1)
        fraction = position - below
        low, high = ordered[starts + below], ordered[starts + above]
        result = low + (high - low) * fraction
        for key, value in zip(keys, result, strict=True):
            found[key][f"p{int(point)}"] = round(float(value), 2)
    return found


def percentiles(values: Sequence[float], points: Sequence[float] = (50, 90)) -> dict[str, float | None]:
    """Linear-interpolated percentiles (as numpy and pandas compute them by default)."""
    if len(values) == 0:
        return {f"p{int(point)}": None for point in points}
    found = np.percentile(np.asarray(values, dtype=float), points)
    return {f"p{int(point)}": round(float(value), 2) for point, value in zip(points, found, strict=True)}


def derive(sums: Mapping[str, float], min_answers: int, interval: Interval | None | bool = False) -> dict:
    """The metrics of one scope and period from the summed measures of its rollup rows (``interval``:
    the happiness interval when the caller computed it already, with ``happiness_intervals``)."""
    answered, resolved = int(sums.get("answered", 0)), int(sums.get("resolved", 0))
    promoters, detractors = int(sums.get("promoters", 0)), int(sums.get("detractors", 0))
    lost_known, lost_minutes = int(sums.get("lost_known", 0)), float(sums.get("lost_minutes", 0))
    if interval is False:
        interval = happiness_interval(promoters, detractors, answered)
    return {
        "opened": int(sums.get("opened", 0)),
        "resolved": resolved,
        "invited": int(sums.get("invited", 0)),
        "responses": answered,
        "response_rate": share(answered, int(sums.get("invited", 0))),
        "enough_answers": answered >= min_answers,
        "happiness": happiness_from_counts(promoters, detractors, answered),
        "happiness_interval": interval,
        "average_score": ratio(float(sums.get("score_sum", 0)), answered, 2),
        "promoters": promoters,
        "detractors": detractors,
        "lost_minutes_per_answer": ratio(lost_minutes, lost_known),
        "lost_hours": round(lost_minutes / 60, 1),
        "lost_cost": round(float(sums.get("lost_cost", 0)), 2),
        "sla_compliance": share(int(sums.get("sla_met", 0)), int(sums.get("sla_known", 0))),
        "sla_interval": wilson(int(sums.get("sla_met", 0)), int(sums.get("sla_known", 0))),
        "itxm_sla_compliance": share(int(sums.get("itxm_sla_met", 0)), int(sums.get("itxm_sla_known", 0))),
        "reassignment_rate": share(int(sums.get("reassigned", 0)), resolved),
        "reassignments_per_ticket": ratio(float(sums.get("reassignments", 0)), resolved, 2),
        "reopen_rate": share(int(sums.get("reopened", 0)), resolved),
        "reopen_interval": wilson(int(sums.get("reopened", 0)), resolved),
        "ping_pong_rate": share(int(sums.get("ping_ponged", 0)), resolved),
        "first_contact_resolution": share(int(sums.get("first_contact", 0)), resolved),
        "mean_resolution_hours": ratio(float(sums.get("resolution_seconds", 0)) / 3600, resolved, 1),
        "mean_waiting_hours": ratio(float(sums.get("waiting_seconds", 0)) / 3600, resolved, 1),
    }


def work_days(minutes: float) -> float:
    return round(minutes / 60 / HOURS_PER_WORK_DAY, 1)


def concentration(values: Sequence[float], part: float = 0.8) -> float | None:
    """The smallest share of items (in %) that together make ``part`` of the total."""
    values = np.asarray(values, dtype=float)
    ordered = np.sort(values[values > 0])[::-1]
    total = ordered.sum() if len(ordered) else 0.0
    if total <= 0:
        return None
    needed = int(np.searchsorted(np.cumsum(ordered), part * total - 1e-9)) + 1
    return round(100 * needed / len(values), 1)
