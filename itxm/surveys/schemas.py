from datetime import date, datetime
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


class CampaignIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["devices", "applications", "remote_work", "collaboration", "overall"]
    starts_at: datetime
    everyone: bool = False
    department_ids: list[int] = []
    location_ids: list[int] = []
    countries: list[str] = []
    device_models: list[str] = []
    repeat_days: int | None = Field(None, ge=1, description="empty: the campaign runs once")
    sampling_rate: float = Field(1.0, gt=0, le=1)
    by_email: bool = True
    by_link: bool = False
    active: bool = True


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    status: str
    everyone: bool
    department_ids: list[int]
    location_ids: list[int]
    countries: list[str]
    device_models: list[str]
    starts_at: datetime
    repeat_days: int | None
    next_run_at: datetime | None
    sampling_rate: float
    by_email: bool
    by_link: bool

    @staticmethod
    def resolve_department_ids(obj):
        return [d.pk for d in obj.departments.all()]

    @staticmethod
    def resolve_location_ids(obj):
        return [loc.pk for loc in obj.locations.all()]


class CampaignRunRateOut(Schema):
    run_id: int
    scheduled_for: datetime
    audience: int
    not_sampled: int
    held_back: dict[str, int]
    invited: int
    delivered: int
    answered: int
    link_answers: int
    rate: float | None = Field(description="% of delivered e-mail invitations answered")


class CampaignLinkOut(Schema):
    path: str


class GamingQuery(Schema):
    start: date | None = Field(None, description="first day; default 90 days before end")
    end: date | None = Field(None, description="day after the period; default today")
    by: Literal["agent", "group"] = "agent"


class GamingWarningOut(Schema):
    signal: str
    subject: str
    subject_id: int
    name: str
    group_id: int | None
    summary: str
    evidence: dict
    examples: list[str]
