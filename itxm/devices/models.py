"""Devices: their inventory (configuration data), how their agents enrol and authenticate, and the
daily per-device summaries of their telemetry.

Raw telemetry samples are not here: they live in Parquet files written and read by
``itxm.devices.telemetry`` (see docs/devices.md). The main database keeps what is small and joined
with the rest of ITXM: devices, tokens, the register of received batches, and daily rollups.
"""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itxm.org.models import Employee, User, hash_token


class Source(models.TextChoices):
    IMPORT = "import", _("Import")
    AGENT = "agent", _("Agent")


class Device(models.Model):
    hostname = models.CharField(_("host name"), max_length=255, db_index=True)
    serial = models.CharField(_("serial number"), max_length=100, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=200, blank=True)
    os_name = models.CharField(_("operating system"), max_length=200, blank=True)
    os_build = models.CharField(_("OS build"), max_length=200, blank=True)
    cpu = models.CharField(_("CPU"), max_length=200, blank=True)
    ram_mb = models.PositiveIntegerField(_("RAM (MB)"), null=True, blank=True)
    disk_gb = models.PositiveIntegerField(_("disk (GB)"), null=True, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    primary_user = models.ForeignKey(
        Employee,
        verbose_name=_("primary user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="devices",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.IMPORT)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    enrolled_at = models.DateTimeField(_("enrolled"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    # Devices are the organisation's end-user equipment, not the data of a supplier's group or of a
    # service: suppliers and service owners do not see them (admins, analysts and viewers do).
    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["hostname", "id"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.UniqueConstraint(fields=["serial"], condition=~Q(serial=""), name="device_serial_unique_when_known")
        ]

    def __str__(self):
        return self.hostname or self.serial or f"device {self.pk}"


class EnrolmentCode(models.Model):
    """A one-time code an agent exchanges for its device token. Only the hash is stored."""

    code_prefix = models.CharField(_("code prefix"), max_length=8, editable=False)
    code_hash = models.CharField(max_length=64, unique=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    device = models.ForeignKey(
        Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")

    def __str__(self):
        return f"{self.code_prefix}…"

    @classmethod
    def issue(cls, expires_at, created_by: User | None = None, note: str = "") -> tuple["EnrolmentCode", str]:
        """Create a code and return it with its secret, which is shown once and never stored."""
        secret = secrets.token_urlsafe(18)
        while secret.startswith("-"):  # typed after "--code", it would read as an option
            secret = secrets.token_urlsafe(18)
        code = cls.objects.create(
            code_prefix=secret[:6],
            code_hash=hash_token(secret),
            expires_at=expires_at,
            created_by=created_by,
            note=note,
        )
        return code, secret


class DeviceToken(models.Model):
    """A device's key to the telemetry endpoint. Only its hash is stored; revoking it locks the agent out."""

    PREFIX = "itxmd_"

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="tokens")
    key_prefix = models.CharField(_("key prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("device token")
        verbose_name_plural = _("device tokens")

    def __str__(self):
        return f"{self.device} ({self.key_prefix}…)"

    @classmethod
    def issue(cls, device: Device) -> tuple["DeviceToken", str]:
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(device=device, key_prefix=secret[:12], key_hash=hash_token(secret))
        return token, secret

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TelemetryBatch(models.Model):
    """A batch received from an agent: a resent batch (same device and batch id) is recognised and not stored again."""

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="batches")
    batch_id = models.CharField(_("batch id"), max_length=80)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    samples = models.PositiveIntegerField(_("samples stored"), default=0)
    rejected = models.PositiveIntegerField(_("samples rejected"), default=0)

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("telemetry batch")
        verbose_name_plural = _("telemetry batches")
        constraints = [models.UniqueConstraint(fields=["device", "batch_id"], name="telemetry_batch_once")]

    def __str__(self):
        return f"{self.device_id}/{self.batch_id}"


class DailyRollup(models.Model):
    """One metric of one device on one UTC day, summarised from the deduplicated raw samples."""

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="rollups")
    day = models.DateField(_("day"))
    metric = models.CharField(_("metric"), max_length=40)
    count = models.PositiveIntegerField(_("samples"))
    minimum = models.FloatField(_("minimum"))
    maximum = models.FloatField(_("maximum"))
    mean = models.FloatField(_("mean"))
    total = models.FloatField(_("sum"))
    p50 = models.FloatField(_("median"))
    p95 = models.FloatField(_("95th percentile"))
    last = models.FloatField(_("last value"))

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["day", "device_id", "metric"]
        verbose_name = _("daily rollup")
        verbose_name_plural = _("daily rollups")
        constraints = [models.UniqueConstraint(fields=["device", "day", "metric"], name="daily_rollup_once")]
        indexes = [models.Index(fields=["day", "metric"])]

    def __str__(self):
        return f"{self.device_id} {self.day} {self.metric}"


class InventoryChange(models.Model):
    """A change to a device's software: an OS build, a driver or a firmware version (what anomalies are
    lined up against). Written by whoever learns of it: an import, an agent, or the demo."""

    class Kind(models.TextChoices):
        OS_BUILD = "os_build", _("OS build")
        DRIVER = "driver", _("Driver")
        FIRMWARE = "firmware", _("Firmware")

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(_("changed"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("component"), max_length=200, blank=True, help_text=_("e.g. the driver's name"))
    old_value = models.CharField(_("old version"), max_length=200, blank=True)
    new_value = models.CharField(_("new version"), max_length=200)

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-changed_at", "id"]
        verbose_name = _("inventory change")
        verbose_name_plural = _("inventory changes")
        indexes = [models.Index(fields=["changed_at"])]

    def __str__(self):
        return f"{self.device_id} {self.kind} {self.name} {self.old_value} → {self.new_value}"


class DeviceHealth(models.Model):
    """A device's health on one UTC day (0–100, ``itxm.devices.health``), with its components' figures."""

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="health")
    day = models.DateField(_("day"))
    score = models.FloatField(_("health score"))
    lost_minutes = models.FloatField(_("work time lost (minutes)"), default=0)
    # {component key: {"value", "score", "better_share", "worse_share"}}: enough to explain the score.
    components = models.JSONField(_("components"), default=dict)

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-day", "device_id"]
        verbose_name = _("device health")
        verbose_name_plural = _("device health")
        constraints = [models.UniqueConstraint(fields=["device", "day"], name="device_health_once")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.device_id} {self.day} {self.score:.0f}"


class AnomalyStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Anomaly(models.Model):
    """Something in the telemetry that departs from its baseline, with the evidence for it."""

    class Kind(models.TextChoices):
        MODEL_CHANGE = "model_change", _("A model got worse after a change")
        DEVICE_REGRESSION = "device_regression", _("A device got worse than its own history")

    key = models.CharField(_("key"), max_length=300, help_text=_("The same problem found again has the same key."))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    metric = models.CharField(_("metric"), max_length=40)
    device_model = models.CharField(_("model"), max_length=200, blank=True)
    device = models.ForeignKey(
        Device, verbose_name=_("device"), null=True, blank=True, on_delete=models.CASCADE, related_name="anomalies"
    )
    summary = models.CharField(_("summary"), max_length=500)
    evidence = models.JSONField(_("evidence"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=AnomalyStatus.choices, default=AnomalyStatus.OPEN)
    detected_on = models.DateField(_("detected on"))
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-opened_at", "id"]
        verbose_name = _("anomaly")
        verbose_name_plural = _("anomalies")
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(status="open"), name="anomaly_one_open_per_key")
        ]

    def __str__(self):
        return self.summary


class ProactiveAlert(models.Model):
    """A rule firing on a device (``itxm.devices.proactive``); at most one open per device and rule."""

    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField(_("rule"), max_length=40)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict)
    outbound_ticket = models.ForeignKey(
        "tickets.OutboundTicket",
        verbose_name=_("ticket in the ITSM tool"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-opened_at", "id"]
        verbose_name = _("proactive alert")
        verbose_name_plural = _("proactive alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule"], condition=Q(closed_at__isnull=True), name="proactive_alert_one_open"
            )
        ]

    def __str__(self):
        return f"{self.device_id} {self.rule}"

    @property
    def correlation_id(self) -> str:
        """Stable for the alert's life: a retried or repeated evaluation asks for the same ticket."""
        return f"itxm-alert-{self.pk}"
