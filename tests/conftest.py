"""Shared fixtures: a small organisation with two suppliers, and a user of every role."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from itxm.org.models import Agent, Department, Employee, Group, Location, Role, Service, Supplier
from itxm.org.services import create_user
from itxm.tickets.models import EventKind, Ticket, TicketEvent

PASSWORD = "correct-horse-battery-staple"
pytest.register_assert_rewrite("tests.analytics.uci_figures")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]


@pytest.fixture(autouse=True)
def forget_remembered_results():
    # Each test's transaction is rolled back, the facts' version with it: results kept by one test must
    # not answer the next.
    from itxm.analytics.remembered import forget

    forget()


@pytest.fixture
def org(db):
    """Two suppliers, each running a group; one in-house group; two services.

    Everything of supplier Zeta carries the word "zeta", so a test can look for it in any response.
    """
    alpha = Supplier.objects.create(external_id="SUP-ALPHA", name="Alpha Outsourcing")
    zeta = Supplier.objects.create(external_id="SUP-ZETA", name="Zeta Outsourcing")
    alpha_group = Group.objects.create(external_id="GRP-ALPHA", name="Alpha Desk", supplier=alpha)
    zeta_group = Group.objects.create(
        external_id="GRP-ZETA", name="Zeta Desk", supplier=zeta, email="zeta-desk@zeta.example"
    )
    inhouse = Group.objects.create(external_id="GRP-NET", name="Network Team")
    email = Service.objects.create(external_id="SVC-MAIL", name="E-mail")
    erp = Service.objects.create(external_id="SVC-ERP", name="ERP")
    istanbul = Location.objects.create(name="Istanbul", country="TR", time_zone="Europe/Istanbul")
    finance = Department.objects.create(name="Finance")
    caller = Employee.objects.create(
        external_id="E1", name="Ayşe Yılmaz", email="ayse@example.com", department=finance, location=istanbul
    )
    alpha_agent = Agent.objects.create(external_id="AG-ALPHA", name="Alan Alpha", group=alpha_group)
    zeta_agent = Agent.objects.create(external_id="AG-ZETA", name="Zed Zeta", group=zeta_group)
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def ticket(number, group, agent, service, description):
        t = Ticket.objects.create(
            source="test",
            source_id=number,
            number=number,
            opened_at=opened,
            group=group,
            assignee=agent,
            service=service,
            caller=caller,
            short_description=description,
        )
        TicketEvent.objects.create(
            ticket=t, seq=1, at=opened, kind=EventKind.ASSIGNMENT, to_value=group.name, group=group
        )
        return t

    return {
        "alpha": alpha,
        "zeta": zeta,
        "alpha_group": alpha_group,
        "zeta_group": zeta_group,
        "inhouse": inhouse,
        "email": email,
        "erp": erp,
        "caller": caller,
        "alpha_agent": alpha_agent,
        "zeta_agent": zeta_agent,
        "alpha_ticket": ticket("INC-ALPHA-1", alpha_group, alpha_agent, email, "Alpha printer jam"),
        "zeta_ticket": ticket("INC-ZETA-1", zeta_group, zeta_agent, erp, "Zeta ledger broken"),
        "inhouse_ticket": ticket("INC-NET-1", inhouse, None, erp, "Network slow"),
    }


@pytest.fixture
def users(org):
    return {
        "admin": create_user("admin", PASSWORD, Role.ADMIN),
        "analyst": create_user("analyst", PASSWORD, Role.ANALYST),
        "viewer": create_user("viewer", PASSWORD, Role.VIEWER),
        "alpha": create_user("alpha-user", PASSWORD, Role.SUPPLIER, supplier_external_id="SUP-ALPHA"),
        "zeta": create_user("zeta-user", PASSWORD, Role.SUPPLIER, supplier_external_id="SUP-ZETA"),
        "owner": create_user("owner", PASSWORD, Role.SERVICE_OWNER, service_external_ids=["SVC-MAIL"]),
    }


@pytest.fixture
def client_for(db):
    def make(user, enforce_csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf)
        client.force_login(user)
        return client

    return make


def pytest_collection_finish(session):
    """Start building the browser tests' demo company at once, on the other core, if they will run."""
    if any("tests/browser/" in item.nodeid for item in session.items):
        from tests.browser import demo_server

        demo_server.start_building()
