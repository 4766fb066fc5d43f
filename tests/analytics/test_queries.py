"""Reads of the rollups agree with the same reads of the facts."""

from datetime import timedelta

import pytest

from itxm.analytics import facts, journeys, queries
from itxm.analytics.periods import Period
from itxm.org.models import Group, Service
from itxm.org.scopes import EVERYTHING, scope_for
from tests.analytics.conftest import DAY, PERIOD, TODAY, answer, ingest, ticket_row
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

# Whole months around the fixture's day: read from the monthly rollups.
WIDE = Period(TODAY - timedelta(days=70), TODAY + timedelta(days=70))


def cells(grid: list[dict]) -> list[tuple]:
    return sorted(
        (str(c["row"]), str(c["column"]), c["answers"], c["promoters"], c["detractors"], c["lost_minutes"] or 0,
         round(c["lost_cost"] or 0, 2))
        for c in grid
    )  # fmt: skip


@pytest.mark.parametrize(
    "rows, columns",
    [("service", "country"), ("channel", "service"), ("group", "service"), ("agent", "group"), ("service", "service"),
     ("department", "group")],
)  # fmt: skip
def test_a_grid_beside_the_group_or_service_from_the_rollups_equals_the_facts(answered, users, rows, columns):  # noqa: F811
    facts.catch_up()
    mail = str(Service.objects.get(external_id="SVC-MAIL").pk)
    whole = queries.answer_grid(EVERYTHING, rows, columns, PERIOD.start, PERIOD.end)
    assert sum(c["answers"] for c in whole) == 6  # every answer has its cell
    for scope in (EVERYTHING, scope_for(users["alpha"]), scope_for(users["zeta"])):
        for period in (PERIOD, WIDE):
            for filters in ({}, {"service": int(mail)}):
                from_rollups = queries.rollup_grid(scope, rows, columns, period.start, period.end, filters)
                from_facts = queries.answer_grid(scope, rows, columns, period.start, period.end, filters)
                assert cells(from_rollups) == cells(from_facts), (rows, columns, period, filters)


def test_other_grids_are_left_to_the_facts(answered):  # noqa: F811
    assert queries.rollup_grid(EVERYTHING, "department", "country", PERIOD.start, PERIOD.end) is None


# --- the ticket rollups of journeys and channels ----------------------------------------------------


def channel_cells(cells: list[dict]) -> list[tuple]:
    return sorted(
        (c["channel"], c["service_id"] or 0, c["tickets"], c["reopened"], c["resolved"], c["seconds"] or 0)
        for c in cells
    )


def test_journeys_and_channels_from_the_ticket_rollups_equal_the_facts(answered, users):  # noqa: F811
    facts.catch_up()
    # A ticket resolved days ago, answered only now: its answer counts on the day it was resolved.
    ingest([ticket_row("M5", "E2", hours=30, opened=DAY - timedelta(days=2), channel="email")])
    facts.catch_up()
    answer("M5", 2, 40, ["slow"])
    mail = Service.objects.get(external_id="SVC-MAIL").pk
    alpha = Group.objects.get(external_id="GRP-ALPHA").pk
    facts.catch_up()
    assert queries.ticket_sums(EVERYTHING, "group_path", PERIOD.start, PERIOD.end)  # there is something to compare
    for scope in (EVERYTHING, scope_for(users["alpha"]), scope_for(users["zeta"])):
        for period in (PERIOD, WIDE):
            for filters in ({}, {"service": mail}, {"group": alpha}):
                for column in ("group_path", "state_path"):
                    base = queries.tickets(scope, period.start, period.end, filters=filters).exclude(**{column: ""})
                    from_facts = journeys._path_sums(base, column)
                    from_rollups = queries.ticket_sums(scope, column, period.start, period.end, filters)
                    from_rollups = {path: {name: row[name] for name in next(iter(from_facts.values()), {})}
                                    for path, row in from_rollups.items()}  # fmt: skip
                    assert from_rollups == from_facts, (column, period, filters)
                opened = queries.tickets(scope, period.start, period.end, filters=filters, by="opened_day")
                cells, said = journeys._channel_sums(scope, period, filters)
                fact_cells, fact_said = journeys._channel_facts(opened, period)
                assert channel_cells(cells) == channel_cells(fact_cells), (period, filters)
                assert said == {channel: {k: v or 0 for k, v in row.items()} for channel, row in fact_said.items()}
    late = journeys.channels(EVERYTHING, PERIOD, filters={"service": mail})
    assert [(c.channel, c.tickets, c.answers, c.happiness) for c in late.channels if c.channel == "email"] == [
        ("email", 1, 1, -100.0)
    ]
