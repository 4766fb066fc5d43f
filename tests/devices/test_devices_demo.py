"""The demo's devices: the planted driver regression is found on its model and on no other."""

from datetime import date

import pytest

import itxm.demo
from itxm.demo import build_demo
from itxm.devices.demo import PLANTED
from itxm.devices.models import Anomaly, DailyRollup, Device, DeviceHealth

END = date(2025, 6, 30)


@pytest.fixture
def demo_with_devices(db, monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if "itxm.devices.demo.build" not in itxm.demo.STEPS:
        monkeypatch.setattr(itxm.demo, "STEPS", [*itxm.demo.STEPS, "itxm.devices.demo.build"])
    return build_demo(end=END, scale=0.1)


def test_the_planted_model_is_flagged_and_no_other(demo_with_devices, client_for):
    assert Device.objects.count() == demo_with_devices.counts["devices"] > 100
    assert DailyRollup.objects.dates("day", "day").count() == 30 and DeviceHealth.objects.exists()
    flagged = set(Anomaly.objects.filter(status="open").values_list("device_model", flat=True))
    assert flagged == {PLANTED.model}
    model_change = Anomaly.objects.filter(kind="model_change")
    assert set(model_change.values_list("metric", flat=True)) == {"crashes", "boot_seconds"}
    assert all(a.evidence["change"]["new_value"] == PLANTED.new_version for a in model_change)


def test_health_anomalies_and_alerts_through_the_api_and_hidden_from_suppliers(demo_with_devices, client_for):
    from itxm.org.models import User

    admin, supplier = User.objects.get(username="admin"), User.objects.get(username="supplier-a")
    client = client_for(admin)
    device = Device.objects.first()
    page = client.get(f"/api/v1/devices/{device.pk}/health?limit=5").json()
    assert page["count"] == 30 and page["items"][0]["components"][0]["text"]
    fleet = client.get("/api/v1/devices/health").json()
    assert fleet["devices"] == Device.objects.count() and {m["model"] for m in fleet["models"]}
    assert fleet["lost_time"] and client.get("/api/v1/devices/anomalies?status=open").json()["count"] >= 2
    assert client.get("/api/v1/devices/alerts").json()["count"] > 0
    hidden = client_for(supplier)
    assert hidden.get("/api/v1/devices/health").json()["devices"] == 0
    assert hidden.get("/api/v1/devices/anomalies").json()["count"] == 0
    assert hidden.get("/api/v1/devices/alerts").json()["count"] == 0
    assert hidden.get(f"/api/v1/devices/{device.pk}/health").status_code == 404
