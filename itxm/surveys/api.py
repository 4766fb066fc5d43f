from datetime import UTC, datetime, timedelta

from django.utils import timezone
from ninja import Query, Router
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from itxm.org.scopes import scope_for
from itxm.surveys import campaigns, queries, services
from itxm.surveys.schemas import (
    BounceIn,
    BounceOut,
    CampaignIn,
    CampaignLinkOut,
    CampaignOut,
    CampaignRunRateOut,
    GamingQuery,
    GamingWarningOut,
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


@router.get("/campaigns", response=list[CampaignOut], summary="Proactive campaigns, newest first")
@paginate(LimitOffsetPagination)
def list_campaigns(request):
    return queries.campaigns(scope_for(request.auth))


@router.post("/campaigns", response={201: CampaignOut}, summary="Create a proactive campaign (admins)")
def create_campaign(request, body: CampaignIn):
    try:
        campaign = services.create_campaign(scope_for(request.auth), campaigns.CampaignSpec(**body.dict()))
    except campaigns.InvalidCampaign as exc:
        raise HttpError(422, str(exc)) from exc
    return Status(201, campaign)


@router.get("/campaigns/{campaign_id}", response=CampaignOut, summary="One campaign")
def get_campaign(request, campaign_id: int):
    return scope_for(request.auth).get(queries.campaigns(scope_for(request.auth)), campaign_id)


@router.get(
    "/campaigns/{campaign_id}/rates",
    response=list[CampaignRunRateOut],
    summary="Per run: audience, left out by sampling, held back by reason, invited, answered, response rate",
)
@paginate(LimitOffsetPagination)
def campaign_rates(request, campaign_id: int):
    return queries.campaign_rates(scope_for(request.auth), campaign_id)


@router.get("/campaign-runs/{run_id}/link", response=CampaignLinkOut, summary="A run's shareable link (admins)")
def campaign_link(request, run_id: int):
    return {"path": services.campaign_link(scope_for(request.auth), run_id)}


def _day(value) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


@router.get(
    "/gaming-signals",
    response=list[GamingWarningOut],
    summary="Warnings that survey scores may be steered, with their evidence (never a verdict)",
)
@paginate(LimitOffsetPagination)
def gaming_signals(request, query: Query[GamingQuery]):
    end = _day(query.end or timezone.localdate() + timedelta(days=1))
    start = _day(query.start) if query.start else end - timedelta(days=services.GAMING_PERIOD_DAYS)
    if start >= end:
        raise HttpError(422, "start must be before end")
    return services.gaming_warnings(scope_for(request.auth), start, end, query.by)
