from decimal import Decimal

from ninja import Field, Schema


class Ref(Schema):
    id: int
    name: str


class SupplierOut(Schema):
    id: int
    external_id: str
    name: str


class GroupOut(Schema):
    id: int
    external_id: str
    name: str
    email: str
    supplier: Ref | None


class ServiceOut(Schema):
    id: int
    external_id: str
    name: str
    description: str


class CategoryOut(Schema):
    id: int
    external_id: str
    name: str
    service: Ref | None


class DepartmentOut(Schema):
    id: int
    name: str


class LocationOut(Schema):
    id: int
    name: str
    country: str
    time_zone: str


class AgentOut(Schema):
    id: int
    external_id: str
    name: str = Field(description="the agent's code for readers who may not see people, as on the pages")
    email: str = Field(description="empty for readers who may not see people")
    group: Ref | None

    @staticmethod
    def resolve_name(obj):
        return agent_name(obj, getattr(obj, "people_visible", False))

    @staticmethod
    def resolve_email(obj):
        return obj.email if getattr(obj, "people_visible", False) else ""


def agent_name(agent, people_visible: bool) -> str:
    """An agent is a person: readers who may not see people read the agent's code."""
    return agent.name if people_visible else agent.external_id


class EmployeeOut(Schema):
    id: int
    external_id: str
    name: str
    email: str
    department: Ref | None
    location: Ref | None
    country: str
    language: str
    cost_per_hour: Decimal | None
    opted_out: bool
    is_active: bool


class RowErrorOut(Schema):
    line: int
    field: str
    reason: str


class ImportReportOut(Schema):
    kind: str
    created: int
    updated: int
    unchanged: int
    rejected: int
    errors: list[RowErrorOut]


class MeOut(Schema):
    id: int
    username: str
    role: str
    supplier: Ref | None
    services: list[Ref]
    language: str
    permissions: list[str]


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    key_prefix: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class NewTokenOut(TokenOut):
    secret: str
