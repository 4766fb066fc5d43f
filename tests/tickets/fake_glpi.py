"""A GLPI 10 on 127.0.0.1 that answers its REST API (``apirest.php``) as the real one does (the
documentation and source it follows are listed in docs/connectors.md):

- ``GET initSession`` with ``App-Token`` and ``Authorization: user_token …`` or Basic → ``{"session_token"}``;
  every other call needs ``Session-Token`` (header or query string): missing → 400
  ``ERROR_SESSION_TOKEN_MISSING``, unknown or expired → 401 ``ERROR_SESSION_TOKEN_INVALID``;
  ``killSession``. Errors are ``["ERROR_CODE", "message"]``.
- ``GET search/Ticket``: ``criteria[i][link|field|searchtype|value]`` (``equals``, ``contains``,
  ``morethan``, ``lessthan`` on search options 2, 12, 19), ``forcedisplay[i]``, ``sort`` (a search option),
  ``order``, ``range=start-end``; ``{"totalcount", "count", "sort", "order", "data": [{"<option>": value}],
  "content-range"}`` (no ``data`` when nothing matches), ``Content-Range`` and ``Accept-Range`` headers, 206
  when the page is not everything, 400 ``ERROR_RANGE_EXCEED_TOTAL`` for a range after the end. Columns as
  the search engine gives them: codes for status, type and levels, names for request source, category
  and groups, user ids for requester and technician, several values as a list.
- ``GET Ticket/{id}/Log`` and ``GET Ticket?searchText[field]=…`` ("get sub items", "get all items"):
  ``range``, ``sort`` (a field), ``order``, ``Content-Range``, 206; the log as GLPI writes it: status
  changes (``id_search_option`` 12, raw codes), actors added and removed (``linked_action`` 15/16,
  ``"Name (id)"``, option 4, 5 or 8 as GLPI 10.0.10 and later log them), ticket creation (20).
- ``GET User/{id}``; ``POST Ticket`` with ``{"input": {…}}`` → 201 ``{"id", "message"}`` and ``Location``.
- Assigning a group or technician to a new ticket moves it to "Processing (assigned)", as GLPI does.
"""

import re
import secrets
import threading
from datetime import datetime

from tests.tickets.fake_servicenow import LocalApi, basic

REQUEST_TYPES = {1: "Helpdesk", 2: "E-Mail", 3: "Phone", 4: "Direct", 5: "Written", 6: "Other"}
REQUESTER, ASSIGNED = 1, 2
ACTOR_OPTIONS = {("User", REQUESTER): 4, ("User", ASSIGNED): 5, ("Group", ASSIGNED): 8, ("Group", REQUESTER): 71}
CREATE_ITEM, ADD_RELATION, DELETE_RELATION = 20, 15, 16
RANGE = re.compile(r"^(\d+)-(\d+)$")
LOG_FIELDS = (
    "id",
    "itemtype",
    "items_id",
    "itemtype_link",
    "linked_action",
    "user_name",
    "date_mod",
    "id_search_option",
    "old_value",
    "new_value",
)


def error(code: str, message: str) -> list:
    return [code, message]


