"""A Jira Service Management site on 127.0.0.1 that answers the REST API v2 as the real one does (the
documentation it follows is listed in docs/connectors.md):

- Cloud: ``GET /rest/api/2/search/jql`` pages with ``nextPageToken`` and ``isLast`` (``/rest/api/2/search``
  answers 410 Gone, as on Cloud since its removal). Data Center: ``GET /rest/api/2/search`` with
  ``startAt``, ``maxResults`` and ``total``. A JQL subset: ``project``, ``labels``, ``updated`` compared
  with ``"yyyy/MM/dd HH:mm"``, ``AND``, ``ORDER BY``.
- ``expand=changelog`` embeds the most recent histories (``{"startAt", "maxResults", "total",
  "histories"}``), at most ``changelog_embed_limit``; Cloud pages the full list at
  ``/rest/api/2/issue/{id}/changelog`` (``startAt``, ``maxResults``, ``total``, ``isLast``, ``values``).
- Times as ``2026-03-02T09:15:00.000+0000``; statuses with their ``statusCategory``; JSM SLA fields with
  ``ongoingCycle`` and ``completedCycles`` (``breached``, ``goalDuration.millis``, dates as objects with
  ``iso8601``, ``jira``, ``friendly``, ``epochMillis``); ``GET /rest/api/2/status``.
- ``POST /rest/api/2/issue``: 201 with ``{"id", "key", "self"}``; 400 with ``errorMessages`` and
  ``errors`` when a field is missing. Basic (e-mail + API token) on Cloud, Bearer (PAT) on Data Center.
"""

import base64
import re
from datetime import UTC, datetime

from tests.tickets.fake_servicenow import LocalApi, basic

STATUSES = {
    "1": ("Open", "new", 2, "To Do"),
    "10001": ("Waiting for support", "new", 2, "To Do"),
    "3": ("In Progress", "indeterminate", 4, "In Progress"),
    "10002": ("Waiting for customer", "indeterminate", 4, "In Progress"),
    "10003": ("Triage", "indeterminate", 4, "In Progress"),
    "5": ("Resolved", "done", 3, "Done"),
    "6": ("Closed", "done", 3, "Done"),
    "10004": ("Canceled", "done", 3, "Done"),
}
PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
GROUP_FIELD = "customfield_10050"
RESOLUTION_SLA = "customfield_10030"
RESPONSE_SLA = "customfield_10031"
CLAUSE = re.compile(r'^(\w+)\s*(>=|<=|!=|=|<|>)\s*"?([^"]*)"?$')


def jira_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=UTC)


def date_object(moment: datetime) -> dict:
    return {
        "iso8601": moment.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "jira": jira_time(moment),
        "friendly": moment.strftime("%d/%b/%y %I:%M %p"),
        "epochMillis": int(moment.timestamp() * 1000),
    }


