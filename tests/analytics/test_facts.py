"""Metrics from tickets sent through ingestion and answered through surveys, against hand-computed
figures; facts follow every change without a rebuild, and a rebuild gives the same rollups."""

from datetime import date, timedelta

import pytest

from itxm.analytics import facts, services
from itxm.analytics.models import MonthRollup, PendingFact, Rollup
from itxm.org.scopes import EVERYTHING, scope_for
from tests.analytics.conftest import DAY, PERIOD, TODAY, answer, ingest, ticket_row

MARCH = PERIOD


@pytest.fixture
def answered(org, people, settings):
    """Four e-mail tickets of Alpha and two ERP tickets of Zeta, resolved on 2 March, all answered."""
    settings.ANALYTICS_MIN_ANSWERS = 1
    ingest([
        ticket_row("M1", "E1", hours=2, made_sla="true", reassignment_count=0),
        ticket_row("M2", "E2", hours=4, made_sla="true", reassignment_count=1),
        ticket_row("M3", "E3", hours=6, made_sla="false", reassignment_count=2, reopen_count=1),
        ticket_row("M4", "E4", hours=8, channel="portal"),
        ticket_row("Z1", "E5", hours=10, group="GRP-ZETA", service="SVC-ERP", assignee="AG-ZETA", made_sla="true"),
        ticket_row("Z2", "E6", hours=20, group="GRP-ZETA", service="SVC-ERP", assignee="AG-ZETA", made_sla="true"),
    ])  # fmt: skip
    answer("M1", 10, 0, ["fast"])
    answer("M2", 9, 10, ["fast", "friendly"])
    answer("M3", 3, 150, ["slow"])
    answer("M4", 7)
    answer("Z1", 2, 360, ["slow"])
    answer("Z2", 4, 720, ["slow"])


def by_code(found):
    return {item.code: item for item in found}


def test_metrics_per_service_equal_the_hand_computed_figures(answered):
    found = by_code(services.metrics(EVERYTHING, "service", MARCH))
    mail, erp = found["SVC-MAIL"].metrics, found["SVC-ERP"].metrics
    # Scores 10, 9, 3, 7: two 9-10s, one 0-6 of four answers.
    assert mail["responses"] == 4 and mail["happiness"] == 25.0 and mail["average_score"] == 7.25
    # Lost time answered by three of them: 0 + 10 + 150 minutes; E1 costs 60 an hour, the others 30.
    assert mail["lost_minutes_per_answer"] == round(160 / 3, 1)
    assert mail["lost_hours"] == round(160 / 60, 1)
    assert mail["lost_cost"] == round(0 + 10 / 60 * 30 + 150 / 60 * 30, 2)
    # made_sla: true, true, false, unknown.
    assert mail["sla_compliance"] == round(100 * 2 / 3, 1)
    assert mail["resolved"] == 4 and mail["reassignment_rate"] == 50.0 and mail["reopen_rate"] == 25.0
    assert mail["mean_resolution_hours"] == 5.0
    assert found["SVC-MAIL"].resolution_hours == {"p50": 5.0, "p90": 7.4, "sampled": False}
    assert erp["happiness"] == -100.0 and erp["lost_cost"] == round(360 / 2 + 720 / 2, 2)
    assert mail["response_rate"] == 100.0


def test_factor_shares_follow_polarity(answered):
    mail = by_code(services.metrics(EVERYTHING, "service", MARCH))["SVC-MAIL"]
    positive = {f["factor"]: f["share"] for f in mail.factors["positive"]}
    negative = {f["factor"]: f["share"] for f in mail.factors["negative"]}
    assert positive == {"fast": 50.0, "friendly": 25.0}
    assert negative == {"slow": 25.0}


def test_every_dimension_adds_up_to_the_whole(answered):
    whole = services.overview(EVERYTHING, MARCH).metrics
    assert whole["responses"] == 6 and whole["resolved"] == 6
    for dimension in (  # (these tickets have no category)
        "service",
        "group",
        "supplier",
        "agent",
        "department",
        "location",
        "channel",
        "priority",
        "country",
        "kind",
    ):
        members = services.metrics(EVERYTHING, dimension, MARCH)
        assert sum(m.metrics["resolved"] for m in members) == 6, dimension
    channels = by_code(services.metrics(EVERYTHING, "channel", MARCH))
    assert channels["portal"].metrics["resolved"] == 1 and channels["portal"].label == "Self-service portal"


def test_a_supplier_sees_its_own_groups_only(answered, users):
    found = services.metrics(scope_for(users["alpha"]), "service", MARCH)
    assert [item.code for item in found] == ["SVC-MAIL"]
    whole = services.overview(scope_for(users["alpha"]), MARCH).metrics
    assert whole["responses"] == 4