class FakeGlpi(LocalApi):
    def __init__(self, user_token="glpi-user-token-1", app_token="glpi-app-token-1", login="itxm", password="s3cret!"):  # noqa: S107
        super().__init__()
        self.user_token, self.app_token = user_token, app_token
        self.credentials = basic(login, password)
        self.sessions: set[str] = set()
        self.sessions_opened = 0
        self.users: dict[int, dict] = {}
        self.groups: dict[int, dict] = {}
        self.categories: dict[int, str] = {}
        self.tickets: dict[int, dict] = {}
        self.actors: list[dict] = []
        self.logs: list[dict] = []
        self.created: list[dict] = []
        self.fail_after_create = 0  # create the ticket, then answer 500, this many times
        self.now = "2026-03-20 12:00:00"  # the instance's clock for tickets it creates itself
        self.api_user = self.add_user("itxm", "ITXM", "Integration")
        self._headers = threading.local()

    # Test data, as GLPI stores it.

    def add_user(self, login: str, firstname: str = "", realname: str = "") -> int:
        user_id = len(self.users) + 2  # user 1 is the root "glpi" account
        self.users[user_id] = {"id": user_id, "name": login, "firstname": firstname, "realname": realname}
        return user_id

    def add_group(self, name: str) -> int:
        group_id = len(self.groups) + 1
        self.groups[group_id] = {"id": group_id, "name": name, "completename": name}
        return group_id

    def add_category(self, name: str) -> int:
        category_id = len(self.categories) + 1
        self.categories[category_id] = name
        return category_id

    def add_ticket(
        self,
        date: str,
        *,
        name: str = "Something is broken",
        content: str = "",
        status: int = 1,
        type: int = 1,  # noqa: A002 (GLPI's name)
        priority: int = 3,
        urgency: int = 3,
        impact: int = 3,
        source: int = 1,
        category: int = 0,
        requester: int | None = None,
        technician: int | None = None,
        group: int | None = None,
        time_to_resolve: str | None = None,
        taken_after: int = 0,
        externalid: str = "",
    ) -> int:
        with self.lock:
            ticket_id = len(self.tickets) + 1
            self.tickets[ticket_id] = {
                "id": ticket_id,
                "entities_id": 0,
                "name": name,
                "date": date,
                "closedate": None,
                "solvedate": None,
                "date_mod": date,
                "users_id_lastupdater": self.api_user,
                "status": status,
                "users_id_recipient": self.api_user,
                "requesttypes_id": source,
                "content": content,
                "urgency": urgency,
                "impact": impact,
                "priority": priority,
                "itilcategories_id": category,
                "type": type,
                "time_to_resolve": time_to_resolve,
                "takeintoaccount_delay_stat": taken_after,
                "externalid": externalid,
                "is_deleted": 0,
                "date_creation": date,
            }
            self._log(ticket_id, date, CREATE_ITEM, 0)
            for itemtype, item, role in (("User", requester, REQUESTER), ("User", technician, ASSIGNED)):
                if item:
                    self._add_actor(ticket_id, itemtype, item, role, date)
            if group:
                self._add_actor(ticket_id, "Group", group, ASSIGNED, date)
            return ticket_id

    def update(self, ticket_id: int, at: str, *, status=None, group=None, technician=None, name=None, take=False):
        """Change a ticket as a technician would in the form; the log and dates move as GLPI's do."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            if name is not None:
                ticket["name"] = name
            if group is not None:
                for actor in self._actors(ticket_id, "Group", ASSIGNED):
                    self._remove_actor(actor, at)
                self._add_actor(ticket_id, "Group", group, ASSIGNED, at)
            if technician is not None:
                for actor in self._actors(ticket_id, "User", ASSIGNED):
                    self._remove_actor(actor, at)
                self._add_actor(ticket_id, "User", technician, ASSIGNED, at)
            if status is not None:
                self._set_status(ticket, status, at)
            if take and not ticket["takeintoaccount_delay_stat"]:
                ticket["takeintoaccount_delay_stat"] = self._seconds(ticket["date"], at)
            ticket["date_mod"] = at

    def expire_sessions(self) -> None:
        """What an idle API session comes to after session.gc_maxlifetime."""
        with self.lock:
            self.sessions.clear()

    def _actors(self, ticket_id: int, itemtype: str, role: int) -> list[dict]:
        return [a for a in self.actors if (a["tickets_id"], a["itemtype"], a["type"]) == (ticket_id, itemtype, role)]

    def _add_actor(self, ticket_id: int, itemtype: str, item: int, role: int, at: str) -> None:
        actor = {"tickets_id": ticket_id, "itemtype": itemtype, "items_id": item, "type": role}
        self.actors.append(actor)
        option = ACTOR_OPTIONS[(itemtype, role)]
        self._log(ticket_id, at, ADD_RELATION, option, itemtype, new=self._name_id(itemtype, item))
        ticket = self.tickets[ticket_id]
        if role == ASSIGNED and ticket["status"] == 1:
            self._set_status(ticket, 2, at)  # CommonITILActor::post_addItem: new → assigned

    def _remove_actor(self, actor: dict, at: str) -> None:
        self.actors.remove(actor)
        option = ACTOR_OPTIONS[(actor["itemtype"], actor["type"])]
        old = self._name_id(actor["itemtype"], actor["items_id"])
        self._log(actor["tickets_id"], at, DELETE_RELATION, option, actor["itemtype"], old=old)

    def _set_status(self, ticket: dict, status: int, at: str) -> None:
        old = ticket["status"]
        if old == status:
            return
        self._log(ticket["id"], at, 0, 12, old=str(old), new=str(status))
        ticket["status"] = status
        if status == 5:
            ticket["solvedate"] = at
        if status == 6:
            ticket["closedate"] = at
            ticket["solvedate"] = ticket["solvedate"] or at
        if old in (5, 6) and status < 5:  # reopened
            ticket["solvedate"] = ticket["closedate"] = None

    def _name_id(self, itemtype: str, item: int) -> str:
        if itemtype == "Group":
            return f"{self.groups[item]['completename']} ({item})"
        user = self.users[item]
        full = f"{user['realname']} {user['firstname']}".strip()
        return f"{full or user['name']} ({item})"

    def _log(self, ticket_id: int, at: str, action: int, option: int, link: str = "", old: str = "", new: str = ""):
        self.logs.append(
            {
                "id": len(self.logs) + 1,
                "itemtype": "Ticket",
                "items_id": ticket_id,
                "itemtype_link": link,
                "linked_action": action,
                "user_name": "ITXM Integration (2)",
                "date_mod": at,
                "id_search_option": option,
                "old_value": old,
                "new_value": new,
            }
        )

    @staticmethod
    def _seconds(start: str, end: str) -> int:
        return int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())

    # The REST API.

    def _serve(self, handler, method):
        self._headers.value = handler.headers
        super()._serve(handler, method)

    def header(self, name: str) -> str:
        return self._headers.value.get(name) or ""

    def authorized(self, header: str) -> bool:
        return True  # GLPI checks its own headers: see route

    def error_body(self, status: int, message: str) -> list:
        return error("ERROR", message)

    def route(self, method, path, params, body):
        match = re.fullmatch(r"/apirest\.php/(.*?)/?", path)
        if not match:
            return 404, {}, error("ERROR_METHOD_NOT_ALLOWED", "Method Not Allowed")
        resource = match[1]
        app_token = self.header("App-Token") or params.get("app_token", "")
        if self.app_token and not app_token:
            return 400, {}, error("ERROR_APP_TOKEN_PARAMETERS_MISSING", "missing parameter app_token")
        if self.app_token and app_token != self.app_token:
            return 400, {}, error("ERROR_WRONG_APP_TOKEN_PARAMETER", "parameter app_token seems wrong")
        if resource == "initSession":
            return self._init_session()
        token = self.header("Session-Token") or params.get("session_token", "")
        if not token:
            return 400, {}, error("ERROR_SESSION_TOKEN_MISSING", "parameter session_token is missing or empty")
        if token not in self.sessions:
            return 401, {}, error("ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid")
        if resource == "killSession":
            self.sessions.discard(token)
            return 200, {}, True
        if method == "GET" and resource == "search/Ticket":
            return self._search(params)
        if method == "GET" and (found := re.fullmatch(r"Ticket/(\d+)/Log", resource)):
            return self._log_items(int(found[1]), params)
        if method == "GET" and (found := re.fullmatch(r"User/(\d+)", resource)):
            user = self.users.get(int(found[1]))
            if user is None:
                return 404, {}, error("ERROR_ITEM_NOT_FOUND", "Item not found")
            return 200, {}, dict(user, is_active=1, entities_id=0)
        if method == "GET" and resource == "Ticket":
            return self._ticket_items(params)
        if method == "POST" and resource == "Ticket":
            return self._create(body)
        return 400, {}, error("ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM", "resource not found or not an instance")

    def _init_session(self):
        authorization = self.header("Authorization")
        if authorization.startswith("user_token "):
            if authorization.removeprefix("user_token ") != self.user_token:
                return 401, {}, error("ERROR_GLPI_LOGIN_USER_TOKEN", "parameter user_token seems invalid")
        elif authorization.startswith("Basic "):
            if authorization != self.credentials:
                return 401, {}, error("ERROR_GLPI_LOGIN", "Incorrect username or password")
        else:
            return (
                400,
                {},
                error("ERROR_LOGIN_PARAMETERS_MISSING", "parameter(s) login, password or user_token are missing"),
            )
        token = secrets.token_hex(20)
        self.sessions.add(token)
        self.sessions_opened += 1
        return 200, {}, {"session_token": token}

    @staticmethod
    def _range(params: dict) -> tuple[int, int] | None:
        match = RANGE.match(params.get("range", "0-49"))
        return (int(match[1]), int(match[2])) if match else None

    def _paged(self, rows: list, params: dict, itemtype: str):
        """Slice by range as getItems does: Content-Range, 206 for a part, 400 past the end."""
        bounds = self._range(params)
        if bounds is None:
            return None, (
                400,
                {},
                error("ERROR_RANGE_EXCEED_TOTAL", "range must be in format : [start-end] with integers"),
            )
        start, end = bounds
        total = len(rows)
        if start > total:
            failure = error("ERROR_RANGE_EXCEED_TOTAL", f"Provided range exceed total count of data: {total}")
            return None, (400, {}, failure)
        page = rows[start : end + 1]
        end = min(end, total - 1)
        headers = {"Accept-Range": f"{itemtype} 1000"}
        if total:
            headers["Content-Range"] = f"{start}-{end}/{total}"
        status = 206 if end - start + 1 < total else 200
        return (page, headers, status, f"{start}-{end}/{total}", total), None

    # Search engine

    def _search(self, params: dict):
        criteria = []
        for index in sorted({int(m[1]) for key in params if (m := re.match(r"criteria\[(\d+)\]", key))}):
            prefix = f"criteria[{index}]"
            link = params.get(f"{prefix}[link]", "AND").upper()
            field, searchtype = params.get(f"{prefix}[field]"), params.get(f"{prefix}[searchtype]")
            value = params.get(f"{prefix}[value]")
            if field is None or searchtype is None or value is None:
                return 400, {}, error("ERROR", "Malformed search criteria")
            if int(field) not in (2, 12, 19):
                raise ValueError(f"the fake does not search on option {field}")
            criteria.append((link, int(field), searchtype, value))
        rows = [t for t in self.tickets.values() if not t["is_deleted"] and self._matches(t, criteria)]
        sort, order = int(params.get("sort", 1)), params.get("order", "ASC").upper()
        rows.sort(key=lambda t: (str(self._column(t, sort) or ""), t["id"]), reverse=order == "DESC")
        columns = {1, 2, 80} | {int(v) for k, v in params.items() if k.startswith("forcedisplay[")}
        result, failure = self._paged(rows, params, "Ticket")
        if failure:
            return failure
        page, headers, status, content_range, total = result
        body = {"totalcount": total, "count": len(page), "sort": [sort], "order": [order]}
        if page:
            body["data"] = [{str(c): self._column(t, c) for c in sorted(columns)} for t in page]
        body["content-range"] = content_range
        return status, headers, body

    def _matches(self, ticket: dict, criteria: list[tuple]) -> bool:
        result = True
        for position, (link, field, searchtype, wanted) in enumerate(criteria):
            value = self._column(ticket, field)
            if searchtype == "equals":
                hit = str(value) == str(wanted)
            elif searchtype == "contains":
                hit = str(wanted).lower() in str(value or "").lower()
            elif searchtype in ("morethan", "lessthan"):
                number = isinstance(value, int)
                left, right = (value, int(wanted)) if number else (str(value or ""), str(wanted))
                hit = value is not None and (left > right if searchtype == "morethan" else left < right)
            else:
                raise ValueError(f"the fake does not know searchtype {searchtype!r}")
            if position == 0:
                result = hit
            elif link.startswith("OR"):
                result = result or (not hit if link.endswith("NOT") else hit)
            else:
                result = result and (not hit if link.endswith("NOT") else hit)
        return result

    def _column(self, ticket: dict, option: int):
        plain = {
            1: "name",
            2: "id",
            3: "priority",
            10: "urgency",
            11: "impact",
            12: "status",
            14: "type",
            15: "date",
            16: "closedate",
            17: "solvedate",
            18: "time_to_resolve",
            19: "date_mod",
            150: "takeintoaccount_delay_stat",
        }
        if option in plain:
            return ticket[plain[option]]
        if option == 80:
            return "Root entity"
        if option == 9:
            return REQUEST_TYPES.get(ticket["requesttypes_id"])
        if option == 7:
            return self.categories.get(ticket["itilcategories_id"])
        if option in (4, 5, 8):
            itemtype, role = {4: ("User", REQUESTER), 5: ("User", ASSIGNED), 8: ("Group", ASSIGNED)}[option]
            items = [a["items_id"] for a in self._actors(ticket["id"], itemtype, role)]
            # The search engine gives users by id and groups by complete name; several as a list.
            values = [str(i) if itemtype == "User" else self.groups[i]["completename"] for i in items]
            return None if not values else values[0] if len(values) == 1 else values
        raise ValueError(f"the fake does not display option {option}")

    # Items

    def _log_items(self, ticket_id: int, params: dict):
        if ticket_id not in self.tickets:
            return 404, {}, error("ERROR_ITEM_NOT_FOUND", "Item not found")
        sort = params.get("sort", "id")
        if sort not in LOG_FIELDS:
            return 400, {}, error("ERROR", "sort param is not a field of glpi_logs")
        rows = [dict(row) for row in self.logs if row["items_id"] == ticket_id and row["itemtype"] == "Ticket"]
        rows.sort(key=lambda row: (row[sort], row["id"]), reverse=params.get("order", "ASC").upper() == "DESC")
        result, failure = self._paged(rows, params, "Log")
        if failure:
            return failure
        page, headers, status, _, _ = result
        return status, headers, page

    def _ticket_items(self, params: dict):
        rows = [dict(t) for t in self.tickets.values() if not t["is_deleted"]]
        for key, pattern in params.items():
            if match := re.fullmatch(r"searchText\[(\w+)\]", key):
                # makeTextSearch: a LIKE '%…%', in which _ matches any one character.
                regex = re.compile(".*".join(re.escape(p).replace("_", ".") for p in pattern.split("%")), re.I)
                rows = [row for row in rows if regex.search(str(row.get(match[1]) or ""))]
        sort = params.get("sort", "id")
        rows.sort(key=lambda row: (row[sort], row["id"]), reverse=params.get("order", "ASC").upper() == "DESC")
        result, failure = self._paged(rows, params, "Ticket")
        if failure:
            return failure
        page, headers, status, _, _ = result
        return status, headers, page

    def _create(self, body):
        fields = (body or {}).get("input") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            return 400, {}, error("ERROR_BAD_ARRAY", "input parameter must be an array of objects")
        if not fields.get("name") and not fields.get("content"):
            return 400, {}, error("ERROR_GLPI_ADD", "Mandatory fields are not filled. Please correct: Title")
        ticket_id = self.add_ticket(
            self.now,
            name=fields.get("name", ""),
            content=fields.get("content", ""),
            type=int(fields.get("type", 1)),
            source=int(fields.get("requesttypes_id", 1)),
            category=int(fields.get("itilcategories_id", 0)),
            requester=self.api_user,
            externalid=fields.get("externalid", ""),
        )
        self.created.append(self.tickets[ticket_id])
        if self.fail_after_create > 0:
            self.fail_after_create -= 1
            return 500, {}, error("ERROR", "Internal server error")
        location = f"{self.url}/apirest.php/Ticket/{ticket_id}"
        return (
            201,
            {"Location": location},
            {"id": ticket_id, "message": f"Your ticket has been recorded (ID {ticket_id})"},
        )
