"""Zammad through its REST API (``/api/v1``): tickets, their history, opening tickets.

- Tickets: ``GET /api/v1/tickets/search`` with ``query=updated_at:[SINCE TO UNTIL}`` (Elasticsearch query
  syntax, AND-ed with the ``query`` option), ``sort_by=updated_at&order_by=asc``, ``per_page`` (at most
  200) and ``expand=true`` (states, priorities, groups and people by name). Zammad gives no total, and
  offset paging over a listing ordered by update time skips a ticket when one changes while we page, so
  each page after the first starts at the last update time seen (the tickets of that same moment are
  read again and dropped); only tickets updated in one same millisecond are paged with ``page``.
- History: ``GET /api/v1/ticket_history/{id}``: changes of ``state`` and ``group``, by name.
- People: ``GET /api/v1/users/{id}`` once per sync for their names (``reference_key: display``).
- SLA verdict: the ticket's ``*_diff_in_min`` (SLA target minus the business minutes taken: negative is
  late).
- Outbound: ``POST /api/v1/tickets`` with a tag ``itxm-<correlation id>``, looked up first by
  ``tags:itxm-…``.
"""

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

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
    register,
)
from itxm.tickets.models import TicketState

logger = logging.getLogger(__name__)

# The states Zammad installs; a site's own states go through state_map.
STATES = {
    "new": "new",
    "open": "in_progress",
    "pending reminder": "on_hold",
    "pending close": "on_hold",
    "closed": "closed",
    "merged": "cancelled",
    "removed": "cancelled",
}
# The article type of a ticket's first article says how it came in.
CHANNELS = {
    "email": "email",
    "phone": "phone",
    "web": "portal",
    "chat": "chat",
    "telegram personal-message": "chat",
    "whatsapp message": "chat",
    "twitter direct-message": "chat",
    "facebook feed post": "other",
    "facebook feed comment": "other",
    "twitter status": "other",
    "sms": "other",
    "fax": "other",
    "note": "other",
}
# "1 low", "2 normal", "3 high" (and a site's "4 very high"…): ITXM's 1 is the highest.
PRIORITY_WORDS = {"low": 4, "normal": 3, "high": 2}
LEADING_NUMBER = re.compile(r"^\s*(\d+)")
NOBODY = {"", "-"}  # user 1, login "-", owns the tickets nobody owns
DONE = {"resolved", "closed", "cancelled"}
MAX_PER_PAGE = 200  # Zammad's search caps per_page here


def zammad_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _name(value) -> str:
    """A relation as the expanded API gives it ("Service Desk") or as a webhook does ({"name": …})."""
    if isinstance(value, dict):
        return str(value.get("name") or value.get("login") or "")
    return "" if value is None else str(value)


