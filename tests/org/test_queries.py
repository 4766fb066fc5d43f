"""Reference data read inside the reader's scope (itxm/org/queries.py), through the API."""

import pytest


@pytest.fixture
def agent(org):
    alpha = org["alpha_agent"]
    alpha.email = "alan.alpha@anka.example"
    alpha.save()
    return alpha


def agents_seen(client) -> list[tuple[str, str, str]]:
    response = client.get("/api/v1/agents")
    assert response.status_code == 200
    return [(item["external_id"], item["name"], item["email"]) for item in response.json()["items"]]


@pytest.mark.django_db
def test_readers_who_may_not_see_people_read_agents_codes_not_their_names_or_addresses(agent, users, client_for):
    assert agents_seen(client_for(users["alpha"])) == [("AG-ALPHA", "AG-ALPHA", "")]
    assert ("AG-ALPHA", "AG-ALPHA", "") in agents_seen(client_for(users["viewer"]))
    one = client_for(users["viewer"]).get(f"/api/v1/agents/{agent.pk}").json()
    assert (one["name"], one["email"]) == ("AG-ALPHA", "")


@pytest.mark.django_db
def test_readers_who_may_see_people_read_agents_names_and_addresses(agent, users, client_for):
    for reader in ("admin", "analyst"):
        assert ("AG-ALPHA", "Alan Alpha", "alan.alpha@anka.example") in agents_seen(client_for(users[reader]))
