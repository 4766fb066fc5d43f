"""Jira Service Management (Cloud or Data Center) through the Jira REST API, version 2.

- Issues: JQL ``updated >= "yyyy/MM/dd HH:mm" AND updated < … ORDER BY updated ASC, key ASC``; on Cloud
  ``GET /rest/api/2/search/jql`` (``nextPageToken``, ``isLast``), on Data Center ``GET /rest/api/2/search``
  (``startAt``, ``maxResults``, ``total``). ``expand=changelog`` brings the history; when an issue has
  more histories than the search embeds, the rest comes from ``/rest/api/2/issue/{id}/changelog``
  (``startAt``, ``isLast``).
- SLA verdict: JSM SLA custom fields (``ongoingCycle``, ``completedCycles``, each with ``breached``).
- Outbound: ``POST /rest/api/2/issue`` with a label ``itxm-<correlation id>``, searched for first.
"""

import logging
import re
from collections.abc import Iterator
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
    register,
    utc_text,
)

ISSUE_ID = re.compile(r"^(\d+|[A-Z][A-Z0-9_]*-\d+)$")

logger = logging.getLogger(__name__)

JQL_TIME = "%Y/%m/%d %H:%M"
# Status names of the JSM templates; other names fall back to their status category.
STATUS_NAMES = {
    "open": "new",
    "new": "new",
    "to do": "new",
    "waiting for support": "new",
    "in progress": "in_progress",
    "work in progress": "in_progress",
    "escalated": "in_progress",
    "under investigation": "in_progress",
    "implementing": "in_progress",
    "waiting for customer": "on_hold",
    "waiting for approval": "on_hold",
    "pending": "on_hold",
    "on hold": "on_hold",
    "resolved": "resolved",
    "done": "resolved",
    "completed": "resolved",
    "closed": "closed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "declined": "cancelled",
    "rejected": "cancelled",
    "won't do": "cancelled",
}
CATEGORIES = {"new": "new", "indeterminate": "in_progress", "done": "resolved"}
PRIORITIES = {
    "highest": 1,
    "blocker": 1,
    "critical": 1,
    "high": 2,
    "major": 2,
    "medium": 3,
    "low": 4,
    "minor": 4,
    "lowest": 5,
    "trivial": 5,
}
DONE = {"resolved", "closed", "cancelled"}


def _text(field) -> str | None:
    """A custom field's value as text: options have "value", users and groups "name" or "displayName"."""
    if field is None or field == "":
        return None
    if isinstance(field, list):
        return _text(field[0]) if field else None
    if isinstance(field, dict):
        return field.get("value") or field.get("name") or field.get("displayName") or None
    return str(field)


def _stamp(jira_date) -> str | None:
    """JSM's date objects carry the moment as iso8601, jira and epochMillis; take the ISO one."""
    if isinstance(jira_date, dict):
        return jira_date.get("iso8601") or jira_date.get("jira")
    return jira_date


