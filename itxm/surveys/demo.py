"""Survey answers for the demo's resolved tickets, drawn in bulk with numpy (docs/surveys.md, "Demo data").

Who answers: about a quarter of the people asked. What they answer follows the ticket's journey:
reassignments, ping-pong, reopenings and an e-mail-only contact lower the score and raise the work time
lost, and the factors ticked fit the score. Planted on purpose (``PLANTED_SURVEYS``): the watermelon
service's unhappy callers and one service-desk agent who solicits 10s.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from itxm.demo import DemoContext, delete_all
from itxm.org.models import Agent, Employee
from itxm.surveys.models import (
    Campaign,
    CampaignRun,
    HeldBackReason,
    Invitation,
    InvitationStatus,
    OutboxMessage,
    Response,
    SurveyKind,
)
from itxm.tickets.models import Channel, Ticket, TicketState

ESTIMATED_ROWS = 31_000 + 7_000  # invitations and responses
LOST_CHOICES = (0, 10, 40, 150, 360, 720)
ANSWER_RATE = 0.26
FATIGUE_DAYS = 7
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
POSITIVE = {
    SurveyKind.INCIDENT: ("fast", "first_time", "clear_communication", "kept_informed", "friendly", "skilled"),
    SurveyKind.REQUEST: ("fast", "easy_to_ask", "clear_communication", "got_what_i_needed"),
}


@dataclass(frozen=True)
class SolicitingAgent:
    """The busiest agent of ``group`` asks callers for a 10 (or clicks it for them) from the last
    ``days`` before the end: most of their surveys answered, nearly all 10s, within seconds of the
    resolution, from the agent's own desk at ``ip``."""

    group: str
    days: int
    answer_rate: float
    tens_share: float
    ip: str


@dataclass(frozen=True)
class SurveyPatterns:
    soliciting: SolicitingAgent
    watermelon_service: str
    watermelon_score_penalty: float
    watermelon_extra_lost: float


PLANTED_SURVEYS = SurveyPatterns(
    soliciting=SolicitingAgent(group="GRP-SD-TR", days=100, answer_rate=0.85, tens_share=0.92, ip="10.40.12.77"),
    watermelon_service="SVC-ERP",
    watermelon_score_penalty=1.5,
    watermelon_extra_lost=1.0,
)


def soliciting_agent_id(end) -> int | None:
    """The planted agent: the one of the group with the most resolutions in the soliciting window."""
    spec = PLANTED_SURVEYS.soliciting
    since = end - timedelta(days=spec.days)
    counts: dict[int, int] = {}
    for agent_id in Ticket.objects.filter(
        source="demo", group__external_id=spec.group, resolved_at__gte=since, assignee__isnull=False
    ).values_list("assignee_id", flat=True):
        counts[agent_id] = counts.get(agent_id, 0) + 1
    return min(counts, key=lambda a: (-counts[a], a)) if counts else None


def existing_data() -> list[str]:
    return ["survey invitations"] if Invitation.objects.exists() or Campaign.objects.exists() else []


def reset() -> None:
    delete_all(OutboxMessage)
    delete_all(Response)
    delete_all(Invitation)
    CampaignRun.objects.all().delete()
    Campaign.objects.all().delete()


