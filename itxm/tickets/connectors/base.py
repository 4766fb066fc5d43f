"""What every pull connector shares: an HTTP client that retries, paging, the sync window and report.

A connector (``servicenow.py``, ``jira.py``…) is a ``TicketSource``: it reads the tickets changed in a
``SyncWindow`` from its product's API, page by page, and turns each into ITXM's canonical ticket dict
(docs/tickets.md). It knows nothing of the database: ``sync.py`` feeds its pages to ingestion, which is
idempotent by (source, source id), so reading a ticket twice is harmless and the window may overlap.
"""

import base64
import email.utils
import json
import logging
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPException
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

# Correlation ids travel in ServiceNow encoded queries and Jira labels: keep them to characters both take.
CORRELATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


class ConnectorError(Exception):
    """The source could not be read or written; the message says why in words an admin can act on."""


class HttpError(ConnectorError):
    def __init__(self, status: int, url: str, body: bytes = b""):
        self.status, self.url = status, url
        detail = body[:300].decode("utf-8", "replace").strip()
        super().__init__(f"HTTP {status} from {_without_query(url)}" + (f": {detail}" if detail else ""))


class RateLimited(HttpError):
    """The source asked us to wait longer than we are willing to block for."""

    def __init__(self, status: int, url: str, retry_after: float | None):
        super().__init__(status, url)
        self.retry_after = retry_after
        self.args = (f"rate limited by {_without_query(url)} (Retry-After: {retry_after} s); try again later",)


class TransportError(ConnectorError):
    """No HTTP answer: refused, reset, timed out. ``sent`` says whether the request may have arrived."""

    def __init__(self, message: str, sent: bool):
        super().__init__(message)
        self.sent = sent


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


@dataclass
class Response:
    status: int
    headers: Any  # email.message.Message: case-insensitive .get()
    body: bytes
    url: str

    def json(self):
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            # A sleeping ServiceNow developer instance answers 200 with an HTML page.
            snippet = self.body[:120].decode("utf-8", "replace")
            raise ConnectorError(f"{_without_query(self.url)} did not answer JSON: {snippet!r}") from None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(attempt: int, base: float, cap: float, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: half of the step is fixed, half random, so retries spread out."""
    step = min(cap, base * 2 ** (attempt - 1))
    return step / 2 + rng() * step / 2


def link_next(header: str | None) -> str | None:
    """The rel="next" address of an RFC 8288 Link header (ServiceNow's Table API sends one)."""
    for part in re.finditer(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)", header or ""):
        params = part[2].replace(" ", "").lower()
        if 'rel="next"' in params or "rel=next" in params:
            return part[1]
    return None


def basic_auth(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode("ascii")


def bearer_auth(token: str) -> str:
    return f"Bearer {token}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would carry our Authorization header to wherever it points: answer it as an error instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
RETRIED_STATUSES = {500, 502, 503, 504}


class HttpClient:
    """JSON over HTTP with timeouts, bounded retries and respect for rate limits.

    - 5xx and lost connections: retried with exponential backoff and jitter, up to ``max_attempts`` in all;
      a POST only when it surely did not arrive (connection refused), since it is not idempotent.
    - 429 (and 503 with Retry-After): waits as long as the source says, in seconds or as an HTTP date,
      unless that is longer than ``max_wait``: then ``RateLimited`` ends the work, to be resumed later.
    """

    def __init__(
        self,
        base_url: str,
        authorization: str | None = None,
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        backoff_cap: float = 30.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ):
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConnectorError(f"{base_url!r} is not an http(s) address")
        self.base_url = base_url.rstrip("/")
        self.origin = (parts.scheme, parts.netloc)
        self.authorization = authorization
        self.timeout, self.max_attempts, self.max_wait = timeout, max_attempts, max_wait
        self.backoff, self.backoff_cap = backoff, backoff_cap
        self.sleep, self.rng = sleep, rng
        self.headers: dict[str, str] = {}  # sent with every request, e.g. a session token
        self.requests = 0
        self.retries = 0
        self.waited = 0.0
        self._opener = urllib.request.build_opener(_NoRedirect)

    def url(self, path_or_url: str, params: dict | None = None) -> str:
        if path_or_url.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(path_or_url)
            if (parts.scheme, parts.netloc) != self.origin:
                raise ConnectorError(f"refusing to follow a link to another host: {_without_query(path_or_url)}")
            url = path_or_url
        else:
            url = self.base_url + "/" + path_or_url.lstrip("/")
        if params:
            query = urllib.parse.urlencode(
                {k: v for k, v in params.items() if v is not None}, quote_via=urllib.parse.quote
            )
            url += ("&" if "?" in url else "?") + query
        return url

    def get(self, path_or_url: str, params: dict | None = None) -> Response:
        return self.request("GET", path_or_url, params=params)

    def post(self, path: str, body: dict, params: dict | None = None) -> Response:
        return self.request("POST", path, params=params, body=body)

    def request(self, method: str, path_or_url: str, params: dict | None = None, body: dict | None = None) -> Response:
        url = self.url(path_or_url, params)
        idempotent = method in SAFE_METHODS
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, url, body)
            except TransportError as exc:
                if attempt >= self.max_attempts or (exc.sent and not idempotent):
                    raise
                delay = backoff_delay(attempt, self.backoff, self.backoff_cap, self.rng)
                logger.info("%s %s: %s; retrying in %.1f s", method, _without_query(url), exc, delay)
            else:
                if 200 <= response.status < 300:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if response.status == 429 or (response.status == 503 and retry_after is not None):
                    # The source did not do the work, so even a POST may be sent again.
                    delay = retry_after if retry_after is not None else self._backoff(attempt)
                    if delay > self.max_wait or attempt >= self.max_attempts:
                        raise RateLimited(response.status, url, retry_after)
                elif response.status in RETRIED_STATUSES and idempotent and attempt < self.max_attempts:
                    delay = self._backoff(attempt)
                else:
                    raise HttpError(response.status, url, response.body)
                logger.info("%s %s: HTTP %s; retrying in %.1f s", method, _without_query(url), response.status, delay)
            self.retries += 1
            self.waited += delay
            self.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.backoff, self.backoff_cap, self.rng)

    def _send(self, method: str, url: str, body: dict | None) -> Response:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (scheme checked in __init__)
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", "ITXM connector")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.authorization:
            request.add_header("Authorization", self.authorization)
        for name, value in self.headers.items():
            request.add_header(name, value)
        self.requests += 1
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, answer.headers, answer.read(), url)
        except urllib.error.HTTPError as exc:
            with exc:
                return Response(exc.code, exc.headers, exc.read(), url)
        except urllib.error.URLError as exc:
            refused = isinstance(exc.reason, ConnectionRefusedError)
            raise TransportError(f"cannot reach {_without_query(url)}: {exc.reason}", sent=not refused) from exc
        except (TimeoutError, ConnectionError, HTTPException, OSError) as exc:
            raise TransportError(f"{_without_query(url)}: {exc or type(exc).__name__}", sent=True) from exc


