from datetime import datetime

from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.org.scopes import scope_for
from itxm.tickets import sla_verdicts
from itxm.tickets.models import SlaDefinition
from itxm.tickets.schemas import TicketOut

router = Router(tags=["sla"])


class PeriodIn(Schema):
    opened_from: datetime | None = None
    opened_to: datetime | None = None


class DefinitionOut(Schema):
    id: int
    name: str
    target: str
    target_minutes: int
    calendar: str
    kinds: list[str]
    priorities: list[int]
    pause_states: list[str]
    on_reopen: str
    is_active: bool

    @staticmethod
    def resolve_calendar(obj):
        return obj.calendar.name


@router.get("/definitions", response=list[DefinitionOut], summary="SLA definitions")
@paginate(LimitOffsetPagination)
def list_definitions(request):
    return SlaDefinition.objects.select_related("calendar")


@router.get(
    "/compliance",
    response=sla_verdicts.Compliance,
    summary="SLA compliance of tickets opened in a period: ITXM's verdicts beside the source's",
)
def get_compliance(request, period: Query[PeriodIn], definition_id: int | None = None):
    return sla_verdicts.compliance(scope_for(request.auth), period.opened_from, period.opened_to, definition_id)


@router.get(
    "/disagreements",
    response=list[TicketOut],
    summary="Tickets whose SLA verdict in the source differs from ITXM's",
)
@paginate(LimitOffsetPagination)
def list_disagreements(request, period: Query[PeriodIn]):
    return sla_verdicts.disagreements(scope_for(request.auth), period.opened_from, period.opened_to).select_related(
        "category", "service", "group", "assignee"
    )
