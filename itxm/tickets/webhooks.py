"""Webhooks: a connected tool tells ITXM, with a signed request, which tickets changed.

``POST /api/v1/tickets/webhooks/<connector name>`` is authenticated by an HMAC of the body made with the
connector's webhook secret, not by a session or an API token, and checked in constant time. Each product
is checked the way it signs:

- Zammad: ``X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>`` (the webhook's "HMAC SHA1 signature
  token"); the body is ``{"ticket": {…}, "article": {…}}``.
- Jira Cloud admin webhooks with a secret: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>``; the
  body is ``{"webhookEvent": "jira:issue_updated", "issue": {…}, "changelog": {…}}``.
- GLPI 11: ``X-GLPI-signature: <hex HMAC-SHA256 of the body followed by X-GLPI-timestamp>``; the body is
  ``{"event": "update", "item": {…}}``.
- Any connector (ServiceNow outbound REST messages, GLPI 10 with a plugin, scripts):
  ``X-ITXM-Signature: sha256=<hex HMAC-SHA256 of the body>`` over tickets in ITXM's canonical shape, one
  JSON object or an array.

A product's delivery names the ticket; its connector then reads that ticket, with its history, as a sync
would, so a webhook never stores less than a sync (a Jira delivery carries one change, not the history;
GLPI's carries no resolution date), and an old delivery arriving late cannot roll a ticket back. Either
way the tickets go through the one idempotent ingestion: the same delivery twice changes nothing.
"""

import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from itxm import tabular
from itxm.tickets.connectors import glpi, zammad  # noqa: F401  (register themselves)
from itxm.tickets.connectors.base import ConnectorError, source_for
from itxm.tickets.connectors.encryption import SecretUnreadable
from itxm.tickets.ingestion import TicketIngestReport
from itxm.tickets.models import Connector
from itxm.tickets.services import IngestError, ingest_rows

# A webhook's sender waits for the answer and retries on failure: read the tool briefly, never for minutes.
READ_OPTIONS = {"timeout_seconds": 15, "max_attempts": 2, "max_wait_seconds": 5}


@dataclass(frozen=True)
class Scheme:
    header: str
    digest: str
    prefix: str = ""
    timestamp_header: str | None = None  # signed after the body (GLPI)

    def signature(self, secret: str, body: bytes, timestamp: str = "") -> str:
        mac = hmac.new(secret.encode(), body + timestamp.encode(), getattr(hashlib, self.digest))
        return self.prefix + mac.hexdigest()


CANONICAL = Scheme("X-ITXM-Signature", "sha256", "sha256=")
PRODUCT_SCHEMES = {
    "zammad": Scheme("X-Hub-Signature", "sha1", "sha1="),
    "jira": Scheme("X-Hub-Signature", "sha256", "sha256="),
    "glpi": Scheme("X-GLPI-signature", "sha256", "", "X-GLPI-timestamp"),
}


class WebhookRefused(Exception):
    """The delivery is not taken; ``status`` says why in HTTP terms, ``field`` names the header to blame."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.field = status, field


def signature_header(kind: str) -> str:
    """The header a connector's product signs with (the canonical one where it does not sign)."""
    return PRODUCT_SCHEMES.get(kind, CANONICAL).header


def receive(
    source: str, headers: Mapping[str, str], body: bytes, *, sleep: Callable[[float], None] = time.sleep
) -> TicketIngestReport:
    """Check a delivery's signature and store the tickets it concerns; raises ``WebhookRefused``."""
    connector = Connector.objects.filter(name=source, enabled=True).first()
    if connector is None or not connector.webhook_secret_ciphertext:
        # The same answer for an unknown source and one without webhooks: callers learn nothing.
        raise WebhookRefused(404, f"no webhook for {source!r}: no enabled connector of that name has a webhook secret")
    try:
        secret = connector.webhook_secret()
    except SecretUnreadable as exc:
        raise WebhookRefused(503, str(exc)) from exc
    scheme = _scheme(connector.kind, headers)
    _verify(scheme, secret, headers, body)
    if scheme is CANONICAL:
        return _ingest_canonical(connector.name, body)
    ids = _ticket_ids(connector.kind, body)
    if not ids:
        return TicketIngestReport()
    try:
        tickets = _read(connector, ids, sleep)
    except (ConnectorError, SecretUnreadable) as exc:
        # 502: the sender keeps the delivery and tries again later.
        raise WebhookRefused(502, f"could not read the ticket from {connector.name}: {exc}") from exc
    return ingest_rows(connector.name, [tabular.Row(n, ticket) for n, ticket in enumerate(tickets, start=1)])


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return str(value or "").strip()


def _scheme(kind: str, headers: Mapping[str, str]) -> Scheme:
    if _header(headers, CANONICAL.header):
        return CANONICAL
    product = PRODUCT_SCHEMES.get(kind)
    if product and _header(headers, product.header):
        return product
    expected = f"{product.header} or {CANONICAL.header}" if product else CANONICAL.header
    header = product.header if product else CANONICAL.header
    raise WebhookRefused(401, f"unsigned delivery: send {expected}, an HMAC of the body", header)


def _verify(scheme: Scheme, secret: str, headers: Mapping[str, str], body: bytes) -> None:
    timestamp = ""
    if scheme.timestamp_header:
        timestamp = _header(headers, scheme.timestamp_header)
        if not timestamp:
            raise WebhookRefused(401, f"{scheme.timestamp_header} is missing", scheme.timestamp_header)
    given = _header(headers, scheme.header).lower().encode("utf-8", "replace")
    expected = scheme.signature(secret, body, timestamp).encode()
    if not hmac.compare_digest(expected, given):
        raise WebhookRefused(401, f"the {scheme.header} signature does not match the body", scheme.header)


def _document(body: bytes):
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(f"not valid JSON: {exc}") from exc


def _ingest_canonical(source: str, body: bytes) -> TicketIngestReport:
    document = _document(body)
    items = document if isinstance(document, list) else [document]
    return ingest_rows(source, tabular.json_items(items))


def _ticket_ids(kind: str, body: bytes) -> list[str]:
    """The tickets a product's delivery is about; none for deletions (ITXM keeps what it was told)."""
    document = _document(body)
    if not isinstance(document, dict):
        raise IngestError("a webhook body is a JSON object")
    if kind == "zammad":
        ticket, where = document.get("ticket"), "ticket.id"
    elif kind == "jira":
        if document.get("webhookEvent") == "jira:issue_deleted":
            return []
        ticket, where = document.get("issue"), "issue.id"
    elif kind == "glpi":
        if document.get("event") == "delete":
            return []
        ticket, where = document.get("item"), "item.id"
    else:
        raise IngestError(f"{kind} does not sign its webhooks: send canonical tickets with {CANONICAL.header}")
    ticket_id = str((ticket or {}).get("id") or "") if isinstance(ticket, dict) else ""
    if not ticket_id.isdigit():
        raise IngestError(f"the delivery names no ticket ({where} is missing)")
    return [ticket_id]


def _read(connector: Connector, ids: list[str], sleep: Callable[[float], None]) -> list[dict]:
    config = connector.config()
    config = dataclasses.replace(config, options={**config.options, **READ_OPTIONS})
    return source_for(config, sleep=sleep).fetch_tickets(ids)
