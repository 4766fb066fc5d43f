"""A ServiceNow instance on 127.0.0.1 that answers the Table API as the real one does (docs/connectors.md
lists the documentation it follows):

- ``GET /api/now/table/{table}``: ``{"result": [...]}``, every value a string ("3", "true", "2026-03-02
  09:15:00" in UTC), references as ``{"link", "value"}`` (plain sys_ids with
  ``sysparm_exclude_reference_link=true``), ``sysparm_display_value=true|false|all``, ``sysparm_fields``,
  encoded ``sysparm_query`` (``^``-joined ``=``, ``!=``, ``>=``, ``<``, ``IN``…, ``ORDERBY``), paging with
  ``sysparm_limit``/``sysparm_offset``, ``X-Total-Count`` and a ``Link`` header (first, prev, next, last).
- ``POST /api/now/table/{table}``: 201 and ``{"result": record}``; ``sysparm_input_display_value=true``
  lets references be given by name.
- Basic authentication; errors as ``{"error": {"message", "detail"}, "status": "failure"}``.
- Tests change records (``update`` writes ``sys_audit`` rows as the platform does), plan failures
  (a 429 with Retry-After, a 500) for chosen requests, and read what was asked and created.
"""

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class PlannedFailure:
    status: int
    matches: Callable[[str, str, dict], bool]
    retry_after: str | None = None
    times: int = 1
    body: dict = field(default_factory=dict)


@dataclass
class SeenRequest:
    method: str
    path: str
    params: dict
    status: int = 0


class LocalApi:
    """An HTTP server on an ephemeral port of 127.0.0.1 that a test starts and stops (``with``)."""

    def __init__(self):
        self.lock = threading.RLock()
        self.requests: list[SeenRequest] = []
        self.failures: list[PlannedFailure] = []
        self.on_request: Callable[[SeenRequest], None] | None = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                api._serve(self, "GET")

            def do_POST(self):
                api._serve(self, "POST")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, status: int, when: Callable[[str, str, dict], bool], retry_after: str | None = None, times=1):
        """Answer ``status`` to the next ``times`` requests for which ``when(method, path, params)`` holds."""
        self.failures.append(PlannedFailure(status, when, retry_after, times))

    def seen(self, method: str = "GET", path: str = "") -> list[SeenRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path)]

    # Subclasses implement these.

    def authorized(self, header: str) -> bool:
        raise NotImplementedError

    def route(self, method: str, path: str, params: dict, body) -> tuple[int, dict, object]:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> object:
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler, method: str):
        parts = urlsplit(handler.path)
        params = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        seen = SeenRequest(method, parts.path, params)
        with self.lock:
            self.requests.append(seen)
            failure = next((f for f in self.failures if f.times > 0 and f.matches(method, parts.path, params)), None)
            if failure:
                failure.times -= 1
        if failure:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            message = "Rate limit exceeded" if failure.status == 429 else "Internal server error"
            self._answer(handler, seen, failure.status, headers, self.error_body(failure.status, message))
            return
        if not self.authorized(handler.headers.get("Authorization") or ""):
            self._answer(handler, seen, 401, {}, self.error_body(401, "User Not Authenticated"))
            return
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            self._answer(handler, seen, 400, {}, self.error_body(400, "Invalid JSON"))
            return
        with self.lock:
            status, headers, payload = self.route(method, parts.path, params, body)
            seen.status = status
            if self.on_request:
                # After this answer is made, before the client can ask again: for "a record changes
                # while the client pages" tests.
                self.on_request(seen)
        self._answer(handler, seen, status, headers, payload)

    def _answer(self, handler, seen: SeenRequest, status: int, headers: dict, payload) -> None:
        seen.status = status
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json;charset=UTF-8")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