def duration(millis: int) -> dict:
    hours, minutes = divmod(abs(millis) // 60000, 60)
    sign = "-" if millis < 0 else ""
    return {"millis": millis, "friendly": f"{sign}{hours}h {minutes}m"}


class FakeJira(LocalApi):
    def __init__(self, deployment: str = "cloud", user="bot@example.com", token="api-token-1", project="ITS"):  # noqa: S107
        super().__init__()
        self.deployment = deployment
        self.credentials = basic(user, token) if deployment == "cloud" else f"Bearer {token}"
        self.project = project
        self.issues: dict[str, dict] = {}
        self.next_id = 10000
        self.next_history = 1000
        self.changelog_embed_limit = 100
        self.changelog_page_limit = 100
        self.max_results_limit = 100
        self.created: list[dict] = []
        self.now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)

    # Test data.

    def _user(self, name: str | None, customer: bool = False) -> dict | None:
        if not name:
            return None
        slug = name.lower().replace(" ", ".")
        if self.deployment == "cloud":
            return {
                "accountId": f"acc-{slug}",
                "displayName": name,
                "active": True,
                "timeZone": "UTC",
                "accountType": "customer" if customer else "atlassian",
            }
        return {"name": slug, "key": slug, "displayName": name, "emailAddress": f"{slug}@example.com", "active": True}

    def _status(self, status_id: str) -> dict:
        name, key, category_id, category = STATUSES[status_id]
        return {
            "self": f"{self.url}/rest/api/2/status/{status_id}",
            "description": "",
            "name": name,
            "id": status_id,
            "statusCategory": {"id": category_id, "key": key, "colorName": "blue-gray", "name": category},
        }

    def status_id(self, name: str) -> str:
        return next(k for k, v in STATUSES.items() if v[0] == name)

    def add_issue(
        self,
        created: str,
        *,
        summary: str = "Something is broken",
        issue_type: str = "Incident",
        status: str = "Waiting for support",
        priority: str = "Medium",
        reporter: str = "Ayşe Yılmaz",
        assignee: str | None = None,
        group: str | None = None,
        labels: list[str] | None = None,
    ) -> str:
        with self.lock:
            self.next_id += 1
            issue_id = str(self.next_id)
            key = f"{self.project}-{self.next_id - 10000}"
            moment = parse_time(created)
            self.issues[issue_id] = {
                "id": issue_id,
                "key": key,
                "histories": [],
                "fields": {
                    "summary": summary,
                    "issuetype": {"id": "10100", "name": issue_type, "subtask": False},
                    "project": {"id": "10000", "key": self.project, "name": "IT Support"},
                    "status": self._status(self.status_id(status)),
                    "priority": {"name": priority, "id": PRIORITIES[priority]},
                    "created": jira_time(moment),
                    "updated": jira_time(moment),
                    "resolutiondate": None,
                    "reporter": self._user(reporter, customer=True),
                    "assignee": self._user(assignee),
                    "labels": list(labels or []),
                    GROUP_FIELD: {"name": group, "groupId": f"g-{group}"} if group else None,
                    RESOLUTION_SLA: self._sla("Time to resolution", moment),
                    RESPONSE_SLA: self._sla("Time to first response", moment),
                },
            }
            return issue_id

    def _sla(self, name: str, start: datetime) -> dict:
        goal = 8 * 3600 * 1000
        return {
            "id": "1" if "resolution" in name else "2",
            "name": name,
            "_links": {"self": f"{self.url}/rest/servicedeskapi/request/x/sla"},
            "completedCycles": [],
            "ongoingCycle": {
                "startTime": date_object(start),
                "breachTime": date_object(datetime.fromtimestamp(start.timestamp() + goal / 1000, UTC)),
                "breached": False,
                "paused": False,
                "withinCalendarHours": True,
                "goalDuration": duration(goal),
                "elapsedTime": duration(0),
                "remainingTime": duration(goal),
            },
        }

    def complete_sla(self, issue_id: str, field: str, stopped: str, breached: bool) -> None:
        """End the SLA's ongoing cycle, met or breached, as JSM does when its stop condition happens."""
        with self.lock:
            sla = self.issues[issue_id]["fields"][field]
            cycle = dict(sla.pop("ongoingCycle"))
            for name in ("paused", "withinCalendarHours"):
                cycle.pop(name)
            cycle["stopTime"] = date_object(parse_time(stopped))
            cycle["breached"] = breached
            sla["completedCycles"].append(cycle)

    def breach_ongoing(self, issue_id: str, field: str) -> None:
        with self.lock:
            self.issues[issue_id]["fields"][field]["ongoingCycle"]["breached"] = True

    def update(self, issue_id: str, at: str, *, status=None, assignee=None, group=None, summary=None) -> None:
        """Change an issue as an agent would: one history with an item per changed field."""
        with self.lock:
            issue, moment = self.issues[issue_id], parse_time(at)
            fields, items = issue["fields"], []
            if status is not None and status != fields["status"]["name"]:
                old, new = fields["status"], self._status(self.status_id(status))
                items.append(
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": old["id"],
                        "fromString": old["name"],
                        "to": new["id"],
                        "toString": new["name"],
                    }
                )
                fields["status"] = new
                done = new["statusCategory"]["key"] == "done"
                fields["resolutiondate"] = jira_time(moment) if done else None
            if assignee is not None:
                old = fields["assignee"]
                items.append(
                    {
                        "field": "assignee",
                        "fieldtype": "jira",
                        "fieldId": "assignee",
                        "from": (old or {}).get("accountId") or (old or {}).get("name"),
                        "fromString": (old or {}).get("displayName"),
                        "to": self._user(assignee).get("accountId") or self._user(assignee).get("name"),
                        "toString": assignee,
                    }
                )
                fields["assignee"] = self._user(assignee)
            if group is not None:
                old = fields[GROUP_FIELD]
                item = {
                    "field": "Assignment group",
                    "fieldtype": "custom",
                    "from": (old or {}).get("groupId"),
                    "fromString": (old or {}).get("name"),
                    "to": f"g-{group}",
                    "toString": group,
                }
                if self.deployment == "cloud":
                    item["fieldId"] = GROUP_FIELD
                items.append(item)
                fields[GROUP_FIELD] = {"name": group, "groupId": f"g-{group}"}
            if summary is not None:
                fields["summary"] = summary
                items.append({"field": "summary", "fieldtype": "jira", "fieldId": "summary", "toString": summary})
            self.next_history += 1
            issue["histories"].append(
                {
                    "id": str(self.next_history),
                    "author": self._user("Alan Agent"),
                    "created": jira_time(moment),
                    "items": items,
                }
            )
            fields["updated"] = jira_time(moment)

    # The REST API.

    def authorized(self, header: str) -> bool:
        return header == self.credentials

    def error_body(self, status: int, message: str) -> dict:
        return {"errorMessages": [message], "errors": {}}

    def route(self, method, path, params, body):
        if method == "GET" and path == "/rest/api/2/search/jql":
            if self.deployment != "cloud":
                return 404, {}, self.error_body(404, "null for uri")
            return self._search_jql(params)
        if method == "GET" and path == "/rest/api/2/search":
            if self.deployment == "cloud":
                return 410, {}, self.error_body(410, "The requested API has been removed. Use /search/jql.")
            return self._search(params)
        if method == "GET" and path == "/rest/api/2/status":
            return 200, {}, [self._status(status_id) for status_id in STATUSES]
        match = re.fullmatch(r"/rest/api/2/issue/(\d+)/changelog", path)
        if method == "GET" and match:
            if self.deployment != "cloud" or match[1] not in self.issues:
                return 404, {}, self.error_body(404, "Issue does not exist or you do not have permission to see it.")
            return self._changelog(match[1], params)
        if method == "POST" and path == "/rest/api/2/issue":
            return self._create(body or {})
        return 404, {}, self.error_body(404, "null for uri")

    def _matching(self, jql: str) -> list[dict]:
        parts = re.split(r"\s+ORDER BY\s+", jql, maxsplit=1, flags=re.I)
        where, order = parts[0], parts[1] if len(parts) > 1 else ""
        tests = []
        for clause in re.split(r"\s+AND\s+", where.strip(), flags=re.I):
            clause = clause.strip().strip("()").strip()
            if not clause:
                continue
            match = CLAUSE.match(clause)
            if not match:
                raise ValueError(f"the fake does not understand JQL {clause!r}")
            tests.append(self._clause(*match.groups()))
        issues = [issue for issue in self.issues.values() if all(test(issue) for test in tests)]
        for term in reversed([t.strip() for t in order.split(",") if t.strip()]):
            name, _, direction = term.partition(" ")
            issues.sort(key=lambda i, name=name: self._sort_key(i, name), reverse=direction.upper() == "DESC")
        return issues

    def _sort_key(self, issue: dict, name: str):
        if name == "key":
            return int(issue["id"])
        return issue["fields"][name]

    def _clause(self, name: str, op: str, wanted: str):
        if name == "project":
            return lambda issue: (issue["fields"]["project"]["key"] == wanted) == (op == "=")
        if name == "labels":
            return lambda issue: (wanted in issue["fields"]["labels"]) == (op == "=")
        if name == "updated":
            # JQL reads "yyyy/MM/dd HH:mm" in the user's zone (UTC here), to the minute.
            bound = datetime.strptime(wanted, "%Y/%m/%d %H:%M").replace(tzinfo=UTC)
            compare = {">=": "__ge__", "<=": "__le__", ">": "__gt__", "<": "__lt__"}[op]
            return lambda issue: getattr(datetime.fromisoformat(issue["fields"]["updated"]), compare)(bound)
        raise ValueError(f"the fake does not understand the JQL field {name!r}")

    def _render(self, issue: dict, params: dict) -> dict:
        wanted = [f for f in (params.get("fields") or "").split(",") if f]
        if not wanted or "*all" in wanted or "*navigable" in wanted:
            fields = dict(issue["fields"])
        else:
            fields = {name: issue["fields"].get(name) for name in wanted}
        out = {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": issue["id"],
            "self": f"{self.url}/rest/api/2/issue/{issue['id']}",
            "key": issue["key"],
            "fields": fields,
        }
        if "changelog" in (params.get("expand") or ""):
            histories = issue["histories"]
            # "sorted by date, starting from the most recent", cut to what the search embeds
            recent = list(reversed(histories))[: self.changelog_embed_limit]
            out["changelog"] = {"startAt": 0, "maxResults": len(recent), "total": len(histories), "histories": recent}
        return out

    def _search_jql(self, params: dict):
        issues = self._matching(params["jql"])
        limit = min(int(params.get("maxResults") or 50), self.max_results_limit)
        token = params.get("nextPageToken")
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        page = issues[start : start + limit]
        body = {"issues": [self._render(issue, params) for issue in page], "isLast": start + limit >= len(issues)}
        if not body["isLast"]:
            body["nextPageToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return 200, {}, body

    def _search(self, params: dict):
        issues = self._matching(params["jql"])
        limit = min(int(params.get("maxResults") or 50), self.max_results_limit)
        start = int(params.get("startAt") or 0)
        page = issues[start : start + limit]
        return (
            200,
            {},
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": limit,
                "total": len(issues),
                "issues": [self._render(issue, params) for issue in page],
            },
        )

    def _changelog(self, issue_id: str, params: dict):
        histories = self.issues[issue_id]["histories"]
        limit = min(int(params.get("maxResults") or 100), self.changelog_page_limit)
        start = int(params.get("startAt") or 0)
        values = histories[start : start + limit]
        body = {
            "self": f"{self.url}/rest/api/2/issue/{issue_id}/changelog?startAt={start}&maxResults={limit}",
            "maxResults": limit,
            "startAt": start,
            "total": len(histories),
            "isLast": start + limit >= len(histories),
            "values": values,
        }
        if not body["isLast"]:
            body["nextPage"] = f"{self.url}/rest/api/2/issue/{issue_id}/changelog?startAt={start + limit}"
        return 200, {}, body

    def _create(self, body: dict):
        fields = body.get("fields") or {}
        errors = {}
        if (fields.get("project") or {}).get("key") != self.project:
            errors["project"] = "Specify a valid project ID or key"
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        if any(" " in label for label in fields.get("labels") or []):
            errors["labels"] = "The label can't contain spaces."
        if errors:
            return 400, {}, {"errorMessages": [], "errors": errors}
        issue_id = self.add_issue(
            jira_time(self.now).replace(".000+0000", ""),
            summary=fields["summary"],
            issue_type=(fields.get("issuetype") or {}).get("name", "Incident"),
            labels=fields.get("labels"),
            reporter="ITXM Bot",
        )
        self.issues[issue_id]["fields"]["description"] = fields.get("description")
        self.created.append(self.issues[issue_id])
        key = self.issues[issue_id]["key"]
        return 201, {}, {"id": issue_id, "key": key, "self": f"{self.url}/rest/api/2/issue/{issue_id}"}
