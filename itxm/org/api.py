from ninja import File, Router, Status, UploadedFile
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from itxm.org import importing, queries, services
from itxm.org.schemas import (
    AgentOut,
    CategoryOut,
    DepartmentOut,
    EmployeeOut,
    GroupOut,
    ImportReportOut,
    LocationOut,
    MeOut,
    NewTokenOut,
    ServiceOut,
    SupplierOut,
    TokenIn,
    TokenOut,
)
from itxm.org.scopes import Permission, scope_for

router = Router(tags=["organisation"])


def _token_out(token, secret: str | None = None) -> dict:
    def stamp(value):
        return value.isoformat() if value else None

    out = {
        "id": token.id,
        "name": token.name,
        "key_prefix": token.key_prefix,
        "created_at": stamp(token.created_at),
        "last_used_at": stamp(token.last_used_at),
        "revoked_at": stamp(token.revoked_at),
    }
    return out | ({"secret": secret} if secret else {})


@router.get("/me", response=MeOut, summary="The calling user, its role and permissions")
def me(request):
    user = request.auth
    scope = scope_for(user)
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "supplier": user.supplier,
        "services": list(user.services.all()),
        "language": user.language,
        "permissions": sorted(scope.permissions),
    }


@router.get("/tokens", response=list[TokenOut], summary="Your API tokens")
@paginate(LimitOffsetPagination)
def list_tokens(request):
    return [_token_out(t) for t in services.tokens_of(request.auth)]


@router.post("/tokens", response={201: NewTokenOut}, summary="Create an API token; its secret is shown once")
def create_token(request, payload: TokenIn):
    token, secret = services.issue_token(request.auth, payload.name)
    return Status(201, _token_out(token, secret))


@router.delete("/tokens/{int:token_id}", response=TokenOut, summary="Revoke an API token")
def revoke_token(request, token_id: int):
    return _token_out(services.revoke_token(scope_for(request.auth), request.auth, token_id))


def _list_and_detail(path: str, query, schema, label: str) -> None:
    """Register the paginated list and the detail route of one kind of reference data."""

    @router.get(f"/{path}", response=list[schema], summary=f"List {label}", operation_id=f"list_{path}")
    @paginate(LimitOffsetPagination)
    def list_view(request):
        return query(scope_for(request.auth))

    @router.get(f"/{path}/{{int:item_id}}", response=schema, summary=f"One of the {label}", operation_id=f"get_{path}")
    def detail_view(request, item_id: int):
        return scope_for(request.auth).get(query(scope_for(request.auth)), item_id)


_list_and_detail("suppliers", queries.suppliers, SupplierOut, "suppliers")
_list_and_detail("groups", queries.groups, GroupOut, "assignment groups")
_list_and_detail("services", queries.services, ServiceOut, "business services")
_list_and_detail("categories", queries.categories, CategoryOut, "categories")
_list_and_detail("departments", queries.departments, DepartmentOut, "departments")
_list_and_detail("locations", queries.locations, LocationOut, "locations")
_list_and_detail("agents", queries.agents, AgentOut, "agents")
_list_and_detail("employees", queries.employees, EmployeeOut, "employees")


@router.post(
    "/org/import",
    response=list[ImportReportOut],
    summary="Import organisation data from CSV, XLSX or JSON",
    description=(
        "Upsert by external id: sending the same file again changes nothing. Bad rows are reported "
        "with line, field and reason; the valid rows around them load. `kind` is one of "
        + ", ".join(importing.KIND_ORDER)
        + "; a workbook's sheet names or a JSON object's keys may name the kinds instead."
    ),
)
def import_org(request, file: File[UploadedFile], kind: str | None = None):
    scope_for(request.auth).require(Permission.IMPORT)
    try:
        reports = importing.import_org_file(file.file, file.name or "upload.csv", kind)
    except importing.UnknownKind as exc:
        raise HttpError(400, str(exc)) from exc
    return [report.as_dict() for report in reports]
