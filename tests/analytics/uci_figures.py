"""Analytics over the real ServiceNow log in ../shared/datasets equal an independent computation written
here with nothing but the csv module: per priority, per assignment group and per month of resolution.

Called by the UCI import test (tests/tickets/test_uci_dataset.py) right after it loads the log, so the
suite loads the 141,712 rows once for both checks."""

import csv
import gzip
import statistics
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from itxm.analytics import services
from itxm.analytics.periods import Period
from itxm.org.scopes import EVERYTHING

WHOLE = Period(date(2015, 1, 1), date(2018, 1, 1))


def when(text: str) -> datetime:
    return datetime.strptime(text, "%d/%m/%Y %H:%M")


def last_snapshots(dataset: Path) -> list[dict]:
    last: dict[str, dict] = {}
    with gzip.open(dataset, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["incident_state"] == "-100":  # refused by the import (an unknown state)
                continue
            current = last.get(row["number"])
            if current is None or int(row["sys_mod_count"]) >= int(current["sys_mod_count"]):
                last[row["number"]] = row
    return list(last.values())


def independent(rows: list[dict], key) -> dict[str, dict]:
    resolved = [r for r in rows if r["incident_state"] in ("Resolved", "Closed") and r["resolved_at"] != "?"]
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in resolved:
        groups[key(row)].append(row)
    figures = {}
    for name, members in groups.items():
        seconds = [max(0, int((when(r["resolved_at"]) - when(r["opened_at"])).total_seconds())) for r in members]
        known = [r for r in members if r["made_sla"] in ("true", "false")]
        n = len(members)
        figures[name] = {
            "resolved": n,
            "sla_compliance": round(100 * sum(r["made_sla"] == "true" for r in known) / len(known), 1),
            "reassignment_rate": round(100 * sum(int(r["reassignment_count"]) > 0 for r in members) / n, 1),
            "reopen_rate": round(100 * sum(int(r["reopen_count"]) > 0 for r in members) / n, 1),
            "mean_resolution_hours": round(sum(seconds) / 3600 / n, 1),
            "median_hours": round(statistics.median(s / 3600 for s in seconds), 2),
            "p90_hours": round(float(np.percentile([s / 3600 for s in seconds], 90)), 2),
        }
    return figures


def ours(dimension: str, period: Period = WHOLE, key=lambda item: item.code) -> dict[str, dict]:
    found = {}
    for item in services.metrics(EVERYTHING, dimension, period):
        m = item.metrics
        found[key(item)] = {
            name: m[name]
            for name in ("resolved", "sla_compliance", "reassignment_rate", "reopen_rate", "mean_resolution_hours")
        } | {"median_hours": item.resolution_hours["p50"], "p90_hours": item.resolution_hours["p90"]}
    return found


def assert_analytics_equal_an_independent_computation(dataset: Path):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "PERCENTILE_SAMPLE", 10**9)  # exact percentiles, as computed here
        _compare(last_snapshots(dataset))


def _compare(rows: list[dict]) -> None:
    by_priority = independent(rows, lambda r: r["priority"].split(" - ")[0])
    assert ours("priority", key=lambda item: item.member) == by_priority
    assert sum(f["resolved"] for f in by_priority.values()) > 20_000

    by_group = independent(rows, lambda r: r["assignment_group"])
    del by_group["?"]  # tickets with no group are in no group's figures
    assert ours("group") == by_group

    month = Period(date(2016, 5, 1), date(2016, 6, 1))
    in_may = [
        r for r in rows if r["resolved_at"] != "?" and when(r["resolved_at"]).date().replace(day=1) == month.start
    ]
    assert ours("all", month, key=lambda item: "all") == independent(in_may, lambda r: "all")
