"""Survey operations the ingestion hook, the public pages, the API and the worker call.

Plain data in and out: ids, tokens and dataclasses, never a request.
"""

import fcntl
import json
import os
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.urls import reverse
from django.utils import timezone

from itxm.org.models import Employee, Language
from itxm.org.scopes import Permission, Scope
from itxm.surveys import campaigns, config, fatigue, gaming, gaming_results, outbox, queries
from itxm.surveys.emails import compose_invitation, ticket_label
from itxm.surveys.models import (
    CampaignRun,
    Factor,
    Invitation,
    InvitationStatus,
    LostTimeChoice,
    Response,
    SurveyKind,
    SurveyTemplate,
    polarities_for,
)
from itxm.surveys.signals import invitations_changed
from itxm.surveys.tokens import (
    BadToken,
    ExpiredToken,
    TokenError,
    UnknownInvitation,
    read_answer_token,
    read_unsubscribe_token,
)
from itxm.tickets.models import Ticket, TicketKind, TicketState

__all__ = ["BadToken", "ExpiredToken", "TokenError", "UnknownInvitation", "SurveyClosed", "InvalidAnswer"]

RESOLVED_STATES = (TicketState.RESOLVED, TicketState.CLOSED)
MAX_COMMENT = 4000


class SurveyClosed(TokenError):
    """The survey no longer takes answers."""


class InvalidAnswer(ValueError):
    """An answer out of range (a score of 11, an unknown lost-time choice)."""


# Reasons counted without storing an invitation: nobody to hold back, or nothing new to ask about.
SKIP_NO_CALLER = "no_caller"
SKIP_NOT_RESOLVED = "not_resolved"
SKIP_TOO_OLD = "too_old"
SKIP_ALREADY_INVITED = "already_invited"


@dataclass
class InvitationReport:
    created: int = 0
    held_back: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    invitation_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "held_back": dict(self.held_back), "skipped": dict(self.skipped)}


def survey_kind_for(ticket: Ticket) -> str:
    return SurveyKind.REQUEST if ticket.kind == TicketKind.REQUEST else SurveyKind.INCIDENT


def template_for(kind: str) -> SurveyTemplate:
    template = SurveyTemplate.objects.filter(kind=kind).first()
    return template or SurveyTemplate(kind=kind)


INVITE_BATCH = 2000  # tickets whose invitations are decided and stored together


def invite_for_resolutions(ticket_ids, now: datetime | None = None) -> InvitationReport:
    """Invite the caller of each newly resolved ticket, at most once per resolution, within the rules.

    Safe to call twice with the same ids: a resolution already invited (or held back) is skipped.
    Tickets go in batches, in the order they were resolved: one query reads a batch's tickets, one which
    resolutions are invited already, one the fatigue ledger of their callers, and the invitations and
    their e-mails are written together.
    """
    now = now or timezone.now()
    report = InvitationReport()
    rules = fatigue.active_rules()
    templates: dict[str, SurveyTemplate] = {}
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), INVITE_BATCH):
        tickets = _invitable(ids[start : start + INVITE_BATCH], now, report)
        if tickets:
            _invite_batch(tickets, now, rules, templates, report)
    return report


def _invitable(ticket_ids: list[int], now: datetime, report: InvitationReport) -> list[Ticket]:
    oldest, newest = now - config.max_resolution_age(), now + config.lease()
    tickets = Ticket.objects.filter(pk__in=ticket_ids).select_related("caller").order_by("resolved_at", "pk")
    candidates = []
    for ticket in tickets:
        if ticket.state not in RESOLVED_STATES or ticket.resolved_at is None:
            report.skipped[SKIP_NOT_RESOLVED] += 1
        elif ticket.resolved_at < oldest or ticket.resolved_at > newest:
            report.skipped[SKIP_TOO_OLD] += 1
        elif ticket.caller is None:
            report.skipped[SKIP_NO_CALLER] += 1
        else:
            candidates.append(ticket)
    asked = set(
        Invitation.objects.filter(ticket_id__in=[t.pk for t in candidates]).values_list("ticket_id", "resolution_at")
    )
    fresh = [ticket for ticket in candidates if (ticket.pk, ticket.resolved_at) not in asked]
    if len(fresh) < len(candidates):
        report.skipped[SKIP_ALREADY_INVITED] += len(candidates) - len(fresh)
    return fresh


