"""The demo's proactive campaigns (docs/demo.md, "Campaigns"): a quarterly laptop pulse, a finished
remote-work check and an overall-IT survey scheduled for next week, with their runs, invitations, answers
and e-mails in the outbox.

A step of its own, after the devices: the laptop pulse's last run is answered while the devices have
telemetry, and its answers follow the health of each person's own devices (``PLANTED_CAMPAIGNS``), so
"devices meet experience" has something to find. Answers of the other runs do not depend on the devices.
"""

import json
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.utils.translation import gettext, override

from itxm.demo import DemoContext
from itxm.devices.experience import WINDOW_DAYS
from itxm.devices.models import DeviceHealth
from itxm.org.models import Employee
from itxm.surveys.models import (
    DEFAULT_SCORE_QUESTIONS,
    Campaign,
    CampaignRun,
    CampaignStatus,
    HeldBackReason,
    Invitation,
    InvitationStatus,
    OutboxMessage,
    OutboxStatus,
    Response,
    SurveyKind,
)

ESTIMATED_ROWS = 2 * 2_000  # invitations and e-mails of the three runs, at full size
LOST_CHOICES = (0, 10, 40, 150, 360, 720)
OPEN_DAYS = 14
ANSWER_RATE = 0.4
BOUNCE_RATE = 0.01
FACTORS = {
    SurveyKind.DEVICES: (("fast", "reliable", "right_equipment"), ("slow", "crashes", "battery", "outdated")),
    SurveyKind.REMOTE_WORK: (("vpn", "calls", "access"), ("vpn_problems", "connection", "call_problems", "no_access")),
}


@dataclass(frozen=True)
class CampaignPlan:
    name: str
    kind: str
    runs_days_before_end: tuple[int, ...]  # each run's launch, counted back from the demo's end
    repeat_days: int | None
    sampling_rate: float
    mean_score: float


@dataclass(frozen=True)
class HealthEffect:
    """Answers of the laptop pulse's run inside the telemetry window: each health point above or below
    ``centre`` (the person's devices' mean over the week before answering) moves the score by ``per_point``,
    and every ``points_per_lost_step`` below it moves the lost time one choice up (to at most ``max_below``)."""

    centre: float
    per_point: float
    points_per_lost_step: float
    max_below: float


@dataclass(frozen=True)
class CampaignPatterns:
    laptops: CampaignPlan
    remote: CampaignPlan
    upcoming: CampaignPlan
    upcoming_in_days: int
    health: HealthEffect


PLANTED_CAMPAIGNS = CampaignPatterns(
    laptops=CampaignPlan("Laptops and devices: quarterly pulse", SurveyKind.DEVICES, (111, 21), 90, 0.35, 7.3),
    remote=CampaignPlan("Remote work check", SurveyKind.REMOTE_WORK, (62,), None, 0.25, 6.9),
    upcoming=CampaignPlan("Overall IT experience", SurveyKind.OVERALL, (), None, 0.5, 0.0),
    upcoming_in_days=9,
    health=HealthEffect(centre=85.0, per_point=0.05, points_per_lost_step=20.0, max_below=45.0),
)


def build(ctx: DemoContext) -> dict[str, int]:
    people = list(
        Employee.objects.filter(is_active=True).order_by("pk").values_list("pk", "email", "language", "opted_out")
    )
    if not people:
        return {"campaign runs": 0}
    health = _daily_health_by_person()
    plans = PLANTED_CAMPAIGNS
    counts = {"campaign runs": 0, "campaign invitations": 0, "campaign answers": 0, "e-mails in the outbox": 0}
    for plan in (plans.laptops, plans.remote):
        campaign = _campaign(ctx, plan)
        for days_before in plan.runs_days_before_end:
            found = _run(ctx, campaign, plan, days_before, people, health if plan is plans.laptops else {})
            for key, value in found.items():
                counts[key] += value
    upcoming = ctx.end + timedelta(days=plans.upcoming_in_days, hours=9)
    Campaign.objects.create(
        name=plans.upcoming.name, kind=plans.upcoming.kind, everyone=True, starts_at=upcoming, next_run_at=upcoming,
        sampling_rate=plans.upcoming.sampling_rate, by_link=True, status=CampaignStatus.ACTIVE,
        created_at=ctx.end - timedelta(days=2),
    )  # fmt: skip
    return counts


def _campaign(ctx: DemoContext, plan: CampaignPlan) -> Campaign:
    first = ctx.end - timedelta(days=plan.runs_days_before_end[0], hours=-9)
    last = ctx.end - timedelta(days=plan.runs_days_before_end[-1], hours=-9)
    following = last + timedelta(days=plan.repeat_days) if plan.repeat_days else None
    return Campaign.objects.create(
        name=plan.name, kind=plan.kind, everyone=True, starts_at=first, repeat_days=plan.repeat_days,
        next_run_at=following, sampling_rate=plan.sampling_rate, by_email=True, by_link=True,
        status=CampaignStatus.ACTIVE if following else CampaignStatus.FINISHED, created_at=first - timedelta(days=3),
    )  # fmt: skip


