"""Who must not be asked now, and why: opted-out people, people with no address, people asked recently.

Each rule's effect is kept: a held-back invitation is stored with its reason, so "how many were held
back, and why" is a count (``queries.invitation_summary``), not a guess.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Max

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
CHUNK = 5000  # people per query: well under the databases' limits on parameters


def fatigue_kind(kind: str) -> str:
    if kind in (SurveyKind.INCIDENT, SurveyKind.REQUEST):
        return kind
    return FatigueKind.PROACTIVE


def active_rules() -> dict[str, int]:
    """Days per fatigue kind, enabled rules only."""
    return dict(FatigueRule.objects.filter(enabled=True).values_list("kind", "days"))


def hold_back_reason(employee: Employee, kind: str, now: datetime, rules: dict[str, int]) -> str | None:
    """Why this person must not get this kind of survey now; ``None`` when they may."""
    return Ledger([employee.pk], now, rules).reason(employee, kind)


class Ledger:
    """The latest counted invitation of many people at once, per fatigue kind, read in one query.

    A batch asks ``reason`` for each person in turn and ``record``s each invitation it sends, so that the
    second ticket of the same person in one delivery is held back as it would be one at a time.
    """

    def __init__(self, employee_ids: Iterable[int], now: datetime, rules: dict[str, int]):
        self.now, self.rules = now, rules
        self.latest: dict[tuple[int, str], datetime] = {}  # (person, fatigue kind or ANY) → created_at
        if not rules:
            return
        since = now - timedelta(days=max(rules.values()))
        ordered = sorted(set(employee_ids))
        for start in range(0, len(ordered), CHUNK):
            rows = (
                Invitation.objects.filter(
                    employee_id__in=ordered[start : start + CHUNK], status__in=COUNTED, created_at__gt=since
                )
                .values_list("employee_id", "kind")
                .annotate(latest=Max("created_at"))
                .order_by()
            )
            for employee_id, kind, latest in rows:
                self._note(employee_id, kind, latest)

    def reason(self, employee: Employee, kind: str) -> str | None:
        if employee.opted_out:
            return HeldBackReason.OPTED_OUT
        if not employee.is_active:
            return HeldBackReason.INACTIVE
        if not employee.email:
            return HeldBackReason.NO_EMAIL
        if self._asked_within(employee.pk, fatigue_kind(kind)) or self._asked_within(employee.pk, FatigueKind.ANY):
            return HeldBackReason.FATIGUE
        return None

    def record(self, employee_id: int, kind: str, at: datetime) -> None:
        self._note(employee_id, kind, at)

    def _note(self, employee_id: int, kind: str, at: datetime) -> None:
        for key in ((employee_id, fatigue_kind(kind)), (employee_id, FatigueKind.ANY)):
            if key not in self.latest or at > self.latest[key]:
                self.latest[key] = at

    def _asked_within(self, employee_id: int, rule_kind: str) -> bool:
        latest = self.latest.get((employee_id, rule_kind))
        if rule_kind not in self.rules or latest is None:
            return False
        return latest > self.now - timedelta(days=self.rules[rule_kind])
