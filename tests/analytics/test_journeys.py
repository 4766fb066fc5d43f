"""Journeys: process variants and channels, checked against figures computed by hand."""

from datetime import date

import pytest

from itxm.analytics import facts, journeys
from itxm.analytics.models import SAMPLE_SLICES, SurveyFact, SurveyFactor, TicketFact
from itxm.analytics.periods import Period
from itxm.analytics.services import AnalyticsError
from itxm.org.models import Group, Service
from itxm.org.scopes import EVERYTHING, Scope
from tests.analytics.conftest import PERIOD
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

JANUARY = Period(date(2025, 1, 1), date(2025, 2, 1))
INSIDE = date(2025, 1, 15)
HOUR = 3600
PING_PONG = "GRP-DESK > GRP-APP > GRP-INT > GRP-APP"


@pytest.fixture
def groups():
    return {
        code: Group.objects.create(external_id=code, name=name)
        for code, name in (("GRP-DESK", "Service Desk"), ("GRP-APP", "Applications"), ("GRP-INT", "Integration"))
    }


@pytest.fixture
def catalogue():
    """Three services; the factors (slow, passed_around, fast...) come with the survey templates."""
    return {
        code: Service.objects.create(external_id=code, name=name)
        for code, name in (("SVC-MAIL", "E-mail"), ("SVC-PAY", "Payroll"), ("SVC-SMALL", "Small"))
    }


def ticket(ticket_id, group_path="", group=None, hours=None, sla=None, reopens=0, reassignments=0, **values):
    return TicketFact(
        ticket_id=ticket_id, opened_day=values.pop("opened_day", INSIDE),
        resolved_day=values.pop("resolved_day", INSIDE), kind="incident", channel=values.pop("channel", "phone"),
        group_id=group.id if group else None,
        group_path=group_path, resolution_seconds=None if hours is None else hours * HOUR, sla_met=sla,
        reopens=reopens, reassignments=reassignments, **values,
    )  # fmt: skip


def answer(invitation_id, ticket_id, score, lost_minutes=None, factors=(), channel="phone", service=None):
    return SurveyFact(
        invitation_id=invitation_id, ticket_id=ticket_id, kind="incident", sent_day=INSIDE,
        answered_day=INSIDE if score is not None else None, score=score, lost_minutes=lost_minutes,
        channel=channel, service_id=service.id if service else None,
        factors=f",{','.join(factors)}," if factors else "",
    )  # fmt: skip


@pytest.fixture
def journeys_in_january(groups):
    """Three variants: the desk alone (4 tickets), desk → applications (3), and a ping-pong (2)."""
    desk, app = groups["GRP-DESK"], groups["GRP-APP"]
    TicketFact.objects.bulk_create([
        ticket(1, "GRP-DESK", desk, hours=1, sla=True),
        ticket(2, "GRP-DESK", desk, hours=2, sla=True),
        ticket(3, "GRP-DESK", desk, hours=3, sla=True),
        ticket(4, "GRP-DESK", desk, hours=10, sla=False, reopens=1),
        ticket(5, "GRP-DESK > GRP-APP", app, hours=5, sla=True, reassignments=1),
        ticket(6, "GRP-DESK > GRP-APP", app, hours=6, sla=True, reassignments=1),
        ticket(7, "GRP-DESK > GRP-APP", app, hours=7, sla=False, reassignments=1),
        ticket(8, PING_PONG, app, hours=10, sla=True, reopens=1, reassignments=3),
        ticket(9, PING_PONG, app, hours=30, sla=None, reassignments=3),
        ticket(10, "", desk, hours=1),  # no path: not a journey
        ticket(11, "GRP-DESK", desk, hours=1, resolved_day=date(2025, 2, 3)),  # resolved after the period
    ])  # fmt: skip
    SurveyFact.objects.bulk_create([
        answer(101, 1, 10), answer(102, 2, 9), answer(103, 3, 10), answer(104, 4, 8),
        answer(105, 5, 9), answer(106, 6, 7), answer(107, 7, None),
        answer(108, 8, 3, lost_minutes=60), answer(109, 9, 5, lost_minutes=30),
        answer(111, 11, 0),
    ])  # fmt: skip
    facts.refresh_rollups()  # facts written straight to the table, as after a bulk load


def by_path(found):
    return {variant.codes: variant for variant in found}


def test_variants_count_tickets_and_shares_per_path(journeys_in_january):
    found = journeys.variants(EVERYTHING, JANUARY)

    assert [v.codes for v in found] == [("GRP-DESK",), ("GRP-DESK", "GRP-APP"), tuple(PING_PONG.split(" > "))]
    assert [v.tickets for v in found] == [4, 3, 2]
    assert [v.share for v in found] == [44.4, 33.3, 22.2]
    assert [v.happy_path for v in found] == [True, False, False]


def test_variants_name_the_groups_of_the_path(journeys_in_january):
    ping_pong = journeys.variants(EVERYTHING, JANUARY)[2]

    assert ping_pong.path == ("Service Desk", "Applications", "Integration", "Applications")
    assert ping_pong.label == "Service Desk > Applications > Integration > Applications"


