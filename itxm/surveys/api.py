from ninja import Query, Router
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.org.scopes import scope_for
from itxm.surveys import queries, services
from itxm.surveys.schemas import (
    BounceIn,
    BounceOut,
    InvitationFilters,
    InvitationOut,
    InvitationSummaryOut,
    RateQuery,
    ResponseOut,
    ResponseRateOut,
)

router = Router(tags=["surveys"])


@router.get("/response-rates", response=list[ResponseRateOut], summary="Response rate per service, group or agent")
@paginate(LimitOffsetPagination)
def response_rates(request, query: Query[RateQuery]):
    return queries.response_rates(scope_for(request.auth), query.by)


@router.get("/invitations", response=list[InvitationOut], summary="Invitations, newest first")
@paginate(LimitOffsetPagination)
def list_invitations(request, filters: Query[InvitationFilters]):
    return queries.invitations(scope_for(request.auth), filters.dict())


@router.get(
    "/invitations/summary",
    response=InvitationSummaryOut,
    summary="Invitations per status, and why the held-back ones were held back",
)
def invitation_summary(request):
    return queries.invitation_summary(scope_for(request.auth))


@router.get("/responses", response=list[ResponseOut], summary="Responses, newest first")
@paginate(LimitOffsetPagination)
def list_responses(request):
    return queries.responses(scope_for(request.auth))


@router.post(
    "/bounces",
    response={200: BounceOut},
    summary="Record a bounce for an e-mail, by its Message-ID",
    description="For the mail system's bounce handling; needs the import permission (admins and their tokens).",
)
def record_bounce(request, bounce: BounceIn):
    if not services.record_bounce(scope_for(request.auth), bounce.message_id, bounce.reason):
        raise HttpError(404, "no e-mail with this Message-ID")
    return {"recorded": True}
