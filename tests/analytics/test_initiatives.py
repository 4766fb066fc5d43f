"""Improvement initiatives: definitions inside a scope, the measured effect on facts with a known change,
the overlap note and the public "you said, we did" list."""

import json
from datetime import date, timedelta
from itertools import count

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import translation
from scipy import stats

from itxm.analytics import facts, initiatives
from itxm.analytics.initiatives import IMPROVED, NO_CLEAR_CHANGE, WORSENED, InitiativeSpec, InvalidInitiative
from itxm.analytics.models import Initiative, InitiativeStatus, SurveyFact, TicketFact
from itxm.org.models import Category, Service
from itxm.org.scopes import EVERYTHING, scope_for
from tests.analytics.conftest import PERIOD
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

STARTS = date(2025, 3, 3)
WINDOW = 60
AFTER_END = STARTS + timedelta(days=WINDOW)
BEFORE_DAY, AFTER_DAY = STARTS - timedelta(days=10), STARTS + timedelta(days=10)
HOUR = 3600
fact_ids = count(1)


@pytest.fixture(autouse=True)
def only_made_up_facts(org):
    """The facts of the fixture's own tickets (opened in 2026) would move the default windows."""
    facts.catch_up()
    TicketFact.objects.all().delete()
    SurveyFact.objects.all().delete()


def tickets(service, number, day=BEFORE_DAY, **values):
    values.setdefault("resolved_day", day)
    TicketFact.objects.bulk_create(
        TicketFact(ticket_id=next(fact_ids), opened_day=day, kind="incident", channel="portal",
                   service_id=service.id, **values)
        for _ in range(number)
    )  # fmt: skip


def reopen_rates(service, before: tuple[int, int], after: tuple[int, int]):
    """(reopened, resolved) tickets opened before and after the start."""
    for day, (reopened, resolved) in ((BEFORE_DAY, before), (AFTER_DAY, after)):
        tickets(service, reopened, day, reopens=1)
        tickets(service, resolved - reopened, day)


def answers(service, scores, day, lost_minutes=()):
    """Answers with these scores and, where given, these lost minutes."""
    lost_minutes = list(lost_minutes) + [None] * (len(scores) - len(lost_minutes))
    SurveyFact.objects.bulk_create(
        SurveyFact(invitation_id=next(fact_ids), kind="incident", sent_day=day, answered_day=day, score=score,
                   lost_minutes=lost, service_id=service.id)
        for score, lost in zip(scores, lost_minutes, strict=True)
    )  # fmt: skip


def spec(metric="reopen_rate", dimension="service", member="", **values):
    return InitiativeSpec(title=values.pop("title", "Laptop first-time fix"), metric=metric, starts_on=values.pop(
        "starts_on", STARTS), dimension=dimension, member=str(member), **values)  # fmt: skip


def effect_of(initiative, **values):
    return initiatives.measure_effect(EVERYTHING, initiative.id, after_end=values.pop("after_end", AFTER_END), **values)


@pytest.fixture
def mail_initiative(org):
    return initiatives.create_initiative(EVERYTHING, spec(member=org["email"].id))


# --- the effect -----------------------------------------------------------------------------------


def test_a_drop_in_reopenings_from_20_to_5_percent_is_detected(org, mail_initiative):
    reopen_rates(org["email"], before=(40, 200), after=(10, 200))
    effect = effect_of(mail_initiative)
    assert (effect.value_before, effect.value_after, effect.difference) == (20.0, 5.0, -15.0)
    assert (effect.n_before, effect.n_after) == (200, 200)
    assert effect.interval.high < 0 and effect.interval.low > -25
    assert effect.p_value < 0.001 and effect.significant and effect.direction == IMPROVED
    assert effect.reason is None and effect.note is None


def test_unchanged_reopenings_are_no_clear_change(org, mail_initiative):
    reopen_rates(org["email"], before=(20, 200), after=(21, 200))
    effect = effect_of(mail_initiative)
    assert (effect.value_before, effect.value_after) == (10.0, 10.5)
    assert effect.interval.low < 0 < effect.interval.high
    assert effect.p_value > 0.5 and not effect.significant and effect.direction == NO_CLEAR_CHANGE


def test_the_before_window_has_the_after_windows_length_and_ends_on_the_start(org, mail_initiative):
    effect = effect_of(mail_initiative)
    assert (effect.before_start, effect.before_end) == (STARTS - timedelta(days=WINDOW), STARTS)
    assert (effect.after_start, effect.after_end) == (STARTS, AFTER_END)
    assert effect_of(mail_initiative, before_days=7).before_start == STARTS - timedelta(days=7)


