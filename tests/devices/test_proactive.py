"""Proactive alerts: opened once, one ticket through the outbound path whatever happens, closed on recovery."""

from datetime import date

import pytest

from itxm.devices import proactive
from itxm.devices.models import DailyRollup, ProactiveAlert
from itxm.tickets.models import Connector, OutboundTicket
from tests.tickets.fake_servicenow import FakeServiceNow

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 20)


@pytest.fixture
def instance():
    with FakeServiceNow() as server:
        yield server


@pytest.fixture
def servicenow(instance, monkeypatch):
    monkeypatch.setenv("ITXM_PROACTIVE_CONNECTOR", "servicenow")
    connector = Connector(name="servicenow", kind="servicenow", base_url=instance.url, username="itxm.integration")
    connector.set_secret("s3cret!")
    connector.save()
    return connector


def disk(device, free: float, day: date = DAY):
    DailyRollup.objects.update_or_create(
        device=device, day=day, metric="disk_free_pct",
        defaults={"count": 96, "minimum": free, "maximum": free, "mean": free, "total": free * 96, "p50": free,
                  "p95": free, "last": free},
    )  # fmt: skip


def test_an_alert_opens_once_and_its_ticket_is_made_once(laptop, instance, servicenow):
    disk(laptop, 4)
    assert proactive.evaluate(DAY) == 1
    assert proactive.evaluate(DAY) == 1  # evaluated again: nothing new
    alert = ProactiveAlert.objects.get()
    assert alert.rule == "disk_low" and alert.evidence["disk_free_pct"] == 4
    assert alert.outbound_ticket.correlation_id == f"itxm-alert-{alert.pk}"
    assert len(instance.created) == 1 and instance.created[0]["short_description"] == "Disk almost full on PC042"


def test_a_crash_after_the_ticket_was_made_does_not_make_a_second(laptop, instance, servicenow, monkeypatch):
    disk(laptop, 4)

    def crash(alert, ticket):
        raise RuntimeError("the worker was killed")

    link_ticket = proactive.link_ticket
    monkeypatch.setattr(proactive, "link_ticket", crash)
    with pytest.raises(RuntimeError):
        proactive.evaluate(DAY)
    monkeypatch.setattr(proactive, "link_ticket", link_ticket)
    assert ProactiveAlert.objects.get().outbound_ticket is None and len(instance.created) == 1
    proactive.evaluate(DAY)  # the retry
    assert len(instance.created) == 1 and OutboundTicket.objects.count() == 1
    assert ProactiveAlert.objects.get().outbound_ticket is not None


def test_the_alert_closes_when_the_device_recovers_and_a_new_problem_is_a_new_alert(laptop, instance, servicenow):
    disk(laptop, 4)
    proactive.evaluate(DAY)
    disk(laptop, 12, date(2026, 3, 21))  # better, but not past the recovery line: stays open
    assert proactive.evaluate(date(2026, 3, 21)) == 1
    disk(laptop, 40, date(2026, 3, 22))
    assert proactive.evaluate(date(2026, 3, 22)) == 0
    assert ProactiveAlert.objects.get().closed_at is not None
    disk(laptop, 3, date(2026, 3, 23))
    assert proactive.evaluate(date(2026, 3, 23)) == 1
    assert ProactiveAlert.objects.count() == 2 and len(instance.created) == 2


def test_no_reading_keeps_the_alert_and_no_connector_means_no_ticket(laptop):
    disk(laptop, 4)
    proactive.evaluate(DAY)
    assert proactive.evaluate(date(2026, 3, 25)) == 1  # the device went quiet: no verdict
    assert ProactiveAlert.objects.get().outbound_ticket is None
