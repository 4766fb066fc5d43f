from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.org.scopes import scope_for
from itxm.tickets import queries
from itxm.tickets.schemas import TicketDetailOut, TicketFilters, TicketOut

router = Router(tags=["tickets"])


@router.get("", response=list[TicketOut], summary="Tickets, newest first")
@paginate(LimitOffsetPagination)
def list_tickets(request, filters: Query[TicketFilters]):
    return queries.tickets(scope_for(request.auth), filters.dict())


@router.get("/{ticket_id}", response=TicketDetailOut, summary="One ticket with its history")
def get_ticket(request, ticket_id: int):
    return queries.ticket(scope_for(request.auth), ticket_id)
