"""/api/v1/devices/experience/...: paginated, scoped, names only for roles that may see people."""

import pytest

from itxm.devices import services
from tests.devices import experience_data

QUERY = "start=2026-03-01&end=2026-03-15"
LISTS = ["people", "models", "os-builds", "health-bands"]


@pytest.fixture(autouse=True)
def fresh_results():
    # Results are kept per process until the data changes; a rolled-back test's ids can come again.
    services.forget_page_results()
    yield
    services.forget_page_results()


@pytest.fixture
def joined(org, settings):
    settings.ANALYTICS_MIN_ANSWERS = 2
    return experience_data.build(org)


def test_people_worst_first_in_pages(joined, users, client_for):
    client = client_for(users["analyst"])
    first = client.get(f"/api/v1/devices/experience/people?{QUERY}&limit=2").json()
    assert first["count"] == 4
    assert [(p["name"], p["score"], p["partial"]) for p in first["items"]] == [
        ("Ayşe Yılmaz", 40.0, False),
        ("Dora Devices", 60.0, True),
    ]
    rest = client.get(f"/api/v1/devices/experience/people?{QUERY}&limit=2&offset=2").json()
    assert [p["external_id"] for p in rest["items"]] == ["E3", "E2"]


def test_models_builds_and_bands(joined, users, client_for):
    client = client_for(users["admin"])
    models = client.get(f"/api/v1/devices/experience/models?{QUERY}").json()["items"]
    assert [(m["key"], m["answers"], m["health"], m["measured_lost_per_week"]) for m in models] == [
        ("Latitude 5440", 2, 55.0, 154.0),
        ("ThinkPad T14", 1, 75.0, 35.0),
    ]
    builds = client.get(f"/api/v1/devices/experience/os-builds?{QUERY}").json()
    assert builds["count"] == 2
    bands = client.get(f"/api/v1/devices/experience/health-bands?{QUERY}").json()["items"]
    assert [(b["key"], b["answers"], b["happiness"], b["judged"]) for b in bands] == [
        ("good", 1, 100.0, False),
        ("fair", 0, None, False),
        ("poor", 2, -100.0, True),
    ]


def test_a_viewer_gets_people_without_names(joined, users, client_for):
    items = client_for(users["viewer"]).get(f"/api/v1/devices/experience/people?{QUERY}").json()["items"]
    assert len(items) == 4
    assert all(p["name"] is None and p["external_id"] is None for p in items)
    assert "Ayşe" not in str(items) and "Zoe" not in str(items)


@pytest.mark.parametrize("role", ["alpha", "zeta", "owner"])
def test_suppliers_and_service_owners_see_no_one(joined, users, client_for, role):
    client = client_for(users[role])
    for name in LISTS:
        response = client.get(f"/api/v1/devices/experience/{name}?{QUERY}")
        assert response.status_code == 200
        assert all(item.get("answers", 0) == 0 for item in response.json()["items"])
        if name != "health-bands":
            assert response.json()["count"] == 0
        assert "Zeta-Answer" not in response.content.decode() and "Ayşe" not in response.content.decode()


def test_an_inverted_period_is_refused(joined, users, client_for):
    response = client_for(users["admin"]).get("/api/v1/devices/experience/people?start=2026-03-15&end=2026-03-01")
    assert response.status_code == 400  # as the analytics API answers
    assert response.json() == {"message": "end comes after start", "field": "end"}


def test_signed_out_readers_are_refused(joined, client):
    assert client.get(f"/api/v1/devices/experience/people?{QUERY}").status_code == 401
