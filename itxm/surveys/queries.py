"""Reads of invitations and responses, each inside the caller's scope."""

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Length

from itxm.devices.models import Device
from itxm.org.models import Agent, Department, Employee, Group, Location, Service
from itxm.org.scopes import Scope
from itxm.surveys.gaming import Slice, SurveyFact
from itxm.surveys.models import (
    Campaign,
    CampaignRun,
    FatigueRule,
    Invitation,
    InvitationStatus,
    OutboxMessage,
    OutboxStatus,
    Response,
)
from itxm.tickets.models import Ticket, TicketEvent

# What a response rate is grouped by, and the ticket fields that name it.
RATE_DIMENSIONS = {
    "service": ("ticket__service_id", "ticket__service__name"),
    "group": ("ticket__group_id", "ticket__group__name"),
    "agent": ("ticket__assignee_id", "ticket__assignee__name"),
}


@dataclass(frozen=True)
class ResponseRate:
    id: int | None
    name: str
    delivered: int
    answered: int

    @property
    def rate(self) -> float | None:
        """% of delivered invitations that were answered."""
        return round(100 * self.answered / self.delivered, 1) if self.delivered else None


def invitations(scope: Scope, filters: dict | None = None) -> QuerySet:
    qs = scope.apply(Invitation.objects.all())
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    return qs.filter(**filters).order_by("-created_at", "-pk")


def responses(scope: Scope) -> QuerySet:
    return scope.apply(Response.objects.select_related("invitation")).order_by("-answered_at", "-pk")


def response_rates(scope: Scope, by: str = "group") -> list[ResponseRate]:
    """Delivered and answered ticket surveys per service, group or agent (the ticket's assignee)."""
    key, name = RATE_DIMENSIONS[by]
    delivered = Q(sent_at__isnull=False)
    rows = (
        invitations(scope)
        .filter(ticket__isnull=False, sent_at__isnull=False)
        .order_by()
        .values(key, name)
        .annotate(delivered=Count("pk", filter=delivered), answered=Count("pk", filter=Q(response__isnull=False)))
        .order_by(name)
    )
    return [ResponseRate(row[key], row[name] or "", row["delivered"], row["answered"]) for row in rows]


