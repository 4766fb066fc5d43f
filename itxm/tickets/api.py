from ninja import Query, Router
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.org.scopes import scope_for
from itxm.tickets import queries, services
from itxm.tickets.schemas import TicketDetailOut, TicketFilters, TicketIngestOut, TicketOut

router = Router(tags=["tickets"])


@router.get("", response=list[TicketOut], summary="Tickets, newest first")
@paginate(LimitOffsetPagination)
def list_tickets(request, filters: Query[TicketFilters]):
    return queries.tickets(scope_for(request.auth), filters.dict())


@router.get("/{int:ticket_id}", response=TicketDetailOut, summary="One ticket with its history")
def get_ticket(request, ticket_id: int):
    return queries.ticket(scope_for(request.auth), ticket_id)


@router.post(
    "/batch",
    response=TicketIngestOut,
    summary="Send tickets: a JSON array or NDJSON in the canonical shape",
    description=(
        "Upsert by (source, source_id): re-sending anything changes nothing, and a ticket older than the stored "
        "one (by `updated_at`) is ignored. Bad tickets are reported with their position and field; the good ones "
        "around them are stored. See docs/tickets.md for the shape."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
def ingest_batch(request, source: str):
    report = services.ingest_payload(
        scope_for(request.auth), source, request.body, request.headers.get("Content-Type", "")
    )
    return report.as_dict()