def _invite_batch(tickets: list[Ticket], now: datetime, rules: dict, templates: dict, report: InvitationReport) -> None:
    ledger = fatigue.Ledger([ticket.caller_id for ticket in tickets], now, rules)
    invitations = []
    for ticket in tickets:
        kind = survey_kind_for(ticket)
        reason = ledger.reason(ticket.caller, kind)
        if not reason:
            ledger.record(ticket.caller_id, kind, now)
        invitations.append(_invitation(ticket, kind, reason, now))
    try:
        with transaction.atomic():
            Invitation.objects.bulk_create(invitations)
            emails = [
                (invitation, compose_invitation(invitation, _template(templates, invitation.kind)))
                for invitation in invitations
                if invitation.status == InvitationStatus.QUEUED
            ]
            outbox.enqueue_many(emails, now)
    except IntegrityError:  # another process invited one of these resolutions a moment ago: one at a time
        for ticket in tickets:
            _invite_one(ticket, now, rules, report)
        return
    for invitation in invitations:
        if invitation.held_back_reason:
            report.held_back[invitation.held_back_reason] += 1
        else:
            report.created += 1
            report.invitation_ids.append(invitation.pk)


def _template(templates: dict, kind: str) -> SurveyTemplate:
    if kind not in templates:
        templates[kind] = template_for(kind)
    return templates[kind]


def _invitation(ticket: Ticket, kind: str, reason: str | None, now: datetime) -> Invitation:
    return Invitation.decided(
        ticket.caller, kind, reason, now, now + config.open_period(), ticket=ticket, resolution_at=ticket.resolved_at
    )


def _invite_one(ticket: Ticket, now: datetime, rules: dict, report: InvitationReport) -> None:
    if Invitation.objects.filter(ticket=ticket, resolution_at=ticket.resolved_at).exists():
        report.skipped[SKIP_ALREADY_INVITED] += 1
        return
    kind = survey_kind_for(ticket)
    reason = fatigue.hold_back_reason(ticket.caller, kind, now, rules)
    try:
        with transaction.atomic():
            invitation = _invitation(ticket, kind, reason, now)
            invitation.save()
            if not reason:
                outbox.enqueue(invitation, compose_invitation(invitation, template_for(kind)), now)
    except IntegrityError:  # another process invited this resolution a moment ago
        report.skipped[SKIP_ALREADY_INVITED] += 1
        return
    if reason:
        report.held_back[reason] += 1
    else:
        report.created += 1
        report.invitation_ids.append(invitation.pk)


# --- answering ---


def open_invitation(token: str, now: datetime | None = None, *, must_be_open: bool = True) -> Invitation:
    """The invitation a link names; ``BadToken``, ``ExpiredToken``, ``UnknownInvitation`` or ``SurveyClosed``."""
    invitation_id, nonce = read_answer_token(token)
    try:
        invitation = Invitation.objects.select_related("ticket", "employee").get(pk=invitation_id, nonce=nonce)
    except Invitation.DoesNotExist:
        raise UnknownInvitation(f"no invitation {invitation_id}") from None
    if must_be_open and not invitation.is_open(now):
        raise SurveyClosed(f"invitation {invitation_id} is closed")
    return invitation


def _check_score(score) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidAnswer("a score is a whole number from 0 to 10")
    return score


# The few statements a one-click answer runs; {i[...]} and {r[...]} are the invitation's and the response's
# quoted table and column names. A click is the busiest write of the product (every button in every e-mail
# leads here), and compiling the same ORM queries on every click cost more than running them: the select of
# the invitation with its ticket and employee alone took half of the request. Plain SQL, run as is by SQLite
# and PostgreSQL, with the values adapted by the model fields.
CLICK_SQL = {
    "invitation": "SELECT {i[kind]}, {i[language]}, {i[status]}, {i[closes_at]} IS NULL OR {i[closes_at]} > %s "
    "FROM {i[table]} WHERE {i[id]} = %s AND {i[nonce]} = %s",
    "response": "SELECT {r[id]}, {r[score]}, {r[factors]} FROM {r[table]} WHERE {r[invitation]} = %s",
    "insert": "INSERT INTO {r[table]} ({r[invitation]}, {r[score]}, {r[factors]}, {r[comment]}, {r[language]}, "
    "{r[answered_at]}, {r[updated_at]}, {r[score_changes]}, {r[client_ip]}, {r[user_agent]}) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT ({r[invitation]}) DO NOTHING",
    "update": "UPDATE {r[table]} SET {r[score]} = %s, {r[updated_at]} = %s, "
    "{r[score_changes]} = {r[score_changes]} + %s WHERE {r[id]} = %s",
    "update_factors": "UPDATE {r[table]} SET {r[factors]} = %s WHERE {r[id]} = %s",
    "answered": "UPDATE {i[table]} SET {i[status]} = %s WHERE {i[id]} = %s AND {i[status]} <> %s",
}