def test_the_after_window_runs_to_the_last_day_with_data(org, mail_initiative):
    last_day = STARTS + timedelta(days=20)
    tickets(org["email"], 1, day=last_day)
    effect = initiatives.measure_effect(EVERYTHING, mail_initiative.id)
    assert (effect.after_end, effect.before_start) == (last_day + timedelta(days=1), STARTS - timedelta(days=21))


def test_reopenings_count_by_opening_day_as_the_change_reaches_new_tickets(org, mail_initiative):
    reopen_rates(org["email"], before=(20, 100), after=(5, 100))
    tickets(org["email"], 100, day=BEFORE_DAY, resolved_day=AFTER_DAY, reopens=1)  # opened before: before
    tickets(org["email"], 50, day=AFTER_DAY, resolved_day=None, reopens=1)  # still open: not counted
    effect = effect_of(mail_initiative)
    assert (effect.n_before, effect.n_after, effect.value_before, effect.value_after) == (200, 100, 60.0, 5.0)


def test_a_rise_in_a_lower_is_better_metric_is_worse(org, mail_initiative):
    reopen_rates(org["email"], before=(10, 200), after=(40, 200))
    effect = effect_of(mail_initiative)
    assert effect.significant and effect.direction == WORSENED


def test_sla_compliance_compares_tickets_with_a_verdict_by_resolution_day(org):
    initiative = initiatives.create_initiative(EVERYTHING, spec("sla_compliance", member=org["email"].id))
    tickets(org["email"], 60, BEFORE_DAY, sla_met=True)
    tickets(org["email"], 40, BEFORE_DAY, sla_met=False)
    tickets(org["email"], 30, BEFORE_DAY, resolved_day=AFTER_DAY, sla_met=True)  # resolved after the start
    tickets(org["email"], 20, AFTER_DAY, sla_met=False)
    tickets(org["email"], 50, AFTER_DAY, sla_met=None)  # no verdict: not counted
    effect = effect_of(initiative)
    assert (effect.n_before, effect.n_after, effect.value_before, effect.value_after) == (100, 50, 60.0, 60.0)
    assert not effect.significant


def test_reassignment_rate_is_the_share_of_tickets_reassigned(org):
    initiative = initiatives.create_initiative(EVERYTHING, spec("reassignment_rate", member=org["email"].id))
    tickets(org["email"], 30, BEFORE_DAY, reassignments=2)
    tickets(org["email"], 30, BEFORE_DAY, reassignments=0)
    tickets(org["email"], 6, AFTER_DAY, reassignments=1)
    tickets(org["email"], 54, AFTER_DAY, reassignments=0)
    effect = effect_of(initiative)
    assert (effect.value_before, effect.value_after, effect.direction) == (50.0, 10.0, IMPROVED)


def test_resolution_hours_use_welchs_test(org):
    initiative = initiatives.create_initiative(EVERYTHING, spec("resolution_hours", member=org["email"].id))
    before_hours, after_hours = [10] * 20 + [20] * 20, [4] * 30 + [8] * 10
    for hours in before_hours:
        tickets(org["email"], 1, BEFORE_DAY, resolution_seconds=hours * HOUR)
    for hours in after_hours:
        tickets(org["email"], 1, AFTER_DAY, resolution_seconds=hours * HOUR)
    effect = effect_of(initiative)
    expected = stats.ttest_ind(after_hours, before_hours, equal_var=False)
    interval = expected.confidence_interval()
    assert (effect.value_before, effect.value_after, effect.difference) == (15.0, 5.0, -10.0)
    assert effect.p_value == pytest.approx(expected.pvalue)
    assert (effect.interval.low, effect.interval.high) == (round(interval.low, 2), round(interval.high, 2))
    assert effect.direction == IMPROVED


def test_happiness_rising_from_0_to_60_is_detected_with_a_resampled_interval(org):
    initiative = initiatives.create_initiative(EVERYTHING, spec("happiness", member=org["email"].id))
    answers(org["email"], [10] * 40 + [8] * 20 + [3] * 40, BEFORE_DAY)
    answers(org["email"], [9] * 70 + [7] * 20 + [0] * 10, AFTER_DAY)
    effect = effect_of(initiative)
    assert (effect.value_before, effect.value_after, effect.difference) == (0.0, 60.0, 60.0)
    assert 30 < effect.interval.low < 60 < effect.interval.high < 90
    assert effect.p_value < 0.001 and effect.direction == IMPROVED


