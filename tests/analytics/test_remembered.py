"""Costly results are kept until the facts change, and never after."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone, translation

from itxm.analytics import facts, journeys
from itxm.analytics.models import StoredResult
from itxm.analytics.remembered import KEYED_FOR, forget, forget_stored, is_stored, prune, remembered, scope_key
from itxm.org.scopes import EVERYTHING, Scope
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


# --- stored for every process ---------------------------------------------------------------------


def test_a_result_is_stored_and_read_by_another_process(answered):  # noqa: F811
    facts.catch_up()
    assert remembered("test", 1, lambda: {"tickets": 6}) == {"tickets": 6}
    stored = StoredResult.objects.get(name="test")
    assert stored.version == facts.version()
    forget()  # another process: nothing in its memory
    assert remembered("test", 1, lambda: pytest.fail("computed again although stored")) == {"tickets": 6}


def test_a_stored_result_is_not_read_once_the_facts_change(answered):  # noqa: F811
    facts.catch_up()
    remembered("test", 1, lambda: "before")
    answer("M4", 10)
    facts.catch_up()
    forget()
    assert remembered("test", 1, lambda: "after") == "after"
    assert list(StoredResult.objects.values_list("name", "version")) == [("test", facts.version())]


def test_results_of_older_facts_are_pruned(answered):  # noqa: F811
    facts.catch_up()
    remembered("old", 1, lambda: "old")
    answer("M4", 10)
    facts.catch_up()
    remembered("new", 1, lambda: "new")
    assert prune() == 1
    assert list(StoredResult.objects.values_list("name", flat=True)) == ["new"]


def test_without_a_stored_result_it_is_computed_on_demand(answered):  # noqa: F811
    forget_stored()
    found = journeys.variants(EVERYTHING, PERIOD)
    assert found[0].tickets == 4
    assert is_stored("variants", _variants_key()), "the computed result is stored for the others"


def test_an_unreadable_stored_result_is_computed_again(answered):  # noqa: F811
    facts.catch_up()
    remembered("test", 1, lambda: "first")
    StoredResult.objects.update(value=b"not a pickle")
    forget()
    assert remembered("test", 1, lambda: "again") == "again"


def test_equal_scopes_share_one_stored_result(answered):  # noqa: F811
    # Sets of the same ids built in another order give the same key (another process, another order).
    facts.catch_up()
    one, other = Scope(group_ids=frozenset([3, 1, 2])), Scope(group_ids=frozenset([2, 3, 1]))
    remembered("test", scope_key(one), lambda: "kept")
    forget()
    assert remembered("test", scope_key(other), lambda: "computed") == "kept"


def test_journeys_are_stored_once_for_every_language_and_limit(answered):  # noqa: F811
    with translation.override("tr"):
        turkish = journeys.variants(EVERYTHING, PERIOD, "state", limit=1)
    forget()
    with translation.override("en"):
        english = journeys.variants(EVERYTHING, PERIOD, "state", limit=20)
    assert StoredResult.objects.filter(name="variants").count() == 1
    assert len(turkish) == 1 and english[0].codes == turkish[0].codes
    assert english[0].path == ("Resolved",) and turkish[0].path != english[0].path


def _variants_key():
    from itxm.analytics import services

    return (scope_key(EVERYTHING), PERIOD, "group", "all", None, (), journeys.KEPT_VARIANTS, services.min_answers())


def test_results_of_other_data_are_kept_by_their_own_version(answered):  # noqa: F811
    # Device results move with the devices' health, not with the facts.
    facts.catch_up()
    assert remembered("devices_test", 1, lambda: "health 1", version=("health", 1)) == "health 1"
    forget()
    assert remembered("devices_test", 1, lambda: "again", version=("health", 1)) == "health 1"
    assert remembered("devices_test", 1, lambda: "health 2", version=("health", 2)) == "health 2"
    answer("M4", 10)
    facts.catch_up()  # the facts moved: results keyed by their own version stay
    assert prune() == 0
    forget()
    assert remembered("devices_test", 1, lambda: "again", version=("health", 2)) == "health 2"
    StoredResult.objects.update(computed_at=timezone.now() - KEYED_FOR - timedelta(minutes=1))
    assert prune() == 2, "a day later they go"


def test_a_result_that_cannot_be_stored_is_still_given(answered, monkeypatch):  # noqa: F811
    # E.g. SQLite busy with a long catch-up in another process: the page has its result all the same.
    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    facts.catch_up()
    monkeypatch.setattr(StoredResult.objects, "bulk_create", locked)
    assert remembered("test", 1, lambda: "computed") == "computed"
    assert not StoredResult.objects.exists()
