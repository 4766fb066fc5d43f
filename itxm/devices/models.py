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