def test_variant_figures_match_hand_computed_ones(journeys_in_january):
    desk, _, ping_pong = journeys.variants(EVERYTHING, JANUARY)

    assert (desk.median_hours, desk.p90_hours) == (2.5, 7.9)
    assert (ping_pong.median_hours, ping_pong.p90_hours) == (20.0, 28.0)
    assert (desk.sla_compliance, ping_pong.sla_compliance) == (75.0, 100.0)
    assert (desk.reopen_rate, ping_pong.reopen_rate) == (25.0, 50.0)
    assert (desk.mean_reassignments, ping_pong.mean_reassignments) == (0.0, 3.0)


def test_variant_happiness_comes_from_the_answers_about_its_tickets(journeys_in_january):
    desk, to_app, ping_pong = journeys.variants(EVERYTHING, JANUARY)

    assert (desk.answers, desk.happiness) == (4, 75.0)
    assert (to_app.answers, to_app.happiness) == (2, 50.0)
    assert (ping_pong.answers, ping_pong.happiness, ping_pong.lost_minutes_per_answer) == (2, -100.0, 45.0)
    # Overall: 8 answers, 4 of 9-10 and 2 of 0-6 → 25.
    assert [v.gap for v in (desk, to_app, ping_pong)] == [50.0, 25.0, -125.0]


def test_a_variant_far_below_the_overall_happiness_hurts(journeys_in_january, settings):
    settings.ANALYTICS_MIN_ANSWERS = 2

    assert [v.hurts for v in journeys.variants(EVERYTHING, JANUARY)] == [False, False, True]


def test_a_variant_with_too_few_answers_does_not_hurt(journeys_in_january, settings):
    settings.ANALYTICS_MIN_ANSWERS = 3

    assert not any(v.hurts for v in journeys.variants(EVERYTHING, JANUARY))


def test_variants_stop_at_the_limit(journeys_in_january):
    assert [v.tickets for v in journeys.variants(EVERYTHING, JANUARY, limit=2)] == [4, 3]


def test_a_scoped_reader_sees_only_its_groups_journeys(journeys_in_january, groups):
    found = journeys.variants(Scope(group_ids=frozenset({groups["GRP-DESK"].id})), JANUARY)

    assert [(v.codes, v.tickets, v.share, v.answers) for v in found] == [(("GRP-DESK",), 4, 100.0, 4)]


def test_groups_outside_the_readers_scope_stay_unnamed_in_its_paths(journeys_in_january, groups):
    found = journeys.variants(Scope(group_ids=frozenset({groups["GRP-APP"].id})), JANUARY)

    assert {v.path for v in found} == {
        ("another group", "Applications"),
        ("another group", "Applications", "another group", "Applications"),
    }
    assert all(code in ("", "GRP-APP") for v in found for code in v.codes)


def test_state_variants_name_the_states(db):
    TicketFact.objects.bulk_create([ticket(1, hours=1, state_path="new > in_progress > resolved")])
    facts.refresh_rollups()

    [variant] = journeys.variants(EVERYTHING, JANUARY, path="state")

    assert variant.path == ("New", "In progress", "Resolved")


def test_an_unknown_path_kind_is_refused(db):
    with pytest.raises(AnalyticsError):
        journeys.variants(EVERYTHING, JANUARY, path="agent")


# --- channels -------------------------------------------------------------------------------------


@pytest.fixture
def channels_in_january(catalogue, groups):
    """E-mail: 20 portal and 20 phone tickets; Payroll: 2 portal and 38 e-mail; Small: 10 phone (all with
    the applications group, the others with the desk)."""
    mail, pay, small = catalogue["SVC-MAIL"], catalogue["SVC-PAY"], catalogue["SVC-SMALL"]
    desk, app = groups["GRP-DESK"], groups["GRP-APP"]
    plan = (
        [(mail, "portal")] * 20 + [(mail, "phone")] * 20 + [(pay, "portal")] * 2 + [(pay, "email")] * 38
        + [(small, "phone")] * 10
    )  # fmt: skip
    rows = []
    for number, (service, channel) in enumerate(plan, start=1):
        resolved = service == mail and channel == "phone"
        group = app if service == small else desk
        rows.append(
            ticket(number, "GRP-DESK", group, channel=channel, service_id=service.id, hours=2 if resolved else None,
                   resolved_day=INSIDE if resolved else None, reopens=int(resolved and number <= 23))
        )  # fmt: skip
    rows.append(ticket(999, "GRP-DESK", desk, opened_day=date(2024, 12, 31), channel="portal", service_id=pay.id))
    TicketFact.objects.bulk_create(rows)
    # Tickets 41-42 are Payroll's portal tickets, 43-45 three of its e-mail ones.
    answers = [
        answer(1, 41, 2, 10, ("slow", "fast"), "portal", pay),
        answer(2, 42, 4, 20, ("slow",), "portal", pay),
        answer(3, 43, 5, None, ("passed_around",), "email", pay),
        answer(4, 44, 6, None, ("passed_around",), "email", pay),
        answer(5, 45, 9, None, ("slow",), "email", pay),
    ]
    SurveyFact.objects.bulk_create(answers)
    SurveyFactor.objects.bulk_create(
        SurveyFactor(invitation_id=a.invitation_id, factor=key) for a in answers for key in a.factors.split(",") if key
    )
    facts.refresh_rollups()
    return catalogue