@dataclass
class Page:
    """One page of a source's answer, and how to ask for the next one (None on the last page)."""

    items: list
    total: int | None = None
    next: Any = None


class Pager:
    """Pages through a listing, by offset, cursor or link: whatever ``fetch(cursor)`` understands.

    Offset paging over records ordered by their update time skips one whenever a record changes while
    we page (it moves to the end, the rest shift back). The window has an upper bound, so such a record
    leaves it and the total the source reports changes: then the listing is read again from the start,
    up to ``max_passes`` times. ``complete`` says whether the last pass saw a steady total.
    """

    def __init__(self, fetch: Callable[[Any], Page], first: Any = None, max_passes: int = 3, max_pages: int = 100_000):
        self.fetch, self.first = fetch, first
        self.max_passes, self.max_pages = max_passes, max_pages
        self.pages = 0
        self.passes = 0
        self.complete = False

    def __iter__(self) -> Iterator[Page]:
        while self.passes < self.max_passes:
            self.passes += 1
            cursor, first_total, steady = self.first, None, True
            while True:
                page = self.fetch(cursor)
                self.pages += 1
                if self.pages > self.max_pages:
                    raise ConnectorError(f"more than {self.max_pages} pages: is the source paging in circles?")
                if page.total is not None:
                    if first_total is None:
                        first_total = page.total
                    elif page.total != first_total:
                        steady = False
                yield page
                if page.next is None or not page.items:
                    break
                cursor = page.next
            if steady:
                self.complete = True
                return
            logger.info("the listing changed while paging; reading it again")


@dataclass(frozen=True)
class SyncWindow:
    """Tickets updated at or after ``since`` (None: all) and before ``until``, in UTC."""

    since: datetime | None
    until: datetime