class _ClickStatements:
    """``CLICK_SQL`` written out for one database connection."""

    def __init__(self, connection):
        quote = connection.ops.quote_name

        def names(meta) -> dict[str, str]:
            return {f.name: quote(f.column) for f in meta.concrete_fields} | {"table": quote(meta.db_table)}

        invitation, response = names(Invitation._meta), names(Response._meta)
        for name, template in CLICK_SQL.items():
            setattr(self, name, template.format(i=invitation, r=response))
        self.factors = Response._meta.get_field("factors")
        self.no_factors = self.factors.get_db_prep_save([], connection)


_statements: dict[str, _ClickStatements] = {}


def _click_statements(connection) -> _ClickStatements:
    if connection.alias not in _statements:
        _statements[connection.alias] = _ClickStatements(connection)
    return _statements[connection.alias]


class _WriteTurns:
    """On SQLite, one-click answers take turns at the database's single write lock through a lock file.

    SQLite lets one writer in at a time and others retry after sleeping 1, 2, 5, 10… ms (its busy handler):
    under a burst of clicks a writer could sleep many times longer than the writes it waited for took,
    which made the slowest clicks slow. A lock file (and a thread lock in each process) queues them
    instead, woken as soon as the one before is done. Other writers still meet SQLite's own lock as before.
    """

    def __init__(self):
        self._thread_lock = threading.Lock()
        self._files: dict[tuple[int, str], int] = {}  # (process, database) → open lock file

    @contextmanager
    def __call__(self, connection):
        database = str(connection.settings_dict["NAME"])
        if connection.vendor != "sqlite" or connection.is_in_memory_db():
            yield
            return
        with self._thread_lock:
            key = (os.getpid(), database)  # a forked process needs its own open file: flock is per open file
            if key not in self._files:
                self._files[key] = os.open(f"{database}-answers.lock", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._files[key], fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._files[key], fcntl.LOCK_UN)


_write_turn = _WriteTurns()


def answer_score(
    token: str, score: int, ip: str | None = None, user_agent: str = "", language: str | None = None, now=None
) -> int:
    """The one-click answer: the first click makes the response, later clicks change its score.

    Returns the invitation's id. Raises ``BadToken``, ``ExpiredToken``, ``UnknownInvitation``,
    ``SurveyClosed`` or ``InvalidAnswer``. The client's address and agent are kept with the first answer
    (the gaming signals read them); the invitation becomes answered and analytics is told.
    """
    now = now or timezone.now()
    score = _check_score(score)
    invitation_id, nonce = read_answer_token(token)
    connection = connections[DEFAULT_DB_ALIAS]
    sql = _click_statements(connection)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql.invitation, [stamp, invitation_id, nonce])
        row = cursor.fetchone()
        if row is None:
            raise UnknownInvitation(f"no invitation {invitation_id}")
        kind, invitation_language, status, is_open = row
        if not is_open or status in (InvitationStatus.CLOSED, InvitationStatus.HELD_BACK):
            raise SurveyClosed(f"invitation {invitation_id} is closed")
        with _write_turn(connection), transaction.atomic():
            cursor.execute(sql.response, [invitation_id])
            found = cursor.fetchone()
            if found is None:
                language = language if language in Language.values else invitation_language
                cursor.execute(
                    sql.insert,
                    [invitation_id, score, sql.no_factors, "", language, stamp, stamp, 0, ip or None,
                     (user_agent or "")[:300]],
                )  # fmt: skip
                if cursor.rowcount != 1:  # a simultaneous click (another process) made it a moment ago
                    cursor.execute(sql.response, [invitation_id])
                    found = cursor.fetchone()
            if found is not None:
                response_id, previous, factors = found
                cursor.execute(sql.update, [score, stamp, int(previous != score), response_id])
                factors = json.loads(factors) if isinstance(factors, str) else factors
                if factors and previous != score:
                    kept = _factors_for_score(factors, kind, score)
                    if kept != factors:
                        cursor.execute(
                            sql.update_factors, [sql.factors.get_db_prep_save(kept, connection), response_id]
                        )
            if status != InvitationStatus.ANSWERED:
                cursor.execute(sql.answered, [InvitationStatus.ANSWERED, invitation_id, InvitationStatus.ANSWERED])
            invitations_changed.send(sender=Invitation, invitation_ids=[invitation_id])
    return invitation_id


