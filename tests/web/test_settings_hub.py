"""The settings hub: administrators see what is configured and what needs acting on; nobody else gets in."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from itxm.org.models import ApiToken, Role, User
from itxm.surveys.models import FatigueRule
from itxm.tickets.models import Connector, SyncRun, SyncStatus
from itxm.web import sharing
from itxm.web.models import ReportSubscription


def hub(client) -> str:
    response = client.get("/settings/")
    assert response.status_code == 200
    return response.content.decode()


def count_of(page: str, label: str, section: str) -> int:
    block = re.search(rf'<section class="card" id="hub-{section}".*?</section>', page, re.S)[0]
    return int(re.search(rf"<dt>{re.escape(label)}</dt><dd>([\d,]+)</dd>", block)[1].replace(",", ""))


@pytest.mark.django_db
def test_the_hub_counts_each_setting_and_links_into_the_admin(users, client_for):
    ApiToken.issue(users["analyst"], "reporting script")
    sharing.create_link(users["alpha"], "/")
    ReportSubscription.objects.create(user=users["viewer"])
    page = hub(client_for(users["admin"]))

    assert count_of(page, "Users", "users") == 6 and count_of(page, "Supplier", "users") == 2
    assert count_of(page, "Suppliers", "organisation") == 2 and count_of(page, "Groups", "organisation") == 3
    assert count_of(page, "Active", "tokens") == 1
    assert (
        count_of(page, "Share links that work", "sharing") == 1 and count_of(page, "Report subscribers", "sharing") == 1
    )
    for name in ("admin:org_user_changelist", "admin:org_apitoken_changelist", "admin:surveys_fatiguerule_changelist",
                 "admin:surveys_surveytemplate_changelist", "admin:surveys_factor_changelist",
                 "admin:tickets_sladefinition_changelist", "admin:tickets_businesscalendar_changelist",
                 "admin:tickets_connector_changelist", "admin:devices_enrolmentcode_changelist",
                 "admin:web_sharelink_changelist", "admin:web_reportsubscription_changelist"):  # fmt: skip
        assert f'href="{reverse(name)}"' in page, name


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["analyst", "viewer", "alpha", "owner"])
def test_only_administrators_open_the_hub(users, client_for, role):
    response = client_for(users[role]).get("/settings/")
    assert response.status_code == 403
    assert "Settings are for administrators" in response.content.decode()
    assert "admin:org_user_changelist" not in response.content.decode()


@pytest.mark.django_db
def test_the_hub_needs_a_signed_in_user(db):
    response = Client().get("/settings/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_connectors_show_their_last_sync_and_a_failure_is_a_warning(users, client_for):
    now = timezone.now()
    good = Connector.objects.create(name="servicenow", kind="servicenow", base_url="https://acme.example",
                                    last_synced_at=now)  # fmt: skip
    bad = Connector.objects.create(name="jira", kind="jira", base_url="https://jira.example")
    SyncRun.objects.create(connector=good, status=SyncStatus.SUCCEEDED, started_at=now - timedelta(minutes=1))
    SyncRun.objects.create(connector=bad, status=SyncStatus.SUCCEEDED, started_at=now - timedelta(hours=2))
    SyncRun.objects.create(connector=bad, status=SyncStatus.FAILED, started_at=now - timedelta(hours=1),
                           error="401 Unauthorized: check the token\nTraceback ...")  # fmt: skip
    page = hub(client_for(users["admin"]))

    warnings = re.search(r'<section class="card hub-warnings".*?</section>', page, re.S)[0]
    assert "Connector jira: its last sync failed (401 Unauthorized: check the token)." in warnings
    assert "servicenow" not in warnings and "Traceback" not in page
    connectors = re.search(r'<ul class="hub-connectors">.*?</ul>', page, re.S)[0]
    assert "Succeeded" in connectors and "Failed" in connectors
    assert f'href="{reverse("admin:tickets_connector_change", args=[bad.pk])}"' in warnings


@pytest.mark.django_db
def test_a_connector_that_stopped_syncing_is_a_warning(users, client_for):
    Connector.objects.create(name="glpi", kind="glpi", base_url="https://glpi.example", sync_interval_minutes=15,
                             last_synced_at=timezone.now() - timedelta(hours=5))  # fmt: skip
    assert "Connector glpi has not synced since" in hub(client_for(users["admin"]))


@pytest.mark.django_db
def test_users_who_would_see_nothing_are_warnings(users, client_for):
    User.objects.create(username="lost-supplier", role=Role.SUPPLIER)
    User.objects.create(username="lost-owner", role=Role.SERVICE_OWNER)
    page = hub(client_for(users["admin"]))
    assert "Supplier users without a supplier see no data at all: lost-supplier." in page
    assert "Service owners without services see no data at all: lost-owner." in page
    assert "alpha-user" not in page and ": owner." not in page  # those have their supplier and services


@pytest.mark.django_db
def test_settings_that_quietly_go_wrong_are_warnings(users, client_for):
    FatigueRule.objects.update(enabled=False)
    ReportSubscription.objects.create(user=users["viewer"], last_error="SMTP refused")
    page = hub(client_for(users["admin"]))
    assert "No fatigue rule is on" in page
    assert "The last monthly report could not be sent to: viewer." in page
    assert "Only one administrator can sign in" in page


@pytest.mark.django_db
def test_a_fresh_installation_shows_empty_states(db, client_for):
    from itxm.org.services import create_user

    page = hub(client_for(create_user("first", "a-long-password-1", Role.ADMIN)))
    assert "No connector yet" in page and count_of(page, "Users", "users") == 1
    assert count_of(page, "Share links that work", "sharing") == 0


@pytest.mark.django_db
def test_the_menu_offers_settings_to_administrators_only(users, client_for):
    assert 'href="/settings/"' in client_for(users["admin"]).get("/").content.decode()
    assert 'href="/settings/"' not in client_for(users["analyst"]).get("/").content.decode()
