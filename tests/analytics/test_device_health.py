"""Device health joins the metrics of people dimensions and can be an XLA's operational indicator."""

import json
from datetime import timedelta

import pytest

from itxm.analytics import services
from itxm.devices.models import Device, DeviceHealth
from itxm.org.models import Department, Employee
from itxm.org.scopes import EVERYTHING, scope_for
from tests.analytics.conftest import PERIOD, TODAY
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def healthy_finance(answered, people):  # noqa: F811
    """Finance's two devices score 80 and 60 on two days; a device in Legal 30; one with no user."""
    legal = Department.objects.create(name="Legal")
    lawyer = Employee.objects.create(external_id="L1", name="Lawyer", department=legal, country="DE")
    rows = [(people[0], (80, 80)), (people[1], (60, 60)), (lawyer, (30, 30)), (None, (10, 10))]
    for i, (user, scores) in enumerate(rows):
        device = Device.objects.create(hostname=f"PC{i}", primary_user=user)
        for day, score in zip((TODAY - timedelta(days=2), TODAY - timedelta(days=1)), scores, strict=True):
            DeviceHealth.objects.create(device=device, day=day, score=score)
    return people[0].department


def test_device_health_per_department_and_for_everyone(healthy_finance):
    departments = {m.label: m.metrics for m in services.metrics(EVERYTHING, "department", PERIOD)}
    assert departments["Finance"]["device_health"] == 70.0
    overall = services.overview(EVERYTHING, PERIOD).metrics
    assert overall["device_health"] == round((80 + 60 + 30 + 10) / 4, 1)
    services_ = services.metrics(EVERYTHING, "service", PERIOD)
    assert all(m.metrics.get("device_health") is None for m in services_)  # devices are not a service's


def test_suppliers_see_no_device_health(healthy_finance, users):
    assert services.device_health(scope_for(users["alpha"]), "all", PERIOD) == {}


def test_an_xla_judges_device_health(healthy_finance, users, client_for):
    admin = client_for(users["admin"])
    body = {"name": "Finance devices", "dimension": "department", "member": str(healthy_finance.pk),
            "indicators": [{"metric": "device_health", "target": 75}]}  # fmt: skip
    created = admin.post("/api/v1/xlas", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    card = admin.get(f"/api/v1/xlas/{created.json()['id']}/scorecard?today={TODAY}").json()
    indicator = card["current"]["indicators"][0]
    # 70 misses 75 by less than the 5-point margin: at risk, half the points.
    assert (indicator["value"], indicator["status"], indicator["sample"]) == (70.0, "at_risk", 2)
    assert card["current"]["score"] == 50.0