def test_happiness_from_the_same_answers_is_no_clear_change(org):
    initiative = initiatives.create_initiative(EVERYTHING, spec("happiness", member=org["email"].id))
    scores = [10] * 30 + [8] * 20 + [5] * 10
    answers(org["email"], scores, BEFORE_DAY)
    answers(org["email"], scores, AFTER_DAY)
    effect = effect_of(initiative)
    assert effect.difference == 0 and effect.interval.low < 0 < effect.interval.high
    assert effect.p_value > 0.9 and effect.direction == NO_CLEAR_CHANGE


def test_average_score_and_lost_minutes_are_means_of_the_answers(org):
    score = initiatives.create_initiative(EVERYTHING, spec("average_score", member=org["email"].id))
    lost = initiatives.create_initiative(EVERYTHING, spec("lost_minutes", member=org["email"].id, title="Lost"))
    answers(org["email"], [6, 8] * 20, BEFORE_DAY, lost_minutes=[20, 40] * 20)
    answers(org["email"], [8, 10] * 20, AFTER_DAY)  # lost time not asked: not counted
    answers(org["email"], [9] * 40, AFTER_DAY, lost_minutes=[10, 20] * 20)
    score_effect, lost_effect = effect_of(score), effect_of(lost)
    assert (score_effect.value_before, score_effect.value_after, score_effect.direction) == (7.0, 9.0, IMPROVED)
    assert (lost_effect.n_before, lost_effect.n_after) == (40, 40)
    assert (lost_effect.value_before, lost_effect.value_after, lost_effect.direction) == (30.0, 15.0, IMPROVED)


def test_too_few_data_give_values_but_no_verdict(org, mail_initiative):
    reopen_rates(org["email"], before=(10, 20), after=(0, 200))
    effect = effect_of(mail_initiative)
    assert (effect.value_before, effect.value_after) == (50.0, 0.0)
    assert not effect.significant and effect.p_value is None and effect.interval is None
    assert "20 before" in effect.reason


def test_an_initiative_not_started_has_no_effect_yet(org):
    future = initiatives.create_initiative(EVERYTHING, spec(member=org["email"].id, starts_on=date(2099, 1, 1)))
    effect = initiatives.measure_effect(EVERYTHING, future.id)
    assert effect.n_after == 0 and not effect.significant and effect.reason


def test_only_the_scopes_tickets_count(org, mail_initiative):
    reopen_rates(org["email"], before=(40, 200), after=(10, 200))
    reopen_rates(org["erp"], before=(0, 300), after=(300, 300))
    assert effect_of(mail_initiative).value_after == 5.0


# --- overlaps -------------------------------------------------------------------------------------


def test_initiatives_on_an_overlapping_scope_within_the_windows_are_noted(org, mail_initiative):
    mail_category = Category.objects.create(external_id="CAT-MAIL", name="Mailbox", service=org["email"])
    tickets(org["email"], 5, BEFORE_DAY, category_id=mail_category.id)

    def other(title, starts_on, **values):
        initiatives.create_initiative(EVERYTHING, spec(title=title, starts_on=starts_on, **values))

    other("Mailbox clean-up", STARTS - timedelta(days=5), dimension="category", member=mail_category.id)
    other("New desk tool", STARTS + timedelta(days=5), dimension="all")
    other("Same service again", STARTS + timedelta(days=50), member=org["email"].id)
    other("ERP fix", STARTS, member=org["erp"].id)  # another service
    other("Long ago", STARTS - timedelta(days=WINDOW + 1), member=org["email"].id)  # before the windows
    other("Dropped", STARTS, member=org["email"].id, status=InitiativeStatus.CANCELLED)
    effect = effect_of(mail_initiative)
    assert [o.title for o in effect.overlaps] == ["Mailbox clean-up", "New desk tool", "Same service again"]
    assert effect.overlaps[0].scope_label == "Mailbox" and effect.overlaps[1].starts_on == STARTS + timedelta(days=5)
    assert "may not be this one's alone" in effect.note


def test_a_group_overlaps_a_service_only_when_they_share_tickets(org, mail_initiative):
    group = initiatives.create_initiative(
        EVERYTHING, spec(title="Desk training", dimension="group", member=org["inhouse"].id)
    )
    assert effect_of(mail_initiative).overlaps == ()
    tickets(org["email"], 1, AFTER_DAY, group_id=org["inhouse"].id)
    assert [o.initiative_id for o in effect_of(mail_initiative).overlaps] == [group.id]


