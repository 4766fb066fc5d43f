"""A Zammad (6.x, with Elasticsearch) on 127.0.0.1 that answers its REST API as the real one does (the
documentation and source it follows are listed in docs/connectors.md):

- ``Authorization: Token token=…`` (a personal access token); 401 ``{"error": "…"}`` otherwise.
- ``GET /api/v1/tickets/search``: ``query`` (a subset of the Elasticsearch query string: ``field:[A TO B}``
  ranges with ``[``/``{`` and ``]``/``}``, ``*`` for an open end, ``tags:"…"``, ``group.name:"…"``,
  ``id:…``, ``AND``, parentheses),
  ``sort_by``, ``order_by``, ``page``, ``per_page`` (at most 200, default 50) and ``expand=true`` (a list of
  tickets with ``state``, ``priority``, ``group``, ``owner``, ``customer`` and ``create_article_type`` by
  name); without ``expand``, ``{"tickets": [ids], "tickets_count", "assets"}``. No total is given.
- ``GET /api/v1/tickets/{id}`` (``expand=true``), ``GET /api/v1/ticket_history/{id}`` (``{"history": […],
  "assets": {…}}``, entries with ``object``, ``type``, ``attribute``, ``value_from``, ``value_to``, oldest
  first), ``GET /api/v1/users/{id}``.
- ``POST /api/v1/tickets``: ``title``, ``group``, ``customer_id`` (``guess:<e-mail>`` finds or makes the
  user), ``article``, ``tags`` (comma separated) → 201 with the ticket's attributes and ids; 422
  ``{"error", "error_human"}`` when the title or group is missing.
- Times in UTC with milliseconds (``2026-03-02T09:00:00.000Z``); user 1 (login ``-``) owns unowned tickets.
"""

import re
from datetime import UTC, datetime

from tests.tickets.fake_servicenow import LocalApi

STATES = {1: "new", 2: "open", 3: "pending reminder", 4: "closed", 5: "merged", 6: "removed", 7: "pending close"}
PRIORITIES = {1: "1 low", 2: "2 normal", 3: "3 high"}
ARTICLE_TYPES = {1: "email", 2: "sms", 3: "chat", 4: "fax", 5: "phone", 10: "note", 11: "web"}
RANGE = re.compile(r"^(\w[\w.]*):([\[{])(\S+) TO (\S+)([\]}])$")
TERM = re.compile(r'^(\w[\w.]*):"?([^"]*)"?$')


