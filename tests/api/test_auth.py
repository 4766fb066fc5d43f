import pytest
from django.test import Client

from itxm.api.api import api
from itxm.org.models import ApiToken


@pytest.mark.django_db
def test_anonymous_callers_get_401_as_json(org):
    response = Client().get("/api/v1/groups")
    assert response.status_code == 401
    assert response.json()["message"] == "sign in or send a valid API token"


@pytest.mark.django_db
def test_a_token_acts_as_its_user_and_is_stored_hashed(users, client_for):
    created = client_for(users["alpha"]).post(
        "/api/v1/tokens", {"name": "reporting box"}, content_type="application/json"
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    stored = ApiToken.objects.get()
    assert secret not in (stored.key_hash, stored.key_prefix) and len(stored.key_hash) == 64

    machine = Client(headers={"Authorization": f"Bearer {secret}"})
    assert machine.get("/api/v1/me").json()["username"] == "alpha-user"
    assert [g["name"] for g in machine.get("/api/v1/groups").json()["items"]] == ["Alpha Desk"]
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.django_db
def test_a_revoked_token_no_longer_works(users, client_for):
    token, secret = ApiToken.issue(users["viewer"], "old box")
    machine = Client(headers={"Authorization": f"Bearer {secret}"})
    assert machine.get("/api/v1/me").status_code == 200

    revoked = client_for(users["viewer"]).delete(f"/api/v1/tokens/{token.pk}")

    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert machine.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_users_cannot_revoke_someone_elses_token(users, client_for):
    token, _ = ApiToken.issue(users["admin"], "admin box")
    assert client_for(users["viewer"]).delete(f"/api/v1/tokens/{token.pk}").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.django_db
def test_a_token_of_a_deactivated_user_is_refused(users):
    _, secret = ApiToken.issue(users["analyst"], "box")
    users["analyst"].is_active = False
    users["analyst"].save()
    assert Client(headers={"Authorization": f"Bearer {secret}"}).get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(users, client_for):
    client = client_for(users["viewer"], enforce_csrf=True)
    refused = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert refused.status_code in (401, 403)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_validation_errors_name_the_offending_field(users, client_for):
    response = client_for(users["admin"]).post("/api/v1/tokens", {"nom": "x"}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "name" and body["message"].startswith("name:")


@pytest.mark.django_db
def test_unknown_objects_are_a_json_404(users, client_for):
    response = client_for(users["admin"]).get("/api/v1/groups/999999")
    assert response.status_code == 404 and response.json() == {"message": "not found", "field": None}


@pytest.mark.django_db
def test_people_are_visible_to_analysts_not_viewers(users, client_for):
    assert client_for(users["analyst"]).get("/api/v1/employees").json()["count"] == 1
    assert client_for(users["viewer"]).get("/api/v1/employees").status_code == 403


def test_every_list_route_is_paginated():
    schema = api.get_openapi_schema()
    lists = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        success = next(r for code, r in get["responses"].items() if str(code).startswith("2"))
        body = success["content"]["application/json"]["schema"]
        ref = body.get("$ref", "")
        component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else body
        if component.get("type") == "array":
            lists.append(path)
            continue
        if "items" in component.get("properties", {}):
            params = {p["name"] for p in get.get("parameters", [])}
            assert {"limit", "offset"} <= params, path
            assert "count" in component["properties"], path
    assert not lists, f"unpaginated lists: {lists}"


@pytest.mark.django_db
def test_pagination_limits_and_counts(users, client_for):
    client = client_for(users["admin"])
    page = client.get("/api/v1/groups?limit=2&offset=1").json()
    assert page["count"] == 3 and len(page["items"]) == 2
    assert client.get("/api/v1/groups?limit=100000").status_code == 422


@pytest.mark.django_db
def test_docs_and_schema_are_served_without_internet(users, client_for):
    client = client_for(users["viewer"])
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "ITXM API"
