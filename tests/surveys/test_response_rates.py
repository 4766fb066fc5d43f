"""Response rates per service, group and agent, inside the caller's scope; the survey API."""

import pytest

from itxm.org.scopes import EVERYTHING, scope_for
from itxm.surveys import outbox, queries, services
from itxm.surveys.models import FatigueRule
from itxm.surveys.tokens import answer_token
from tests.surveys.conftest import resolve_and_invite


@pytest.fixture
def surveyed(org, inbox):
    """Alpha's ticket answered, Zeta's ticket delivered but not answered."""
    FatigueRule.objects.update(enabled=False)
    alpha = resolve_and_invite(org, "INC-ALPHA-1")
    zeta = resolve_and_invite(org, "INC-ZETA-1", group="GRP-ZETA", assignee="AG-ZETA")
    assert alpha.created + zeta.created == 2
    outbox.send_due()
    alpha = org["alpha_ticket"].invitations.get()
    services.record_score(answer_token(alpha.pk, alpha.nonce), 9)
    return alpha, zeta


@pytest.mark.django_db
def test_response_rates_per_group_agent_and_service(surveyed, org):
    by_group = {r.name: (r.delivered, r.answered, r.rate) for r in queries.response_rates(EVERYTHING, "group")}
    assert by_group == {"Alpha Desk": (1, 1, 100.0), "Zeta Desk": (1, 0, 0.0)}
    by_agent = {r.name: r.rate for r in queries.response_rates(EVERYTHING, "agent")}
    assert by_agent == {"Alan Alpha": 100.0, "Zed Zeta": 0.0}
    assert [(r.name, r.rate) for r in queries.response_rates(EVERYTHING, "service")] == [("E-mail", 50.0)]


@pytest.mark.django_db
def test_a_supplier_sees_response_rates_invitations_and_responses_of_its_own_groups_only(surveyed, users, org):
    scope = scope_for(users["zeta"])
    assert [r.name for r in queries.response_rates(scope, "group")] == ["Zeta Desk"]
    assert [i.ticket_id for i in queries.invitations(scope)] == [org["zeta_ticket"].pk]
    assert list(queries.responses(scope)) == []
    assert list(queries.responses(scope_for(users["alpha"])))[0].score == 9
    assert queries.invitation_summary(scope)["by_status"] == {"sent": 1}


@pytest.mark.django_db
def test_the_api_lists_rates_and_invitations_in_scope_and_takes_bounces_from_importers_only(
    surveyed, users, client_for, org
):
    alpha = client_for(users["alpha"])
    rates = alpha.get("/api/v1/surveys/response-rates?by=group").json()["items"]
    assert rates == [{"id": org["alpha_group"].pk, "name": "Alpha Desk", "delivered": 1, "answered": 1, "rate": 100.0}]
    assert [i["ticket_id"] for i in alpha.get("/api/v1/surveys/invitations").json()["items"]] == [
        org["alpha_ticket"].pk
    ]
    assert alpha.get("/api/v1/surveys/responses").json()["items"][0]["score"] == 9
    bounce = {"message_id": "<x@y>", "reason": "550"}
    assert alpha.post("/api/v1/surveys/bounces", bounce, content_type="application/json").status_code == 403
    admin = client_for(users["admin"])
    assert admin.post("/api/v1/surveys/bounces", bounce, content_type="application/json").status_code == 404