def window_for(last_seen: datetime | None, now: datetime, overlap: timedelta, full: bool = False) -> SyncWindow:
    """Start a little before the last update seen: a ticket written in the same second (or by a source
    whose clock is behind) is not missed, and reading it again changes nothing."""
    since = None if full or last_seen is None else last_seen - overlap
    return SyncWindow(since=since, until=now)


@dataclass(frozen=True)
class ConnectorConfig:
    """A configured connection, as plain data: the Django model makes one with the secret decrypted."""

    name: str
    kind: str
    base_url: str
    auth_kind: str = "basic"  # basic (user + password or API token) or bearer (OAuth / personal access token)
    username: str = ""
    secret: str = ""
    options: dict = field(default_factory=dict)

    def authorization(self) -> str | None:
        if not self.secret:
            return None
        if self.auth_kind == "bearer":
            return bearer_auth(self.secret)
        return basic_auth(self.username, self.secret)


@dataclass(frozen=True)
class RemoteTicket:
    """A ticket in the connected tool, as outbound creation knows it."""

    remote_id: str
    number: str
    url: str = ""


@dataclass(frozen=True)
class TicketRequest:
    """What proactive support (or anyone) wants opened in the connected tool."""

    correlation_id: str
    summary: str
    description: str = ""
    caller: str | None = None
    group: str | None = None


# Options every connector takes, beside its own ``defaults``.
COMMON_OPTIONS = {"timeout_seconds": 30, "max_attempts": 5, "max_wait_seconds": 120, "overlap_minutes": 5}


def check_time_zone(name) -> None:
    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConnectorError(f"time_zone {name!r} is not a time zone name such as UTC or Europe/Istanbul") from None


def check_choice(options: dict, name: str, allowed: tuple) -> None:
    if options[name] not in allowed:
        raise ConnectorError(f"{name} must be one of {', '.join(map(str, allowed))}, not {options[name]!r}")


class TicketSource:
    """Base of every connector. Subclasses set ``kind`` and ``defaults`` and implement the three methods."""

    kind: ClassVar[str] = ""
    defaults: ClassVar[dict] = {}

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        client: HttpClient | None = None,
    ):
        self.config = config
        given = config.options or {}
        unknown = sorted(set(given) - set(self.defaults) - set(COMMON_OPTIONS))
        if unknown:
            known = ", ".join(sorted({*self.defaults, *COMMON_OPTIONS}))
            raise ConnectorError(f"unknown option {', '.join(unknown)} for {self.kind} (known: {known})")
        self.options = {**COMMON_OPTIONS, **self.defaults, **given}
        try:
            for name in ("page_size", *COMMON_OPTIONS):
                if name in self.options and float(self.options[name]) <= 0:
                    raise ValueError
        except (TypeError, ValueError):
            raise ConnectorError(f"{name} must be a positive number") from None
        self.check_options()
        self.client = client or HttpClient(
            config.base_url,
            config.authorization(),
            timeout=float(self.options["timeout_seconds"]),
            max_attempts=int(self.options["max_attempts"]),
            max_wait=float(self.options["max_wait_seconds"]),
            sleep=sleep,
        )
        self.pages = 0
        self.passes = 0
        self.complete = False

    @property
    def overlap(self) -> timedelta:
        return timedelta(minutes=float(self.options["overlap_minutes"]))

    def check_options(self) -> None:
        """Raise ConnectorError for an option value that cannot work (the admin shows it on saving)."""

    def changes(self, window: SyncWindow) -> Iterator[list[dict]]:
        """Pages of canonical ticket dicts updated in the window; sets ``complete`` when all were read."""
        raise NotImplementedError

    def find_by_correlation(self, correlation_id: str) -> RemoteTicket | None:
        raise NotImplementedError(f"{self.kind} cannot create tickets yet")

    def create_ticket(self, request: TicketRequest) -> RemoteTicket:
        raise NotImplementedError(f"{self.kind} cannot create tickets yet")


REGISTRY: dict[str, type[TicketSource]] = {}


def register(cls: type[TicketSource]) -> type[TicketSource]:
    REGISTRY[cls.kind] = cls
    return cls


def source_for(config: ConnectorConfig, **kwargs) -> TicketSource:
    try:
        cls = REGISTRY[config.kind]
    except KeyError:
        raise ConnectorError(f"there is no connector for {config.kind!r} yet (known: {', '.join(REGISTRY)})") from None
    return cls(config, **kwargs)


def utc_text(moment: datetime, tz=UTC, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A UTC moment written in the zone and format a source's query language expects."""
    return moment.astimezone(tz).strftime(fmt)
