"""The outbox: e-mails are written to the database with what they are about, and the worker sends them.

Guarantees, and the one gap SMTP leaves (docs/surveys.md):

- A message is written in the same transaction as its invitation: no invitation without its e-mail.
- ``send_due`` claims messages atomically (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's
  IMMEDIATE transactions serialise writers) and holds them with a lease, so two workers never send the
  same message.
- Just before the SMTP transfer the message is stamped ``smtp_started_at`` (committed); after the server
  accepts it, it is marked sent. SMTP cannot join a database transaction, so a worker that dies between
  the two leaves a message that may or may not have gone out. When its lease runs out, such a message is
  marked *unknown* and **not** sent again: at most once, because a second survey e-mail is worse than a
  lost one, and the count of unknown messages is visible. A message whose lease runs out before the
  transfer started is simply sent again (it never left). An operator may re-queue unknown messages in
  the admin; each carries its Message-ID (the idempotency key), which many receiving systems use to
  drop a repeat.
- Temporary failures (connection refused, 4xx) are retried with exponential backoff; a permanent refusal
  (5xx) or the last allowed attempt marks the message failed.
"""

import logging
import smtplib
import uuid
from collections.abc import Callable
from datetime import datetime

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from itxm.surveys import config
from itxm.surveys.models import Invitation, InvitationStatus, OutboxMessage, OutboxStatus
from itxm.surveys.signals import invitations_changed

log = logging.getLogger(__name__)


def enqueue(invitation: Invitation, email, now: datetime) -> OutboxMessage:
    """Store an e-mail for the worker; call inside the transaction that makes the invitation."""
    message = _message(invitation, email, now)
    message.save()
    return message


def enqueue_many(emails: list[tuple[Invitation, object]], now: datetime) -> None:
    """Store many e-mails at once (a delivery of resolved tickets, a campaign run); same rule as ``enqueue``."""
    messages = [_message(invitation, email, now) for invitation, email in emails]
    OutboxMessage.objects.bulk_create(messages, batch_size=500)


def _message(invitation: Invitation, email, now: datetime) -> OutboxMessage:
    return OutboxMessage(
        invitation=invitation,
        to=invitation.employee.email,
        subject=email.subject,
        text=email.text,
        html=email.html,
        headers=email.headers,
        message_id=email.message_id,
        next_attempt_at=now,
        created_at=now,
    )


def cancel_for_employee(employee_id: int) -> int:
    """Someone opted out: what is still waiting for them is not sent."""
    waiting = OutboxMessage.objects.filter(invitation__employee_id=employee_id, status=OutboxStatus.PENDING)
    invitation_ids = list(waiting.values_list("invitation_id", flat=True))
    count = waiting.update(status=OutboxStatus.FAILED, last_error="opted out before sending")
    Invitation.objects.filter(pk__in=invitation_ids).update(
        status=InvitationStatus.HELD_BACK, held_back_reason="opted_out", closes_at=None
    )
    return count


def recover_abandoned(now: datetime) -> dict[str, int]:
    """Messages whose worker died: back in the queue if the transfer never started, else *unknown*."""
    expired = OutboxMessage.objects.filter(status=OutboxStatus.SENDING, lease_until__lt=now)
    requeued = expired.filter(smtp_started_at__isnull=True).update(
        status=OutboxStatus.PENDING, lease_until=None, next_attempt_at=now
    )
    unsure = expired.filter(smtp_started_at__isnull=False)
    unsure_ids = list(unsure.values_list("pk", flat=True))
    unknown = OutboxMessage.objects.filter(pk__in=unsure_ids, status=OutboxStatus.SENDING).update(
        status=OutboxStatus.UNKNOWN,
        lease_until=None,
        last_error="the worker stopped during the SMTP transfer; not resent to avoid a duplicate",
    )
    return {"requeued": requeued, "unknown": unknown}


def claim(limit: int, now: datetime, claim_id: str | None = None) -> list[int]:
    """Take up to ``limit`` due messages for this worker; nobody else gets them until the lease ends."""
    claim_id = claim_id or uuid.uuid4().hex
    with transaction.atomic():
        due = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk"
        )
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:limit])
        OutboxMessage.objects.filter(pk__in=ids, status=OutboxStatus.PENDING).update(
            status=OutboxStatus.SENDING,
            lease_until=now + config.lease(),
            claim_id=claim_id,
            smtp_started_at=None,
            attempts=F("attempts") + 1,
        )
    return ids


