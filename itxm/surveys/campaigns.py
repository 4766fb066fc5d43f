"""Proactive campaigns: launching a run (audience, sampling, fatigue, e-mails) and answering by shared link.

A run is launched once per scheduled slot (a unique constraint on campaign and slot), so a task that
runs twice launches nothing twice. Sampling is random but reproducible: the seed is stored on the run.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from itxm.org.models import Employee, Language
from itxm.org.scopes import Permission, Scope
from itxm.surveys import config, fatigue, outbox
from itxm.surveys.emails import compose_invitation
from itxm.surveys.models import (
    PROACTIVE_KINDS,
    Campaign,
    CampaignRun,
    CampaignStatus,
    Invitation,
    InvitationStatus,
    Response,
)
from itxm.surveys.tokens import BadToken, UnknownInvitation, answer_token, read_answer_token

LINK_SALT = "itxm.surveys.campaign-link"
BATCH = 2000  # people whose invitations are decided and written together


class InvalidCampaign(ValueError):
    """A campaign that cannot run as described; the message says why."""


class LinkLimitReached(Exception):
    """Too many answers from one network address through one run's link."""


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    kind: str
    starts_at: datetime
    everyone: bool = False
    department_ids: tuple[int, ...] = ()
    location_ids: tuple[int, ...] = ()
    countries: tuple[str, ...] = ()
    device_models: tuple[str, ...] = ()
    repeat_days: int | None = None
    sampling_rate: float = 1.0
    by_email: bool = True
    by_link: bool = False
    active: bool = True


def create_campaign(scope: Scope, spec: CampaignSpec) -> Campaign:
    scope.require(Permission.MANAGE_REFERENCE)
    if spec.kind not in PROACTIVE_KINDS:
        raise InvalidCampaign(f"{spec.kind!r} is not a proactive survey area")
    has_filter = any((spec.department_ids, spec.location_ids, spec.countries, spec.device_models))
    if spec.everyone == has_filter:
        raise InvalidCampaign("choose either everyone or at least one audience filter")
    if not 0.0 < spec.sampling_rate <= 1.0:
        raise InvalidCampaign("the sampling rate is a share above 0 and at most 1")
    if not (spec.by_email or spec.by_link):
        raise InvalidCampaign("deliver by e-mail, by shareable link, or both")
    if spec.repeat_days is not None and spec.repeat_days < 1:
        raise InvalidCampaign("a recurring campaign repeats every day at most")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=spec.name,
            kind=spec.kind,
            everyone=spec.everyone,
            countries=[c.upper() for c in spec.countries],
            device_models=list(spec.device_models),
            starts_at=spec.starts_at,
            repeat_days=spec.repeat_days,
            next_run_at=spec.starts_at,
            sampling_rate=spec.sampling_rate,
            by_email=spec.by_email,
            by_link=spec.by_link,
            status=CampaignStatus.ACTIVE if spec.active else CampaignStatus.DRAFT,
        )
        campaign.departments.set(spec.department_ids)
        campaign.locations.set(spec.location_ids)
    return campaign


def audience(campaign: Campaign) -> QuerySet:
    """Active employees matching every filter that is set (any value within one filter)."""
    people = Employee.objects.filter(is_active=True)
    if campaign.everyone:
        return people.order_by("pk")
    if department_ids := list(campaign.departments.values_list("pk", flat=True)):
        people = people.filter(department_id__in=department_ids)
    if location_ids := list(campaign.locations.values_list("pk", flat=True)):
        people = people.filter(location_id__in=location_ids)
    if campaign.countries:
        people = people.filter(country__in=campaign.countries)
    if campaign.device_models:
        people = people.filter(devices__model__in=campaign.device_models)
    return people.distinct().order_by("pk")


def sample(ids: list[int], rate: float, seed: int) -> list[int]:
    """``rate`` of the ids, the same ones for the same seed; in id order."""
    if rate >= 1.0:
        return list(ids)
    chosen = random.Random(seed).sample(ids, k=round(len(ids) * rate))  # noqa: S311 (not security)
    return sorted(chosen)


def seed_for(campaign_id: int, slot: datetime) -> int:
    return campaign_id * 1_000_003 + int(slot.timestamp())


def launch_run(campaign_id: int, slot: datetime, now: datetime | None = None) -> CampaignRun:
    """Launch the run of one slot: sample the audience, hold back per the fatigue rules, queue e-mails.

    Safe to call twice for the same slot: the second call returns the run the first made.
    """
    now = now or timezone.now()
    campaign = Campaign.objects.get(pk=campaign_id)
    try:
        with transaction.atomic():
            run = CampaignRun.objects.create(
                campaign=campaign,
                scheduled_for=slot,
                launched_at=now,
                closes_at=now + config.open_period(),
                seed=seed_for(campaign.pk, slot),
            )
            people = list(audience(campaign).values_list("pk", flat=True))
            chosen = sample(people, campaign.sampling_rate, run.seed)
            run.audience, run.not_sampled = len(people), len(people) - len(chosen)
            if campaign.by_email:
                held_back = _invite(run, campaign, chosen, now)
                run.held_back = dict(held_back)
                run.invited = len(chosen) - sum(held_back.values())
            run.save(update_fields=["audience", "not_sampled", "invited", "held_back"])
    except IntegrityError:
        return CampaignRun.objects.get(campaign=campaign, scheduled_for=slot)
    return run