def zammad_time(text: str) -> str:
    """ "2026-03-02 09:00" (UTC) as Zammad writes it."""
    moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeZammad(LocalApi):
    def __init__(self, token="zammad-token-1", now="2026-03-20 12:00"):  # noqa: S107
        super().__init__()
        self.credentials = f"Token token={token}"
        self.now = now
        self.users: dict[int, dict] = {}
        self.groups: dict[int, str] = {1: "Users"}
        self.tickets: dict[int, dict] = {}
        self.histories: list[dict] = []
        self.tags: dict[int, list[str]] = {}
        self.created: list[dict] = []
        self.fail_after_create = 0  # create the ticket, then answer 500, this many times
        self.add_user("-", "-", "")  # user 1: nobody
        self.api_user = self.add_user("itxm@example.com", "ITXM", "Integration")

    # Test data.

    def add_user(self, login: str, firstname: str = "", lastname: str = "") -> int:
        user_id = len(self.users) + 1
        self.users[user_id] = {
            "id": user_id,
            "login": login,
            "firstname": firstname,
            "lastname": lastname,
            "email": login if "@" in login else "",
            "active": True,
        }
        return user_id

    def add_group(self, name: str) -> int:
        group_id = len(self.groups) + 1
        self.groups[group_id] = name
        return group_id

    def add_ticket(
        self,
        created: str,
        *,
        title: str = "Something is broken",
        customer: int | None = None,
        group: int = 1,
        owner: int = 1,
        priority: int = 2,
        channel: int = 5,
        state: int = 1,
        type: str | None = None,  # noqa: A002 (Zammad's name)
    ) -> int:
        with self.lock:
            ticket_id = len(self.tickets) + 1
            at = zammad_time(created)
            self.tickets[ticket_id] = {
                "id": ticket_id,
                "group_id": group,
                "priority_id": priority,
                "state_id": state,
                "organization_id": None,
                "number": str(31000 + ticket_id),
                "title": title,
                "owner_id": owner,
                "customer_id": customer or self.api_user,
                "note": None,
                "first_response_at": None,
                "first_response_escalation_at": None,
                "first_response_in_min": None,
                "first_response_diff_in_min": None,
                "close_at": None,
                "close_escalation_at": None,
                "close_in_min": None,
                "close_diff_in_min": None,
                "update_escalation_at": None,
                "update_in_min": None,
                "update_diff_in_min": None,
                "last_close_at": None,
                "last_contact_at": at,
                "last_contact_agent_at": None,
                "last_contact_customer_at": at,
                "last_owner_update_at": None,
                "create_article_type_id": channel,
                "create_article_sender_id": 2,
                "article_count": 1,
                "escalation_at": None,
                "pending_time": None,
                "type": type,
                "time_unit": None,
                "preferences": {},
                "updated_by_id": self.api_user,
                "created_by_id": self.api_user,
                "created_at": at,
                "updated_at": at,
            }
            self.tags[ticket_id] = []
            self._history(ticket_id, at, "created")
            self._history(ticket_id, at, "created", obj="Ticket::Article")
            return ticket_id

    def update(self, ticket_id: int, at: str, *, state=None, group=None, owner=None, priority=None, title=None):
        """Change a ticket as an agent would: one history entry per changed attribute, by name."""
        with self.lock:
            ticket, when = self.tickets[ticket_id], zammad_time(at)
            changes = {
                "state": ("state_id", state, STATES),
                "group": ("group_id", group, self.groups),
                "owner": ("owner_id", owner, {k: v["login"] for k, v in self.users.items()}),
                "priority": ("priority_id", priority, PRIORITIES),
            }
            for attribute, (column, new, names) in changes.items():
                if new is None or ticket[column] == new:
                    continue
                old = ticket[column]
                self._history(ticket_id, when, "updated", attribute, names[old], names[new], old, new)
                ticket[column] = new
                if column == "state_id" and STATES[new] == "closed":
                    ticket["close_at"] = ticket["close_at"] or when
                    ticket["last_close_at"] = when
            if title is not None:
                self._history(ticket_id, when, "updated", "title", ticket["title"], title)
                ticket["title"] = title
            ticket["updated_at"] = when

    def respond(self, ticket_id: int, at: str, sla_minutes_left: int | None = None) -> None:
        """An agent's first reply; with an SLA, how many business minutes were left (negative: late)."""
        with self.lock:
            ticket = self.tickets[ticket_id]
            ticket["first_response_at"] = ticket["last_contact_agent_at"] = zammad_time(at)
            ticket["first_response_diff_in_min"] = sla_minutes_left
            ticket["article_count"] += 1
            ticket["updated_at"] = zammad_time(at)

    def set_solution_sla(self, ticket_id: int, minutes_left: int) -> None:
        self.tickets[ticket_id]["close_diff_in_min"] = minutes_left

    def _history(
        self,
        ticket_id,
        at,
        kind,
        attribute=None,
        value_from=None,
        value_to=None,
        id_from=None,
        id_to=None,
        obj="Ticket",
    ):
        entry = {
            "id": len(self.histories) + 1,
            "o_id": ticket_id,
            "object": obj,
            "type": kind,
            "created_by_id": self.api_user,
            "created_at": at,
        }
        if attribute:
            entry["attribute"] = attribute
        if value_from is not None or value_to is not None:
            entry |= {"value_from": value_from, "value_to": value_to}
        if id_from is not None or id_to is not None:
            entry |= {"id_from": id_from, "id_to": id_to}
        if obj != "Ticket":
            entry |= {"o_id": len(self.histories) + 100, "related_o_id": ticket_id, "related_object": "Ticket"}
        self.histories.append(entry)

    # The REST API.

    def authorized(self, header: str) -> bool:
        return header == self.credentials

    def error_body(self, status: int, message: str) -> dict:
        if status == 401:
            message = "Authentication required"
        return {"error": message, "error_human": message}

    def route(self, method, path, params, body):
        if method == "GET" and path == "/api/v1/tickets/search":
            return self._search(params)
        if method == "GET" and (match := re.fullmatch(r"/api/v1/tickets/(\d+)", path)):
            ticket = self.tickets.get(int(match[1]))
            if ticket is None:
                return 404, {}, self.error_body(404, f"Couldn't find Ticket with 'id'={match[1]}")
            return 200, {}, self._expanded(ticket) if params.get("expand") == "true" else dict(ticket)
        if method == "GET" and (match := re.fullmatch(r"/api/v1/ticket_history/(\d+)", path)):
            ticket_id = int(match[1])
            if ticket_id not in self.tickets:
                return 404, {}, self.error_body(404, f"Couldn't find Ticket with 'id'={ticket_id}")
            rows = [h for h in self.histories if h["o_id"] == ticket_id or h.get("related_o_id") == ticket_id]
            rows.sort(key=lambda h: (h["created_at"], h["id"]))
            return 200, {}, {"history": rows, "assets": {}}
        if method == "GET" and (match := re.fullmatch(r"/api/v1/users/(\d+)", path)):
            user = self.users.get(int(match[1]))
            if user is None:
                return 404, {}, self.error_body(404, f"Couldn't find User with 'id'={match[1]}")
            return 200, {}, dict(user)
        if method == "POST" and path == "/api/v1/tickets":
            return self._create(body or {})
        return 404, {}, self.error_body(404, f"No route matches [{method}] {path}")

    def _expanded(self, ticket: dict) -> dict:
        """attributes_with_association_names: the ids and, beside them, the names."""
        return dict(
            ticket,
            state=STATES[ticket["state_id"]],
            priority=PRIORITIES[ticket["priority_id"]],
            group=self.groups[ticket["group_id"]],
            owner=self.users[ticket["owner_id"]]["login"],
            customer=self.users[ticket["customer_id"]]["login"],
            create_article_type=ARTICLE_TYPES[ticket["create_article_type_id"]],
            create_article_sender="Customer",
            created_by=self.users[ticket["created_by_id"]]["login"],
            updated_by=self.users[ticket["updated_by_id"]]["login"],
            article_ids=[],
            ticket_time_accounting_ids=[],
        )

    def _search(self, params: dict):
        tests = [self._condition(term) for term in self._terms(params.get("query", ""))]
        rows = [t for t in self.tickets.values() if all(test(t) for test in tests)]
        sort_by = params.get("sort_by") or "updated_at"
        rows.sort(key=lambda t: (str(t.get(sort_by) or ""), t["id"]), reverse=params.get("order_by") == "desc")
        per_page = min(int(params.get("per_page") or 50), 200)
        page = max(int(params.get("page") or 1), 1)
        found = rows[(page - 1) * per_page : page * per_page]
        if params.get("expand") == "true":
            return 200, {}, [self._expanded(t) for t in found]
        assets = {"Ticket": {str(t["id"]): dict(t) for t in found}}
        return 200, {}, {"tickets": [t["id"] for t in found], "tickets_count": len(found), "assets": assets}

    @staticmethod
    def _terms(query: str) -> list[str]:
        terms = []
        for part in re.split(r"\s+AND\s+", query.strip()):
            part = part.strip()
            while part.startswith("(") and part.endswith(")"):
                part = part[1:-1].strip()
            if part:
                terms.append(part)
        return terms

    def _condition(self, term: str):
        if match := RANGE.match(term):
            field, opening, low, high, closing = match.groups()

            def within(ticket):
                value = str(ticket.get(field) or "")
                if not value:
                    return False
                above = low == "*" or (value >= low if opening == "[" else value > low)
                below = high == "*" or (value <= high if closing == "]" else value < high)
                return above and below

            return within
        if (match := TERM.match(term)) and match[1] == "tags":
            return lambda ticket: match[2] in self.tags[ticket["id"]]
        if match and match[1] == "group.name":
            return lambda ticket: self.groups[ticket["group_id"]] == match[2]
        if match and match[1] in ("id", "number", "title"):
            return lambda ticket: str(ticket[match[1]]) == match[2]
        raise ValueError(f"the fake does not understand the search term {term!r}")

    def _create(self, body: dict):
        if not body.get("title"):
            return 422, {}, {"error": "Title can't be blank", "error_human": "Title can't be blank"}
        group = next((k for k, v in self.groups.items() if v == body.get("group")), None)
        if group is None:
            return 422, {}, {"error": "No such group", "error_human": "Group can't be blank"}
        customer = self.api_user
        if str(body.get("customer_id") or "").startswith("guess:"):
            email = body["customer_id"].removeprefix("guess:")
            customer = next((k for k, v in self.users.items() if v["email"] == email), None)
            customer = customer or self.add_user(email)
        ticket_id = self.add_ticket(self.now, title=body["title"], customer=customer, group=group, channel=10)
        self.tags[ticket_id] = [t.strip() for t in str(body.get("tags") or "").split(",") if t.strip()]
        ticket = self.tickets[ticket_id]
        self.created.append(dict(ticket, article=body.get("article"), tags=self.tags[ticket_id]))
        if self.fail_after_create > 0:
            self.fail_after_create -= 1
            return 500, {}, self.error_body(500, "Internal Server Error")
        return 201, {}, dict(ticket, article_ids=[ticket_id + 100], ticket_time_accounting_ids=[])