# --- definitions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"metric": "happiness_index"}, "metric"),
        ({"dimension": "planet"}, "dimension"),
        ({"member": "999999"}, "member"),
        ({"member": ""}, "member"),
        ({"title": "  "}, "title"),
        ({"status": "paused"}, "status"),
        ({"owner_user_id": 999999}, "owner_user_id"),
    ],
)
def test_invalid_initiatives_are_refused(org, values, field):
    values = {"member": org["email"].id} | values
    with pytest.raises(InvalidInitiative) as refused:
        initiatives.create_initiative(EVERYTHING, spec(**values))
    assert refused.value.field == field


def test_the_scope_member_fills_the_groups_and_services_it_covers(org):
    category = Category.objects.create(external_id="CAT-ERP", name="Ledger", service=org["erp"])

    def covered(dimension, member):
        made = Initiative.objects.get(
            pk=initiatives.create_initiative(EVERYTHING, spec(dimension=dimension, member=member)).id
        )
        return set(made.groups.values_list("id", flat=True)), set(made.services.values_list("id", flat=True))

    assert covered("service", org["email"].id) == (set(), {org["email"].id})
    assert covered("category", category.id) == (set(), {org["erp"].id})
    assert covered("group", org["inhouse"].id) == ({org["inhouse"].id}, set())
    assert covered("supplier", org["alpha"].id) == ({org["alpha_group"].id}, set())
    assert covered("agent", org["zeta_agent"].id) == ({org["zeta_group"].id}, set())
    assert covered("all", "") == (set(), set())
    assert covered("channel", "portal") == (set(), set())


def test_an_update_changes_the_scope_and_its_coverage(org, mail_initiative):
    changed = initiatives.update_initiative(
        EVERYTHING, mail_initiative.id, spec("happiness", member=org["erp"].id, status=InitiativeStatus.DONE)
    )
    assert (changed.metric, changed.member, changed.status) == ("happiness", str(org["erp"].id), "done")
    assert changed.scope_label == "ERP"
    assert list(Initiative.objects.get(pk=changed.id).services.all()) == [org["erp"]]


def test_a_supplier_may_only_create_initiatives_about_its_own_groups(org, users):
    alpha = scope_for(users["alpha"])
    own = initiatives.create_initiative(alpha, spec(dimension="group", member=org["alpha_group"].id))
    itself = initiatives.create_initiative(alpha, spec(dimension="supplier", member=org["alpha"].id))
    assert own.scope_label == "Alpha Desk" and itself.scope_label == "Alpha Outsourcing"
    for dimension, member in (("group", org["zeta_group"].id), ("supplier", org["zeta"].id),
                              ("service", org["email"].id), ("all", "")):  # fmt: skip
        with pytest.raises(PermissionDenied):
            initiatives.create_initiative(alpha, spec(dimension=dimension, member=member))


def test_a_supplier_does_not_see_other_initiatives(org, users, mail_initiative):
    zeta = initiatives.create_initiative(EVERYTHING, spec(dimension="group", member=org["zeta_group"].id))
    alpha_scope = scope_for(users["alpha"])
    own = initiatives.create_initiative(alpha_scope, spec(dimension="group", member=org["alpha_group"].id))
    assert [i.id for i in initiatives.list_initiatives(alpha_scope)] == [own.id]
    for pk in (zeta.id, mail_initiative.id):
        with pytest.raises(Initiative.DoesNotExist):
            initiatives.get_initiative(alpha_scope, pk)
        with pytest.raises(Initiative.DoesNotExist):
            initiatives.measure_effect(alpha_scope, pk)
        with pytest.raises(Initiative.DoesNotExist):
            initiatives.delete_initiative(alpha_scope, pk)
    with pytest.raises(PermissionDenied):
        initiatives.update_initiative(alpha_scope, own.id, spec(dimension="group", member=org["zeta_group"].id))


def test_a_service_owner_defines_initiatives_for_his_services_only(org, users):
    owner = scope_for(users["owner"])
    assert initiatives.create_initiative(owner, spec(member=org["email"].id)).scope_label == "E-mail"
    with pytest.raises(PermissionDenied):
        initiatives.create_initiative(owner, spec(member=org["erp"].id))


def test_agents_are_named_only_to_readers_allowed_to_see_people(org, users):
    made = initiatives.create_initiative(EVERYTHING, spec(dimension="agent", member=org["alpha_agent"].id))
    assert made.scope_label == "Alan Alpha"
    assert initiatives.get_initiative(scope_for(users["alpha"]), made.id).scope_label == "AG-ALPHA"