def _invite(run: CampaignRun, campaign: Campaign, employee_ids: list[int], now: datetime) -> Counter:
    """The run's invitations and e-mails, written in batches (an audience may be the whole company)."""
    rules = fatigue.active_rules()
    held_back: Counter = Counter()
    template = _template(campaign.kind)
    ordered = sorted(employee_ids)
    for start in range(0, len(ordered), BATCH):
        people = list(Employee.objects.filter(pk__in=ordered[start : start + BATCH]).order_by("pk"))
        ledger = fatigue.Ledger([person.pk for person in people], now, rules)
        invitations = []
        for employee in people:
            reason = ledger.reason(employee, campaign.kind)
            if reason:
                held_back[reason] += 1
            else:
                ledger.record(employee.pk, campaign.kind, now)
            invitations.append(Invitation.decided(employee, campaign.kind, reason, now, run.closes_at, run=run))
        Invitation.objects.bulk_create(invitations)
        emails = [(i, compose_invitation(i, template)) for i in invitations if i.status == InvitationStatus.QUEUED]
        outbox.enqueue_many(emails, now)
    return held_back


def _template(kind: str):
    from itxm.surveys.services import template_for  # services imports this module

    return template_for(kind)


def launch_due(now: datetime | None = None) -> list[int]:
    """Launch every active campaign whose next run is due; returns the runs' ids.

    A worker that was down for a while launches the due slot once and skips the missed ones, so nobody
    gets a pile of surveys at once.
    """
    now = now or timezone.now()
    launched = []
    due = Campaign.objects.filter(status=CampaignStatus.ACTIVE, next_run_at__lte=now).order_by("next_run_at", "pk")
    for campaign in due:
        run = launch_run(campaign.pk, campaign.next_run_at, now)
        launched.append(run.pk)
        if campaign.repeat_days:
            step = timedelta(days=campaign.repeat_days)
            following = campaign.next_run_at + step
            while following <= now:
                following += step
            Campaign.objects.filter(pk=campaign.pk).update(next_run_at=following)
        else:
            Campaign.objects.filter(pk=campaign.pk).update(next_run_at=None, status=CampaignStatus.FINISHED)
    return launched


# --- the shareable link ---


def link_token(run: CampaignRun) -> str:
    return signing.dumps([run.pk, run.link_nonce], salt=LINK_SALT, compress=False)


def open_link(token: str, now: datetime | None = None) -> CampaignRun:
    """The run a shared link names; ``BadToken``, ``UnknownInvitation`` or ``SurveyClosed``."""
    from itxm.surveys.services import SurveyClosed

    try:
        value = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise BadToken(str(exc)) from exc
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)):
        raise BadToken("not a campaign link")
    run = CampaignRun.objects.select_related("campaign").filter(pk=value[0], link_nonce=value[1]).first()
    if run is None or not run.campaign.by_link:
        raise UnknownInvitation("no such campaign run")
    if not run.is_open(now):
        raise SurveyClosed(f"campaign run {run.pk} is closed")
    return run


def answer_by_link(
    token: str,
    score: int,
    previous: str | None = None,
    ip: str | None = None,
    user_agent: str = "",
    language: str | None = None,
    now: datetime | None = None,
) -> str:
    """A visitor's score through the shared link; returns the answer token of their own response.

    ``previous`` is the answer token the visitor's browser kept (a cookie): the same browser changes its
    answer instead of adding one. Beyond ``ITXM_SURVEY_LINK_MAX_PER_IP`` answers from one address the link
    refuses more (``LinkLimitReached``). Neither stops a determined person with several browsers and
    networks: link answers are counted apart from e-mail answers for that reason.
    """
    from itxm.surveys.services import record_score

    now = now or timezone.now()
    run = open_link(token, now)
    own = _own_invitation(previous, run)
    if own is None:
        if ip and _answers_from(run, ip) >= config.link_max_per_ip():
            raise LinkLimitReached(f"{ip} answered run {run.pk} too often")
        invitation = Invitation.objects.create(
            run=run,
            via_link=True,
            kind=run.campaign.kind,
            language=language if language in Language.values else Language.ENGLISH,
            status=InvitationStatus.CREATED,
            created_at=now,
            closes_at=run.closes_at,
        )
        own = answer_token(invitation.pk, invitation.nonce)
    record_score(own, score, ip, user_agent, language, now)
    return own


def _own_invitation(previous: str | None, run: CampaignRun) -> str | None:
    if not previous:
        return None
    try:
        invitation_id, nonce = read_answer_token(previous)
    except BadToken:
        return None
    except Exception:  # expired or otherwise unusable: a new answer
        return None
    if Invitation.objects.filter(pk=invitation_id, nonce=nonce, run=run, via_link=True).exists():
        return previous
    return None


def _answers_from(run: CampaignRun, ip: str) -> int:
    return Response.objects.filter(invitation__run=run, invitation__via_link=True, client_ip=ip).count()


def link_cookie(run_id: int) -> str:
    return f"itxm_run_{run_id}"


def run_for_link(token: str) -> int | None:
    """The run id a link names, without checking it is open (for the cookie name)."""
    try:
        value = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, ValueError, UnicodeError):
        return None
    return value[0] if isinstance(value, list) and value and isinstance(value[0], int) else None
