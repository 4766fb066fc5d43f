from datetime import datetime

from ninja import Schema

from itxm.org.schemas import Ref, RowErrorOut, agent_name


class TicketOut(Schema):
    id: int
    source: str
    source_id: str
    number: str
    kind: str
    state: str
    short_description: str
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    priority: int | None
    impact: int | None
    urgency: int | None
    channel: str
    category: Ref | None
    service: Ref | None
    group: Ref | None
    assignee: Ref | None
    caller_id: int | None
    reassignment_count: int
    reopen_count: int
    source_made_sla: bool | None

    @staticmethod
    def resolve_assignee(obj):
        if obj.assignee is None:
            return None
        return {"id": obj.assignee.id, "name": agent_name(obj.assignee, getattr(obj, "people_visible", False))}


class TicketEventOut(Schema):
    seq: int
    at: datetime
    kind: str
    from_value: str
    to_value: str


class TicketDetailOut(TicketOut):
    events: list[TicketEventOut]


class TicketFilters(Schema):
    kind: str | None = None
    state: str | None = None
    service_id: int | None = None
    group_id: int | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None


class TicketIngestOut(Schema):
    kind: str
    created: int
    updated: int
    unchanged: int
    stale: int
    rejected: int
    resolved_tickets: int
    survey_invitations: int
    references_created: dict[str, int]
    errors: list[RowErrorOut]
