"""Reads of the rollups agree with the same reads of the facts."""

from datetime import timedelta

import pytest

from itxm.analytics import facts, queries
from itxm.analytics.periods import Period
from itxm.org.models import Service
from itxm.org.scopes import EVERYTHING, scope_for
from tests.analytics.conftest import PERIOD, TODAY
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