def record_score(
    token: str, score: int, ip: str | None = None, user_agent: str = "", language: str | None = None, now=None
) -> Response:
    """``answer_score``, returning the stored response (with its invitation)."""
    invitation_id = answer_score(token, score, ip, user_agent, language, now)
    return Response.objects.select_related("invitation").get(invitation_id=invitation_id)


def complete(
    token: str,
    score: int,
    lost_minutes: int | None,
    factors: list[str],
    comment: str,
    language: str | None = None,
    ip: str | None = None,
    user_agent: str = "",
    now=None,
) -> Response:
    """The rest of the survey (and the score, which the page lets people change)."""
    now = now or timezone.now()
    response = record_score(token, score, ip, user_agent, language, now)
    invitation = response.invitation
    if lost_minutes is not None and not LostTimeChoice.objects.filter(minutes=lost_minutes, is_active=True).exists():
        raise InvalidAnswer("not one of the lost-time choices")
    response.lost_minutes = lost_minutes
    response.factors = _factors_for_score(factors, invitation.kind, response.score)
    response.comment = (comment or "").strip()[:MAX_COMMENT]
    response.language = _language(language, invitation)
    response.completed_at = response.updated_at = now
    response.save(update_fields=["lost_minutes", "factors", "comment", "language", "completed_at", "updated_at"])
    invitations_changed.send(sender=Invitation, invitation_ids=[invitation.pk])
    return response


def _language(language: str | None, invitation: Invitation) -> str:
    return language if language in Language.values else invitation.language


def _factors_for_score(keys, kind: str, score: int) -> list[str]:
    """Only factors of this survey kind that the score shows (a 10 keeps no complaints)."""
    wanted = [key for key in dict.fromkeys(keys or []) if isinstance(key, str)]
    allowed = set(
        Factor.objects.filter(
            kind=kind, is_active=True, polarity__in=polarities_for(score), key__in=wanted
        ).values_list("key", flat=True)
    )
    return [key for key in wanted if key in allowed]


# --- the survey page ---


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    polarity: str = ""


@dataclass(frozen=True)
class SurveyPage:
    token: str
    language: str
    kind: str
    question: str
    lost_time_question: str
    comment_question: str
    ask_lost_time: bool
    ask_factors: bool
    ask_comment: bool
    score: int | None
    lost_minutes: int | None
    selected_factors: tuple[str, ...]
    comment: str
    lost_time_choices: tuple[Choice, ...]
    factors: tuple[Choice, ...]
    shown_polarities: tuple[str, ...]
    completed: bool
    closes_at: datetime | None


def survey_page(token: str, language: str | None = None, now=None) -> SurveyPage:
    invitation = open_invitation(token, now)
    response = Response.objects.filter(invitation=invitation).first()
    language = language if language in Language.values else (response.language if response else invitation.language)
    template = template_for(invitation.kind)
    score = response.score if response else None
    return SurveyPage(
        token=token,
        language=language,
        kind=invitation.kind,
        question=template.text("score_question", language) % {"ticket": ticket_label(invitation)},
        lost_time_question=template.text("lost_time_question", language),
        comment_question=template.text("comment_question", language),
        ask_lost_time=template.ask_lost_time,
        ask_factors=template.ask_factors,
        ask_comment=template.ask_comment,
        score=score,
        lost_minutes=response.lost_minutes if response else None,
        selected_factors=tuple(response.factors) if response else (),
        comment=response.comment if response else "",
        lost_time_choices=tuple(
            Choice(str(c.minutes), c.label(language)) for c in LostTimeChoice.objects.filter(is_active=True)
        ),
        factors=tuple(
            Choice(f.key, f.label(language), f.polarity)
            for f in Factor.objects.filter(kind=invitation.kind, is_active=True)
        ),
        # Before a score is chosen (no click yet) both lists are shown: the page must work without JavaScript.
        shown_polarities=polarities_for(score) if score is not None else polarities_for(7),
        completed=bool(response and response.completed_at),
        closes_at=invitation.closes_at,
    )


