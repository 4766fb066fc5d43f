import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from itxm.devices import services, telemetry
from itxm.devices.models import Device, DeviceToken, EnrolmentCode
from itxm.org.scopes import EVERYTHING

from .conftest import at


def post_json(client, path, payload, **headers):
    return client.post(path, data=json.dumps(payload), content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_admin_creates_a_code_and_an_agent_enrols_once_with_it(users, client_for):
    created = post_json(client_for(users["admin"]), "/api/v1/devices/enrolment-codes", {"hours": 1, "note": "PC9"})
    code = created.json()["code"]
    inventory = {"hostname": "PC9", "serial": "SN-9", "ram_mb": 8192}

    first = post_json(Client(), "/api/v1/devices/enrol", {"code": code, "inventory": inventory})
    second = post_json(Client(), "/api/v1/devices/enrol", {"code": code, "inventory": inventory})

    assert created.status_code == 201 and first.status_code == 201
    assert first.json()["token"].startswith("itxmd_")
    assert second.status_code == 401 and "unknown, used or expired" in second.json()["message"]
    device = Device.objects.get(serial="SN-9")
    assert device.source == "agent" and device.ram_mb == 8192 and device.enrolled_at is not None
    assert not EnrolmentCode.objects.filter(code_hash=code).exists()  # only the hash is kept


@pytest.mark.django_db
def test_an_expired_code_is_refused():
    entry, code = services.create_enrolment_code(EVERYTHING, None, hours=1)
    EnrolmentCode.objects.filter(pk=entry.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post_json(Client(), "/api/v1/devices/enrol", {"code": code})
    assert response.status_code == 401 and response.json()["field"] == "code"


@pytest.mark.django_db
def test_a_code_never_starts_with_a_dash_which_the_agents_command_line_would_read_as_an_option(monkeypatch):
    drawn = iter(["-looks-like-an-option", "_fine-code"])
    monkeypatch.setattr("itxm.devices.models.secrets.token_urlsafe", lambda size: next(drawn))
    _, code = services.create_enrolment_code(EVERYTHING, None)
    assert code == "_fine-code"


@pytest.mark.django_db
def test_enrolment_completes_an_imported_device_with_the_same_serial(laptop):
    _, code = services.create_enrolment_code(EVERYTHING, None)
    device, _ = services.enrol(code, {"hostname": "pc042.corp", "serial": "SN-042", "os_name": "Ubuntu"})
    assert device.pk == laptop.pk and Device.objects.count() == 1
    device.refresh_from_db()
    assert (device.hostname, device.os_name, device.source) == ("pc042.corp", "Ubuntu", "import")


@pytest.mark.django_db
def test_only_admins_create_enrolment_codes(users, client_for):
    response = post_json(client_for(users["analyst"]), "/api/v1/devices/enrolment-codes", {})
    assert response.status_code == 403


@pytest.mark.django_db
def test_telemetry_answers_counts_and_per_sample_errors(enrolled, now):
    device, token = enrolled
    body = "\n".join(
        [
            json.dumps({"ts": at(now, -5), "metric": "latency_ms", "value": 12}),
            "{broken",
            json.dumps({"ts": at(now, -5), "metric": "disk_free_pct", "value": -3}),
        ]
    )
    response = Client().post(
        "/api/v1/devices/telemetry",
        data=body,
        content_type="application/x-ndjson",
        headers={"Authorization": f"Device {token}", "X-ITXM-Batch-Id": "b1"},
    )

    answer = response.json()
    assert response.status_code == 200
    assert (answer["received"], answer["stored"], answer["rejected"]) == (3, 1, 2)
    assert [(e["line"], e["field"]) for e in answer["errors"]] == [(2, ""), (3, "value")]
    assert [row[2] for row in telemetry.samples([device.pk])] == ["latency_ms"]


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", ["Device itxmd_unknown", "Bearer nope", "", "revoked"])
def test_telemetry_with_an_unknown_or_revoked_token_is_401_json(enrolled, now, authorization):
    device, token = enrolled
    if authorization == "revoked":
        services.revoke_device_token(EVERYTHING, DeviceToken.objects.get(device=device).pk)
        authorization = f"Device {token}"
    headers = {"Authorization": authorization} if authorization else {}
    response = post_json(Client(), "/api/v1/devices/telemetry", [], **headers)
    assert response.status_code == 401 and "message" in response.json()


@pytest.mark.django_db
def test_a_user_api_token_is_not_a_device_token(users):
    from itxm.org.models import ApiToken

    _, secret = ApiToken.issue(users["admin"], "bi")
    response = post_json(Client(), "/api/v1/devices/telemetry", [], Authorization=f"Bearer {secret}")
    assert response.status_code == 401


@pytest.mark.django_db
def test_suppliers_and_service_owners_see_no_devices_while_analysts_do(users, client_for, laptop, org):
    Device.objects.filter(pk=laptop.pk).update(primary_user=org["caller"])
    for role in ("alpha", "owner"):
        client = client_for(users[role])
        assert client.get("/api/v1/devices").json()["items"] == []
        assert client.get(f"/api/v1/devices/{laptop.pk}").status_code == 404
    analyst = client_for(users["analyst"]).get("/api/v1/devices").json()["items"]
    viewer = client_for(users["viewer"]).get(f"/api/v1/devices/{laptop.pk}").json()
    assert [d["hostname"] for d in analyst] == ["PC042"] and analyst[0]["primary_user"]["name"] == "Ayşe Yılmaz"
    assert viewer["hostname"] == "PC042" and viewer["primary_user"] is None  # people are not a viewer's to see
