"""The overview's figures: computed once per scope, period and facts version, equal to the services'."""

import pytest

from itxm.analytics import overview, services, xla
from itxm.analytics.models import StoredResult
from itxm.analytics.remembered import forget
from itxm.org.scopes import EVERYTHING
from tests.analytics.conftest import PERIOD, answer
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_the_figures_are_those_of_the_services(answered):  # noqa: F811
    found = overview.figures(EVERYTHING, PERIOD)
    whole = services.metrics(EVERYTHING, "all", PERIOD, with_percentiles=False, with_devices=False)[0]
    assert found.summary.metrics == whole.metrics
    assert found.bucket == overview.trend_bucket(PERIOD, whole.metrics["responses"])
    assert found.trend == services.trend(EVERYTHING, "all", "", PERIOD, found.bucket)
    assert found.watermelons == services.watermelons(EVERYTHING, "service", PERIOD)
    assert found.priorities == services.priorities(EVERYTHING, "service", PERIOD)


def test_the_figures_follow_the_facts(answered):  # noqa: F811
    before = overview.figures(EVERYTHING, PERIOD).summary.metrics["happiness"]
    answer("Z1", 10)  # a detractor becomes a promoter
    after = overview.figures(EVERYTHING, PERIOD).summary.metrics["happiness"]
    # Promoters M1, M2 and now Z1; detractors M3 and Z2 (Z1 was one): from -16.7 to +16.7.
    assert (before, after) == (-16.7, 16.7)


def test_nothing_in_the_period_gives_no_summary(db):
    assert overview.figures(EVERYTHING, PERIOD).summary is None


def test_xla_statuses_follow_an_edited_xla_without_a_facts_change(answered, org):  # noqa: F811
    def spec(target):
        indicator = xla.IndicatorSpec(metric="happiness", target=target)
        return xla.XlaSpec(name="E-mail", dimension="service", member=str(org["email"].pk), indicators=(indicator,))

    made = xla.create_xla(EVERYTHING, spec(20))
    assert [line.status for line in overview.xla_lines(EVERYTHING)] == [xla.MET]
    xla.update_xla(EVERYTHING, made.pk, spec(90))
    forget()
    assert [line.status for line in overview.xla_lines(EVERYTHING)] != [xla.MET]
    # The older definition's row is never read again; it goes when the facts next change (prune).
    assert StoredResult.objects.filter(name="overview_xlas").count() == 2