# --- unsubscribing ---


@dataclass(frozen=True)
class Subscriber:
    employee_id: int
    language: str
    opted_out: bool


def subscriber(token: str) -> Subscriber:
    employee = Employee.objects.filter(pk=read_unsubscribe_token(token)).first()
    if employee is None:
        raise UnknownInvitation("no such employee")
    return Subscriber(employee.pk, employee.language, employee.opted_out)


def unsubscribe(token: str) -> Subscriber:
    """Opt the link's employee out of every survey; invitations already queued are held back."""
    found = subscriber(token)
    with transaction.atomic():
        Employee.objects.filter(pk=found.employee_id).update(opted_out=True)
        outbox.cancel_for_employee(found.employee_id)
    return Subscriber(found.employee_id, found.language, True)


# --- the mail system's word ---


def record_bounce(scope: Scope, message_id: str, reason: str = "") -> bool:
    """A bounce reported for a message (by its Message-ID); ``False`` when no such message was sent."""
    scope.require(Permission.IMPORT)
    return outbox.record_bounce(message_id, reason)


# --- gaming signals ---

GAMING_PERIOD_DAYS = 90
GAMING_BASELINE_DAYS = gaming.BASELINE_DAYS


def gaming_warnings(scope: Scope, start: datetime, end: datetime, by: str = "agent") -> list[gaming.GamingWarning]:
    """Warnings for [start, end), compared with the 180 days before and with all peers.

    Computed over the whole organisation (peers are everyone), then narrowed to what the scope may see: a
    supplier sees warnings about its own groups and their agents; a service owner none (agents are not a
    service's data).
    """
    return gaming_signals(scope, start, end)[by]


# --- campaigns ---


def create_campaign(scope: Scope, spec: campaigns.CampaignSpec):
    return campaigns.create_campaign(scope, spec)


def campaign_link(scope: Scope, run_id: int) -> str:
    """The shareable link's path of one run (admins only: whoever has it can answer)."""
    scope.require(Permission.MANAGE_REFERENCE)
    run = CampaignRun.objects.select_related("campaign").get(pk=run_id, campaign__by_link=True)
    return reverse("surveys:campaign_link", args=[campaigns.link_token(run)])


# --- reads for the survey pages ---


@dataclass(frozen=True)
class ResponseOverview:
    """What became of the invitations made in a period: totals, per service, group, agent and campaign,
    per week or month, held back by survey kind and reason, the fatigue rules, and the outbox's word."""

    totals: queries.PeriodRate
    rates: dict[str, list[queries.PeriodRate]]
    trend: list[queries.PeriodRate]  # per bucket asked for, in order
    held_back: dict[tuple[str, str], int]
    rules: list
    outbox: dict[str, int]
    problems: list[dict]


def response_overview(scope: Scope, start: datetime, end: datetime, service: int | None = None,
                      group: int | None = None, buckets=()) -> ResponseOverview:  # fmt: skip
    """``buckets``: (start, end) datetimes splitting the period (weeks, months) for the trend."""
    scope.require(Permission.VIEW_DATA)
    buckets = tuple(buckets)

    def count():
        return (
            queries.outcome_slices(scope, start, end, service, group),
            queries.outcomes_by_bucket(scope, start, end, list(buckets), service, group),
            queries.held_back_between(scope, start, end, service, group),
        )

    slices, trend, held_back = _remembered(
        "response_overview", (_scope_key(scope), start, end, service, group, buckets), count
    )
    narrowed = service is not None or group is not None
    return ResponseOverview(
        totals=queries.total_of(slices),
        rates={by: queries.roll_up(slices, by) for by in queries.SLICE_KEYS},  # names read afresh
        trend=trend,
        held_back=held_back,
        rules=queries.fatigue_rules(),
        # The outbox knows nothing of services and groups: narrowed pages leave it out.
        outbox={} if narrowed else queries.outbox_between(scope, start, end),
        problems=[] if narrowed else queries.outbox_problems(scope, start, end),
    )


def may_manage_campaigns(scope: Scope) -> bool:
    """Creating campaigns and reading their shareable links is for those who manage reference data."""
    return scope.allows(Permission.MANAGE_REFERENCE)