@register
class Jira(TicketSource):
    kind = "jira"
    defaults = {
        "deployment": "cloud",  # or "datacenter": which search endpoint and paging
        "jql": "",  # which issues, e.g. project = ITS
        "page_size": 50,
        "time_zone": "UTC",  # the API user's zone, in which Jira reads JQL times
        "sla_fields": [],  # JSM SLA fields, e.g. ["customfield_10030", "customfield_10031"]
        "first_response_sla_field": "",  # the "Time to first response" SLA field
        "group_field": "",  # the field holding the assignment group, e.g. customfield_10050
        "group_field_name": "Assignment group",  # its name in changelog items
        "service_field": "",
        "category_field": "",
        "request_types": ["service request", "service request with approvals"],
        "status_map": {},  # extra status names (lower case) to ITXM states
        "reference_key": "display",  # or "id": accountId (Cloud) / user name (Data Center)
        "project_key": "",  # outbound: where tickets are opened
        "issue_type": "Incident",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._statuses: dict[str, str] | None = None  # status id → ITXM state, read once when needed
        self._changelog_endpoint = True

    def check_options(self) -> None:
        check_choice(self.options, "deployment", ("cloud", "datacenter"))
        check_choice(self.options, "reference_key", ("display", "id"))
        check_time_zone(self.options["time_zone"])
        for name in ("sla_fields", "request_types"):
            if not isinstance(self.options[name], list):
                raise ConnectorError(f'{name} must be a list, e.g. ["customfield_10030"]')
        if not isinstance(self.options["status_map"], dict):
            raise ConnectorError('status_map must be an object, e.g. {"awaiting vendor": "on_hold"}')

    # Pull

    def changes(self, window: SyncWindow) -> Iterator[list[dict]]:
        pager = Pager(lambda cursor: self._search(self._window_jql(window), cursor, self._fields(), "changelog"))
        for page in pager:
            self.pages += 1
            self.passes = max(self.passes, pager.passes)
            if page.items:
                yield [self._ticket(issue) for issue in page.items]
        self.complete = pager.complete

    def fetch_tickets(self, ids: list) -> list[dict]:
        """The named issues (ids or keys) with their changelog, read as a sync reads them and within the
        connector's JQL: an issue outside it is not this source's."""
        wanted = [str(issue_id).strip() for issue_id in ids]
        if bad := [issue_id for issue_id in wanted if not ISSUE_ID.match(issue_id)]:
            raise ConnectorError(f"Jira issue ids are numbers or keys such as ITS-12, not {bad!r}")
        jql = str(self.options["jql"] or "").strip()
        tickets = []
        for issue_id in wanted:
            query = f"({jql}) AND id = {issue_id}" if jql else f"id = {issue_id}"
            page = self._search(query, None, self._fields(), "changelog")
            tickets.extend(self._ticket(issue) for issue in page.items)
        return tickets

    def _fields(self) -> str:
        fields = ["summary", "issuetype", "status", "priority", "created", "updated", "resolutiondate"]
        fields += ["reporter", "assignee", *self.options["sla_fields"]]
        for name in ("first_response_sla_field", "group_field", "service_field", "category_field"):
            if self.options[name]:
                fields.append(self.options[name])
        return ",".join(dict.fromkeys(fields))

    def _window_jql(self, window: SyncWindow) -> str:
        zone = ZoneInfo(self.options["time_zone"])
        parts = [f"({self.options['jql']})"] if str(self.options["jql"] or "").strip() else []
        if window.since is not None:
            parts.append(f'updated >= "{utc_text(window.since, zone, JQL_TIME)}"')
        # JQL times have minutes only: the bound is the start of this minute, the rest comes next time.
        parts.append(f'updated < "{utc_text(window.until, zone, JQL_TIME)}"')
        return " AND ".join(parts) + " ORDER BY updated ASC, key ASC"

    def _search(self, jql: str, cursor, fields: str, expand: str | None = None, limit: int | None = None) -> Page:
        limit = limit or int(self.options["page_size"])
        params = {"jql": jql, "maxResults": limit, "fields": fields, "expand": expand}
        if self.options["deployment"] == "cloud":
            params["nextPageToken"] = cursor
            body = self.client.get("rest/api/2/search/jql", params).json()
            token = None if body.get("isLast", True) else body.get("nextPageToken")
            return Page(body.get("issues") or [], None, token)
        start = cursor or 0
        params["startAt"] = start
        body = self.client.get("rest/api/2/search", params).json()
        issues, total = body.get("issues") or [], body.get("total")
        after = int(body.get("startAt", start)) + len(issues)
        return Page(issues, total, after if issues and (total is None or after < total) else None)

    def _ticket(self, issue: dict) -> dict:
        fields = issue.get("fields") or {}
        options = self.options
        status = fields.get("status") or {}
        issue_type = str((fields.get("issuetype") or {}).get("name") or "").lower()
        histories = self._histories(issue)
        history = self._history(histories)
        state_events = [event for event in history if event["kind"] == "state"]
        group_events = [event for event in history if event["kind"] == "assignment"]
        return {
            "source_id": str(issue.get("id") or ""),
            "number": issue.get("key"),
            "kind": "request" if issue_type in [t.lower() for t in options["request_types"]] else "incident",
            "state": self._state(status.get("name"), (status.get("statusCategory") or {}).get("key"))
            or status.get("name"),
            "short_description": str(fields.get("summary") or "")[:300],
            "opened_at": fields.get("created"),
            "first_response_at": self._first_response(fields),
            "resolved_at": fields.get("resolutiondate"),
            "updated_at": fields.get("updated"),
            "priority": PRIORITIES.get(str((fields.get("priority") or {}).get("name") or "").lower()),
            "caller": self._person(fields.get("reporter")),
            "assignee": self._person(fields.get("assignee")),
            "group": _text(fields.get(options["group_field"])) if options["group_field"] else None,
            "service": _text(fields.get(options["service_field"])) if options["service_field"] else None,
            "category": _text(fields.get(options["category_field"])) if options["category_field"] else None,
            "reassignment_count": self._reassignments(histories, group_events),
            "reopen_count": sum(1 for e in state_events if e["from"] in ("resolved", "closed") and e["to"] not in DONE),
            "made_sla": self._made_sla(fields),
            "history": history,
        }

    def _person(self, user) -> str | None:
        if not user:
            return None
        if self.options["reference_key"] == "display":
            return user.get("displayName") or user.get("name")
        return user.get("accountId") or user.get("name") or user.get("key")

    def _state(self, name, category: str | None = None) -> str | None:
        key = str(name or "").strip().lower()
        custom = {str(k).lower(): v for k, v in (self.options["status_map"] or {}).items()}
        return custom.get(key) or STATUS_NAMES.get(key) or CATEGORIES.get(category or "")

    def _histories(self, issue: dict) -> list[dict]:
        changelog = issue.get("changelog") or {}
        histories = changelog.get("histories") or []
        total = changelog.get("total")
        if total is not None and total > len(histories) and self._changelog_endpoint:
            try:
                histories = self._all_histories(str(issue.get("id")))
            except HttpError as exc:
                if exc.status != 404:
                    raise
                # Data Center has no paged changelog endpoint: keep what the search embedded.
                self._changelog_endpoint = False
        return histories

    def _all_histories(self, issue_id: str) -> list[dict]:
        def fetch(start: int) -> Page:
            body = self.client.get(f"rest/api/2/issue/{issue_id}/changelog", {"startAt": start, "maxResults": 100})
            values = body.json().get("values") or []
            after = int(body.json().get("startAt", start)) + len(values)
            return Page(values, None, None if body.json().get("isLast", True) or not values else after)

        return [history for page in Pager(fetch, 0, max_passes=1) for history in page.items]

    def _history(self, histories: list[dict]) -> list[dict]:
        group_field, group_name = self.options["group_field"], str(self.options["group_field_name"]).lower()
        events = []
        ordered = sorted(histories, key=lambda h: (h.get("created") or "", int(h.get("id") or 0)))
        for history in ordered:
            for item in history.get("items") or []:
                field_id, field = item.get("fieldId"), str(item.get("field") or "").lower()
                if field_id == "status" or field == "status":
                    to = self._state(item.get("toString")) or self._status_by_id(item.get("to"))
                    if to is None:
                        continue
                    before = self._state(item.get("fromString")) or self._status_by_id(item.get("from")) or ""
                    events.append({"at": history.get("created"), "kind": "state", "from": before, "to": to})
                elif group_field and (field_id == group_field or field == group_name):
                    events.append(
                        {
                            "at": history.get("created"),
                            "kind": "assignment",
                            "from": item.get("fromString") or "",
                            "to": item.get("toString") or "",
                        }
                    )
        return events

    def _status_by_id(self, status_id) -> str | None:
        if not status_id:
            return None
        if self._statuses is None:
            answer = self.client.get("rest/api/2/status").json()
            self._statuses = {
                str(s.get("id")): self._state(s.get("name"), (s.get("statusCategory") or {}).get("key"))
                for s in answer
                if isinstance(s, dict)
            }
        return self._statuses.get(str(status_id))

    def _reassignments(self, histories: list[dict], group_events: list[dict]) -> int:
        if self.options["group_field"]:
            return sum(1 for event in group_events if event["from"])
        # Without assignment groups, a hand-over between agents is the reassignment.
        return sum(
            1
            for history in histories
            for item in history.get("items") or []
            if (item.get("fieldId") or item.get("field")) == "assignee" and item.get("from")
        )

    def _first_response(self, fields: dict) -> str | None:
        name = self.options["first_response_sla_field"]
        cycles = ((fields.get(name) or {}).get("completedCycles") or []) if name else []
        return _stamp(cycles[0].get("stopTime")) if cycles else None

    def _made_sla(self, fields: dict) -> bool | None:
        """False when any cycle of any SLA breached; True when every SLA has finished its cycles in time;
        None while one still runs unbreached, or when there are no cycles."""
        slas = [fields[name] for name in self.options["sla_fields"] if isinstance(fields.get(name), dict)]
        cycles = [(sla.get("completedCycles") or [], sla.get("ongoingCycle")) for sla in slas]
        if any(any(c.get("breached") for c in done) or (now and now.get("breached")) for done, now in cycles):
            return False
        if any(now for _, now in cycles):
            return None
        return True if any(done for done, _ in cycles) else None

    # Outbound

    def _label(self, correlation_id: str) -> str:
        return f"itxm-{correlation_id}"

    def find_by_correlation(self, correlation_id: str) -> RemoteTicket | None:
        # Jira Cloud's search is eventually consistent: a ticket made seconds ago may not be found yet.
        # Outbound asks only after a failed attempt, by which time the index has caught up.
        page = self._search(f'labels = "{self._label(correlation_id)}" ORDER BY created ASC', None, "key", limit=1)
        if not page.items:
            return None
        issue = page.items[0]
        return RemoteTicket(str(issue.get("id")), issue.get("key") or "", self._browse(issue.get("key")))

    def create_ticket(self, request: TicketRequest) -> RemoteTicket:
        if not self.options["project_key"]:
            raise ConnectorError("set the project_key option to open tickets in Jira")
        description = request.description
        hints = [f"{label}: {hint}" for label, hint in (("Caller", request.caller), ("Group", request.group)) if hint]
        if hints:
            description = "\n\n".join(part for part in (description, "\n".join(hints)) if part)
        fields = {
            "project": {"key": self.options["project_key"]},
            "issuetype": {"name": self.options["issue_type"]},
            "summary": request.summary[:255],
            "description": description,
            "labels": [self._label(request.correlation_id)],
        }
        answer = self.client.post("rest/api/2/issue", {"fields": fields}).json()
        if not answer.get("id"):
            raise ConnectorError("Jira answered without the issue's id")
        return RemoteTicket(str(answer["id"]), answer.get("key") or "", self._browse(answer.get("key")))

    def _browse(self, key) -> str:
        return f"{self.client.base_url}/browse/{key}" if key else ""
