"""On a small demo, the planted soliciting agent is flagged with its evidence, and no honest agent is."""

from datetime import date, timedelta

import pytest

import itxm.demo
from itxm.demo import build_demo, window
from itxm.org.scopes import EVERYTHING
from itxm.surveys import services
from itxm.surveys.demo import soliciting_agent_id
from itxm.surveys.gaming import FAST_ANSWERS, SAME_NETWORK
from itxm.surveys.models import Response

END = date(2025, 6, 30)
STEP = "itxm.surveys.demo.build"


@pytest.fixture
def demo(monkeypatch, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if STEP not in itxm.demo.STEPS:
        steps = list(itxm.demo.STEPS)
        steps.insert(steps.index("itxm.tickets.demo.build") + 1, STEP)
        monkeypatch.setattr(itxm.demo, "STEPS", steps)
    return build_demo(seed=11, end=END, scale=0.1)


@pytest.mark.django_db
def test_only_the_soliciting_agent_is_flagged_with_its_evidence(demo):
    _start, end = window(END)
    solicitor = soliciting_agent_id(end)
    warnings = services.gaming_warnings(EVERYTHING, end - timedelta(days=90), end)
    flagged = {w.subject_id for w in warnings}
    assert flagged == {solicitor}
    signals = {w.signal for w in warnings}
    assert {FAST_ANSWERS, SAME_NETWORK} <= signals
    for warning in warnings:
        assert warning.examples and warning.evidence["period"]


@pytest.mark.django_db
def test_demo_answers_look_like_real_ones(demo):
    assert 0.18 < demo.counts["survey responses"] / demo.counts["survey invitations"] < 0.35
    erp = list(
        Response.objects.filter(invitation__ticket__service__external_id="SVC-ERP").values_list("score", flat=True)
    )
    rest = list(
        Response.objects.exclude(invitation__ticket__service__external_id="SVC-ERP").values_list("score", flat=True)
    )
    assert sum(erp) / len(erp) < sum(rest) / len(rest) - 1.5
