"""Device health: a 0–100 score per device and day from its daily rollups, and what it means in words.

Pure: plain numbers in, plain numbers out, no database. Every array operation is over all devices and
days at once (numpy), so a fleet of 50,000 devices × 30 days scores in seconds, not in per-row Python.
Only the stored figures are kept (``component_figures``); the words are made when someone reads them
(``explain``), in the reader's language (gettext) with numbers written the reader's way.

How a score is made (docs/devices.md, "Health"):

1. Each component (``COMPONENTS``) reads one statistic of one metric's daily rollup, e.g. the mean
   boot time of the day. That raw value is normalised by its threshold pair: at ``good`` or better it
   scores 100, at ``frustrating`` or worse 0, linearly in between ("average"). The pair's order gives
   the direction: ``good < frustrating`` means lower is better (boot seconds), the other way higher is
   better (free disk space).
2. The day's score is the weighted average of the components the device reported that day (a laptop
   without a battery metric is scored on the rest). Components flagged ``ruins_the_whole`` also cap
   the score: it is at most their own score (a minimum), because a disk with no space left or a
   machine that keeps crashing is a bad experience however fast it boots.
3. Work time lost: for boots and logons the time beyond ``good``, per boot or logon; for crashes a
   fixed ``minutes_per_event`` each.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy, pgettext, pgettext_lazy

ROLLUP_STATISTICS = ("mean", "total", "p95", "minimum", "last")


@dataclass(frozen=True)
class Component:
    key: str
    metric: str
    statistic: str  # which DailyRollup column is the day's value (ROLLUP_STATISTICS)
    good: float
    frustrating: float
    weight: float
    ruins_the_whole: bool
    unit: str  # "s", "%", "ms" or "count": how the value is written
    # Translatable text (gettext_lazy) with %(value)s, the formatted value ("3.2 min"; %(count)s holds
    # the plain number, for plural forms), and %(share)s, the share of the fleet ("90 %").
    describe: str  # "boot takes %(value)s"
    worse: str  # "slower than %(share)s of the fleet"
    better: str
    lost: str = ""  # "excess": seconds beyond good per event (count); "per_event": minutes_per_event each
    minutes_per_event: float = 0.0

    @property
    def lower_is_better(self) -> bool:
        return self.good < self.frustrating


COMPONENTS: tuple[Component, ...] = (
    Component("boot", "boot_seconds", "mean", 60, 180, 2, False, "s", gettext_lazy("boot takes %(value)s"),
              gettext_lazy("slower than %(share)s of the fleet"), gettext_lazy("faster than %(share)s of the fleet"),
              lost="excess"),
    Component("logon", "logon_seconds", "mean", 20, 60, 2, False, "s", gettext_lazy("logon takes %(value)s"),
              gettext_lazy("slower than %(share)s of the fleet"), gettext_lazy("faster than %(share)s of the fleet"),
              lost="excess"),
    Component("crashes", "crashes", "total", 0, 3, 3, True, "count",
              ngettext_lazy("%(value)s crash in the day", "%(value)s crashes in the day", "count"),
              gettext_lazy("more crashes than %(share)s of the fleet"),
              gettext_lazy("fewer crashes than %(share)s of the fleet"), lost="per_event", minutes_per_event=10),
    Component("cpu", "cpu_pressure_pct", "p95", 70, 95, 1, False, "%",
              gettext_lazy("the processor peaks at %(value)s busy"), gettext_lazy("busier than %(share)s of the fleet"),
              gettext_lazy("calmer than %(share)s of the fleet")),
    Component("memory", "memory_pressure_pct", "p95", 80, 95, 1, False, "%",
              gettext_lazy("memory peaks at %(value)s in use"), gettext_lazy("fuller than %(share)s of the fleet"),
              gettext_lazy("emptier than %(share)s of the fleet")),
    Component("disk", "disk_free_pct", "minimum", 25, 10, 1, True, "%", gettext_lazy("%(value)s of the disk is free"),
              gettext_lazy("less free space than %(share)s of the fleet"),
              gettext_lazy("more free space than %(share)s of the fleet")),
    Component("battery", "battery_health_pct", "last", 80, 60, 1, False, "%",
              gettext_lazy("the battery holds %(value)s of its design capacity"),
              gettext_lazy("weaker than %(share)s of the fleet"), gettext_lazy("stronger than %(share)s of the fleet")),
    Component("latency", "latency_ms", "p95", 50, 250, 1, False, "ms", gettext_lazy("the network answers in %(value)s"),
              gettext_lazy("slower than %(share)s of the fleet"), gettext_lazy("faster than %(share)s of the fleet")),
)  # fmt: skip


@dataclass
class Frame:
    """Daily figures of many devices: one row per (device, day), one column per component (NaN: not
    reported). ``counts`` holds the rollup's sample count (boots, logons) for lost-time sums."""

    device_ids: np.ndarray  # int64
    days: np.ndarray  # int64, date ordinals
    values: np.ndarray  # float64, rows × components
    counts: np.ndarray  # float64, rows × components
    components: tuple[Component, ...] = COMPONENTS