def test_a_second_click_and_a_reassigned_ticket_show_without_a_rebuild(answered):
    facts.rebuild()  # the fixture's own tickets were written without ingestion
    answer("M4", 10)  # the person changes the score from 7 to 10
    ingest([ticket_row("M1", "E1", hours=2, group="GRP-ZETA", assignee="AG-ZETA",
                       updated_at=(DAY + timedelta(days=2)).isoformat())])  # fmt: skip
    assert PendingFact.objects.exists()
    groups = by_code(services.metrics(EVERYTHING, "group", MARCH))
    assert not PendingFact.objects.exists()
    assert groups["GRP-ALPHA"].metrics["resolved"] == 3 and groups["GRP-ZETA"].metrics["resolved"] == 3
    assert groups["GRP-ALPHA"].metrics["happiness"] == round(100 * (2 - 1) / 3, 1)  # 9, 3, 10

    def rollups():
        return [
            sorted(
                model.objects.values_list("day", "dimension", "member", "group_id", "resolved", "answered", "score_sum")
            )  # fmt: skip
            for model in (Rollup, MonthRollup)
        ]

    incremental = rollups()
    facts.rebuild()
    assert rollups() == incremental


def test_trend_buckets_add_up_to_the_period(answered):
    points = services.trend(EVERYTHING, "service", str(answered_service_id("SVC-MAIL")), MARCH, "week")
    assert sum(p["metrics"]["resolved"] for p in points) == 4
    assert points[0]["start"] == PERIOD.start and points[-1]["end"] == PERIOD.end
    assert all(p["end"].weekday() == 0 for p in points[:-1])


def answered_service_id(code):
    from itxm.org.models import Service

    return Service.objects.get(external_id=code).pk


def test_watermelons_and_the_reverse(answered, settings):
    # ERP: SLA 100 % met, happiness -100: a watermelon. Mail: SLA 67 % and happiness +25 with a target of 20.
    found = services.watermelons(EVERYTHING, "service", MARCH, sla_target=90, happiness_target=20)
    assert [m.code for m in found["watermelons"]] == ["SVC-ERP"]
    assert [m.code for m in found["reverse"]] == ["SVC-MAIL"]
    settings.ANALYTICS_MIN_ANSWERS = 5  # too few answers: no verdict either way
    found = services.watermelons(EVERYTHING, "service", MARCH, sla_target=90, happiness_target=20)
    assert found["watermelons"] == [] and found["reverse"] == []


def test_priorities_rank_by_impact_against_the_reference(answered):
    found = services.priorities(EVERYTHING, "service", MARCH, reference="target", happiness_target=50)
    rows = {row["code"]: row for row in found["rows"]}
    assert rows["SVC-ERP"]["impact"] == round(2 * (-100 - 50) / 100, 1)
    assert rows["SVC-MAIL"]["impact"] == round(4 * (25 - 50) / 100, 1)
    assert [row["code"] for row in found["rows"]] == ["SVC-ERP", "SVC-MAIL"]
    baseline = services.priorities(EVERYTHING, "service", MARCH, reference="baseline")
    assert baseline["baseline"] == round(100 * (2 - 3) / 6, 1)
    by_cost = services.priorities(EVERYTHING, "service", MARCH, rank_by="lost_cost")
    assert by_cost["rows"][0]["code"] == "SVC-ERP"
    assert by_cost["rows"][0]["top_negative_factors"][0]["factor"] == "slow"
    with pytest.raises(services.AnalyticsError):
        services.priorities(EVERYTHING, "service", MARCH, reference="nonsense")


def test_hotspots_concentration_and_productivity(answered):
    grid = services.hotspots(EVERYTHING, "service", "channel", MARCH)
    cells = {(c["row_label"], c["column"]): c for c in grid["cells"]}
    assert cells[("E-mail", "phone")]["answers"] == 3 and cells[("E-mail", "portal")]["answers"] == 1
    assert grid["cells"][0]["row_label"] == "ERP"  # the lowest impact first
    lost = services.lost_time_concentration(EVERYTHING, MARCH)
    # 720 + 360 = 1080 of 1240 minutes (87 %) come from two of five answers with lost time.
    assert lost == {
        "answers": 5, "lost_hours": round(1240 / 60, 1), "share_for_80_percent": 40.0,
        # The answers that lost most first: 720, 360, 150, 10 and 0 minutes.
        "curve": [(0.0, 0.0), (20.0, 58.1), (40.0, 87.1), (60.0, 99.2), (80.0, 100.0), (100.0, 100.0)],
    }  # fmt: skip
    gained = services.productivity_gained(EVERYTHING, TODAY + timedelta(days=1), TODAY + timedelta(days=8))
    assert gained["baseline_minutes_per_answer"] == 248.0 and gained["gained_work_days"] == 0.0