@register
class Zammad(TicketSource):
    kind = "zammad"
    defaults = {
        "query": "",  # extra search conditions, AND-ed with the window, e.g. group.name:"Service Desk"
        "page_size": 100,
        "history": True,
        "reference_key": "display",  # or "login": what names customers and agents in ITXM
        "state_map": {},  # a site's own state names (lower case) → ITXM states
        "request_types": ["request", "service request"],  # ticket "type" values that are requests
        "create_group": "Users",  # outbound: the group new tickets go to
        "create_customer": "",  # outbound: e-mail of the customer new tickets are opened for
        "create_fields": {},  # outbound: constant attributes, e.g. {"priority": "3 high"}
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.config.auth_kind == "bearer" and self.config.secret:
            # A personal access token goes as "Token token=…"; Zammad reads "Bearer" as an OAuth token.
            self.client.authorization = f"Token token={self.config.secret}"
        self._users: dict[str, str] = {}
        self._history = bool(self.options["history"])

    def check_options(self) -> None:
        check_choice(self.options, "reference_key", ("display", "login"))
        states = self.options["state_map"]
        if not isinstance(states, dict) or any(value not in TicketState.values for value in states.values()):
            raise ConnectorError(f"state_map must map state names to one of {', '.join(TicketState.values)}")
        if not isinstance(self.options["request_types"], list):
            raise ConnectorError('request_types must be a list, e.g. ["service request"]')
        if not isinstance(self.options["create_fields"], dict):
            raise ConnectorError('create_fields must be an object, e.g. {"priority": "3 high"}')

    # Pull

    def changes(self, window: SyncWindow) -> Iterator[list[dict]]:
        size = min(int(self.options["page_size"]), MAX_PER_PAGE)
        until = zammad_time(window.until)
        seen: set[tuple] = set()

        def fetch(cursor: tuple[str, int]) -> Page:
            since, page = cursor
            rows = self._search(self._window_query(since, until), page, size)
            if len(rows) < size:
                return Page(rows, None, None)
            last = str(rows[-1].get("updated_at") or "")
            # Start the next page at the last update seen; a page all of one moment moves on by number.
            return Page(rows, None, (last, 1) if last and last != since else (since, page + 1))

        pager = Pager(fetch, (zammad_time(window.since) if window.since else "*", 1), max_passes=1)
        for page in pager:
            self.pages += 1
            self.passes = max(self.passes, pager.passes)
            fresh = [row for row in page.items if (row.get("id"), row.get("updated_at")) not in seen]
            seen.update((row.get("id"), row.get("updated_at")) for row in page.items)
            if fresh:
                yield self._tickets(fresh)
        self.complete = pager.complete

    def fetch_tickets(self, ids: list) -> list[dict]:
        """The named tickets, read as a sync reads them (a webhook says which ones changed); with a
        ``query`` option, only those it lets through, as a sync would."""
        rows = []
        extra = str(self.options["query"] or "").strip()
        for ticket_id in ids:
            try:
                number = int(str(ticket_id))
            except ValueError:
                raise ConnectorError(f"Zammad ticket ids are numbers, not {ticket_id!r}") from None
            if extra:
                rows.extend(self._search(f"({extra}) AND id:{number}", 1, 1))
            else:
                rows.append(self.client.get(f"api/v1/tickets/{number}", {"expand": "true"}).json())
        return self._tickets([row for row in rows if isinstance(row, dict)])

    def _window_query(self, since: str, until: str) -> str:
        # A range with [ includes its start, with } excludes its end: [SINCE TO UNTIL}.
        window = f"updated_at:[{since} TO {until}}}"
        extra = str(self.options["query"] or "").strip()
        return f"({extra}) AND {window}" if extra else window

    def _search(self, query: str, page: int, size: int, sort_by: str = "updated_at") -> list[dict]:
        params = {"query": query, "sort_by": sort_by, "order_by": "asc", "page": page, "per_page": size}
        body = self.client.get("api/v1/tickets/search", params | {"expand": "true"}).json()
        if isinstance(body, dict):  # without expand: ids in order, the tickets among the assets
            tickets = (body.get("assets") or {}).get("Ticket") or {}
            return [tickets[str(i)] for i in body.get("tickets") or [] if str(i) in tickets]
        return [row for row in body if isinstance(row, dict)] if isinstance(body, list) else []

    def _tickets(self, rows: list[dict]) -> list[dict]:
        return [self._ticket(row, self._history_rows(row.get("id")) if self._history else None) for row in rows]

    def _history_rows(self, ticket_id) -> list[dict] | None:
        try:
            body = self.client.get(f"api/v1/ticket_history/{ticket_id}").json()
        except HttpError as exc:
            if exc.status != 403:
                raise
            logger.warning("%s: no right to read the tickets' history; they come without it", self.config.name)
            self._history = False
            return None
        rows = body.get("history") if isinstance(body, dict) else body
        return [row for row in rows or [] if isinstance(row, dict)]

    def _ticket(self, row: dict, history_rows: list[dict] | None) -> dict:
        state_name = _name(row.get("state"))
        state = self._state(state_name)
        group = _name(row.get("group")) or None
        history = self._history_of(history_rows, row, state, group) if history_rows is not None else None
        closed = self._last_close(history, row) if state in ("closed", "cancelled") else None
        kind = str(row.get("type") or "").strip().lower()
        channel = _name(row.get("create_article_type")).strip().lower()
        return {
            "source_id": str(row.get("id") or ""),
            "number": str(row.get("number") or row.get("id") or ""),
            "kind": "request" if kind in [str(t).lower() for t in self.options["request_types"]] else "incident",
            "state": state or state_name,  # an unknown state is reported by validation, not guessed
            "short_description": str(row.get("title") or "")[:300],
            "opened_at": row.get("created_at"),
            "first_response_at": row.get("first_response_at"),
            "resolved_at": closed if state == "closed" else None,
            "closed_at": closed,
            "updated_at": row.get("updated_at"),
            "priority": self._priority(_name(row.get("priority"))),
            "channel": CHANNELS.get(channel, "other") if channel else None,
            "group": group,
            "caller": self._person(row.get("customer_id"), row.get("customer")),
            "assignee": self._person(row.get("owner_id"), row.get("owner")),
            "reassignment_count": sum(1 for e in history or [] if e["kind"] == "assignment" and e["from"]),
            "reopen_count": sum(
                1 for e in history or [] if e["kind"] == "state" and e["from"] in DONE and e["to"] not in DONE
            ),
            "made_sla": self._made_sla(row),
            "history": history,
        }

    def _state(self, name: str) -> str | None:
        key = name.strip().lower()
        custom = {str(k).lower(): v for k, v in (self.options["state_map"] or {}).items()}
        return custom.get(key) or STATES.get(key)

    def _priority(self, name: str) -> int | None:
        match = LEADING_NUMBER.match(name)
        if match:
            return max(1, min(5, 5 - int(match[1])))
        return PRIORITY_WORDS.get(name.strip().lower())

    def _history_of(self, rows: list[dict], ticket: dict, state: str | None, group: str | None) -> list[dict]:
        events, first_state, first_group = [], None, None
        for row in sorted(rows, key=lambda r: (str(r.get("created_at") or ""), int(r.get("id") or 0))):
            if row.get("object") != "Ticket" or row.get("type") != "updated":
                continue
            attribute, at = row.get("attribute"), row.get("created_at")
            if attribute == "state":
                after = self._state(str(row.get("value_to") or ""))
                if after is None:
                    continue  # a state neither Zammad nor state_map names: not a change we can name
                before = self._state(str(row.get("value_from") or "")) or ""
                first_state = before if first_state is None else first_state
                events.append({"at": at, "kind": "state", "from": before, "to": after})
            elif attribute == "group":
                before = str(row.get("value_from") or "")
                first_group = before if first_group is None else first_group
                events.append({"at": at, "kind": "assignment", "from": before, "to": str(row.get("value_to") or "")})
        # The history notes only "created": the first change of each says what the ticket opened with.
        opened, opening = ticket.get("created_at"), []
        opening_state = first_state if first_state is not None else state
        opening_group = first_group if first_group is not None else group
        if opened and opening_state:
            opening.append({"at": opened, "kind": "state", "from": "", "to": opening_state})
        if opened and opening_group:
            opening.append({"at": opened, "kind": "assignment", "from": "", "to": opening_group})
        return opening + events

    def _last_close(self, history: list[dict] | None, ticket: dict) -> str | None:
        closings = [e["at"] for e in history or [] if e["kind"] == "state" and e["to"] in ("closed", "cancelled")]
        return closings[-1] if closings else ticket.get("last_close_at") or ticket.get("close_at")

    def _made_sla(self, ticket: dict) -> bool | None:
        """False once any SLA target was missed; True when the ticket closed within its solution time;
        None while an SLA still runs or when none applies."""
        diffs = []
        for name in ("first_response_diff_in_min", "update_diff_in_min", "close_diff_in_min"):
            try:
                diffs.append(int(ticket[name]) if ticket.get(name) is not None else None)
            except (TypeError, ValueError):
                diffs.append(None)
        if any(diff is not None and diff < 0 for diff in diffs):
            return False
        return True if diffs[2] is not None else None

    def _person(self, user_id, expanded) -> str | None:
        """A customer or owner: the expanded API names them by login, a webhook gives the whole user."""
        if isinstance(expanded, dict):
            login = str(expanded.get("login") or "")
            full = " ".join(str(expanded.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
            if login in NOBODY:
                return None
            return login if self.options["reference_key"] == "login" else full or login
        login = str(expanded or "").strip()
        if login == "-" or str(user_id or "") == "1" or not (login or user_id):
            return None
        if self.options["reference_key"] == "login" or not user_id:
            return login or str(user_id)
        key = str(user_id)
        if key not in self._users:
            try:
                user = self.client.get(f"api/v1/users/{key}").json()
            except HttpError as exc:
                if exc.status not in (403, 404):
                    raise
                user = {}
            user = user if isinstance(user, dict) else {}
            full = " ".join(str(user.get(k) or "").strip() for k in ("firstname", "lastname")).strip()
            self._users[key] = full or str(user.get("login") or "") or login or key
        return self._users[key]

    # Outbound

    def _tag(self, correlation_id: str) -> str:
        return f"itxm-{correlation_id}"

    def find_by_correlation(self, correlation_id: str) -> RemoteTicket | None:
        # The search index lags a few seconds behind: outbound asks only after a failed attempt.
        rows = self._search(f'tags:"{self._tag(correlation_id)}"', 1, 1, sort_by="created_at")
        return self._remote(rows[0]) if rows else None

    def create_ticket(self, request: TicketRequest) -> RemoteTicket:
        hints = [f"{label}: {hint}" for label, hint in (("Caller", request.caller), ("Group", request.group)) if hint]
        body = "\n\n".join(part for part in (request.description, "\n".join(hints)) if part) or request.summary
        fields = {
            "group": self.options["create_group"],
            **(self.options["create_fields"] or {}),
            "title": request.summary[:250],
            "tags": self._tag(request.correlation_id),
            "article": {"subject": request.summary[:250], "body": body, "type": "note", "internal": False},
        }
        customer = request.caller if request.caller and "@" in request.caller else self.options["create_customer"]
        if customer and "customer_id" not in fields and "customer" not in fields:
            fields["customer_id"] = f"guess:{customer}"  # finds the user by e-mail, or creates one
        answer = self.client.post("api/v1/tickets", fields).json()
        return self._remote(answer if isinstance(answer, dict) else {})

    def _remote(self, ticket: dict) -> RemoteTicket:
        ticket_id = ticket.get("id")
        if not ticket_id:
            raise ConnectorError("Zammad answered without the ticket's id")
        url = f"{self.client.base_url}/#ticket/zoom/{ticket_id}"
        return RemoteTicket(str(ticket_id), str(ticket.get("number") or ticket_id), url)
