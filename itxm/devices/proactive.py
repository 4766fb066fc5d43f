"""Proactive alerts: rules over the latest daily rollups and the open anomalies (docs/devices.md,
"Proactive alerts").

A rule that fires on a device opens a ``ProactiveAlert``; the database allows one open alert per device
and rule (a unique constraint on open alerts), so evaluating twice, or two workers at once, never opens a
second one for the same ongoing problem. The alert closes when the device shows it recovered (a reading
past the rule's recovery threshold: a little better than the firing one, so a value hovering around the
line does not open and close an alert every day). No reading, no verdict: a device that went quiet keeps
its alert.

Where ``ITXM_PROACTIVE_CONNECTOR`` names an enabled connector, each open alert gets a ticket in
that ITSM tool through ``itxm.tickets.outbound.create_remote_ticket`` with the alert's correlation id
(``itxm-alert-<id>``): a retry after a crash, a timeout or a second evaluation finds the ticket already
made instead of opening another.
"""

import logging
import os
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from itxm.devices import anomalies
from itxm.devices.models import DailyRollup, ProactiveAlert
from itxm.tickets.models import Connector, OutboundTicket
from itxm.tickets.outbound import OutboundError, create_remote_ticket

log = logging.getLogger(__name__)

CRASH_WINDOW_DAYS = 3


@dataclass(frozen=True)
class Rule:
    key: str
    title: str  # the ticket's summary, "{device}" replaced
    opens: str
    closes: str


RULES = (
    Rule("disk_low", "Disk almost full on {device}", "free disk space < 10 %", "free disk space ≥ 15 %"),
    Rule("battery_weak", "Battery worn out on {device}", "battery health < 60 %", "battery health ≥ 65 %"),
    Rule(
        "repeated_crashes",
        "Repeated crashes on {device}",
        f"≥ 4 crashes in the last {CRASH_WINDOW_DAYS} days",
        f"≤ 1 crash in the last {CRASH_WINDOW_DAYS} days",
    ),
    Rule("anomaly", "Anomaly on {device}", "listed by an open anomaly", "no open anomaly lists it"),
)
RULES_BY_KEY = {rule.key: rule for rule in RULES}
DISK_OPENS, DISK_CLOSES = 10.0, 15.0
BATTERY_OPENS, BATTERY_CLOSES = 60.0, 65.0
CRASHES_OPEN, CRASHES_CLOSE = 4, 1


def verdicts(as_of: date) -> dict[tuple[int, str], tuple[bool, dict]]:
    """(device id, rule) → (firing?, evidence) for every device with a reading to judge on ``as_of``."""
    found: dict[tuple[int, str], tuple[bool, dict]] = {}
    latest = DailyRollup.objects.filter(day=as_of, metric__in=("disk_free_pct", "battery_health_pct"))
    for device_id, metric, last in latest.values_list("device_id", "metric", "last"):
        if metric == "disk_free_pct" and (last < DISK_OPENS or last >= DISK_CLOSES):
            found[(device_id, "disk_low")] = (last < DISK_OPENS, {"disk_free_pct": last, "day": as_of.isoformat()})
        elif metric == "battery_health_pct" and (last < BATTERY_OPENS or last >= BATTERY_CLOSES):
            found[(device_id, "battery_weak")] = (
                last < BATTERY_OPENS,
                {"battery_health_pct": last, "day": as_of.isoformat()},
            )
    since = as_of - timedelta(days=CRASH_WINDOW_DAYS - 1)
    reporting = set(DailyRollup.objects.filter(day=as_of, metric="crashes").values_list("device_id", flat=True))
    crashes = (
        DailyRollup.objects.filter(day__gte=since, day__lte=as_of, metric="crashes", device_id__in=reporting)
        .values("device_id")
        .annotate(crashes=Sum("total"))
        .values_list("device_id", "crashes")
    )
    for device_id, total in crashes:
        if total >= CRASHES_OPEN or total <= CRASHES_CLOSE:
            found[(device_id, "repeated_crashes")] = (
                total >= CRASHES_OPEN,
                {"crashes": total, "from": since.isoformat(), "until": as_of.isoformat()},
            )
    listed = anomalies.affected_devices()
    for device_id, anomaly_ids in listed.items():
        found[(device_id, "anomaly")] = (True, {"anomaly_ids": anomaly_ids})
    for device_id in ProactiveAlert.objects.filter(rule="anomaly", closed_at__isnull=True).values_list(
        "device_id", flat=True
    ):
        if device_id not in listed:
            found[(device_id, "anomaly")] = (False, {})
    return found


def evaluate(as_of: date, now=None) -> int:
    """Open and close alerts as of a day, then open the tickets still missing; returns the open alerts."""
    now = now or timezone.now()
    judged = verdicts(as_of)
    open_alerts = {(a.device_id, a.rule): a for a in ProactiveAlert.objects.filter(closed_at__isnull=True)}
    with transaction.atomic():
        for (device_id, rule), (firing, evidence) in judged.items():
            if not firing or (device_id, rule) in open_alerts:
                continue
            try:
                with transaction.atomic():
                    ProactiveAlert.objects.create(device_id=device_id, rule=rule, opened_at=now, evidence=evidence)
            except IntegrityError:
                pass  # another evaluation opened it meanwhile: one open alert per device and rule
        recovered = [alert.pk for key, alert in open_alerts.items() if key in judged and not judged[key][0]]
        ProactiveAlert.objects.filter(pk__in=recovered, closed_at__isnull=True).update(closed_at=now)
    open_tickets()
    return ProactiveAlert.objects.filter(closed_at__isnull=True).count()


def proactive_connector() -> Connector | None:
    """The connector named by ``ITXM_PROACTIVE_CONNECTOR`` (unset: proactive alerts open no tickets)."""
    name = os.environ.get("ITXM_PROACTIVE_CONNECTOR", "").strip()
    return Connector.objects.filter(name=name, enabled=True).first() if name else None


def describe(alert: ProactiveAlert) -> str:
    rule = RULES_BY_KEY.get(alert.rule)
    lines = [
        f"ITXM opened this ticket because a proactive rule fired on device {alert.device}.",
        f"Rule: {alert.rule} ({rule.opens if rule else ''}); it closes when {rule.closes if rule else ''}.",
        "Evidence: " + ", ".join(f"{key} = {value}" for key, value in sorted(alert.evidence.items())),
    ]
    return "\n".join(lines)


def open_tickets() -> int:
    """A ticket for each open alert that has none yet; returns how many were linked now."""
    connector = proactive_connector()
    if connector is None:
        return 0
    linked = 0
    pending = ProactiveAlert.objects.filter(closed_at__isnull=True, outbound_ticket__isnull=True)
    for alert in pending.select_related("device"):
        rule = RULES_BY_KEY.get(alert.rule)
        title = (rule.title if rule else "Proactive alert on {device}").format(device=alert.device)
        try:
            ticket = create_remote_ticket(connector, alert.correlation_id, title, describe(alert))
        except OutboundError as exc:
            log.warning("proactive ticket for alert %s not opened yet: %s", alert.pk, exc)
            continue
        link_ticket(alert, ticket)
        linked += 1
    return linked


def link_ticket(alert: ProactiveAlert, ticket: OutboundTicket) -> None:
    ProactiveAlert.objects.filter(pk=alert.pk).update(outbound_ticket=ticket)
