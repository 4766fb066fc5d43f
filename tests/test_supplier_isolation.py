"""A supplier user walks every page and API route there is, and sees nothing of another supplier.

Routes are discovered, not listed: the Django URL tree for pages and the OpenAPI schema for the API,
so a route added later is walked too. Every id of the other supplier's objects is tried in every path
parameter.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from itxm.api.api import api

FOREIGN_MARKER = re.compile(r"zeta", re.IGNORECASE)


def page_routes() -> list[str]:
    """Every Django route as a template such as ``admin/org/group/<path:object_id>/change/``."""

    def walk(patterns, prefix: str):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    return sorted(set(walk(get_resolver().url_patterns, "")))


def concrete_paths(template: str, ids: list[int], app_labels: list[str]) -> list[str]:
    """Fill a route's parameters with each candidate value; regex routes become plain paths."""
    path = template.replace("^", "").replace("$", "").replace("\\Z", "")
    path = re.sub(r"\(\?P<app_label>[^)]*\)", "{app_label}", path)
    path = re.sub(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)|\{(\w+)\}", lambda m: "{" + (m[1] or m[2] or m[3]) + "}", path)
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        return [path]
    results = []
    for value in ids:
        filled = path
        for name in names:
            filled = filled.replace(
                "{" + name + "}", app_labels[value % len(app_labels)] if name == "app_label" else str(value)
            )
        results.append(filled)
    return results


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [(method.upper(), path) for path, operations in schema["paths"].items() for method in operations]


def foreign_ids(org) -> list[int]:
    keys = ("zeta", "zeta_group", "zeta_agent", "zeta_ticket")
    ids = {org[key].pk for key in keys}
    ids |= set(org["zeta_ticket"].events.values_list("pk", flat=True))
    return sorted(ids)


def test_route_discovery_finds_pages_and_api():
    pages = page_routes()
    operations = api_operations()
    assert "" in pages and "login/" in pages and any(p.startswith("admin/") for p in pages)
    assert ("GET", "/api/v1/groups") in operations
    assert ("GET", "/api/v1/tickets/{ticket_id}") in operations


@pytest.mark.django_db
def test_supplier_sees_nothing_of_another_supplier_anywhere(org, users, client_for):
    client = client_for(users["alpha"])
    ids = foreign_ids(org)
    app_labels = ["org", "tickets", "auth"]
    walked, leaks, errors = 0, [], []

    for template in page_routes():
        for path in concrete_paths(template, ids, app_labels):
            response = client.get("/" + path)
            walked += 1
            body = response.content.decode(errors="replace")
            if response.status_code >= 500:
                errors.append((path, response.status_code))
            if FOREIGN_MARKER.search(body):
                leaks.append(("GET", path))

    for method, template in api_operations():
        for path in concrete_paths(template, ids, app_labels):
            response = client.generic(method, path, data="{}", content_type="application/json")
            walked += 1
            if response.status_code >= 500:
                errors.append((method, path, response.status_code))
            if FOREIGN_MARKER.search(response.content.decode(errors="replace")):
                leaks.append((method, path))

    assert walked > 30
    assert not errors, errors
    assert not leaks, leaks


@pytest.mark.django_db
def test_supplier_does_see_its_own_groups_data(org, users, client_for):
    """The positive control of the walk above: the same client reaches its own data."""
    client = client_for(users["alpha"])
    groups = client.get("/api/v1/groups").json()["items"]
    tickets = client.get("/api/v1/tickets").json()["items"]
    assert [g["name"] for g in groups] == ["Alpha Desk"]
    assert [t["number"] for t in tickets] == ["INC-ALPHA-1"]
    assert client.get(f"/api/v1/tickets/{org['alpha_ticket'].pk}").status_code == 200
    assert client.get(f"/api/v1/tickets/{org['zeta_ticket'].pk}").status_code == 404


@pytest.mark.django_db
def test_service_owner_sees_only_its_services_tickets(org, users, client_for):
    client = client_for(users["owner"])
    numbers = [t["number"] for t in client.get("/api/v1/tickets").json()["items"]]
    assert numbers == ["INC-ALPHA-1"]
    assert [s["name"] for s in client.get("/api/v1/services").json()["items"]] == ["E-mail"]
    assert client.get("/api/v1/employees").status_code == 403
