"""A real SMTP server on 127.0.0.1 (aiosmtpd), Django pointed at it, and tickets resolved by ingestion."""

import email
import email.policy
import json
import logging
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from itxm.org.scopes import EVERYTHING
from itxm.surveys.services import InvitationReport
from itxm.tickets.services import ingest_payload
from tests.servers import free_port

BASE_URL = "http://survey.test"
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command


class Inbox:
    """What the SMTP server received; ``reply`` makes it answer every message with an error instead."""

    def __init__(self):
        self.envelopes = []
        self.reply: str | None = None

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


@pytest.fixture(scope="session")
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def inbox(smtp_server, settings) -> Inbox:
    """An empty inbox on the real local SMTP server, which Django sends to over SMTP."""
    handler = smtp_server.handler
    handler.envelopes.clear()
    handler.reply = None
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.hostname
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "itxm@acme.test"
    settings.BASE_URL = BASE_URL
    return handler


@pytest.fixture
def no_smtp(settings):
    """Django pointed at a port nobody listens on: every send fails to connect."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.BASE_URL = BASE_URL


def resolve(org, number: str = "INC-ALPHA-1", resolved_at=None, state: str = "resolved", **fields) -> list[int]:
    """Send a ticket through ingestion in the given state; returns the ids ingestion reports as resolved."""
    return ingest(org, number, resolved_at, state, **fields).resolved_ticket_ids


def resolve_and_invite(org, number: str = "INC-ALPHA-1", resolved_at=None, state: str = "resolved", **fields):
    """The same, returning what ingestion's survey step did with the resolution (an InvitationReport)."""
    return ingest(org, number, resolved_at, state, **fields).invitations or InvitationReport()


def ingest(org, number: str, resolved_at, state: str, **fields):
    now = timezone.now()
    resolved_at = resolved_at if resolved_at is not None or state not in ("resolved", "closed") else now
    updated = fields.pop("updated_at", None) or (resolved_at or now) + timedelta(seconds=1)
    row = {
        "source_id": number,
        "number": number,
        "kind": "incident",
        "state": state,
        "opened_at": (min(now, resolved_at or now) - timedelta(days=1)).isoformat(),
        "resolved_at": resolved_at.isoformat() if resolved_at else None,
        "updated_at": updated.isoformat(),
        "group": "GRP-ALPHA",
        "service": "SVC-MAIL",
        "assignee": "AG-ALPHA",
        "caller": "E1",
        "short_description": "Printer jam",
    } | fields
    report = ingest_payload(EVERYTHING, "test", json.dumps([row]).encode(), "application/json")
    assert not report.errors, report.errors
    return report


SCORE_LINK = re.compile(r'href="(' + re.escape(BASE_URL) + r'(/s/[^"/]+/(\d+)))"')


def score_links(message) -> dict[int, str]:
    """Score → path of the link in the HTML part, as a mail client shows it."""
    html = message.get_body(("html",)).get_content()
    return {int(score): path for _, path, score in SCORE_LINK.findall(html)}