def build(ctx: DemoContext) -> dict[str, int]:
    rng = ctx.rng
    rows = list(
        Ticket.objects.filter(
            source="demo", state__in=(TicketState.RESOLVED, TicketState.CLOSED), caller__isnull=False
        )
        .order_by("resolved_at", "pk")
        .values_list(
            "pk", "kind", "resolved_at", "caller_id", "assignee_id", "service__external_id",
            "reassignment_count", "reopen_count", "ping_pongs", "channel",
        )
    )  # fmt: skip
    if not rows:
        return {"survey invitations": 0, "survey responses": 0}
    people = {pk: (opted, lang) for pk, opted, lang in Employee.objects.values_list("pk", "opted_out", "language")}
    solicitor = soliciting_agent_id(ctx.end)
    solicit_from = ctx.end - timedelta(days=PLANTED_SURVEYS.soliciting.days)
    n = len(rows)
    (pks, kinds, resolved, callers, agents, services, reassignments, reopens, ping_pongs, channels) = zip(
        *rows, strict=True
    )
    reassign = np.array(reassignments, dtype=float)
    reopen = np.array(reopens, dtype=float)
    pong = np.array(ping_pongs, dtype=float)
    watermelon = np.array([s == PLANTED_SURVEYS.watermelon_service for s in services])
    by_email = np.array([c == Channel.EMAIL for c in channels])
    solicited = np.array([a == solicitor and r >= solicit_from for a, r in zip(agents, resolved, strict=True)])

    # Scores and lost time follow the journey; the noise is wide, as real answers are.
    mood = (
        8.8
        - 0.5 * np.maximum(reassign - 1, 0)
        - 1.7 * np.minimum(reopen, 2)
        - 1.1 * np.minimum(pong, 3)
        - 0.3 * by_email
        - PLANTED_SURVEYS.watermelon_score_penalty * watermelon
        + rng.normal(0, 1.6, n)
    )
    scores = np.clip(np.rint(mood), 0, 10).astype(int)
    lost_level = (
        0.7
        + 0.5 * reassign
        + 1.3 * np.minimum(reopen, 2)
        + 0.7 * np.minimum(pong, 3)
        + PLANTED_SURVEYS.watermelon_extra_lost * watermelon
        + rng.normal(0, 0.8, n)
    )
    lost_index = np.clip(np.rint(lost_level), 0, len(LOST_CHOICES) - 1).astype(int)
    answers = rng.random(n) < ANSWER_RATE + 0.04 * (reopen > 0)
    completes = rng.random(n) < 0.7
    delay_seconds = np.exp(rng.normal(np.log(2 * 3600), 1.3, n))  # median two hours after the e-mail
    mobile = rng.random(n) < 0.15
    agent_choice = rng.integers(0, len(USER_AGENTS), n)
    factor_draws = rng.random((n, 3))
    spec = PLANTED_SURVEYS.soliciting
    solicit_answers = rng.random(n) < spec.answer_rate
    solicit_tens = rng.random(n) < spec.tens_share
    solicit_delay = rng.uniform(15, 70, n)

    last_invited: dict[tuple[int, str], object] = {}
    invitation_rows, answered_rows = [], []
    for i in range(n):
        resolved_at, caller, kind = resolved[i], callers[i], kinds[i]
        opted, language = people.get(caller, (False, "en"))
        created = resolved_at + timedelta(seconds=30)
        previous = last_invited.get((caller, kind))
        reason = ""
        if opted:
            reason = HeldBackReason.OPTED_OUT
        elif previous is not None and created - previous < timedelta(days=FATIGUE_DAYS):
            reason = HeldBackReason.FATIGUE
        if reason:
            invitation_rows.append(
                (pks[i], caller, kind, resolved_at, secrets.token_urlsafe(12), language,
                 InvitationStatus.HELD_BACK, reason, created, None, None, False)
            )  # fmt: skip
            continue
        last_invited[(caller, kind)] = created
        sent = created + timedelta(seconds=15)
        closes = sent + timedelta(days=14)
        if solicited[i]:
            answered = bool(solicit_answers[i])
            answered_at = sent + timedelta(seconds=float(solicit_delay[i]))
        else:
            answered = bool(answers[i])
            answered_at = sent + timedelta(seconds=float(min(delay_seconds[i], 13 * 86400)))
        if answered and answered_at > ctx.end:
            answered = False
        status = (
            InvitationStatus.ANSWERED
            if answered
            else InvitationStatus.CLOSED
            if closes <= ctx.end
            else InvitationStatus.SENT
        )
        invitation_rows.append(
            (pks[i], caller, kind, resolved_at, secrets.token_urlsafe(12), language, status, "", created, sent,
             closes, False)
        )  # fmt: skip
        if answered:
            answered_rows.append((i, answered_at, language))

    written = ctx.insert(
        Invitation,
        ("ticket_id", "employee_id", "kind", "resolution_at", "nonce", "language", "status", "held_back_reason",
         "created_at", "sent_at", "closes_at", "via_link"),
        invitation_rows,
    )  # fmt: skip
    invitation_of = dict(Invitation.objects.filter(ticket__isnull=False).values_list("ticket_id", "pk"))
    response_rows = []
    for i, answered_at, language in answered_rows:
        caller, kind = callers[i], kinds[i]
        if solicited[i]:
            score = 10 if solicit_tens[i] else 9
            lost = 0 if factor_draws[i, 0] < 0.7 else 10
            factors = ["friendly", "fast"] if kind == SurveyKind.INCIDENT else ["fast"]
            ip, complete = spec.ip, True
        else:
            score = int(scores[i])
            lost = LOST_CHOICES[lost_index[i]]
            factors = _factors(kind, score, reassign[i], reopen[i], pong[i], lost, factor_draws[i])
            ip = _mobile_ip(pks[i]) if mobile[i] else _desk_ip(caller)
            complete = bool(completes[i])
        response_rows.append(
            (invitation_of[pks[i]], score, lost if complete else None, json.dumps(factors if complete else []), "",
             language, answered_at, answered_at, answered_at if complete else None, 0, ip,
             USER_AGENTS[agent_choice[i]])
        )  # fmt: skip
    answered_count = ctx.insert(
        Response,
        ("invitation_id", "score", "lost_minutes", "factors", "comment", "language", "answered_at", "updated_at",
         "completed_at", "score_changes", "client_ip", "user_agent"),
        response_rows,
    )  # fmt: skip
    if solicitor is not None:
        agent = Agent.objects.filter(pk=solicitor).values_list("external_id", "name").first()
        ctx.ids["soliciting_agent"] = agent
    return {"survey invitations": written, "survey responses": answered_count}


def _factors(kind, score, reassign, reopen, pong, lost, draws) -> list[str]:
    negative = []
    if reassign >= 2 or pong > 0:
        negative.append("passed_around")
    if reopen > 0:
        negative.append("not_fixed" if kind == SurveyKind.INCIDENT else "incomplete")
    if lost >= 150 or draws[0] < 0.3:
        negative.append("slow")
    if draws[1] < 0.25:
        negative.append("no_updates")
    positive = POSITIVE.get(kind, POSITIVE[SurveyKind.INCIDENT])
    chosen = [positive[int(draws[2] * len(positive))]]
    if draws[1] > 0.6:
        chosen.append(positive[int(draws[0] * len(positive))])
    if score >= 9:
        return list(dict.fromkeys(chosen))
    if score <= 6:
        return negative[:3] or ["slow"]
    return list(dict.fromkeys(chosen[:1] + negative[:1]))


def _desk_ip(employee_id: int) -> str:
    """Each employee answers from their own laptop's address in the company network."""
    return f"10.{(employee_id // 62500) % 250 + 1}.{(employee_id // 250) % 250}.{employee_id % 250 + 1}"


def _mobile_ip(ticket_id: int) -> str:
    return f"100.{64 + ticket_id % 64}.{(ticket_id // 64) % 256}.{(ticket_id * 7) % 254 + 1}"
