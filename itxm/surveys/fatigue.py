"""Who must not be asked now, and why: opted-out people, people with no address, people asked recently.

Each rule's effect is kept: a held-back invitation is stored with its reason, so "how many were held
back, and why" is a count (``queries.invitation_summary``), not a guess.
"""

from datetime import datetime, timedelta

from itxm.org.models import Employee
from itxm.surveys.models import FatigueKind, FatigueRule, HeldBackReason, Invitation, InvitationStatus, SurveyKind

# Invitations that reached (or are on their way to) the person; held-back and failed ones do not tire anyone.
COUNTED = (
    InvitationStatus.CREATED,
    InvitationStatus.QUEUED,
    InvitationStatus.SENT,
    InvitationStatus.ANSWERED,
    InvitationStatus.CLOSED,
)


def fatigue_kind(kind: str) -> str:
    if kind in (SurveyKind.INCIDENT, SurveyKind.REQUEST):
        return kind
    return FatigueKind.PROACTIVE


def active_rules() -> dict[str, int]:
    """Days per fatigue kind, enabled rules only."""
    return dict(FatigueRule.objects.filter(enabled=True).values_list("kind", "days"))


def hold_back_reason(employee: Employee, kind: str, now: datetime, rules: dict[str, int]) -> str | None:
    """Why this person must not get this kind of survey now; ``None`` when they may."""
    if employee.opted_out:
        return HeldBackReason.OPTED_OUT
    if not employee.is_active:
        return HeldBackReason.INACTIVE
    if not employee.email:
        return HeldBackReason.NO_EMAIL
    recent = Invitation.objects.filter(employee=employee, status__in=COUNTED)
    own_kind = fatigue_kind(kind)
    if (
        own_kind in rules
        and recent.filter(
            kind__in=_survey_kinds(own_kind), created_at__gt=now - timedelta(days=rules[own_kind])
        ).exists()
    ):
        return HeldBackReason.FATIGUE
    if FatigueKind.ANY in rules and recent.filter(created_at__gt=now - timedelta(days=rules[FatigueKind.ANY])).exists():
        return HeldBackReason.FATIGUE
    return None


def _survey_kinds(kind: str) -> list[str]:
    if kind == FatigueKind.PROACTIVE:
        return [k for k in SurveyKind.values if k not in (SurveyKind.INCIDENT, SurveyKind.REQUEST)]
    return [kind]