@dataclass
class Scores:
    device_ids: np.ndarray
    days: np.ndarray
    score: np.ndarray  # NaN where no component was reported
    component_scores: np.ndarray  # rows × components
    better_share: np.ndarray  # rows × components: share of that day's fleet with a better value
    worse_share: np.ndarray
    lost_minutes: np.ndarray
    frame: Frame = field(repr=False)


def frame_from_rows(rows: Sequence[tuple], components: tuple[Component, ...] = COMPONENTS) -> Frame:
    """Rows ``(device_id, day, metric, count, mean, total, p95, minimum, last)`` into a ``Frame``."""
    if not rows:
        empty = np.zeros((0, len(components)))
        return Frame(np.zeros(0, np.int64), np.zeros(0, np.int64), empty, empty.copy(), components)
    device = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    ordinals: dict = {}  # days come as dates, or as ISO text from a raw SQLite cursor
    for raw in {r[1] for r in rows}:
        ordinals[raw] = (date.fromisoformat(raw) if isinstance(raw, str) else raw).toordinal()
    day = np.fromiter((ordinals[r[1]] for r in rows), np.int64, len(rows))
    metric = np.array([r[2] for r in rows])
    numbers = np.array([r[3:] for r in rows], dtype=np.float64)  # count, then ROLLUP_STATISTICS
    keys, index = np.unique(np.stack([device, day], axis=1), axis=0, return_inverse=True)
    index = index.ravel()
    values = np.full((len(keys), len(components)), np.nan)
    counts = np.zeros((len(keys), len(components)))
    for column, component in enumerate(components):
        mask = metric == component.metric
        values[index[mask], column] = numbers[mask, 1 + ROLLUP_STATISTICS.index(component.statistic)]
        counts[index[mask], column] = numbers[mask, 0]
    return Frame(keys[:, 0], keys[:, 1], values, counts, components)


def normalise(values: np.ndarray, good: float, frustrating: float) -> np.ndarray:
    """100 at ``good`` or better, 0 at ``frustrating`` or worse, linear between; NaN stays NaN."""
    return 100.0 * np.clip((frustrating - values) / (frustrating - good), 0.0, 1.0)


def compose(component_scores: np.ndarray, components: Sequence[Component]) -> np.ndarray:
    """Weighted average of the reported components, capped by each reported 'ruins the whole' one."""
    weights = np.array([c.weight for c in components], dtype=np.float64)
    reported = ~np.isnan(component_scores)
    weight_sum = (reported * weights).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        average = np.where(reported, component_scores, 0.0) @ weights / weight_sum
    ruining = [i for i, c in enumerate(components) if c.ruins_the_whole]
    if ruining:
        cap = np.fmin.reduce(component_scores[:, ruining], axis=1)  # NaN only where none was reported
        average = np.fmin(average, cap)
    return np.where(weight_sum > 0, average, np.nan)


def lost_minutes(frame: Frame) -> np.ndarray:
    """Work time lost per row: boots and logons beyond ``good``, crashes at a fixed cost each."""
    total = np.zeros(len(frame.days))
    for column, component in enumerate(frame.components):
        values = np.nan_to_num(frame.values[:, column], nan=0.0)
        if component.lost == "excess":
            total += np.maximum(values - component.good, 0.0) * frame.counts[:, column] / 60.0
        elif component.lost == "per_event":
            total += values * component.minutes_per_event
    return total


