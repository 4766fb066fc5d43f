"""GLPI through its REST API, ``apirest.php`` (GLPI 9.5, 10 and 11): tickets, their history, opening tickets.

The high-level API of GLPI 11 (``/api.php/v2``) is not used: it does not exist on GLPI 10, which most sites
still run, and it needs an OAuth client set up besides; ``apirest.php`` answers the same on every version.

- Session: ``GET initSession`` with ``Authorization: user_token …`` (or Basic) and the API client's
  ``App-Token`` gives a ``session_token``, sent as ``Session-Token`` on every call; ``killSession`` at the
  end. A session that expired while idle (401) is opened again, once per request.
- Tickets: ``GET search/Ticket`` with criteria on search option 19 (last update) ``morethan`` the window's
  start and ``lessthan`` its end, sorted by it, paged with ``range=start-end``; the answer's ``totalcount``
  (and ``Content-Range``) tells the size, 206 says a page is partial. Columns are search options
  (``forcedisplay``): requester (4) and technician (5) come as user ids, read once with ``GET User/{id}``.
- History: ``GET Ticket/{id}/Log``: status changes (search option 12, raw codes) and assigned groups added
  or removed (option 8, ``"Name (id)"``).
- Outbound: ``POST Ticket`` with ``{"input": {…, "externalid": "itxm-<correlation id>"}}``, looked up first
  with ``GET Ticket?searchText[externalid]=…``.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from itxm.tickets.connectors.base import (
    ConnectorError,
    HttpError,
    Page,
    Pager,
    RemoteTicket,
    Response,
    SyncWindow,
    TicketRequest,
    TicketSource,
    basic_auth,
    check_time_zone,
    register,
    utc_text,
)
from itxm.tickets.models import Channel

logger = logging.getLogger(__name__)

# Search options of Ticket (listSearchOptions/Ticket); the same ids on GLPI 9.5 to 11.
NAME, ID, PRIORITY, REQUESTER, TECHNICIAN, CATEGORY, GROUP, SOURCE = 1, 2, 3, 4, 5, 7, 8, 9
URGENCY, IMPACT, STATUS, TYPE, OPENED, CLOSED, SOLVED, TIME_TO_RESOLVE, UPDATED, TAKEN = (
    10,
    11,
    12,
    14,
    15,
    16,
    17,
    18,
    19,
    150,
)
COLUMNS = (
    ID,
    NAME,
    STATUS,
    TYPE,
    PRIORITY,
    URGENCY,
    IMPACT,
    SOURCE,
    CATEGORY,
    GROUP,
    REQUESTER,
    TECHNICIAN,
    OPENED,
    UPDATED,
    SOLVED,
    CLOSED,
    TIME_TO_RESOLVE,
    TAKEN,
)
STATUSES = {
    "1": "new",
    "2": "in_progress",  # Processing (assigned)
    "3": "in_progress",  # Processing (planned)
    "4": "on_hold",  # Pending
    "5": "resolved",  # Solved
    "6": "closed",
}
TYPES = {"1": "incident", "2": "request"}
# GLPI's urgency and impact run from 1 (very low) to 5 (very high), priority adds 6 (major); ITXM's 1 is the
# highest, so the scale is turned round and major shares 1 with very high.
LEVELS = {"1": 5, "2": 4, "3": 3, "4": 2, "5": 1, "6": 1}
# Request sources GLPI installs; a site's own ones go through channel_map, anything else is "other".
CHANNELS = {
    "helpdesk": "portal",
    "e-mail": "email",
    "email": "email",
    "mail": "email",
    "phone": "phone",
    "direct": "walk_in",
    "written": "other",
    "other": "other",
}
DONE = {"resolved", "closed"}
# Log: which search option changed, and how a relation (an actor) was added or removed.
STATUS_OPTION, GROUP_OPTION = "12", "8"
ADD_RELATION, DELETE_RELATION = "15", "16"
NAME_WITH_ID = re.compile(r"^(.*) \((\d+)\)$")
EXCEEDED_TOTAL = re.compile(r"ERROR_RANGE_EXCEED_TOTAL.*?total count of data: (\d+)", re.S)
LOG_PAGE = 200


def _first(value):
    """One value of a search column: several (two assigned groups) come as a list, none as null or ""."""
    if isinstance(value, list):
        value = next((item for item in value if item not in (None, "")), None)
    return None if value in (None, "") else value


def _name(value) -> str:
    """A relation as GLPI logs it, "Service Desk (3)", without its id."""
    text = str(value or "").strip()
    match = NAME_WITH_ID.match(text)
    return match[1] if match else text


def _exceeded_total(exc: HttpError) -> int | None:
    """GLPI refuses a range that starts after the last row (the listing shrank while we paged)."""
    match = EXCEEDED_TOTAL.search(str(exc)) if exc.status == 400 else None
    return int(match[1]) if match else None


def _total(response: Response, body: dict) -> int | None:
    total = body.get("totalcount")
    if total is None:
        header = response.headers.get("Content-Range") or ""  # "0-49/1234"
        total = header.rpartition("/")[2]
    try:
        return int(total)
    except (TypeError, ValueError):
        return None


@register
class Glpi(TicketSource):
    kind = "glpi"
    defaults = {
        "app_token": "",  # the API client's App-Token (Setup › General › API), when it has one
        "page_size": 50,
        "history": True,
        "time_zone": "UTC",  # the zone GLPI shows the API user's dates in (and reads criteria in)
        "channel_map": {},  # request source name (lower case) → ITXM channel, e.g. {"portal": "portal"}
        "create_fields": {},  # constant input for created tickets, e.g. {"itilcategories_id": 12}
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The credentials go to initSession only; every other call carries the session token.
        self._login = self._login_header()
        self.client.authorization = None
        if self.options["app_token"]:
            self.client.headers["App-Token"] = str(self.options["app_token"])
        path = urlsplit(self.client.base_url).path.rstrip("/")
        self._api = "" if path.endswith("apirest.php") else "apirest.php/"
        self._root = self.client.base_url.removesuffix("/apirest.php")
        self._zone = ZoneInfo(self.options["time_zone"])
        self._users: dict[str, str] = {}
        self._history = bool(self.options["history"])
        self.sessions = 0

    def check_options(self) -> None:
        check_time_zone(self.options["time_zone"])
        channels = self.options["channel_map"]
        if not isinstance(channels, dict) or any(value not in Channel.values for value in channels.values()):
            raise ConnectorError(f"channel_map must map request source names to one of {', '.join(Channel.values)}")
        if not isinstance(self.options["create_fields"], dict):
            raise ConnectorError('create_fields must be an object, e.g. {"itilcategories_id": 12}')

    def _login_header(self) -> str | None:
        if not self.config.secret:
            return None
        if self.config.auth_kind == "bearer":
            return f"user_token {self.config.secret}"
        return basic_auth(self.config.username, self.config.secret)

    # Session

    @contextmanager
    def _session(self):
        opened = "Session-Token" not in self.client.headers
        if opened:
            self._open_session()
        try:
            yield
        finally:
            if opened:
                self._close_session()

    def _open_session(self) -> None:
        if not self._login:
            raise ConnectorError("GLPI needs a user token (authentication: bearer) or a user name and password")
        self.client.headers.pop("Session-Token", None)
        self.client.authorization = self._login
        try:
            answer = self.client.get(self._api + "initSession").json()
        finally:
            self.client.authorization = None
        token = answer.get("session_token") if isinstance(answer, dict) else None
        if not token:
            raise ConnectorError("GLPI answered initSession without a session_token")
        self.client.headers["Session-Token"] = str(token)
        self.sessions += 1

    def _close_session(self) -> None:
        try:
            self.client.get(self._api + "killSession")
        except ConnectorError as exc:
            logger.info("%s: killSession failed (the session expires by itself): %s", self.config.name, exc)
        finally:
            self.client.headers.pop("Session-Token", None)

    def _call(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> Response:
        try:
            return self.client.request(method, self._api + path, params=params, body=body)
        except HttpError as exc:
            # 401 is also GLPI's answer to a missing right: a new session would not help with that one.
            if exc.status != 401 or "ERROR_RIGHT_MISSING" in str(exc) or "Session-Token" not in self.client.headers:
                raise
            logger.info("%s: the GLPI session expired; opening a new one", self.config.name)
            self._open_session()
            return self.client.request(method, self._api + path, params=params, body=body)

    # Pull

    def changes(self, window: SyncWindow) -> Iterator[list[dict]]:
        criteria = []
        if window.since is not None:
            criteria.append((UPDATED, "morethan", utc_text(window.since, self._zone)))
        criteria.append((UPDATED, "lessthan", utc_text(window.until, self._zone)))
        with self._session():
            pager = Pager(lambda start: self._search_page(criteria, start), 0)
            for page in pager:
                self.pages += 1
                self.passes = max(self.passes, pager.passes)
                if page.items:
                    yield self._tickets(page.items)
            self.complete = pager.complete

    def fetch_tickets(self, ids: list) -> list[dict]:
        """The named tickets, read as a sync reads them (a webhook says which ones changed)."""
        try:
            wanted = [str(int(str(ticket_id))) for ticket_id in ids]
        except ValueError:
            raise ConnectorError(f"GLPI ticket ids are numbers, not {ids!r}") from None
        if not wanted:
            return []
        with self._session():
            page = self._search_page([(ID, "equals", ticket_id) for ticket_id in wanted], 0, link="OR")
            return self._tickets(page.items) if page.items else []

    def _search_page(self, criteria: list[tuple], start: int, link: str = "AND") -> Page:
        size = int(self.options["page_size"])
        params: dict = {}
        for position, (field, searchtype, value) in enumerate(criteria):
            if position:
                params[f"criteria[{position}][link]"] = link
            params[f"criteria[{position}][field]"] = field
            params[f"criteria[{position}][searchtype]"] = searchtype
            params[f"criteria[{position}][value]"] = value
        for position, column in enumerate(COLUMNS):
            params[f"forcedisplay[{position}]"] = column
        params |= {"sort": UPDATED, "order": "ASC", "range": f"{start}-{start + size - 1}"}
        try:
            response = self._call("GET", "search/Ticket", params)
        except HttpError as exc:
            total = _exceeded_total(exc)
            if total is None:
                raise
            return Page([], total, None)  # the changed total makes the pager read the window again
        body = response.json()
        if not isinstance(body, dict):
            raise ConnectorError("GLPI's search answered something other than an object")
        rows = body.get("data") or []  # absent when nothing matches
        if isinstance(rows, dict):  # withindexes: keyed by ticket id
            rows = list(rows.values())
        total = _total(response, body)
        after = start + len(rows)
        return Page(rows, total, after if rows and total is not None and after < total else None)

    def _tickets(self, rows: list[dict]) -> list[dict]:
        return [self._ticket(row, self._logs(str(_first(row.get(str(ID))))) if self._history else None) for row in rows]

    def _logs(self, ticket_id: str) -> list[dict] | None:
        logs, start = [], 0
        while True:
            try:
                response = self._call(
                    "GET",
                    f"Ticket/{ticket_id}/Log",
                    {"range": f"{start}-{start + LOG_PAGE - 1}", "sort": "id", "order": "ASC"},
                )
            except HttpError as exc:
                if _exceeded_total(exc) is not None:
                    return logs
                if exc.status not in (401, 403) or "ERROR_RIGHT_MISSING" not in str(exc):
                    raise
                logger.warning("%s: no right to read the tickets' history; they come without it", self.config.name)
                self._history = False
                return None
            rows = response.json()
            rows = rows if isinstance(rows, list) else []
            logs.extend(rows)
            total = _total(response, {})
            start += len(rows)
            if not rows or total is None or start >= total:
                return logs

    def _ticket(self, row: dict, logs: list[dict] | None) -> dict:
        def value(option: int):
            return _first(row.get(str(option)))

        status_code = str(value(STATUS) or "")
        state = STATUSES.get(status_code)
        opened = self._moment(value(OPENED))
        solved, closed = self._moment(value(SOLVED)), self._moment(value(CLOSED))
        resolved = solved or (closed if state == "closed" else None)
        history = self._history_of(logs, opened, state) if logs is not None else None
        taken = int(value(TAKEN) or 0)
        return {
            "source_id": str(value(ID) or ""),
            "number": str(value(ID) or ""),
            "kind": TYPES.get(str(value(TYPE) or ""), "incident"),
            "state": state or status_code,  # an unknown code is reported by validation, not guessed
            "short_description": str(value(NAME) or "")[:300],
            "opened_at": self._text(opened) or value(OPENED),
            "first_response_at": self._text(opened + timedelta(seconds=taken)) if opened and taken > 0 else None,
            "resolved_at": self._text(resolved) if state in DONE else None,
            "closed_at": self._text(closed) if state == "closed" else None,
            "updated_at": self._text(self._moment(value(UPDATED))),
            "priority": LEVELS.get(str(value(PRIORITY) or "")),
            "impact": LEVELS.get(str(value(IMPACT) or "")),
            "urgency": LEVELS.get(str(value(URGENCY) or "")),
            "channel": self._channel(value(SOURCE)),
            "category": value(CATEGORY),
            "group": value(GROUP),
            "caller": self._person(value(REQUESTER)),
            "assignee": self._person(value(TECHNICIAN)),
            "reassignment_count": sum(1 for e in history or [] if e["kind"] == "assignment" and e["from"]),
            "reopen_count": sum(
                1 for e in history or [] if e["kind"] == "state" and e["from"] in DONE and e["to"] not in DONE
            ),
            "made_sla": self._made_sla(self._moment(value(TIME_TO_RESOLVE)), resolved if state in DONE else None),
            "history": history,
        }

    def _history_of(self, logs: list[dict], opened: datetime | None, state: str | None) -> list[dict]:
        events, group, removed, first_status = [], "", "", None
        for log in sorted(logs, key=lambda row: (str(row.get("date_mod") or ""), int(row.get("id") or 0))):
            option, action = str(log.get("id_search_option")), str(log.get("linked_action"))
            at = self._text(self._moment(log.get("date_mod")))
            if option == STATUS_OPTION and action == "0":
                before, after = STATUSES.get(str(log.get("old_value"))), STATUSES.get(str(log.get("new_value")))
                if after is None:
                    continue  # a status this list does not know (a plugin's): not a change we can name
                if first_status is None:
                    first_status = before or ""
                events.append({"at": at, "kind": "state", "from": before or "", "to": after})
            elif option == GROUP_OPTION and log.get("itemtype_link") == "Group":
                if action == ADD_RELATION:
                    added = _name(log.get("new_value"))
                    events.append({"at": at, "kind": "assignment", "from": group or removed, "to": added})
                    group, removed = added, ""
                elif action == DELETE_RELATION and _name(log.get("old_value")) == group:
                    # Changing the group removes the old one, then adds the new: remember whom it came from.
                    group, removed = "", group
        # The log has no entry for the status a ticket was opened with: the first change says what it was.
        opening = first_status if first_status is not None else state
        if opening and opened:
            events.insert(0, {"at": self._text(opened), "kind": "state", "from": "", "to": opening})
        return events

    def _made_sla(self, deadline: datetime | None, done_at: datetime | None) -> bool | None:
        """Solved by the time-to-resolve deadline or not; None while open or without an SLA."""
        if deadline is None or done_at is None:
            return None
        return done_at <= deadline

    def _channel(self, name) -> str | None:
        key = str(name or "").strip().lower()
        if not key:
            return None
        custom = {str(k).lower(): v for k, v in self.options["channel_map"].items()}
        return custom.get(key) or CHANNELS.get(key, "other")

    def _person(self, raw) -> str | None:
        user_id = str(raw or "").strip()
        if not user_id or user_id == "0":
            return None
        if not user_id.isdigit():
            return user_id  # a name already
        if user_id not in self._users:
            try:
                user = self._call("GET", f"User/{user_id}", {"get_hateoas": "false"}).json()
            except HttpError as exc:
                if exc.status not in (401, 403, 404):
                    raise
                user = {}
            user = user if isinstance(user, dict) else {}
            full = " ".join(str(user.get(k) or "").strip() for k in ("firstname", "realname")).strip()
            self._users[user_id] = full or str(user.get("name") or "") or user_id
        return self._users[user_id]

    def _moment(self, text) -> datetime | None:
        """A GLPI date ("2026-03-02 09:15:00", in the API user's zone) in UTC."""
        if text in (None, "", "0000-00-00 00:00:00"):
            return None
        try:
            moment = datetime.fromisoformat(str(text).strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return moment.astimezone(UTC)

    @staticmethod
    def _text(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    # Outbound

    def _external_id(self, correlation_id: str) -> str:
        return f"itxm-{correlation_id}"

    def find_by_correlation(self, correlation_id: str) -> RemoteTicket | None:
        wanted = self._external_id(correlation_id)
        params = {"searchText[externalid]": wanted, "range": "0-49", "sort": "id", "order": "ASC"}
        with self._session():
            rows = self._call("GET", "Ticket", params | {"get_hateoas": "false"}).json()
        # searchText is a LIKE, in which "_" stands for any character: keep only the exact match.
        for row in rows if isinstance(rows, list) else []:
            if str(row.get("externalid") or "") == wanted:
                return self._remote(row.get("id"))
        return None

    def create_ticket(self, request: TicketRequest) -> RemoteTicket:
        hints = [f"{label}: {hint}" for label, hint in (("Caller", request.caller), ("Group", request.group)) if hint]
        content = "\n\n".join(part for part in (request.description, "\n".join(hints)) if part)
        fields = {
            "type": 1,
            **(self.options["create_fields"] or {}),
            "name": request.summary[:255],
            "content": content or request.summary,
            "externalid": self._external_id(request.correlation_id),
        }
        with self._session():
            answer = self._call("POST", "Ticket", body={"input": fields}).json()
        if not isinstance(answer, dict) or not answer.get("id"):
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise ConnectorError(f"GLPI did not create the ticket: {message or 'no id in its answer'}")
        return self._remote(answer["id"])

    def _remote(self, ticket_id) -> RemoteTicket:
        if not ticket_id:
            raise ConnectorError("GLPI answered without the ticket's id")
        return RemoteTicket(str(ticket_id), str(ticket_id), f"{self._root}/front/ticket.form.php?id={ticket_id}")
