"""Proactive campaigns: audience, sampling, fatigue, e-mails through the outbox, the shared link, the API."""

from datetime import UTC, datetime, timedelta

import pytest

from itxm.org.models import Department, Employee, Location
from itxm.org.scopes import EVERYTHING
from itxm.surveys import campaigns
from itxm.surveys.campaigns import CampaignSpec, InvalidCampaign, create_campaign, launch_due, launch_run
from itxm.surveys.models import Campaign, Invitation, OutboxMessage, Response

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def people(org):
    it = Department.objects.create(name="IT")
    ankara = Location.objects.create(name="Ankara", country="TR")
    berlin = Location.objects.create(name="Berlin", country="DE")
    made = []
    for n in range(40):
        made.append(
            Employee.objects.create(
                external_id=f"P{n}",
                name=f"Person {n}",
                email=f"p{n}@example.com" if n != 3 else "",
                department=it if n < 20 else org["caller"].department,
                location=ankara if n % 2 == 0 else berlin,
                country="TR" if n % 2 == 0 else "DE",
                opted_out=n == 5,
            )
        )
    return {"it": it, "ankara": ankara, "employees": made}


def spec(**fields) -> CampaignSpec:
    return CampaignSpec(**({"name": "Devices", "kind": "devices", "starts_at": NOW, "everyone": True} | fields))


@pytest.mark.django_db
def test_audience_filters_combine(people):
    campaign = create_campaign(EVERYTHING, spec(everyone=False, department_ids=(people["it"].pk,), countries=("tr",)))
    assert list(campaigns.audience(campaign).values_list("external_id", flat=True)) == [
        f"P{n}" for n in range(0, 20, 2)
    ]


@pytest.mark.django_db
def test_a_run_samples_holds_back_and_queues_emails(people, settings):
    settings.BASE_URL = "http://survey.test"
    campaign = create_campaign(EVERYTHING, spec(sampling_rate=0.5))
    run = launch_run(campaign.pk, NOW, NOW)
    assert run.audience == 41  # the org fixture's caller too
    assert run.not_sampled == 21  # half of 41, rounded to even
    asked = run.invited + sum(run.held_back.values())
    assert asked == 20
    assert OutboxMessage.objects.filter(invitation__run=run).count() == run.invited
    again = launch_run(campaign.pk, NOW, NOW)
    assert again.pk == run.pk and Invitation.objects.filter(run=run).count() == 20
    # The same seed samples the same people.
    chosen = sorted(Invitation.objects.filter(run=run).values_list("employee_id", flat=True))
    ids = list(campaigns.audience(campaign).values_list("pk", flat=True))
    assert campaigns.sample(ids, 0.5, run.seed) == chosen


@pytest.mark.django_db
def test_fatigue_holds_back_people_asked_recently(people, settings):
    settings.BASE_URL = "http://survey.test"
    first = launch_run(create_campaign(EVERYTHING, spec()).pk, NOW, NOW)
    assert first.held_back == {"opted_out": 1, "no_email": 1}
    second = launch_run(
        create_campaign(EVERYTHING, spec(name="Apps", kind="applications")).pk, NOW, NOW + timedelta(days=1)
    )
    assert second.held_back["fatigue"] == first.invited and second.invited == 0


@pytest.mark.django_db
def test_due_campaigns_launch_once_per_slot_and_recurring_ones_move_on(people, settings):
    settings.BASE_URL = "http://survey.test"
    once = create_campaign(EVERYTHING, spec(by_email=False, by_link=True))
    weekly = create_campaign(EVERYTHING, spec(name="Weekly", by_email=False, by_link=True, repeat_days=7))
    assert len(launch_due(NOW + timedelta(minutes=1))) == 2
    assert launch_due(NOW + timedelta(minutes=2)) == []
    once.refresh_from_db(), weekly.refresh_from_db()
    assert once.status == "finished" and weekly.next_run_at == NOW + timedelta(days=7)
    assert len(launch_due(NOW + timedelta(days=30))) == 1
    weekly.refresh_from_db()
    assert weekly.next_run_at == NOW + timedelta(days=35)  # missed slots are skipped, not piled up


def test_a_campaign_needs_an_audience_and_a_channel():
    with pytest.raises(InvalidCampaign):
        create_campaign(EVERYTHING, spec(everyone=False))
    with pytest.raises(InvalidCampaign):
        create_campaign(EVERYTHING, spec(by_email=False))


@pytest.mark.django_db
def test_shared_link_gives_one_answer_per_browser(people, client):
    campaign = create_campaign(EVERYTHING, spec(by_email=False, by_link=True))
    run = launch_run(campaign.pk, NOW)
    path = f"/c/{campaigns.link_token(run)}"
    assert client.get(path).status_code == 200
    first = client.post(path, {"score": 8})
    assert first.status_code == 302 and "/s/" in first["Location"]
    again = client.post(path, {"score": 3})  # the cookie names this browser's answer: changed, not added
    assert again["Location"].split("?")[0] == first["Location"].split("?")[0]
    assert list(Response.objects.filter(invitation__run=run).values_list("score", flat=True)) == [3]
    assert client.get(path).status_code == 302  # back to their own answer
    client.cookies.clear()
    client.post(path, {"score": 9})
    assert Response.objects.filter(invitation__run=run).count() == 2
    assert client.get("/c/not-a-token").status_code == 400


@pytest.mark.django_db
def test_shared_link_limits_answers_per_address(people, client, settings):
    settings.ITXM_SURVEY_LINK_MAX_PER_IP = 2
    run = launch_run(create_campaign(EVERYTHING, spec(by_email=False, by_link=True)).pk, NOW)
    path = f"/c/{campaigns.link_token(run)}"
    statuses = []
    for _ in range(3):
        client.cookies.clear()
        statuses.append(client.post(path, {"score": 10}).status_code)
    assert statuses == [302, 302, 429]


@pytest.mark.django_db
def test_campaign_api_for_admins_and_nothing_for_suppliers(people, users, client_for, settings):
    settings.BASE_URL = "http://survey.test"
    admin = client_for(users["admin"])
    body = {
        "name": "Remote",
        "kind": "remote_work",
        "starts_at": NOW.isoformat(),
        "everyone": True,
        "sampling_rate": 0.5,
    }
    created = admin.post("/api/v1/surveys/campaigns", body, content_type="application/json")
    assert created.status_code == 201, created.content
    campaign_id = created.json()["id"]
    launch_run(campaign_id, NOW, NOW)
    rates = admin.get(f"/api/v1/surveys/campaigns/{campaign_id}/rates").json()["items"]
    assert rates[0]["not_sampled"] == 21 and rates[0]["answered"] == 0
    analyst = client_for(users["analyst"])
    assert analyst.post("/api/v1/surveys/campaigns", body, content_type="application/json").status_code == 403
    supplier = client_for(users["alpha"])
    assert supplier.get("/api/v1/surveys/campaigns").json()["items"] == []
    assert supplier.get(f"/api/v1/surveys/campaigns/{campaign_id}").status_code == 404
    assert Campaign.objects.count() == 1
