"""Reads of invitations and responses, each inside the caller's scope."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from itxm.org.scopes import Scope
from itxm.surveys.gaming import SurveyFact
from itxm.surveys.models import Campaign, CampaignRun, Invitation, InvitationStatus, Response

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


def survey_facts(scope: Scope, start, end) -> list[SurveyFact]:
    """Delivered ticket surveys resolved in [start, end), with their answers, for the gaming signals."""
    rows = (
        invitations(scope)
        .filter(ticket__isnull=False, sent_at__isnull=False, resolution_at__gte=start, resolution_at__lt=end)
        .order_by()
        .values_list(
            "ticket__number",
            "resolution_at",
            "ticket__assignee_id",
            "ticket__assignee__name",
            "ticket__assignee__group_id",
            "ticket__group_id",
            "ticket__group__name",
            "employee_id",
            "response__answered_at",
            "response__score",
            "response__client_ip",
            "response__lost_minutes",
            "ticket__reopen_count",
            "ticket__reassignment_count",
        )
    )
    return [
        SurveyFact(
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
        for (number, resolved, agent_id, agent, agent_group, group_id, group, caller, answered, score, ip, lost,
             reopens, reassignments) in rows
    ]  # fmt: skip


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
