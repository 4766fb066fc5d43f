"""The demo's proactive campaigns (docs/demo.md, "Campaigns"): three campaigns with their runs, answers and
e-mails, and the laptop pulse's answers following the health of each person's devices."""

from datetime import timedelta

import pytest

from itxm.analytics.periods import Period
from itxm.devices import experience
from itxm.org.scopes import EVERYTHING
from itxm.surveys import services as surveys
from itxm.surveys.campaign_demo import PLANTED_CAMPAIGNS
from itxm.surveys.models import OutboxMessage, OutboxStatus, SurveyKind

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_the_campaigns_have_runs_answers_and_e_mails(demo):
    found = {summary.campaign.name: summary for summary in surveys.campaign_summaries(EVERYTHING)}
    laptops, remote = found[PLANTED_CAMPAIGNS.laptops.name], found[PLANTED_CAMPAIGNS.remote.name]
    upcoming = found[PLANTED_CAMPAIGNS.upcoming.name]
    assert (laptops.runs, remote.runs, upcoming.runs) == (2, 1, 0)
    assert laptops.campaign.next_run_at is not None and upcoming.campaign.next_run_at is not None
    for summary in (laptops, remote):
        assert 30 < summary.results.rate < 45  # 40 % answer, less the bounced and the still open
        assert summary.results.held_back > 0  # the opted-out people of the sample
    sent = OutboxMessage.objects.filter(status=OutboxStatus.SENT).count()
    bounced = OutboxMessage.objects.filter(status=OutboxStatus.BOUNCED).count()
    assert sent > 1000 and 0 < bounced < sent / 20


def test_the_laptop_pulse_scores_follow_the_health_of_peoples_own_devices(demo, demo_end):
    period = Period(demo_end - timedelta(days=30), demo_end + timedelta(days=1))
    found = experience.experience(EVERYTHING, period, experience.Filters(kind=SurveyKind.DEVICES))
    bands = {group.key: group for group in found.by_band}
    good, poor = bands["good"], bands["poor"]
    assert good.judged and poor.judged
    assert good.happiness - poor.happiness > 40
    assert poor.reported_lost_per_answer > 2 * good.reported_lost_per_answer