def may_read_people(scope: Scope) -> bool:
    """What a mail server said about a bounce often names the person: only for readers of people's data."""
    return scope.allows(Permission.VIEW_PEOPLE)


@dataclass(frozen=True)
class CampaignSummary:
    campaign: object  # a Campaign, with its departments and locations
    runs: int
    last_run: datetime | None
    results: queries.PeriodRate


def campaign_summaries(scope: Scope) -> list[CampaignSummary]:
    """Every campaign the reader may see, newest first, with what its runs brought."""
    scope.require(Permission.VIEW_DATA)
    found = list(queries.campaigns(scope))
    ids = [c.pk for c in found]
    totals = queries.campaign_totals(scope, ids) if ids else {}
    runs = queries.campaign_run_counts(scope, ids) if ids else {}
    empty = queries.PeriodRate(None, "", 0, 0, 0, 0, 0)
    return [
        CampaignSummary(c, *runs.get(c.pk, (0, None)), totals.get(c.pk, empty))
        for c in found
    ]  # fmt: skip


@dataclass(frozen=True)
class RunSummary:
    run: CampaignRun
    results: queries.PeriodRate
    link: str  # the shareable link's path, for readers who may hand it out and while the run is open


@dataclass(frozen=True)
class CampaignDetail:
    summary: CampaignSummary
    runs: list[RunSummary]
    scores: dict[int, int]


def campaign_detail(
    scope: Scope, campaign_id: int, now: datetime | None = None, with_links: bool = True
) -> CampaignDetail:
    """One campaign with its runs and answers; ``Campaign.DoesNotExist`` outside the reader's scope. The open
    runs' shareable links come along for readers who may hand them out (``with_links``: not on a shared page)."""
    scope.require(Permission.VIEW_DATA)
    campaign = queries.campaign(scope, campaign_id)
    results = queries.run_results(scope, campaign.pk)
    empty = queries.PeriodRate(None, "", 0, 0, 0, 0, 0)
    linkable = with_links and campaign.by_link and may_manage_campaigns(scope)
    runs = [
        RunSummary(
            run, results.get(run.pk, empty), campaign_link(scope, run.pk) if linkable and run.is_open(now) else ""
        )
        for run in queries.campaign_runs(scope, campaign.pk)
    ]
    totals = queries.campaign_totals(scope, [campaign.pk]).get(campaign.pk, empty)
    last = max((r.run.scheduled_for for r in runs), default=None)
    return CampaignDetail(CampaignSummary(campaign, len(runs), last, totals), runs,
                          queries.campaign_scores(scope, campaign.pk))  # fmt: skip


def campaign_audience_choices(scope: Scope) -> dict[str, list]:
    scope.require(Permission.MANAGE_REFERENCE)
    return queries.audience_choices()


# Results kept for pages, per process, while the data they count stays the same (``queries.fingerprint``):
# a year of invitations takes longer to count than a page may take to show.
KEPT = 64
_kept: dict = {}
_kept_lock = threading.Lock()


def _scope_key(scope: Scope) -> tuple:
    return (scope.group_ids, scope.service_ids)


def _remembered(name: str, key: tuple, compute):
    full_key = (name, key, queries.fingerprint())
    with _kept_lock:
        if full_key in _kept:
            return _kept[full_key]
    value = compute()
    with _kept_lock:
        while len(_kept) >= KEPT:
            _kept.pop(next(iter(_kept)))
        _kept[full_key] = value
    return value


def forget_remembered() -> None:
    with _kept_lock:
        _kept.clear()


def gaming_signals(scope: Scope, start: datetime, end: datetime) -> dict[str, list[gaming.GamingWarning]]:
    """``gaming_warnings`` by agent and by group for [start, end), narrowed to the reader's scope (the signals
    themselves compare everyone with everyone). Kept per period in the database (``gaming_results``): on a
    million tickets they take seconds to compute."""
    scope.require(Permission.VIEW_DATA)
    if scope.service_ids is not None:
        return {"agent": [], "group": []}
    found = gaming_results.read(start, end)
    if scope.group_ids is None:
        return found
    return {by: [w for w in warnings if w.group_id in scope.group_ids] for by, warnings in found.items()}


def gaming_counted_at(start: datetime, end: datetime) -> datetime | None:
    """When the gaming signals of [start, end) were counted: readers see how fresh they are."""
    return gaming_results.counted_at(start, end)
