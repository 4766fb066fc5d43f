"""Anomaly detection over the daily rollups (docs/devices.md, "Anomalies").

Two detectors, both run as of a day (normally the latest day with rollups):

* **A model got worse after a change.** The devices of one model that took the same change (an OS
  build, a driver or a firmware version: ``InventoryChange``) are compared before and after their own
  change day, against the devices of the same model that did not take it over the same days
  (difference in differences). It alarms only when the rise is significant (a permutation test,
  Bonferroni-corrected for the number of tests of the run) *and* large enough to matter (a minimum
  absolute and relative effect), so that noise and small drifts stay quiet.
* **A device got worse than its own history.** The mean of its last ``RECENT_DAYS`` days against its
  ``BASELINE_DAYS`` days before: a robust z-score (median and MAD, with a floor on the spread) plus the
  same minimum effects. A device already counted in a model anomaly of the same metric is not
  reported again on its own.

Each anomaly carries its evidence (before/after figures, the change, the affected devices) and stays
open while it is found again; one not found in a run is closed.
"""

import warnings
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from itxm.devices.models import Anomaly, AnomalyStatus, Device, InventoryChange

BEFORE_DAYS = 14  # the baseline before a change
LOOKBACK_DAYS = 21  # changes this recent are examined
MIN_AFTER_DAYS = 3  # days of data after a change before it is judged
MIN_DEVICES = 5  # a change on fewer devices of a model is not judged statistically
MIN_CONTROLS = 3  # fewer devices without the change: the rise is tested against zero instead
ALPHA = 0.01
MIN_RELATIVE_RISE = 0.25
PERMUTATIONS = 2000
RECENT_DAYS = 7
BASELINE_DAYS = 14
DEVICE_Z = 4.0
DEVICE_MIN_RELATIVE_RISE = 0.5


@dataclass(frozen=True)
class Watched:
    metric: str
    statistic: str  # DailyRollup column that is the day's figure
    label: str
    model_min_rise: float  # smallest absolute rise of a model worth an alarm
    device_min_rise: float  # the same for one device against its history
    spread_floor: float  # the smallest spread assumed for a device (a quiet history has a MAD of 0)


WATCHED = (
    Watched("crashes", "total", "crashes a day", 0.3, 1.0, 0.5),
    Watched("boot_seconds", "mean", "boot time (s)", 15.0, 20.0, 5.0),
    Watched("logon_seconds", "mean", "logon time (s)", 10.0, 15.0, 3.0),
)


@dataclass
class Finding:
    key: str
    kind: str
    metric: str
    device_model: str
    device_id: int | None
    summary: str
    evidence: dict


@dataclass
class Series:
    """One metric's daily figures: devices × days (NaN: no rollup that day)."""

    device_ids: np.ndarray
    first_day: date
    values: np.ndarray

    def row_of(self) -> dict[int, int]:
        return {int(d): i for i, d in enumerate(self.device_ids)}


def permutation_p(changed: np.ndarray, control: np.ndarray | None, rounds: int = PERMUTATIONS, seed: int = 0) -> float:
    """One-sided p-value that ``changed`` rises more than ``control`` (or than 0 when there is no
    control: a sign-flip test). Seeded, so a run gives the same answer every time."""
    rng = np.random.default_rng(seed)
    if control is not None and len(control) >= MIN_CONTROLS:
        observed = changed.mean() - control.mean()
        pooled = np.concatenate([changed, control])
        shuffled = rng.permuted(np.tile(pooled, (rounds, 1)), axis=1)
        stats = shuffled[:, : len(changed)].mean(axis=1) - shuffled[:, len(changed) :].mean(axis=1)
    else:
        observed = changed.mean()
        stats = (rng.choice((-1.0, 1.0), size=(rounds, len(changed))) * changed).mean(axis=1)
    return float((1 + np.count_nonzero(stats >= observed - 1e-12)) / (rounds + 1))