INCIDENT_STATE_LABELS = {
    "1": "New",
    "2": "In Progress",
    "3": "On Hold",
    "6": "Resolved",
    "7": "Closed",
    "8": "Canceled",
}
TASK_STATE_LABELS = {
    "-5": "Pending",
    "1": "Open",
    "2": "Work in Progress",
    "3": "Closed Complete",
    "4": "Closed Incomplete",
    "7": "Closed Skipped",
}
PRIORITY_LABELS = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}
LEVEL_LABELS = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}
CONTACT_LABELS = {"phone": "Phone", "email": "Email", "self-service": "Self-service", "walk-in": "Walk-in"}
REFERENCES = {
    "assignment_group": "sys_user_group",
    "assigned_to": "sys_user",
    "caller_id": "sys_user",
    "requested_for": "sys_user",
    "opened_by": "sys_user",
    "business_service": "cmdb_ci_service",
    "cat_item": "sc_cat_item",
    "task": "task",
    "sla": "contract_sla",
}
TASK_TABLES = ("incident", "sc_req_item")
CONDITION = re.compile(r"^([a-z_0-9.]+?)(>=|<=|!=|>|<|=|IN|NOT IN|STARTSWITH)(.*)$")


class FakeServiceNow(LocalApi):
    def __init__(self, user: str = "itxm.integration", password: str = "s3cret!", now: str = "2026-03-20 12:00:00"):  # noqa: S107
        super().__init__()
        self.credentials = basic(user, password)
        self.now = now  # the instance's clock for records it creates itself
        self.tables: dict[str, dict[str, dict]] = {
            name: {}
            for name in (
                "incident",
                "sc_req_item",
                "sys_audit",
                "task_sla",
                "sys_user_group",
                "sys_user",
                "cmdb_ci_service",
                "sc_cat_item",
                "contract_sla",
            )
        }
        self.counters = {"incident": 10000, "sc_req_item": 10000}
        self.created: list[dict] = []
        self.fail_after_create = 0  # create the record, then answer 500, this many times

    # Test data, in the instance's raw form.

    def _insert(self, table: str, record: dict) -> str:
        sys_id = record.setdefault("sys_id", uuid.uuid4().hex)
        self.tables[table][sys_id] = record
        return sys_id

    def add_group(self, name: str) -> str:
        return self._insert("sys_user_group", {"name": name, "active": "true"})

    def add_user(self, name: str) -> str:
        user_name = name.lower().replace(" ", ".")
        return self._insert("sys_user", {"name": name, "user_name": user_name, "email": f"{user_name}@example.com"})

    def add_service(self, name: str) -> str:
        return self._insert("cmdb_ci_service", {"name": name})

    def add_catalog_item(self, name: str) -> str:
        return self._insert("sc_cat_item", {"name": name})

    def group_id(self, name: str) -> str:
        return next(k for k, v in self.tables["sys_user_group"].items() if v["name"] == name)

    def add_ticket(self, table: str = "incident", *, opened_at: str, updated_at: str | None = None, **fields) -> str:
        with self.lock:
            self.counters[table] += 1
            prefix = "INC" if table == "incident" else "RITM"
            record = {
                "number": f"{prefix}{self.counters[table]:07d}",
                "state": "1",
                "short_description": "",
                "opened_at": opened_at,
                "closed_at": "",
                "sys_created_on": opened_at,
                "sys_updated_on": updated_at or opened_at,
                "sys_mod_count": "0",
                "priority": "4",
                "impact": "3",
                "urgency": "3",
                "contact_type": "phone",
                "business_service": "",
                "assignment_group": "",
                "assigned_to": "",
                "reassignment_count": "0",
                "made_sla": "true",
                "correlation_id": "",
                "correlation_display": "",
                "description": "",
            }
            if table == "incident":
                record |= {"caller_id": "", "category": "inquiry", "resolved_at": "", "reopen_count": "0"}
            else:
                record |= {"requested_for": "", "cat_item": ""}
            record.update({k: str(v) for k, v in fields.items()})
            sys_id = self._insert(table, record)
            for name in ("state", "assignment_group"):
                if record[name]:
                    self._audit(table, sys_id, name, "", record[name], opened_at)
            return sys_id

    def update(self, sys_id: str, at: str, **changes) -> None:
        """Change a ticket as a user would: audit rows, counters and stamps move like the platform's."""
        with self.lock:
            table = next(t for t in TASK_TABLES if sys_id in self.tables[t])
            record = self.tables[table][sys_id]
            for name, new in changes.items():
                new, old = str(new), record.get(name, "")
                if new == old:
                    continue
                if name in ("state", "assignment_group"):
                    self._audit(table, sys_id, name, old, new, at)
                if name == "assignment_group" and old:
                    record["reassignment_count"] = str(int(record["reassignment_count"]) + 1)
                if name == "state" and table == "incident":
                    if new == "6":
                        record["resolved_at"] = at
                    if new == "7":
                        record["closed_at"] = at
                    if old in ("6", "7") and new in ("1", "2", "3"):
                        record["reopen_count"] = str(int(record["reopen_count"]) + 1)
                        record["resolved_at"] = ""
                record[name] = new
            record["sys_updated_on"] = at
            record["sys_mod_count"] = str(int(record["sys_mod_count"]) + 1)

    def add_task_sla(self, task: str, sla: str, *, stage: str, has_breached: bool, percentage: str = "50.0") -> str:
        with self.lock:
            sla_id = next((k for k, v in self.tables["contract_sla"].items() if v["name"] == sla), None)
            sla_id = sla_id or self._insert("contract_sla", {"name": sla})
            return self._insert(
                "task_sla",
                {
                    "task": task,
                    "sla": sla_id,
                    "stage": stage,
                    "has_breached": "true" if has_breached else "false",
                    "business_percentage": percentage,
                    "active": "true" if stage == "in_progress" else "false",
                },
            )

    def _audit(self, table: str, sys_id: str, name: str, old: str, new: str, at: str) -> None:
        self._insert(
            "sys_audit",
            {
                "tablename": table,
                "documentkey": sys_id,
                "fieldname": name,
                "oldvalue": old,
                "newvalue": new,
                "user": "admin",
                "reason": "",
                "record_checkpoint": "1",
                "sys_created_on": at,
                "sys_created_by": "admin",
            },
        )

    # The Table API.

    def authorized(self, header: str) -> bool:
        return header == self.credentials

    def error_body(self, status: int, message: str) -> dict:
        return {"error": {"message": message, "detail": None}, "status": "failure"}

    def route(self, method, path, params, body):
        match = re.fullmatch(r"/api/now(?:/v[12])?/table/([a-z_0-9]+)", path)
        if not match or match[1] not in self.tables:
            return 400, {}, self.error_body(400, f"Invalid table {path.rsplit('/', 1)[-1]}")
        table = match[1]
        if method == "POST":
            return self._create(table, params, body or {})
        return self._list(table, path, params)

    def _list(self, table: str, path: str, params: dict):
        conditions, order = self._parse(params.get("sysparm_query", ""))
        rows = [r for r in self.tables[table].values() if all(test(r) for test in conditions)]
        for name, descending in reversed(order):
            rows.sort(key=lambda r, name=name: r.get(name, ""), reverse=descending)
        limit = int(params.get("sysparm_limit") or 10000)
        offset = int(params.get("sysparm_offset") or 0)
        total = len(rows)
        page = [self._render(table, r, params) for r in rows[offset : offset + limit]]
        headers = {"X-Total-Count": str(total), "Link": self._links(path, params, offset, limit, total)}
        return 200, headers, {"result": page}

    def _links(self, path: str, params: dict, offset: int, limit: int, total: int) -> str:
        def link(at: int, rel: str) -> str:
            query = urlencode({**params, "sysparm_offset": at, "sysparm_limit": limit})
            return f'<{self.url}{path}?{query}>;rel="{rel}"'

        links = [link(0, "first")]
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        if offset + limit < total:
            links.append(link(offset + limit, "next"))
        links.append(link(max(0, (total - 1) // limit * limit), "last"))
        return ",".join(links)

    def _parse(self, query: str):
        conditions, order = [], []
        for part in filter(None, query.split("^")):
            if part.startswith("ORDERBYDESC"):
                order.append((part[len("ORDERBYDESC") :], True))
                continue
            if part.startswith("ORDERBY"):
                order.append((part[len("ORDERBY") :], False))
                continue
            match = CONDITION.match(part)
            if not match:
                raise ValueError(f"the fake does not understand {part!r}")
            name, op, wanted = match.groups()
            conditions.append(_condition(name, op, wanted))
        return conditions, order

    def _render(self, table: str, record: dict, params: dict) -> dict:
        mode = params.get("sysparm_display_value", "false").lower()
        no_links = params.get("sysparm_exclude_reference_link", "false").lower() == "true"
        wanted = [f for f in params.get("sysparm_fields", "").split(",") if f] or list(record)
        out = {}
        for name in wanted:
            raw = record.get(name, "")
            reference = REFERENCES.get(name) if table not in ("sys_audit",) else None
            shown = self._display(table, name, raw, reference)
            link = f"{self.url}/api/now/table/{reference}/{raw}" if reference and raw and not no_links else None
            if mode == "all":
                out[name] = {"display_value": shown, "value": raw} | ({"link": link} if link else {})
            elif mode == "true":
                out[name] = {"display_value": shown, "link": link} if link else shown
            else:
                out[name] = {"link": link, "value": raw} if link else raw
        return out

    def _display(self, table: str, name: str, raw: str, reference: str | None) -> str:
        if reference and raw:
            target = self.tables.get(reference, {}).get(raw) or next(
                (self.tables[t][raw] for t in TASK_TABLES if raw in self.tables[t]), {}
            )
            return target.get("name") or target.get("number") or ""
        labels = {
            "state": INCIDENT_STATE_LABELS if table == "incident" else TASK_STATE_LABELS,
            "priority": PRIORITY_LABELS,
            "impact": LEVEL_LABELS,
            "urgency": LEVEL_LABELS,
            "contact_type": CONTACT_LABELS,
        }.get(name)
        if labels:
            return labels.get(raw, raw)
        if name == "category":
            return raw.replace("_", " ").title()
        return raw

    def _create(self, table: str, params: dict, body: dict):
        if table not in TASK_TABLES:
            return 403, {}, self.error_body(403, "Operation Failed")
        fields = dict(body)
        if params.get("sysparm_input_display_value", "").lower() == "true":
            for name, value in fields.items():
                target = REFERENCES.get(name)
                if target in self.tables and value not in self.tables[target]:
                    found = [k for k, v in self.tables[target].items() if value in (v.get("name"), v.get("user_name"))]
                    fields[name] = found[0] if found else ""
        sys_id = self.add_ticket(table, opened_at=self.now, **fields)
        record = self.tables[table][sys_id]
        self.created.append(record)
        if self.fail_after_create > 0:
            self.fail_after_create -= 1
            return 500, {}, self.error_body(500, "Transaction cancelled: maximum execution time exceeded")
        headers = {"Location": f"{self.url}/api/now/table/{table}/{sys_id}"}
        return 201, headers, {"result": self._render(table, record, params)}


def _condition(name: str, op: str, wanted: str):
    def value(row):
        return row.get(name, "")

    if op == "=":
        return lambda row: value(row) == wanted
    if op == "!=":
        return lambda row: value(row) != wanted
    if op == "IN":
        allowed = set(wanted.split(","))
        return lambda row: value(row) in allowed
    if op == "NOT IN":
        barred = set(wanted.split(","))
        return lambda row: value(row) not in barred
    if op == "STARTSWITH":
        return lambda row: value(row).startswith(wanted)
    compare = {">=": str.__ge__, "<=": str.__le__, ">": str.__gt__, "<": str.__lt__}[op]
    # Dates as the API writes them ("2026-03-02 09:15:00") order as text; empty values never match.
    return lambda row: value(row) != "" and compare(value(row), wanted)
