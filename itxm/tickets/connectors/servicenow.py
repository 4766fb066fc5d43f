"""ServiceNow through its Table API: incidents and requested items, their history, their SLA verdict.

- Tickets: ``GET /api/now/table/{incident|sc_req_item}`` with ``sysparm_display_value=all`` (every field
  as ``{"display_value", "value"}``, references with a ``link`` too), ordered by ``sys_updated_on`` and
  paged with ``sysparm_limit``/``sysparm_offset``; ``X-Total-Count`` and the ``Link`` header tell the size.
- History: ``sys_audit`` rows of the page's tickets for ``state`` and ``assignment_group`` (old and new
  values are raw: state codes and group sys_ids, resolved to names through ``sys_user_group``).
- SLA verdict: ``task_sla`` rows (``has_breached``, ``stage``); the task's own ``made_sla`` is a legacy
  field the SLA engine no longer maintains, used only when a ticket has no task SLA.
- Outbound: ``POST /api/now/table/incident`` with ``correlation_id``, looked up first by that id.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from itxm.tickets.connectors.base import (
    ConnectorError,
    HttpError,
    Page,
    Pager,
    RemoteTicket,
    SyncWindow,
    TicketRequest,
    TicketSource,
    check_choice,
    check_time_zone,
    link_next,
    register,
    utc_text,
)

# Choice values of the state field: incident's own list, and task's for requested items.
INCIDENT_STATES = {
    "1": "new",
    "2": "in_progress",
    "3": "on_hold",
    "6": "resolved",
    "7": "closed",
    "8": "cancelled",
}
TASK_STATES = {
    "-5": "on_hold",  # Pending
    "1": "new",  # Open
    "2": "in_progress",  # Work in Progress
    "3": "closed",  # Closed Complete
    "4": "cancelled",  # Closed Incomplete
    "7": "cancelled",  # Closed Skipped
}
# contact_type values shipped with the platform; anything else is kept as "other" rather than rejected.
CHANNELS = {
    "phone": "phone",
    "email": "email",
    "self-service": "portal",
    "web": "portal",
    "walk-in": "walk_in",
    "chat": "chat",
    "virtual_agent": "chat",
    "monitoring": "monitoring",
    "alert": "monitoring",
    "event": "monitoring",
}
COMMON_FIELDS = (
    "sys_id",
    "number",
    "state",
    "short_description",
    "opened_at",
    "closed_at",
    "sys_updated_on",
    "priority",
    "impact",
    "urgency",
    "contact_type",
    "business_service",
    "assignment_group",
    "assigned_to",
    "reassignment_count",
    "made_sla",
)
logger = logging.getLogger(__name__)
ID_CHUNK = 100  # sys_ids per "IN" condition: keeps the address well under common URL limits


@dataclass(frozen=True)
class TableSpec:
    table: str
    kind: str
    states: dict[str, str]
    caller: str
    category: str
    resolved: str | None
    reopen: str | None

    def fields(self) -> list[str]:
        extra = [self.caller, self.category, self.resolved, self.reopen]
        return [*COMMON_FIELDS, *(name for name in extra if name)]


TABLES = {
    "incident": TableSpec(
        "incident", "incident", INCIDENT_STATES, "caller_id", "category", "resolved_at", "reopen_count"
    ),
    # A requested item is fulfilled when closed complete: its close time is also its resolution time.
    "sc_req_item": TableSpec("sc_req_item", "request", TASK_STATES, "requested_for", "cat_item", None, None),
}


def value(field) -> str:
    """The stored value of a field, whether the API sent it plain, as a reference or with its display value."""
    if isinstance(field, dict):
        return str(field.get("value") or "")
    return "" if field is None else str(field)


def display(field) -> str:
    if isinstance(field, dict):
        return str(field.get("display_value") or field.get("value") or "")
    return "" if field is None else str(field)


def _count_header(response) -> int | None:
    text = response.headers.get("X-Total-Count")
    return int(text) if text and text.strip().isdigit() else None


@register
class ServiceNow(TicketSource):
    kind = "servicenow"
    defaults = {
        "tables": ["incident", "sc_req_item"],
        "query": "",  # extra encoded-query conditions, joined with ^ (AND)
        "page_size": 200,
        "history": True,
        "sla": True,
        "reference_key": "display",  # or "sys_id": what names groups, people, services in ITXM
        "time_zone": "UTC",  # the integration user's zone, in which ServiceNow reads query times
        "create_table": "incident",
        "create_fields": {},  # constant fields for created tickets, e.g. {"contact_type": "monitoring"}
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._group_names: dict[str, str] = {}
        self._history = bool(self.options["history"])
        self._sla = bool(self.options["sla"])

    def check_options(self) -> None:
        tables = self.options["tables"]
        if not isinstance(tables, list) or not tables or any(table not in TABLES for table in tables):
            raise ConnectorError(f"tables must be a list drawn from {', '.join(TABLES)}")
        check_choice(self.options, "reference_key", ("display", "sys_id"))
        check_time_zone(self.options["time_zone"])
        if "^NQ" in str(self.options["query"]):
            raise ConnectorError("query is joined to the sync window with ^ (AND): ^NQ would escape the window")

    # Pull

    def changes(self, window: SyncWindow) -> Iterator[list[dict]]:
        self.complete = True
        for table in self.options["tables"]:
            spec = TABLES[table]
            pager = Pager(lambda offset, table=table, spec=spec: self._ticket_page(table, spec, window, offset), 0)
            for page in pager:
                self.pages += 1
                self.passes = max(self.passes, pager.passes)
                if page.items:
                    yield self._tickets(spec, page.items)
            self.complete = self.complete and pager.complete

    def _ticket_page(self, table: str, spec: TableSpec, window: SyncWindow, offset: int) -> Page:
        limit = int(self.options["page_size"])
        response = self.client.get(
            f"api/now/table/{table}",
            {
                "sysparm_query": self._window_query(window),
                "sysparm_fields": ",".join(spec.fields()),
                "sysparm_display_value": "all",
                "sysparm_limit": limit,
                "sysparm_offset": offset,
            },
        )
        return self._page(response, offset, limit)

    def _page(self, response, offset: int, limit: int) -> Page:
        items = response.json().get("result") or []
        link = response.headers.get("Link")
        # The Link header names the next page when there is one; without it, a full page means "maybe more".
        more = link_next(link) is not None if link else len(items) >= limit
        return Page(items, _count_header(response), offset + limit if more and items else None)

    def _window_query(self, window: SyncWindow) -> str:
        zone = ZoneInfo(self.options["time_zone"])
        parts = []
        if window.since is not None:
            parts.append(f"sys_updated_on>={utc_text(window.since, zone)}")
        parts.append(f"sys_updated_on<{utc_text(window.until, zone)}")
        if extra := str(self.options["query"] or "").strip().strip("^"):
            parts.append(extra)
        # sys_id breaks ties: rows updated in the same second keep one order from page to page.
        parts.append("ORDERBYsys_updated_on^ORDERBYsys_id")
        return "^".join(parts)

    def _list(self, table: str, query: str, fields: str) -> list[dict]:
        """Every row of a secondary table matching the query (raw values), however many pages."""
        limit = int(self.options["page_size"])

        def fetch(offset: int) -> Page:
            response = self.client.get(
                f"api/now/table/{table}",
                {"sysparm_query": query, "sysparm_fields": fields, "sysparm_limit": limit, "sysparm_offset": offset},
            )
            return self._page(response, offset, limit)

        return [row for page in Pager(fetch, 0, max_passes=1) for row in page.items]

    def _tickets(self, spec: TableSpec, records: list[dict]) -> list[dict]:
        ids = [value(record.get("sys_id")) for record in records]
        for record in records:
            group = record.get("assignment_group")
            if value(group):
                self._group_names[value(group)] = display(group)
        audits = self._audits(spec, ids) if self._history else {}
        slas = self._task_slas(ids) if self._sla else {}
        return [
            self._ticket(spec, record, audits.get(sys_id), slas.get(sys_id))
            for sys_id, record in zip(ids, records, strict=True)
        ]

    def _audits(self, spec: TableSpec, ids: list[str]) -> dict[str, list[dict]]:
        rows: dict[str, list[dict]] = {}
        try:
            for start in range(0, len(ids), ID_CHUNK):
                query = (
                    f"tablename={spec.table}^documentkeyIN{','.join(ids[start : start + ID_CHUNK])}"
                    "^fieldnameINstate,assignment_group^ORDERBYsys_created_on"
                )
                fields = "sys_id,tablename,documentkey,fieldname,oldvalue,newvalue,sys_created_on"
                for row in self._list("sys_audit", query, fields):
                    rows.setdefault(value(row.get("documentkey")), []).append(row)
        except HttpError as exc:
            if exc.status != 403:
                raise
            logger.warning("%s: no read access to sys_audit; tickets come without history", self.config.name)
            self._history = False
            return {}
        if self.options["reference_key"] == "display":
            self._resolve_group_names(rows)
        return rows

    def _resolve_group_names(self, audits: dict[str, list[dict]]) -> None:
        wanted = {
            value(row.get(side))
            for rows in audits.values()
            for row in rows
            if value(row.get("fieldname")) == "assignment_group"
            for side in ("oldvalue", "newvalue")
        }
        missing = sorted(sys_id for sys_id in wanted if sys_id and sys_id not in self._group_names)
        for start in range(0, len(missing), ID_CHUNK):
            query = f"sys_idIN{','.join(missing[start : start + ID_CHUNK])}"
            for row in self._list("sys_user_group", query, "sys_id,name"):
                self._group_names[value(row.get("sys_id"))] = value(row.get("name"))

    def _task_slas(self, ids: list[str]) -> dict[str, list[dict]]:
        rows: dict[str, list[dict]] = {}
        try:
            for start in range(0, len(ids), ID_CHUNK):
                query = f"taskIN{','.join(ids[start : start + ID_CHUNK])}^stage!=cancelled"
                for row in self._list("task_sla", query, "sys_id,task,sla,stage,has_breached,business_percentage"):
                    rows.setdefault(value(row.get("task")), []).append(row)
        except HttpError as exc:
            if exc.status != 403:
                raise
            logger.warning("%s: no read access to task_sla; using the tickets' made_sla", self.config.name)
            self._sla = False
            return {}
        return rows

    def _ticket(self, spec: TableSpec, record: dict, audits: list[dict] | None, slas: list[dict] | None) -> dict:
        reference = display if self.options["reference_key"] == "display" else value
        state_code = value(record.get("state"))
        state = spec.states.get(state_code) or display(record.get("state"))
        closed_at = value(record.get("closed_at"))
        if spec.resolved:
            resolved_at = value(record.get(spec.resolved))
        else:
            resolved_at = closed_at if state == "closed" else ""
        contact = value(record.get("contact_type")).strip().lower()
        return {
            "source_id": value(record.get("sys_id")),
            "number": value(record.get("number")),
            "kind": spec.kind,
            "state": state,
            "short_description": display(record.get("short_description"))[:300],
            "opened_at": value(record.get("opened_at")),
            "resolved_at": resolved_at,
            "closed_at": closed_at,
            "updated_at": value(record.get("sys_updated_on")),
            "priority": value(record.get("priority")) or None,
            "impact": value(record.get("impact")) or None,
            "urgency": value(record.get("urgency")) or None,
            "channel": CHANNELS.get(contact, "other") if contact else None,
            "category": reference(record.get(spec.category)) or None,
            "service": reference(record.get("business_service")) or None,
            "caller": reference(record.get(spec.caller)) or None,
            "group": reference(record.get("assignment_group")) or None,
            "assignee": reference(record.get("assigned_to")) or None,
            "reassignment_count": value(record.get("reassignment_count")) or 0,
            "reopen_count": (value(record.get(spec.reopen)) or 0) if spec.reopen else 0,
            "made_sla": self._made_sla(record, slas),
            "history": self._history_of(spec, audits) if audits else None,
        }

    def _made_sla(self, record: dict, slas: list[dict] | None):
        if not slas:
            return value(record.get("made_sla")) or None
        if any(value(row.get("has_breached")) == "true" for row in slas):
            return False
        if all(value(row.get("stage")) == "completed" for row in slas):
            return True
        return None  # still running and not breached: no verdict yet

    def _history_of(self, spec: TableSpec, audits: list[dict]) -> list[dict]:
        names = self._group_names if self.options["reference_key"] == "display" else {}
        events = []
        for row in sorted(audits, key=lambda r: (value(r.get("sys_created_on")), value(r.get("sys_id")))):
            at, old, new = value(row.get("sys_created_on")), value(row.get("oldvalue")), value(row.get("newvalue"))
            if value(row.get("fieldname")) == "state":
                if new not in spec.states:
                    continue  # a state this table's list does not know (a customisation): not a change we can name
                events.append({"at": at, "kind": "state", "from": spec.states.get(old, ""), "to": spec.states[new]})
            else:
                events.append({"at": at, "kind": "assignment", "from": names.get(old, old), "to": names.get(new, new)})
        return events

    # Outbound

    def find_by_correlation(self, correlation_id: str) -> RemoteTicket | None:
        table = self.options["create_table"]
        response = self.client.get(
            f"api/now/table/{table}",
            {
                "sysparm_query": f"correlation_id={correlation_id}^ORDERBYsys_created_on",
                "sysparm_fields": "sys_id,number",
                "sysparm_limit": 1,
            },
        )
        rows = response.json().get("result") or []
        return self._remote(table, rows[0]) if rows else None

    def create_ticket(self, request: TicketRequest) -> RemoteTicket:
        table = self.options["create_table"]
        body = {
            **(self.options["create_fields"] or {}),
            "short_description": request.summary[:160],
            "description": request.description,
            "correlation_id": request.correlation_id,
            "correlation_display": "ITXM",
        }
        if request.caller:
            body["caller_id" if table == "incident" else "opened_by"] = request.caller
        if request.group:
            body["assignment_group"] = request.group
        # Display-value input lets hints be names ("Service Desk") as well as sys_ids.
        response = self.client.post(
            f"api/now/table/{table}",
            body,
            params={"sysparm_input_display_value": "true", "sysparm_fields": "sys_id,number"},
        )
        return self._remote(table, response.json().get("result") or {})

    def _remote(self, table: str, row: dict) -> RemoteTicket:
        sys_id = value(row.get("sys_id"))
        if not sys_id:
            raise ConnectorError("ServiceNow answered without the ticket's sys_id")
        return RemoteTicket(sys_id, value(row.get("number")), f"{self.client.base_url}/{table}.do?sys_id={sys_id}")