def invitation_summary(scope: Scope) -> dict:
    """How many invitations are in each status, and why the held-back ones were held back."""
    qs = invitations(scope).order_by()
    by_status = dict(qs.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    held_back = dict(
        qs.filter(status=InvitationStatus.HELD_BACK)
        .values_list("held_back_reason")
        .annotate(n=Count("pk"))
        .values_list("held_back_reason", "n")
    )
    return {"by_status": by_status, "held_back": held_back}


# What a gaming fact reads of an invitation, its ticket, the ticket's assignee and group, and the answer.
FACT_FIELDS = (
    "ticket__number", "resolution_at", "ticket__assignee_id", "ticket__assignee__name",
    "ticket__assignee__group_id", "ticket__group_id", "ticket__group__name", "employee_id",
    "response__answered_at", "response__score", "response__client_ip", "response__lost_minutes",
    "ticket__reopen_count", "ticket__reassignment_count",
)  # fmt: skip
SLICE_FIELDS = ("ticket__assignee_id", "ticket__group_id")


def _delivered_ticket_surveys(scope: Scope, start, end) -> QuerySet:
    return (
        invitations(scope)
        .filter(ticket__isnull=False, sent_at__isnull=False, resolution_at__gte=start, resolution_at__lt=end)
        .order_by()
    )


def _fact(row: tuple) -> SurveyFact:
    (number, resolved, agent_id, agent, agent_group, group_id, group, caller, answered, score, ip, lost, reopens,
     reassignments) = row  # fmt: skip
    return SurveyFact(
        ticket=number,
        resolved_at=resolved,
        agent_id=agent_id,
        agent=agent or "",
        # An agent's warnings belong to the agent's own group (whom a supplier manages).
        group_id=agent_group if agent_id is not None else group_id,
        group=group or "",
        caller_id=caller,
        answered_at=answered,
        score=score,
        client_ip=ip,
        lost_minutes=lost,
        reopen_count=reopens,
        reassignment_count=reassignments,
    )


def _slices(rows) -> list[Slice]:
    """Counts per ticket assignee and ticket group, named and placed as ``_fact`` does. Agents and groups are
    read apart: joining them to every invitation of seven months cost a third of the time."""
    rows = list(rows)
    agents = {pk: (name, group) for pk, name, group in Agent.objects.values_list("pk", "name", "group_id")}
    groups = dict(Group.objects.values_list("pk", "name"))
    found = []
    for agent_id, group_id, *counts in rows:
        agent, agent_group = agents.get(agent_id, ("", None))
        found.append(Slice(agent_id, agent, agent_group if agent_id is not None else group_id,
                           groups.get(group_id, ""), *counts))  # fmt: skip
    return found


def survey_facts(scope: Scope, start, end) -> list[SurveyFact]:
    """Delivered ticket surveys resolved in [start, end), with their answers, one by one (``gaming.detect``;
    ``gaming_inputs`` reads the same counted, for large periods)."""
    return [_fact(row) for row in _delivered_ticket_surveys(scope, start, end).values_list(*FACT_FIELDS)]


def gaming_inputs(scope: Scope, start, end, baseline_start) -> tuple[list[SurveyFact], list[Slice], list[Slice]]:
    """What ``gaming.detect_counted`` needs for [start, end) and its baseline [baseline_start, start): the
    period's answered surveys one by one, and, summed per agent and group by the database, the period's
    delivered surveys and the baseline's delivered, answered and 10s. On a million tickets this loads a
    month's answers, not seven months of invitations."""
    answers = [
        _fact(row)
        for row in _delivered_ticket_surveys(scope, start, end).filter(response__isnull=False).values_list(*FACT_FIELDS)
    ]
    delivered = _delivered_ticket_surveys(scope, start, end).values_list(*SLICE_FIELDS).annotate(n=Count("pk"))
    before = (
        _delivered_ticket_surveys(scope, baseline_start, start)
        .values_list(*SLICE_FIELDS)
        .annotate(
            n=Count("pk"),
            answered=Count("pk", filter=Q(response__isnull=False)),
            tens=Count("pk", filter=Q(response__score=10)),
        )
    )
    return answers, _slices(delivered), _slices(before)


def campaigns(scope: Scope) -> QuerySet:
    return scope.apply(Campaign.objects.prefetch_related("departments", "locations")).order_by("-created_at", "-pk")


@dataclass(frozen=True)
class RunRate:
    run_id: int
    scheduled_for: object
    audience: int
    not_sampled: int
    held_back: dict
    invited: int
    delivered: int
    answered: int
    link_answers: int

    @property
    def rate(self) -> float | None:
        """% of delivered e-mail invitations that were answered (link answers have no denominator)."""
        return round(100 * self.answered / self.delivered, 1) if self.delivered else None


def campaign_rates(scope: Scope, campaign_id: int) -> list[RunRate]:
    campaign = scope.get(Campaign.objects.all(), campaign_id)
    runs = (
        scope.apply(CampaignRun.objects.filter(campaign=campaign))
        .annotate(
            delivered=Count("invitations", filter=Q(invitations__sent_at__isnull=False, invitations__via_link=False)),
            answered=Count(
                "invitations",
                filter=Q(
                    invitations__sent_at__isnull=False,
                    invitations__via_link=False,
                    invitations__response__isnull=False,
                ),
            ),
            link_answers=Count(
                "invitations", filter=Q(invitations__via_link=True, invitations__response__isnull=False)
            ),
        )
        .order_by("-scheduled_for", "-pk")
    )
    return [
        RunRate(r.pk, r.scheduled_for, r.audience, r.not_sampled, r.held_back, r.invited, r.delivered, r.answered,
                r.link_answers)
        for r in runs
    ]  # fmt: skip


# --- reads for the survey pages: a period, and the filters every page offers ---

FAILED_STATUSES = (InvitationStatus.FAILED, InvitationStatus.BOUNCED)


@dataclass(frozen=True)
class PeriodRate:
    """Invitations made in a period for one service, group, agent or campaign, and what became of them."""

    id: int | None
    name: str
    invitations: int  # every invitation made, held back ones included (link answers not)
    held_back: int
    delivered: int  # e-mails that went out
    answered: int  # of those delivered
    failed: int  # bounced or failed for good
    answers: int = 0  # every answer, through a shareable link too
    promoters: int = 0
    detractors: int = 0

    @property
    def rate(self) -> float | None:
        """% of delivered invitations that were answered."""
        return round(100 * self.answered / self.delivered, 1) if self.delivered else None

    @property
    def happiness(self) -> float | None:
        """% of 9-10 answers minus % of 0-6 answers."""
        return round(100 * (self.promoters - self.detractors) / self.answers, 1) if self.answers else None


def invitations_between(scope: Scope, start, end, service: int | None = None, group: int | None = None) -> QuerySet:
    """Invitations made in [start, end) inside the scope, narrowed to a ticket service or group."""
    qs = invitations(scope).filter(created_at__gte=start, created_at__lt=end).order_by()
    if service is not None:
        qs = qs.filter(ticket__service_id=service)
    if group is not None:
        qs = qs.filter(ticket__group_id=group)
    return qs


OUTCOMES = ("invitations", "held_back", "delivered", "answered", "failed", "answers", "promoters", "detractors")


def _outcome_counts() -> dict:
    delivered = Q(sent_at__isnull=False, via_link=False)
    answered = Q(response__isnull=False)
    return {
        "invitations": Count("pk", filter=Q(via_link=False)),
        "held_back": Count("pk", filter=Q(status=InvitationStatus.HELD_BACK)),
        "delivered": Count("pk", filter=delivered),
        "answered": Count("pk", filter=delivered & answered),
        "failed": Count("pk", filter=Q(status__in=FAILED_STATUSES)),
        "answers": Count("pk", filter=answered),
        "promoters": Count("pk", filter=Q(response__score__gte=9)),
        "detractors": Count("pk", filter=Q(response__score__lte=6)),
    }


def _rate(row: dict, id: int | None, name: str = "") -> PeriodRate:
    return PeriodRate(id, name, *(row[field] or 0 for field in OUTCOMES))


def held_back_between(scope: Scope, start, end, service: int | None = None, group: int | None = None) -> dict:
    """{(survey kind, reason): invitations held back} for invitations made in [start, end)."""
    rows = (
        invitations_between(scope, start, end, service, group)
        .filter(status=InvitationStatus.HELD_BACK)
        .values_list("kind", "held_back_reason")
        .annotate(n=Count("pk"))
    )
    return {(kind, reason): n for kind, reason, n in rows}


def fatigue_rules() -> list:
    return list(FatigueRule.objects.order_by("kind"))


def outbox_between(scope: Scope, start, end) -> dict[str, int]:
    """Survey e-mails written in [start, end) per outbox status (restricted readers see none)."""
    rows = (
        scope.apply(OutboxMessage.objects.filter(created_at__gte=start, created_at__lt=end))
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


def outbox_problems(scope: Scope, start, end, limit: int = 50) -> list[dict]:
    """The latest e-mails of [start, end) that bounced, failed or may not have gone out, with what they were
    about (a ticket's number or a campaign's name)."""
    problems = (OutboxStatus.FAILED, OutboxStatus.BOUNCED, OutboxStatus.UNKNOWN)
    qs = scope.apply(
        OutboxMessage.objects.filter(created_at__gte=start, created_at__lt=end, status__in=problems)
    ).order_by("-created_at", "-pk")
    return list(
        qs.values(
            "pk", "created_at", "status", "attempts", "last_error", "bounced_at",
            "invitation__ticket__number", "invitation__run__campaign__name",
        )[:limit]
    )  # fmt: skip


# --- campaigns, with what their runs brought ---


def campaign_totals(scope: Scope, campaign_ids=None) -> dict[int, PeriodRate]:
    """Per campaign, over all its runs: invitations, held back, delivered, answered, happiness."""
    qs = invitations(scope).filter(run__isnull=False).order_by()
    if campaign_ids is not None:
        qs = qs.filter(run__campaign_id__in=list(campaign_ids))
    rows = qs.values("run__campaign_id").annotate(**_outcome_counts())
    return {row["run__campaign_id"]: _rate(row, row["run__campaign_id"]) for row in rows}


def campaign_run_counts(scope: Scope, campaign_ids=None) -> dict[int, tuple[int, object]]:
    """{campaign id: (runs, last run's scheduled slot)}."""
    qs = scope.apply(CampaignRun.objects.all()).order_by()
    if campaign_ids is not None:
        qs = qs.filter(campaign_id__in=list(campaign_ids))
    rows = qs.values("campaign_id").annotate(runs=Count("pk"), last=Max("scheduled_for"))
    return {row["campaign_id"]: (row["runs"], row["last"]) for row in rows}


def campaign(scope: Scope, campaign_id: int) -> Campaign:
    """One campaign inside the scope; ``Campaign.DoesNotExist`` for anything outside it."""
    return scope.get(campaigns(scope), campaign_id)


def campaign_runs(scope: Scope, campaign_id: int) -> list[CampaignRun]:
    return list(scope.apply(CampaignRun.objects.filter(campaign_id=campaign_id)).order_by("-scheduled_for", "-pk"))


def run_results(scope: Scope, campaign_id: int) -> dict[int, PeriodRate]:
    """Per run of a campaign: the counts and the happiness of its answers (e-mail and link alike)."""
    rows = (
        invitations(scope)
        .filter(run__campaign_id=campaign_id)
        .order_by()
        .values("run_id")
        .annotate(**_outcome_counts())
    )
    return {row["run_id"]: _rate(row, row["run_id"]) for row in rows}


def campaign_scores(scope: Scope, campaign_id: int) -> dict[int, int]:
    """{score: answers} over every run of a campaign."""
    rows = (
        responses(scope)
        .filter(invitation__run__campaign_id=campaign_id)
        .order_by()
        .values_list("score")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


def audience_choices() -> dict[str, list]:
    """What a campaign's audience can be narrowed to: departments, locations, countries, device models."""
    countries = set(Employee.objects.exclude(country="").values_list("country", flat=True).distinct())
    countries |= set(Location.objects.exclude(country="").values_list("country", flat=True).distinct())
    return {
        "departments": list(Department.objects.order_by("name").values_list("pk", "name")),
        "locations": list(Location.objects.order_by("name").values_list("pk", "name")),
        "countries": sorted(c.upper() for c in countries if c),
        "device_models": list(
            Device.objects.exclude(model="").order_by("model").values_list("model", flat=True).distinct()
        ),
    }


def fingerprint() -> tuple:
    """A cheap summary that changes whenever anything the survey pages count changes: invitations made or
    changing status, answers given or changed, e-mails sent, failed or bounced, tickets changing (their history
    grows), agents and groups renamed or moved. A result kept for pages is used only while this stays the same.
    Each part reads an index or a small table: a few milliseconds on a year of data."""
    parts = (
        Invitation.objects.aggregate(top=Max("pk")),
        dict(Invitation.objects.order_by().values_list("status").annotate(n=Count("pk"))),  # how many, too
        Response.objects.aggregate(n=Count("pk"), last=Max("updated_at")),
        OutboxMessage.objects.aggregate(top=Max("pk")),
        dict(OutboxMessage.objects.order_by().values_list("status").annotate(n=Count("pk"))),
        Ticket.objects.aggregate(top=Max("pk")),
        TicketEvent.objects.aggregate(top=Max("pk")),
        Agent.objects.aggregate(n=Count("pk"), groups=Sum("group_id"), names=Sum(Length("name"))),
        Group.objects.aggregate(n=Count("pk"), names=Sum(Length("name"))),
    )
    return tuple(tuple(sorted(part.items())) for part in parts)


SLICE_KEYS = {"service": "ticket__service_id", "group": "ticket__group_id", "agent": "ticket__assignee_id",
              "campaign": "run__campaign_id"}  # fmt: skip


def outcome_slices(scope: Scope, start, end, service: int | None = None, group: int | None = None) -> list[dict]:
    """The outcome counts of [start, end) per service, group, agent and campaign at once: one read, rolled
    up by the caller (``roll_up``, ``total_of``)."""
    qs = invitations_between(scope, start, end, service, group)
    return list(qs.values(*SLICE_KEYS.values()).annotate(**_outcome_counts()).order_by())


def outcomes_by_bucket(
    scope: Scope, start, end, buckets, service: int | None = None, group: int | None = None
) -> list[PeriodRate]:
    """The outcome counts of each bucket ((start, end) datetimes covering [start, end), in order): a trend."""
    if not buckets:
        return []
    which = Case(
        *(When(created_at__lt=bucket_end, then=Value(i)) for i, (_, bucket_end) in enumerate(buckets)),
        default=Value(len(buckets) - 1),
        output_field=IntegerField(),
    )
    rows = invitations_between(scope, start, end, service, group).annotate(bucket=which).values("bucket")
    found = {row["bucket"]: _rate(row, row["bucket"]) for row in rows.annotate(**_outcome_counts()).order_by()}
    return [found.get(i) or _rate(dict.fromkeys(OUTCOMES, 0), i) for i in range(len(buckets))]


def names_of(by: str, ids) -> dict[int, str]:
    """Names of services, groups, agents or campaigns by id (for rolled-up slices)."""
    model = {"service": Service, "group": Group, "agent": Agent, "campaign": Campaign}[by]
    return dict(model.objects.filter(pk__in=[i for i in ids if i is not None]).values_list("pk", "name"))


def roll_up(rows: list[dict], by: str) -> list[PeriodRate]:
    """Sum sliced outcome rows per service, group, agent or campaign; ordered by name."""
    key = SLICE_KEYS[by]
    sums: dict[int, dict] = {}
    for row in rows:
        if row[key] is None:
            continue
        total = sums.setdefault(row[key], dict.fromkeys(OUTCOMES, 0))
        for field in OUTCOMES:
            total[field] += row[field] or 0
    names = names_of(by, sums)
    found = [_rate(total, id, names.get(id, "")) for id, total in sums.items()]
    return sorted(found, key=lambda r: (r.name.casefold(), r.id))


def total_of(rows: list[dict]) -> PeriodRate:
    return _rate({field: sum(row[field] or 0 for row in rows) for field in OUTCOMES}, None)