def test_a_deleted_initiative_is_gone(org, mail_initiative):
    initiatives.delete_initiative(EVERYTHING, mail_initiative.id)
    assert not Initiative.objects.exists()


# --- you said, we did -----------------------------------------------------------------------------


def test_the_public_list_shows_public_initiatives_that_are_not_cancelled(org):
    reopen_rates(org["email"], before=(40, 200), after=(10, 200))

    def made(title, **values):
        initiatives.create_initiative(EVERYTHING, spec(title=title, **{"member": org["email"].id} | values))

    made("Laptops fixed first time", public=True, owner="Workplace team", you_said="Fix it once", we_did="Spares")
    made("Internal only")
    made("Dropped", public=True, status=InitiativeStatus.CANCELLED)
    made("Coaching", public=True, dimension="agent", member=org["alpha_agent"].id, starts_on=date(2099, 1, 1))
    shown = initiatives.you_said_we_did()
    assert [item.title for item in shown] == ["Coaching", "Laptops fixed first time"]
    coaching, laptops = shown
    assert (laptops.owner, laptops.you_said, laptops.we_did, laptops.scope_label) == (
        "Workplace team", "Fix it once", "Spares", "E-mail"
    )  # fmt: skip
    assert laptops.effect == "Reopen rate: 20.0 % → 5.0 % (improved)"
    with translation.override("tr"):
        assert initiatives.you_said_we_did()[1].effect.split(": ")[1].startswith("20,0 % → 5,0 %")
    assert (laptops.value_before, laptops.value_after, laptops.direction) == (20.0, 5.0, IMPROVED)
    assert "Alan" not in repr(coaching) and coaching.effect is None and coaching.direction is None


def test_the_public_list_is_limited(org):
    for number in range(3):
        initiatives.create_initiative(EVERYTHING, spec(title=f"I{number}", member=org["email"].id, public=True))
    assert len(initiatives.you_said_we_did(limit=2)) == 2


def test_the_happiness_test_matches_a_plain_permutation_test():
    """The count-based resampling against shuffling every answer, on a small sample."""
    rng = np.random.default_rng(1)
    before, after = rng.integers(0, 11, 40).astype(float), rng.integers(3, 11, 40).astype(float)
    low, high, p_value = initiatives._happiness_test(before, after)
    points = np.concatenate([initiatives._happiness_points(after), initiatives._happiness_points(before)])
    observed = 100 * (points[:40].mean() - points[40:].mean())
    shuffled = [rng.permutation(points) for _ in range(4000)]
    expected = np.mean([abs(100 * (s[:40].mean() - s[40:].mean())) >= abs(observed) - 1e-9 for s in shuffled])
    assert p_value == pytest.approx(expected, abs=0.03)
    assert low < observed < high


def test_the_api_records_measures_and_publishes_initiatives(answered, users, client_for):  # noqa: F811
    admin = client_for(users["admin"])
    mail = Service.objects.get(external_id="SVC-MAIL").pk
    body = {"title": "Faster mail fixes", "metric": "reopen_rate", "starts_on": str(PERIOD.start),
            "dimension": "service", "member": str(mail), "public": True, "you_said": "Mail fixes do not last",
            "we_did": "A checklist for every fix"}  # fmt: skip
    created = admin.post("/api/v1/initiatives", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["owner_user_id"] == users["admin"].pk
    effect = admin.get(f"/api/v1/initiatives/{pk}/effect")
    assert effect.status_code == 200 and effect.json()["significant"] is False and effect.json()["reason"]
    bad = admin.post("/api/v1/initiatives", json.dumps(body | {"metric": "bogus"}), content_type="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "metric"
    public = Client().get("/api/v1/public/you-said-we-did")
    assert public.status_code == 200
    assert [item["title"] for item in public.json()["items"]] == ["Faster mail fixes"]
    assert client_for(users["zeta"]).get(f"/api/v1/initiatives/{pk}").status_code == 404
    viewer = client_for(users["viewer"])  # reads, never changes
    assert viewer.get(f"/api/v1/initiatives/{pk}").status_code == 200
    assert viewer.post("/api/v1/initiatives", json.dumps(body), content_type="application/json").status_code == 403
    assert viewer.delete(f"/api/v1/initiatives/{pk}").status_code == 403
    assert admin.delete(f"/api/v1/initiatives/{pk}").status_code == 204
    assert Client().get("/api/v1/public/you-said-we-did").json()["count"] == 0
