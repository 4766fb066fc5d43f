"""The outbox: retries with backoff, permanent failures, bounces, and no duplicate after a worker dies."""

from datetime import timedelta

import pytest
from django.utils import timezone

from itxm.org.scopes import EVERYTHING
from itxm.surveys import outbox, services
from itxm.surveys.models import Invitation, InvitationStatus, OutboxMessage, OutboxStatus
from tests.surveys.conftest import resolve_and_invite


class Clock:
    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now


@pytest.fixture
def queued(org, settings):
    settings.BASE_URL = "http://survey.test"
    resolve_and_invite(org)
    return OutboxMessage.objects.get()


@pytest.mark.django_db
def test_a_failing_smtp_server_is_retried_with_growing_waits_and_finally_marked_failed(queued, no_smtp, settings):
    settings.ITXM_SURVEY_MAX_ATTEMPTS, settings.ITXM_SURVEY_RETRY_SECONDS = 3, 60
    clock = Clock()
    waits = []
    for _ in range(2):
        assert outbox.send_due(now=clock)["retry"] == 1
        message = OutboxMessage.objects.get()
        assert message.status == OutboxStatus.PENDING and "Connection" in message.last_error
        waits.append(message.next_attempt_at - clock.now)
        assert outbox.send_due(now=clock)["retry"] == 0  # not due yet
        clock.now = message.next_attempt_at
    assert waits == [timedelta(seconds=60), timedelta(seconds=120)]

    assert outbox.send_due(now=clock)["failed"] == 1
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)
    assert Invitation.objects.get().status == InvitationStatus.FAILED


@pytest.mark.django_db
def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails_at_once(queued, inbox):
    inbox.reply = "451 Try again later"
    assert outbox.send_due()["retry"] == 1
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    inbox.reply = "550 No such mailbox"
    assert outbox.send_due()["failed"] == 1
    assert "550" in OutboxMessage.objects.get().last_error
    inbox.reply = None
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox.send_due()["sent"] == 0 and inbox.envelopes == []


@pytest.mark.django_db
def test_a_worker_killed_after_the_server_took_the_message_does_not_send_it_again(queued, inbox, monkeypatch, settings):
    settings.ITXM_SURVEY_LEASE_SECONDS = 300
    clock = Clock()

    def killed(message, now):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "_mark_sent", killed)
        with pytest.raises(SystemExit):
            outbox.send_due(now=clock)
    assert len(inbox.envelopes) == 1
    assert OutboxMessage.objects.get().status == OutboxStatus.SENDING

    assert outbox.send_due(now=clock)["sent"] == 0  # restarted at once: the lease still holds it
    clock.now += timedelta(seconds=301)
    assert outbox.send_due(now=clock) == {"sent": 0, "retry": 0, "failed": 0, "requeued": 0, "unknown": 1}
    clock.now += timedelta(days=1)
    outbox.send_due(now=clock)
    assert len(inbox.envelopes) == 1
    message = OutboxMessage.objects.get()
    assert message.status == OutboxStatus.UNKNOWN and "not resent" in message.last_error


@pytest.mark.django_db
def test_a_message_claimed_by_a_worker_that_died_before_sending_is_sent_once_after_the_lease(queued, inbox):
    clock = Clock()
    assert outbox.claim(10, clock.now) == [queued.pk]  # the worker claims, then dies
    assert outbox.send_due(now=clock)["sent"] == 0  # another worker leaves it alone while the lease holds
    clock.now += timedelta(minutes=6)
    assert outbox.send_due(now=clock)["sent"] == 1
    assert outbox.send_due(now=clock)["sent"] == 0
    assert len(inbox.envelopes) == 1
    assert Invitation.objects.get().status == InvitationStatus.SENT


@pytest.mark.django_db
def test_a_bounce_is_recorded_against_the_message_and_its_invitation(queued, inbox):
    outbox.send_due()
    assert services.record_bounce(EVERYTHING, queued.message_id.strip("<>"), "550 5.1.1 user unknown")
    message = OutboxMessage.objects.get()
    assert (message.status, message.last_error) == (OutboxStatus.BOUNCED, "550 5.1.1 user unknown")
    assert Invitation.objects.get().status == InvitationStatus.BOUNCED
    assert not services.record_bounce(EVERYTHING, "<nobody@nowhere>")


@pytest.mark.django_db
def test_a_worker_whose_lease_was_taken_over_does_not_send_the_message(queued, inbox):
    clock = Clock()
    outbox.claim(10, clock.now, claim_id="slow-worker")
    clock.now += timedelta(minutes=6)
    assert outbox.send_due(now=clock)["sent"] == 1  # the message was taken over and sent
    assert not outbox._mark_started(OutboxMessage.objects.get(), clock.now, "slow-worker")
    assert len(inbox.envelopes) == 1