def robust_z(baseline: np.ndarray, recent: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: baseline median, its spread (1.4826 × MAD, at least ``floor`` and 10 % of the median)
    and the z-score of the recent mean against them."""
    median = np.nanmedian(baseline, axis=1)
    mad = 1.4826 * np.nanmedian(np.abs(baseline - median[:, None]), axis=1)
    spread = np.maximum(np.maximum(mad, floor), 0.1 * np.abs(median))
    return median, spread, (np.nanmean(recent, axis=1) - median) / spread


def window_means(series: Series, starts: np.ndarray, stops: np.ndarray, rows: np.ndarray) -> tuple:
    """Mean and count of each row's values on days [start, stop) (day offsets from ``first_day``)."""
    offsets = np.arange(series.values.shape[1])
    inside = (offsets[None, :] >= starts[:, None]) & (offsets[None, :] < stops[:, None])
    values = series.values[rows]
    present = inside & ~np.isnan(values)
    counts = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(present, values, 0.0).sum(axis=1) / counts
    return means, counts


def load_series(first: date, last: date) -> dict[str, Series]:
    from itxm.devices.services import rollup_rows

    columns = tuple(dict.fromkeys(w.statistic for w in WATCHED))
    rows = rollup_rows(first, last, {w.metric for w in WATCHED}, columns)
    width = (last - first).days + 1
    offsets_of: dict = {}
    for raw in {row[1] for row in rows}:
        offsets_of[raw] = ((date.fromisoformat(raw) if isinstance(raw, str) else raw) - first).days
    found = {}
    for watched in WATCHED:
        stat = 3 + columns.index(watched.statistic)
        items = [(row[0], offsets_of[row[1]], row[stat]) for row in rows if row[2] == watched.metric]
        devices = np.array(sorted({item[0] for item in items}), dtype=np.int64)
        values = np.full((len(devices), width), np.nan)
        if items:
            device, offset, value = zip(*items, strict=True)
            values[np.searchsorted(devices, np.array(device)), np.array(offset)] = np.array(value, dtype=np.float64)
        found[watched.metric] = Series(devices, first, values)
    return found


def model_change_findings(as_of: date, series: dict[str, Series]) -> list[Finding]:
    first = series[WATCHED[0].metric].first_day
    changes = InventoryChange.objects.filter(
        changed_at__date__gte=as_of - timedelta(days=LOOKBACK_DAYS),
        changed_at__date__lte=as_of - timedelta(days=MIN_AFTER_DAYS - 1),
    ).values_list("device_id", "device__model", "kind", "name", "new_value", "old_value", "changed_at")
    groups: dict[tuple, dict[int, date]] = defaultdict(dict)
    old_values: dict[tuple, set] = defaultdict(set)
    for device_id, model, kind, name, new_value, old_value, changed_at in changes:
        key = (model, kind, name, new_value)
        day = changed_at.date()
        groups[key][device_id] = min(day, groups[key].get(device_id, day))
        old_values[key].add(old_value)
    groups = {key: devices for key, devices in groups.items() if key[0] and len(devices) >= MIN_DEVICES}
    models = {key[0] for key in groups}
    model_devices = defaultdict(set)
    for device_id, model in Device.objects.filter(model__in=models).values_list("id", "model"):
        model_devices[model].add(device_id)
    candidates = []
    for key, changed in groups.items():
        controls = model_devices[key[0]] - set(changed)
        reference = sorted(changed.values())[len(changed) // 2]
        for watched in WATCHED:
            result = _compare(series[watched.metric], first, as_of, changed, controls, reference)
            if result is not None:
                candidates.append((key, watched, changed, result))
    tests = max(1, len(candidates))
    findings = []
    for (model, kind, name, new_value), watched, changed, result in candidates:
        effect = result["effect"]
        relative = effect / max(result["before"]["with_change"], watched.spread_floor)
        if result["p_value"] >= ALPHA / tests or effect < watched.model_min_rise or relative < MIN_RELATIVE_RISE:
            continue
        days = sorted(changed.values())
        change = {
            "kind": kind,
            "name": name,
            "new_value": new_value,
            "old_values": sorted(old_values[(model, kind, name, new_value)]),
            "first_day": days[0].isoformat(),
            "last_day": days[-1].isoformat(),
        }
        evidence = {
            "metric": watched.metric,
            "statistic": watched.statistic,
            "change": change,
            **result,
            "relative_rise": round(relative, 3),
            "tests_in_run": tests,
            "affected_device_ids": sorted(result.pop("compared_ids")),
        }
        evidence.pop("compared_ids", None)
        before, after = result["before"]["with_change"], result["after"]["with_change"]
        findings.append(
            Finding(
                key=f"model:{model}:{kind}:{name}:{new_value}:{watched.metric}"[:300],
                kind=Anomaly.Kind.MODEL_CHANGE,
                metric=watched.metric,
                device_model=model,
                device_id=None,
                summary=(
                    f"{model}: {watched.label} rose from {before:.2f} to {after:.2f} after {kind} "
                    f"{name} {new_value} on {len(evidence['affected_device_ids'])} devices "
                    f"(others of the model: {result['before']['without_change']:.2f} → "
                    f"{result['after']['without_change']:.2f})"
                )[:500],
                evidence=evidence,
            )
        )
    return findings


def _compare(series: Series, first: date, as_of: date, changed: dict[int, date], controls: set, reference: date):
    rows = series.row_of()
    changed_ids = [d for d in changed if d in rows]
    control_ids = [d for d in controls if d in rows]
    if len(changed_ids) < MIN_DEVICES:
        return None
    end = (as_of - first).days + 1

    def diffs(ids, change_days):
        index = np.array([rows[d] for d in ids], dtype=np.int64)
        at = np.array([(day - first).days for day in change_days], dtype=np.int64)
        before, before_n = window_means(series, at - BEFORE_DAYS, at, index)
        after, after_n = window_means(series, at, np.full(len(at), end), index)
        usable = (before_n >= BEFORE_DAYS // 2) & (after_n >= MIN_AFTER_DAYS)
        return np.array(ids)[usable], before[usable], after[usable]

    ids, before, after = diffs(changed_ids, [changed[d] for d in changed_ids])
    if len(ids) < MIN_DEVICES:
        return None
    c_ids, c_before, c_after = diffs(control_ids, [reference] * len(control_ids)) if control_ids else ([], [], [])
    control = (np.asarray(c_after) - np.asarray(c_before)) if len(c_ids) >= MIN_CONTROLS else None
    rise = after - before
    effect = rise.mean() - (control.mean() if control is not None else 0.0)
    return {
        "before": {"with_change": round(float(before.mean()), 3), "without_change": _mean(c_before)},
        "after": {"with_change": round(float(after.mean()), 3), "without_change": _mean(c_after)},
        "effect": round(float(effect), 3),
        "p_value": round(permutation_p(rise, control), 5),
        "devices_with_change": len(ids),
        "devices_without_change": len(c_ids),
        "window_days": {"before": BEFORE_DAYS, "after_until": as_of.isoformat()},
        "compared_ids": [int(d) for d in ids],
    }


def _mean(values) -> float | None:
    return round(float(np.mean(values)), 3) if len(values) else None


def device_findings(as_of: date, series: dict[str, Series], explained: dict[str, set]) -> list[Finding]:
    findings = []
    for watched in WATCHED:
        data = series[watched.metric]
        end = (as_of - data.first_day).days + 1
        recent = data.values[:, end - RECENT_DAYS : end]
        baseline = data.values[:, end - RECENT_DAYS - BASELINE_DAYS : end - RECENT_DAYS]
        enough = (np.count_nonzero(~np.isnan(recent), axis=1) >= RECENT_DAYS // 2 + 1) & (
            np.count_nonzero(~np.isnan(baseline), axis=1) >= BASELINE_DAYS // 2
        )
        if not enough.any():
            continue
        with warnings.catch_warnings():  # devices without data give all-NaN rows: expected
            warnings.simplefilter("ignore", RuntimeWarning)
            median, spread, z = robust_z(baseline, recent, watched.spread_floor)
            level = np.nanmean(recent, axis=1)
        rise = level - median
        alarm = (
            enough
            & (z >= DEVICE_Z)
            & (rise >= watched.device_min_rise)
            & (rise >= DEVICE_MIN_RELATIVE_RISE * np.maximum(median, watched.spread_floor))
        )
        for row in np.flatnonzero(alarm):
            device_id = int(data.device_ids[row])
            if device_id in explained.get(watched.metric, ()):
                continue
            findings.append(
                (
                    device_id,
                    watched,
                    {
                        "metric": watched.metric,
                        "statistic": watched.statistic,
                        "baseline": {"median": round(float(median[row]), 3), "spread": round(float(spread[row]), 3)},
                        "recent": {"mean": round(float(level[row]), 3), "days": RECENT_DAYS},
                        "z": round(float(z[row]), 2),
                        "window": {
                            "baseline_from": (as_of - timedelta(days=RECENT_DAYS + BASELINE_DAYS - 1)).isoformat(),
                            "recent_from": (as_of - timedelta(days=RECENT_DAYS - 1)).isoformat(),
                            "until": as_of.isoformat(),
                        },
                        "affected_device_ids": [device_id],
                    },
                )
            )
    if not findings:
        return []
    devices = dict(Device.objects.filter(pk__in={f[0] for f in findings}).values_list("id", "hostname"))
    models = dict(Device.objects.filter(pk__in={f[0] for f in findings}).values_list("id", "model"))
    since = as_of - timedelta(days=RECENT_DAYS + BASELINE_DAYS)
    coinciding = defaultdict(list)
    for device_id, kind, name, old, new, at in InventoryChange.objects.filter(
        device_id__in=devices, changed_at__date__gte=since
    ).values_list("device_id", "kind", "name", "old_value", "new_value", "changed_at"):
        coinciding[device_id].append(
            {"kind": kind, "name": name, "old_value": old, "new_value": new, "day": at.date().isoformat()}
        )
    result = []
    for device_id, watched, evidence in findings:
        evidence["changes"] = coinciding.get(device_id, [])
        result.append(
            Finding(
                key=f"device:{device_id}:{watched.metric}",
                kind=Anomaly.Kind.DEVICE_REGRESSION,
                metric=watched.metric,
                device_model=models.get(device_id, ""),
                device_id=device_id,
                summary=(
                    f"{devices.get(device_id, device_id)}: {watched.label} {evidence['recent']['mean']:.2f} over the "
                    f"last {RECENT_DAYS} days against {evidence['baseline']['median']:.2f} before"
                )[:500],
                evidence=evidence,
            )
        )
    return result


def find(as_of: date) -> list[Finding]:
    first = as_of - timedelta(days=max(LOOKBACK_DAYS + BEFORE_DAYS, RECENT_DAYS + BASELINE_DAYS))
    series = load_series(first, as_of)
    by_model = model_change_findings(as_of, series)
    explained: dict[str, set] = defaultdict(set)
    for finding in by_model:
        explained[finding.metric].update(finding.evidence["affected_device_ids"])
    return by_model + device_findings(as_of, series, explained)


def detect(as_of: date, now=None) -> int:
    """Find the anomalies as of a day, keep those already open (with fresh evidence), open new ones and
    close those no longer found. Returns how many are open. Running it twice changes nothing."""
    now = now or timezone.now()
    findings = find(as_of)
    with transaction.atomic():
        still_open = {a.key: a for a in Anomaly.objects.filter(status=AnomalyStatus.OPEN)}
        for finding in findings:
            known = still_open.pop(finding.key, None)
            if known is not None:
                known.summary, known.evidence = finding.summary, finding.evidence
                known.save(update_fields=["summary", "evidence"])
                continue
            try:
                with transaction.atomic():
                    Anomaly.objects.create(
                        key=finding.key,
                        kind=finding.kind,
                        metric=finding.metric,
                        device_model=finding.device_model[:200],
                        device_id=finding.device_id,
                        summary=finding.summary,
                        evidence=finding.evidence,
                        detected_on=as_of,
                        opened_at=now,
                    )
            except IntegrityError:
                pass  # another run opened it at the same moment
        Anomaly.objects.filter(pk__in=[a.pk for a in still_open.values()]).update(
            status=AnomalyStatus.CLOSED, closed_at=now
        )
    return Anomaly.objects.filter(status=AnomalyStatus.OPEN).count()


def affected_devices() -> dict[int, list[int]]:
    """Device id → the open anomalies that list it."""
    found: dict[int, list[int]] = defaultdict(list)
    for pk, evidence in Anomaly.objects.filter(status=AnomalyStatus.OPEN).values_list("pk", "evidence"):
        for device_id in evidence.get("affected_device_ids", []):
            found[int(device_id)].append(pk)
    return found
