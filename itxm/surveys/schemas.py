from datetime import datetime
from typing import Literal

from ninja import Field, Schema


class ResponseRateOut(Schema):
    id: int | None
    name: str
    delivered: int
    answered: int
    rate: float | None = Field(description="% of delivered invitations answered")


class InvitationOut(Schema):
    id: int
    ticket_id: int | None
    kind: str
    status: str
    held_back_reason: str
    resolution_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    closes_at: datetime | None


class ResponseOut(Schema):
    id: int
    invitation_id: int
    ticket_id: int | None = Field(None, alias="invitation.ticket_id")
    score: int
    lost_minutes: int | None
    factors: list[str]
    comment: str
    language: str
    answered_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class InvitationSummaryOut(Schema):
    by_status: dict[str, int]
    held_back: dict[str, int]


class InvitationFilters(Schema):
    status: str | None = None
    kind: str | None = None
    ticket_id: int | None = None


class RateQuery(Schema):
    by: Literal["service", "group", "agent"] = "group"


class BounceIn(Schema):
    message_id: str = Field(min_length=3, max_length=200)
    reason: str = Field("", max_length=2000)


class BounceOut(Schema):
    recorded: bool