def test_channels_count_tickets_opened_in_the_period(channels_in_january):
    report = journeys.channels(EVERYTHING, JANUARY)

    assert report.tickets == 90
    assert [(c.channel, c.tickets, c.share) for c in report.channels] == [
        ("email", 38, 42.2), ("phone", 30, 33.3), ("portal", 22, 24.4),
    ]  # fmt: skip
    assert report.channels[2].label == "Self-service portal"


def test_channels_say_what_people_use_them_for(channels_in_january):
    phone = journeys.channels(EVERYTHING, JANUARY).channels[1]

    assert [(use.code, use.label, use.tickets, use.share) for use in phone.top_services] == [
        ("SVC-MAIL", "E-mail", 20, 66.7), ("SVC-SMALL", "Small", 10, 33.3),
    ]  # fmt: skip


def test_channel_figures_match_hand_computed_ones(channels_in_january):
    email, phone, portal = journeys.channels(EVERYTHING, JANUARY).channels

    assert (email.answers, email.happiness, email.lost_minutes_per_answer) == (3, -33.3, None)
    assert (portal.answers, portal.happiness, portal.lost_minutes_per_answer) == (2, -100.0, 15.0)
    assert (phone.reopen_rate, phone.mean_resolution_hours) == (10.0, 2.0)


def test_a_service_far_below_the_portal_share_avoids_the_portal(channels_in_january):
    report = journeys.channels(EVERYTHING, JANUARY)

    assert report.portal_share == 24.4
    [payroll] = report.avoided  # Small has no portal ticket either, but too few tickets to judge
    assert (payroll.code, payroll.tickets, payroll.portal_tickets, payroll.portal_share) == ("SVC-PAY", 40, 2, 5.0)
    assert payroll.overall_portal_share == 24.4


def test_an_avoided_service_says_why_with_negative_factors(channels_in_january):
    [payroll] = journeys.channels(EVERYTHING, JANUARY).avoided

    assert [(f.factor, f.label_en, f.answers) for f in payroll.portal_factors] == [("slow", "Took too long", 2)]
    assert [(f.factor, f.answers) for f in payroll.other_factors] == [("passed_around", 2), ("slow", 1)]


def test_a_scoped_reader_sees_only_its_groups_channels(channels_in_january, groups):
    report = journeys.channels(Scope(group_ids=frozenset({groups["GRP-APP"].id})), JANUARY)

    assert report.tickets == 10
    assert [(c.channel, c.tickets, c.share) for c in report.channels] == [("phone", 10, 100.0)]
    assert report.avoided == ()


def test_the_api_serves_variants_and_channels(answered, users, client_for):  # noqa: F811
    admin = client_for(users["admin"])
    period = f"start={PERIOD.start}&end={PERIOD.end}"
    variants = admin.get(f"/api/v1/analytics/journeys?{period}&path=group")
    assert variants.status_code == 200, variants.content
    assert variants.json()["variants"][0]["label"] == "Alpha Desk"
    assert admin.get(f"/api/v1/analytics/journeys?{period}&path=nope").status_code == 400
    channels = admin.get(f"/api/v1/analytics/channels?{period}")
    assert channels.status_code == 200, channels.content
    assert {c["channel"] for c in channels.json()["channels"]} == {"phone", "portal"}


def test_many_tickets_give_variant_percentiles_from_a_sample_and_counts_of_all(monkeypatch):
    TicketFact.objects.bulk_create(
        TicketFact(ticket_id=i, opened_day=date(2026, 3, 2), resolved_day=date(2026, 3, 2), kind="incident",
                   channel="phone", group_path="A" if i // 256 == 0 else "A > B", sample=i % SAMPLE_SLICES,
                   resolution_seconds=HOUR * (1 + i % SAMPLE_SLICES))
        for i in range(1024)
    )  # fmt: skip
    facts.refresh_rollups()
    monkeypatch.setattr(journeys, "JOURNEY_SAMPLE", 100)
    found = {v.label: v for v in journeys.variants(EVERYTHING, Period(date(2026, 3, 1), date(2026, 4, 1)))}
    # Every ticket is counted; 25 of 256 slices hold at least 100 of the 1,024 tickets (each slice one "A"
    # and three "A > B"), and the percentiles are those of slices 0-24: 1 to 25 hours.
    assert all(v.sampled for v in found.values())
    assert found["A > B"].share == 75.0 and found["A"].share == 25.0
    assert found["A > B"].tickets == 768 and found["A"].tickets == 256
    assert found["A"].median_hours == 13.0 and found["A"].p90_hours == 22.6
