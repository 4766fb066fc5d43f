"""Costly results are kept until the facts change, and never after."""

import pytest

from itxm.analytics import facts, journeys
from itxm.analytics.remembered import forget, remembered
from itxm.org.scopes import EVERYTHING
from tests.analytics.conftest import PERIOD, answer, ingest, ticket_row
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_a_result_is_kept_until_the_facts_move(answered):  # noqa: F811
    forget()
    calls = []
    facts.catch_up()
    assert remembered("test", 1, lambda: calls.append(1) or len(calls)) == 1
    assert remembered("test", 1, lambda: calls.append(1) or len(calls)) == 1  # kept
    assert remembered("test", 2, lambda: calls.append(1) or len(calls)) == 2  # another key
    answer("M4", 10)
    facts.catch_up()
    assert remembered("test", 1, lambda: calls.append(1) or len(calls)) == 3  # the facts moved


def test_journeys_follow_new_tickets_at_once(answered):  # noqa: F811
    forget()
    before = journeys.variants(EVERYTHING, PERIOD)
    assert before[0].tickets == 4
    ingest([ticket_row("M9", "E9")])
    after = journeys.variants(EVERYTHING, PERIOD)
    assert after[0].tickets == 5
