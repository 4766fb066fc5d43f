from decimal import Decimal

from ninja import Schema


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
    name: str
    email: str
    group: Ref | None


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
