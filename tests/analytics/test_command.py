import io

import pytest
from django.core.management import call_command

from itxm.analytics.models import PendingFact, Rollup, TicketFact
from tests.analytics.conftest import ingest, ticket_row

pytestmark = pytest.mark.django_db


def test_rebuild_and_catch_up_from_the_command_line(org, people):
    ingest([ticket_row("C1", "E1"), ticket_row("C2", "E2")])
    assert PendingFact.objects.count() == 2
    out = io.StringIO()
    call_command("analytics", "catch-up", stdout=out)
    assert out.getvalue().startswith("2 tickets and invitations recomputed")
    assert not PendingFact.objects.exists() and TicketFact.objects.count() == 2
    call_command("analytics", "rebuild", stdout=out)
    assert "5 ticket facts" in out.getvalue()  # with the three the fixture wrote without ingestion
    assert Rollup.objects.filter(dimension="all").exists()
