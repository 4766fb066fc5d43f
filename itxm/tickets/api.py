from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.org.scopes import scope_for
from itxm.tickets import queries, services, webhooks
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


class WebhookErrorOut(Schema):
    message: str
    field: str | None = None


@router.post(
    "/webhooks/{source}",
    auth=None,  # the signature authenticates the delivery: a tool has neither a session nor an API token
    response={
        200: TicketIngestOut,
        400: WebhookErrorOut,
        401: WebhookErrorOut,
        404: WebhookErrorOut,
        502: WebhookErrorOut,
        503: WebhookErrorOut,
    },
    summary="Receive a connected tool's webhook, signed with its connector's webhook secret",
    description=(
        "`source` names a connector with a webhook secret. Zammad signs with `X-Hub-Signature: sha1=…`, Jira "
        "admin webhooks with `X-Hub-Signature: sha256=…`, GLPI 11 with `X-GLPI-signature` and `X-GLPI-timestamp`; "
        "the ticket the delivery names is then read from the tool as a sync reads it. Any tool may instead send "
        "canonical tickets (an object or an array) with `X-ITXM-Signature: sha256=<hex HMAC-SHA256 of the body>`. "
        "Idempotent like the batch API. See docs/connectors.md."
    ),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}},
)
def receive_webhook(request, source: str):
    try:
        report = webhooks.receive(source, request.headers, request.body)
    except webhooks.WebhookRefused as exc:
        return Status(exc.status, {"message": str(exc), "field": exc.field})
    return report.as_dict()
