"""The worker computes the usual costly results after the facts change; pages then read them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from itxm.analytics import drivers, facts, journeys, overview, services, tasks, warming
from itxm.analytics.models import StoredResult
from itxm.analytics.remembered import forget
from itxm.org.scopes import EVERYTHING, scope_for
from itxm.web.filters import DEFAULT_PRESET, preset_period
from tests.analytics.conftest import answer
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db
NAMES = {"overview", "overview_xlas", "variants", "channels", "drivers"}
DEVICE_NAMES = {"devices_experience"}  # versioned by the devices' health, not by the facts


def test_the_default_period_is_the_pages_default():
    today = timezone.localdate()
    assert warming.default_period(today) == preset_period(DEFAULT_PRESET, today)


def test_the_worker_stores_the_usual_results_after_catching_up(answered):  # noqa: F811
    tasks.catch_up_facts.call()
    version = facts.version()
    assert set(StoredResult.objects.values_list("name", flat=True)) == NAMES | DEVICE_NAMES
    assert set(StoredResult.objects.filter(name__in=NAMES).values_list("version", flat=True)) == {version}
    assert StoredResult.objects.filter(name="drivers").count() == len(drivers.OUTCOMES)


def test_a_page_process_reads_what_the_worker_stored(answered, monkeypatch):  # noqa: F811
    warming.warm()
    forget()  # a web process: nothing in its memory

    def not_again(*args, **kwargs):
        pytest.fail("computed again although the worker stored it")

    monkeypatch.setattr(services, "metrics", not_again)
    monkeypatch.setattr(journeys, "_variants", not_again)
    monkeypatch.setattr(journeys, "_channels", not_again)
    monkeypatch.setattr(drivers, "_drivers", not_again)
    period = warming.default_period(timezone.localdate())
    assert overview.figures(EVERYTHING, period).summary.metrics["responses"] == 6
    assert journeys.variants(EVERYTHING, period, "group", limit=30)[0].tickets == 4
    assert journeys.channels(EVERYTHING, period).tickets == 6
    assert drivers.drivers(EVERYTHING, period, "score").rows_total == 6


def test_after_a_change_the_worker_computes_them_again(answered):  # noqa: F811
    warming.warm()
    before = facts.version()
    answer("M4", 10)  # a changed answer: the facts move
    tasks.catch_up_facts.call()
    assert facts.version() > before
    stored = StoredResult.objects.filter(name__in=NAMES)
    assert set(stored.values_list("version", flat=True)) == {facts.version()}, "older ones pruned"
    assert set(StoredResult.objects.values_list("name", flat=True)) == NAMES | DEVICE_NAMES


def test_recent_restricted_readers_get_their_scopes_computed_too(answered, users):  # noqa: F811
    now = timezone.now()
    for name in ("admin", "alpha", "owner"):
        users[name].last_login = now
        users[name].save()
    users["zeta"].last_login = now - timedelta(days=warming.RECENT_DAYS + 1)  # not lately
    users["zeta"].save()
    found = warming.reader_scopes(now)
    assert found[0] == EVERYTHING
    wanted = {scope_for(users["alpha"]).group_ids, None}
    assert {scope.group_ids for scope in found} == wanted
    assert scope_for(users["owner"]).service_ids in {scope.service_ids for scope in found}
    assert len(found) == 3


def test_a_failing_computation_does_not_stop_the_others(answered, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(journeys, "_channels", broken)
    assert warming.warm() == len(warming.computations(EVERYTHING, warming.default_period(timezone.localdate()))) - 1
    assert "channels" not in set(StoredResult.objects.values_list("name", flat=True))