def fleet_shares(frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """For each value, the share of that day's reporting fleet with a strictly better and a strictly
    worse value of the same component."""
    better = np.full(frame.values.shape, np.nan)
    worse = np.full(frame.values.shape, np.nan)
    order = np.argsort(frame.days, kind="stable")
    boundaries = np.flatnonzero(np.diff(frame.days[order])) + 1
    for rows in np.split(order, boundaries):
        for column, component in enumerate(frame.components):
            values = frame.values[rows, column]
            present = ~np.isnan(values)
            if not present.any():
                continue
            ranked = np.sort(values[present])
            n = len(ranked)
            below = np.searchsorted(ranked, values[present], side="left") / n
            above = (n - np.searchsorted(ranked, values[present], side="right")) / n
            target = rows[present]
            better[target, column], worse[target, column] = (
                (below, above) if component.lower_is_better else (above, below)
            )
    return better, worse


def score(frame: Frame) -> Scores:
    component_scores = np.empty(frame.values.shape)
    for column, component in enumerate(frame.components):
        component_scores[:, column] = normalise(frame.values[:, column], component.good, component.frustrating)
    better, worse = fleet_shares(frame)
    return Scores(
        device_ids=frame.device_ids,
        days=frame.days,
        score=np.round(compose(component_scores, frame.components), 1),
        component_scores=component_scores,
        better_share=better,
        worse_share=worse,
        lost_minutes=np.round(lost_minutes(frame), 2),
        frame=frame,
    )


def component_figures(scores: Scores) -> list[dict[str, dict]]:
    """Each row's components as stored with the day's health (``DeviceHealth.components``)."""
    keys = [component.key for component in scores.frame.components]
    values = np.round(scores.frame.values, 2).tolist()
    points = np.round(scores.component_scores, 1).tolist()
    better = np.round(scores.better_share, 3).tolist()
    worse = np.round(scores.worse_share, 3).tolist()
    figures = []
    for row_values, row_points, row_better, row_worse in zip(values, points, better, worse, strict=True):
        figures.append(
            {
                key: {"value": value, "score": point, "better_share": b, "worse_share": w}
                for key, value, point, b, w in zip(keys, row_values, row_points, row_better, row_worse, strict=True)
                if value == value  # not NaN
            }
        )
    return figures


RATINGS = {
    "good": pgettext_lazy("health rating", "good"),
    "average": pgettext_lazy("health rating", "average"),
    "frustrating": pgettext_lazy("health rating", "frustrating"),
}


def _number(value: float, decimals: int | None) -> str:
    """A number written the reader's way (3.2 in English, 3,2 in Turkish); whole numbers without decimals."""
    if decimals is None:
        return number_format(int(value) if float(value).is_integer() else value)
    return number_format(round(value, decimals), decimals)


def format_percent(value: float) -> str:
    """90 → "90 %" (Turkish writes "%90")."""
    return pgettext("unit", "%(number)s %%") % {"number": _number(value, 0)}


def format_value(value: float, unit: str) -> str:
    if unit == "s":
        if value >= 90:
            return pgettext("unit", "%(number)s min") % {"number": _number(value / 60, 1)}
        return pgettext("unit", "%(number)s s") % {"number": _number(value, 0)}
    if unit == "count":
        return _number(value, None)
    if unit == "%":
        return format_percent(value)
    if unit == "ms":
        return pgettext("unit", "%(number)s ms") % {"number": _number(value, 0)}
    return f"{_number(value, 0)} {unit}"


def rating(component: Component, value: float) -> str:
    """ "good", "average" or "frustrating": where the value stands against the threshold pair."""
    sign = 1 if component.lower_is_better else -1
    if sign * value <= sign * component.good:
        return "good"
    if sign * value >= sign * component.frustrating:
        return "frustrating"
    return "average"


def _fleet_percent(share: float) -> int:
    """The share of the fleet strictly better (or worse) in whole percent, at most 99: the device itself is
    in the fleet, so "slower than 100 % of the fleet" cannot be, however close the share comes (it is kept
    to three decimals: 1,999 of 2,000 is stored as 1.0)."""
    return min(round(share * 100), 99)


def explain(component: Component, value: float, better_share: float, worse_share: float) -> str:
    """E.g. "boot takes 3.2 min, slower than 90 % of the fleet (frustrating: good up to 1.0 min,
    frustrating from 3.0 min)", in the active language: call it when the words are shown, not stored."""
    description = component.describe % {
        "value": format_value(value, component.unit),
        "count": round(value) if component.unit == "count" else 0,
    }
    if better_share >= 0.5:
        comparison = component.worse % {"share": format_percent(_fleet_percent(better_share))}
    elif worse_share >= 0.5:
        comparison = component.better % {"share": format_percent(_fleet_percent(worse_share))}
    else:
        comparison = _("like most of the fleet")
    limits = {"good": format_value(component.good, component.unit),
              "frustrating": format_value(component.frustrating, component.unit)}  # fmt: skip
    if component.lower_is_better:
        thresholds = _("good up to %(good)s, frustrating from %(frustrating)s") % limits
    else:
        thresholds = _("good from %(good)s, frustrating down to %(frustrating)s") % limits
    return _("%(description)s, %(comparison)s (%(rating)s: %(thresholds)s)") % {
        "description": description,
        "comparison": comparison,
        "rating": RATINGS[rating(component, value)],
        "thresholds": thresholds,
    }


def explanations(figures: dict[str, dict], components: tuple[Component, ...] = COMPONENTS) -> list[dict]:
    """Stored figures into plain words, worst component first."""
    by_key = {c.key: c for c in components}
    rows = [
        {
            "component": key,
            "metric": by_key[key].metric,
            "value": figure["value"],
            "score": figure["score"],
            "rating": rating(by_key[key], figure["value"]),
            "weight": by_key[key].weight,
            "ruins_the_whole": by_key[key].ruins_the_whole,
            "text": explain(by_key[key], figure["value"], figure["better_share"], figure["worse_share"]),
        }
        for key, figure in figures.items()
        if key in by_key
    ]
    return sorted(rows, key=lambda row: (row["score"], row["component"]))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
