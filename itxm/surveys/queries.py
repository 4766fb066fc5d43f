"""Reads of invitations and responses, each inside the caller's scope."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from itxm.org.scopes import Scope
from itxm.surveys.models import Invitation, InvitationStatus, Response

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
