"""Anomaly detection: a model that got worse after a change is found; noise and harmless changes are not."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from itxm import bulk
from itxm.devices import anomalies
from itxm.devices.models import Anomaly, DailyRollup, Device, InventoryChange

pytestmark = pytest.mark.django_db
END = date(2026, 3, 20)
FIELDS = ("device_id", "day", "metric", "count", "minimum", "maximum", "mean", "total", "p50", "p95", "last")


def fleet(rise: float, crash_after: float, seed: int = 1, devices: int = 30, took: int = 20):
    """``devices`` laptops of one model, 30 days of boots and crashes; ``took`` of them take a driver update
    10 days before END, after which their boots are ``rise`` times slower and they crash ``crash_after`` a day."""
    rng = np.random.default_rng(seed)
    ids = [Device.objects.create(hostname=f"PC{i:03d}", model="Latitude 5440").pk for i in range(devices)]
    change_day = END - timedelta(days=9)
    rows = []
    for n, device_id in enumerate(ids):
        base = rng.uniform(40, 60)
        for d in range(30):
            day = END - timedelta(days=29 - d)
            after = n < took and day >= change_day
            boot = base * rng.lognormal(0, 0.08) * (rise if after else 1)
            crashes = float(rng.poisson(crash_after if after else 0.1))
            rows.append((device_id, day, "boot_seconds", 1, boot, boot, boot, boot, boot, boot, boot))
            rows.append((device_id, day, "crashes", 96, 0, crashes, crashes / 96, crashes, 0, crashes, 0))
    bulk.insert_rows(DailyRollup, FIELDS, rows)
    at = datetime(change_day.year, change_day.month, change_day.day, 8, tzinfo=UTC)
    for device_id in ids[:took]:
        InventoryChange.objects.create(device_id=device_id, changed_at=at, kind="driver", name="GPU", old_value="1",
                                       new_value="2")  # fmt: skip
    return ids


def test_a_model_that_got_worse_after_a_driver_update_is_found_with_its_evidence():
    ids = fleet(rise=1.6, crash_after=1.0)
    assert anomalies.detect(END) == 2
    found = {a.metric: a for a in Anomaly.objects.all()}
    boot = found["boot_seconds"]
    assert boot.kind == "model_change" and boot.device_model == "Latitude 5440"
    evidence = boot.evidence
    assert evidence["change"]["name"] == "GPU" and evidence["change"]["new_value"] == "2"
    assert evidence["after"]["with_change"] > 1.4 * evidence["before"]["with_change"]
    assert evidence["p_value"] < 0.01
    assert evidence["affected_device_ids"] == sorted(ids[:20])
    # Found again: the same anomalies stay open, none is added.
    assert anomalies.detect(END) == 2 and Anomaly.objects.count() == 2


def test_noise_and_a_harmless_update_do_not_alarm():
    fleet(rise=1.0, crash_after=0.1, seed=3)
    assert anomalies.detect(END) == 0


def test_a_small_rise_below_the_minimum_effect_does_not_alarm():
    fleet(rise=1.1, crash_after=0.15, seed=4)
    assert anomalies.detect(END) == 0


def test_a_device_slower_than_its_own_history_is_found_and_closed_when_it_recovers():
    fleet(rise=1.0, crash_after=0.1, seed=5, took=0)
    slow = Device.objects.order_by("pk").first()
    DailyRollup.objects.filter(device=slow, metric="boot_seconds", day__gt=END - timedelta(days=7)).update(
        mean=200, p50=200
    )
    assert anomalies.detect(END) == 1
    anomaly = Anomaly.objects.get()
    assert anomaly.kind == "device_regression" and anomaly.device_id == slow.pk
    assert anomaly.evidence["recent"]["mean"] > 150 and anomaly.evidence["z"] >= 4
    DailyRollup.objects.filter(device=slow, metric="boot_seconds").update(mean=50)
    assert anomalies.detect(END) == 0
    assert Anomaly.objects.get().status == "closed"


def test_the_permutation_test_is_deterministic_and_one_sided():
    rise = np.array([1.0, 1.2, 0.9, 1.1, 1.3, 1.0])
    assert anomalies.permutation_p(rise, None) == anomalies.permutation_p(rise, None) < 0.05
    assert anomalies.permutation_p(-rise, None) > 0.9