def send_due(limit: int = 100, now: Callable[[], datetime] = timezone.now, connection=None) -> dict[str, int]:
    """Send what is due: claim, send one by one over one SMTP connection, record each outcome."""
    counts = {"sent": 0, "retry": 0, "failed": 0} | recover_abandoned(now())
    claim_id = uuid.uuid4().hex
    ids = claim(limit, now(), claim_id)
    smtp = connection
    try:
        for message in OutboxMessage.objects.filter(pk__in=ids).order_by("pk"):
            if smtp is None:
                smtp = get_connection(fail_silently=False)
            try:
                smtp.open()
                if not _mark_started(message, now(), claim_id):
                    continue  # this worker was too slow: its lease ran out and the message was taken over
                smtp.send_messages([_email(message, smtp)])
            except (smtplib.SMTPException, OSError) as exc:
                counts[_failed(message, exc, now())] += 1
                smtp.close()  # a broken connection is not reused; the next message opens a new one
                continue
            _mark_sent(message, now())
            counts["sent"] += 1
    finally:
        if smtp is not None and connection is None:
            smtp.close()
    return counts


def _email(message: OutboxMessage, smtp) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        message.subject,
        message.text,
        to=[message.to],
        headers={**message.headers, "Message-ID": message.message_id},
        connection=smtp,
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email


def _mark_started(message: OutboxMessage, now: datetime, claim_id: str) -> bool:
    """Still ours? Then note that the transfer starts, with a fresh lease for it."""
    ours = OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, claim_id=claim_id, smtp_started_at__isnull=True
    )
    return ours.update(smtp_started_at=now, lease_until=now + config.lease()) == 1


def _mark_sent(message: OutboxMessage, now: datetime) -> None:
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.SENT, sent_at=now, lease_until=None, last_error=""
        )
        if message.invitation_id:
            Invitation.objects.filter(pk=message.invitation_id, status=InvitationStatus.QUEUED).update(
                status=InvitationStatus.SENT, sent_at=now
            )
            Invitation.objects.filter(pk=message.invitation_id, sent_at__isnull=True).update(sent_at=now)
            invitations_changed.send(sender=Invitation, invitation_ids=[message.invitation_id])


def _permanent(exc: Exception) -> bool:
    """A 5xx answer: the server refused for good (unknown mailbox, policy); retrying will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _failed(message: OutboxMessage, exc: Exception, now: datetime) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if _permanent(exc) or message.attempts >= config.max_attempts():
        with transaction.atomic():
            OutboxMessage.objects.filter(pk=message.pk).update(
                status=OutboxStatus.FAILED, last_error=error, lease_until=None
            )
            if message.invitation_id:
                Invitation.objects.filter(pk=message.invitation_id).update(status=InvitationStatus.FAILED)
        log.warning("survey e-mail %s failed for good: %s", message.pk, error)
        return "failed"
    # smtp_started_at is cleared: the server answered with an error, so nothing was delivered.
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.PENDING,
        last_error=error,
        lease_until=None,
        smtp_started_at=None,
        next_attempt_at=now + config.retry_delay(message.attempts),
    )
    return "retry"


def record_bounce(message_id: str, reason: str = "", now: datetime | None = None) -> bool:
    now = now or timezone.now()
    wanted = message_id.strip()
    if not wanted.startswith("<"):
        wanted = f"<{wanted}>"
    message = OutboxMessage.objects.filter(Q(message_id=wanted) | Q(message_id=message_id.strip())).first()
    if message is None:
        return False
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxStatus.BOUNCED, bounced_at=now, last_error=(reason or "bounced")[:2000]
        )
        if message.invitation_id:
            Invitation.objects.filter(pk=message.invitation_id).exclude(status=InvitationStatus.ANSWERED).update(
                status=InvitationStatus.BOUNCED
            )
    return True


def requeue(message_ids: list[int], now: datetime | None = None) -> int:
    """An operator's explicit choice to send unknown or failed messages again (maybe a second time)."""
    now = now or timezone.now()
    return OutboxMessage.objects.filter(
        pk__in=message_ids, status__in=(OutboxStatus.UNKNOWN, OutboxStatus.FAILED)
    ).update(status=OutboxStatus.PENDING, next_attempt_at=now, attempts=0, smtp_started_at=None, lease_until=None)