def _run(ctx, campaign: Campaign, plan: CampaignPlan, days_before: int, people, health) -> dict[str, int]:
    rng = ctx.rng
    launched = ctx.end - timedelta(days=days_before, hours=-9)
    closes = launched + timedelta(days=OPEN_DAYS)
    chosen = [people[i] for i in sorted(rng.choice(len(people), round(len(people) * plan.sampling_rate), False))]
    opted_out = sum(1 for person in chosen if person[3])
    run = CampaignRun.objects.create(
        campaign=campaign, scheduled_for=launched, launched_at=launched, closes_at=closes,
        seed=int(rng.integers(2**31)),
        audience=len(people), not_sampled=len(people) - len(chosen), invited=len(chosen) - opted_out,
        held_back={HeldBackReason.OPTED_OUT.value: opted_out} if opted_out else {},
    )  # fmt: skip
    n = len(chosen)
    answers = rng.random(n) < ANSWER_RATE
    delays = np.exp(rng.normal(np.log(6 * 3600), 1.2, n))  # median six hours after the e-mail
    bounced = rng.random(n) < BOUNCE_RATE
    noise, lost_noise, draws = rng.normal(0, 1.4, n), rng.normal(0, 0.7, n), rng.random((n, 2))
    invitations, answered = [], []
    for i, (person, _email, language, opted) in enumerate(chosen):
        sent = launched + timedelta(seconds=20 + i % 600)
        answered_at = sent + timedelta(seconds=float(delays[i]))
        if opted:
            status = InvitationStatus.HELD_BACK
        elif bounced[i]:
            status = InvitationStatus.BOUNCED
        elif answers[i] and answered_at < min(closes, ctx.end):
            status = InvitationStatus.ANSWERED
            answered.append((i, person, language, answered_at))
        else:
            status = InvitationStatus.CLOSED if closes <= ctx.end else InvitationStatus.SENT
        invitations.append(
            (person, run.pk, plan.kind, f"demo-{run.pk}-{person}", language, status,
             HeldBackReason.OPTED_OUT if opted else "", launched, None if opted else sent, None if opted else closes,
             False)
        )  # fmt: skip
    ctx.insert(
        Invitation,
        ("employee_id", "run_id", "kind", "nonce", "language", "status", "held_back_reason", "created_at",
         "sent_at", "closes_at", "via_link"),
        invitations,
    )  # fmt: skip
    invitation_of = dict(Invitation.objects.filter(run=run).values_list("employee_id", "pk"))
    responses = [
        _response(plan, invitation_of[person], language, at, _health_before(health, person, at.date()),
                  noise[i], lost_noise[i], draws[i])
        for i, person, language, at in answered
    ]  # fmt: skip
    ctx.insert(
        Response,
        ("invitation_id", "score", "lost_minutes", "factors", "comment", "language", "answered_at", "updated_at",
         "completed_at", "score_changes", "client_ip", "user_agent"),
        responses,
    )  # fmt: skip
    e_mails = _outbox_rows(plan, run, chosen, invitation_of, bounced, launched)
    ctx.insert(
        OutboxMessage,
        ("invitation_id", "to", "subject", "text", "html", "headers", "message_id", "status", "attempts",
         "next_attempt_at", "created_at", "sent_at", "bounced_at", "last_error", "claim_id"),
        e_mails,
    )  # fmt: skip
    return {"campaign runs": 1, "campaign invitations": n, "campaign answers": len(responses),
            "e-mails in the outbox": len(e_mails)}  # fmt: skip


def _response(plan: CampaignPlan, invitation_id, language, at, health, noise, lost_noise, draws) -> tuple:
    effect = PLANTED_CAMPAIGNS.health
    mood, lost_level = plan.mean_score + noise, 0.8 + lost_noise
    if health is not None:
        difference = max(health - effect.centre, -effect.max_below)
        mood += effect.per_point * difference
        lost_level += max(-difference, 0) / effect.points_per_lost_step
    score = int(np.clip(np.rint(mood), 0, 10))
    lost = LOST_CHOICES[int(np.clip(np.rint(lost_level), 0, len(LOST_CHOICES) - 1))]
    positive, negative = FACTORS[plan.kind]
    factors = []
    if score >= 7:
        factors.append(positive[int(draws[0] * len(positive))])
    if score <= 8:
        weak = negative[:2] if health is not None and health < effect.centre else negative
        factors.append(weak[int(draws[1] * len(weak))])
    if score >= 9:
        factors = factors[:1]
    return (invitation_id, score, lost, json.dumps(factors), "", language, at, at, at, 0, None, "")


def _outbox_rows(plan, run, chosen, invitation_of, bounced, launched) -> list[tuple]:
    rows = []
    subjects = {}
    for i, (person, email, language, opted) in enumerate(chosen):
        if opted:
            continue
        if language not in subjects:
            with override(language):
                subjects[language] = gettext(DEFAULT_SCORE_QUESTIONS[plan.kind])
        sent = launched + timedelta(seconds=20 + i % 600)
        status = OutboxStatus.BOUNCED if bounced[i] else OutboxStatus.SENT
        rows.append(
            (invitation_of[person], email, subjects[language],
             f"{subjects[language]}\n\n{plan.name}: one click in this e-mail answers it.", "", "{}",
             f"<demo-{run.pk}-{person}@itxm.invalid>", status, 1, sent, launched, sent,
             sent + timedelta(minutes=3) if bounced[i] else None,
             "550 5.1.1 mailbox unavailable" if bounced[i] else "", "")
        )  # fmt: skip
    return rows


def _daily_health_by_person() -> dict[int, dict]:
    """person → day → mean health of their devices that day."""
    found: dict[int, dict] = {}
    rows = DeviceHealth.objects.filter(device__primary_user__isnull=False).values_list(
        "device__primary_user_id", "day", "score"
    )
    for person, day, score in rows:
        found.setdefault(person, {}).setdefault(day, []).append(score)
    return {person: {day: sum(s) / len(s) for day, s in days.items()} for person, days in found.items()}


def _health_before(health: dict, person: int, day) -> float | None:
    days = health.get(person, {})
    scores = [days[d] for k in range(1, WINDOW_DAYS + 1) if (d := day - timedelta(days=k)) in days]
    return sum(scores) / len(scores) if scores else None