def test_percentiles_of_many_tickets_come_from_a_sample(answered, monkeypatch):
    monkeypatch.setattr(services, "PERCENTILE_SAMPLE", 2)
    assert services.percentile_slices(6) == 86  # 256 slices × 2 / 6, rounded up
    mail = by_code(services.metrics(EVERYTHING, "service", MARCH))["SVC-MAIL"]
    assert mail.resolution_hours["sampled"] is True
    assert services.percentile_slices(1_000_000) == 1


def test_a_period_of_whole_months_reads_the_monthly_rollups_and_agrees(answered):
    from itxm.analytics.models import MonthRollup
    from itxm.analytics.periods import Period
    from itxm.analytics.queries import split_by_month

    assert split_by_month(date(2025, 1, 15), date(2025, 4, 10)) == (
        [(date(2025, 1, 15), date(2025, 2, 1)), (date(2025, 4, 1), date(2025, 4, 10))],
        (date(2025, 2, 1), date(2025, 4, 1)),
    )
    assert split_by_month(date(2025, 1, 1), date(2025, 2, 1)) == ([], (date(2025, 1, 1), date(2025, 2, 1)))
    assert split_by_month(date(2025, 1, 3), date(2025, 1, 20)) == ([(date(2025, 1, 3), date(2025, 1, 20))], None)
    wide = Period(TODAY - timedelta(days=70), TODAY + timedelta(days=70))
    assert split_by_month(wide.start, wide.end)[1] is not None
    for dimension in ("service", "group", "country"):
        short = {m.code: (m.metrics, m.factors) for m in services.metrics(EVERYTHING, dimension, MARCH)}
        long = {m.code: (m.metrics, m.factors) for m in services.metrics(EVERYTHING, dimension, wide)}
        assert long == short, dimension
    assert MonthRollup.objects.filter(dimension="service", day=TODAY.replace(day=1)).exists()


def test_members_come_busiest_first_a_page_at_a_time(answered, users, client_for):
    count, first = services.metrics_page(EVERYTHING, "service", MARCH, limit=1)
    assert count == 2 and [m.code for m in first] == ["SVC-MAIL"]
    _, second = services.metrics_page(EVERYTHING, "service", MARCH, limit=1, offset=1)
    assert [m.code for m in second] == ["SVC-ERP"]
    assert second[0].factors == by_code(services.metrics(EVERYTHING, "service", MARCH))["SVC-ERP"].factors
    page = (
        client_for(users["admin"])
        .get(f"/api/v1/analytics/metrics?dimension=service&start={PERIOD.start}&end={PERIOD.end}&limit=1&offset=1")
        .json()
    )
    assert page["count"] == 2 and [m["code"] for m in page["members"]] == ["SVC-ERP"]


def test_a_period_running_past_today_reads_this_month_whole():
    from itxm.analytics.queries import split_by_month

    today = date(2026, 11, 23)
    assert split_by_month(date(2025, 11, 24), date(2026, 11, 24), today) == (
        [(date(2025, 11, 24), date(2025, 12, 1))],
        (date(2025, 12, 1), date(2026, 12, 1)),
    )
    assert split_by_month(date(2026, 11, 5), date(2026, 11, 24), today) == (
        [(date(2026, 11, 5), date(2026, 11, 24))],
        None,
    )
    # up to today (excluded) the month is not whole: today's answers may still come
    assert split_by_month(date(2026, 10, 1), date(2026, 11, 23), today)[1] == (date(2026, 10, 1), date(2026, 11, 1))


def test_agents_are_named_only_to_readers_who_may_see_people(answered, users, client_for):
    url = f"/api/v1/analytics/metrics?dimension=agent&start={MARCH.start}&end={MARCH.end}"
    for role, expected in (("analyst", "Zed Zeta"), ("viewer", "AG-ZETA")):
        members = client_for(users[role]).get(url).json()["members"]
        zeta = next(m for m in members if m["code"] == "AG-ZETA")
        assert zeta["label"] == expected, role
        assert "Zed Zeta" not in str(members) or role == "analyst"
    grid = services.hotspots(scope_for(users["viewer"]), "agent", "service", MARCH)
    assert "Zed Zeta" not in str(grid) and "AG-ZETA" in str(grid)
