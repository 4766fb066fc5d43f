"""Tickets from the ITSM tools the company runs, with the ordered history of their changes."""

from datetime import timedelta

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itxm.org.models import Agent, Category, Employee, Group, Service


class TicketKind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Request")


class TicketState(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("Self-service portal")
    CHAT = "chat", _("Chat")
    WALK_IN = "walk_in", _("Walk-in")
    MONITORING = "monitoring", _("Monitoring")
    OTHER = "other", _("Other")


class Ticket(models.Model):
    source = models.CharField(_("source system"), max_length=50)
    source_id = models.CharField(_("id in the source"), max_length=100)
    number = models.CharField(_("number"), max_length=50)
    kind = models.CharField(_("type"), max_length=10, choices=TicketKind.choices, default=TicketKind.INCIDENT)
    state = models.CharField(_("state"), max_length=20, choices=TicketState.choices, default=TicketState.NEW)
    short_description = models.CharField(_("short description"), max_length=300, blank=True)

    opened_at = models.DateTimeField(_("opened"))
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    source_updated_at = models.DateTimeField(_("updated in the source"), null=True, blank=True)

    priority = models.PositiveSmallIntegerField(_("priority"), null=True, blank=True, help_text=_("1 (highest) to 5"))
    impact = models.PositiveSmallIntegerField(_("impact"), null=True, blank=True)
    urgency = models.PositiveSmallIntegerField(_("urgency"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, default=Channel.OTHER)

    # Every index on this table is paid for by every ticket ingested (benchmarks/ticket_ingest.py), so
    # only what queries use is indexed: group and service together with opened_at (Meta.indexes), the
    # source's id, opened_at. Nothing reads tickets by category, caller or assignee (analytics reads
    # TicketFact); deleting one of those (rare, in the admin) scans the table to clear the reference.
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    caller = models.ForeignKey(
        Employee, verbose_name=_("caller"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    group = models.ForeignKey(
        Group, verbose_name=_("assignment group"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    assignee = models.ForeignKey(
        Agent, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )

    reassignment_count = models.PositiveIntegerField(_("reassignments"), default=0)
    reopen_count = models.PositiveIntegerField(_("reopenings"), default=0)
    source_made_sla = models.BooleanField(_("SLA met (source's verdict)"), null=True, blank=True)

    # Journey facts (itxm.tickets.journeys), kept up to date by ingestion so analytics need not re-read events.
    ping_pongs = models.PositiveIntegerField(_("ping-pongs between groups"), default=0, db_default=0)
    waiting_seconds = models.PositiveIntegerField(_("time waiting (seconds)"), default=0, db_default=0)
    first_contact_resolution = models.BooleanField(_("resolved at first contact"), default=False, db_default=False)

    scope_fields = {"group": "group_id", "service": "service_id"}

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="ticket_unique_source_id")]
        indexes = [
            models.Index(fields=["opened_at"]),
            models.Index(fields=["group", "opened_at"]),
            models.Index(fields=["service", "opened_at"]),
        ]

    def __str__(self):
        return self.number


class EventKind(models.TextChoices):
    STATE = "state", _("State change")
    ASSIGNMENT = "assignment", _("Assignment change")


class TicketEvent(models.Model):
    """One change of a ticket's state or assignment group, in the order it happened."""

    # (ticket, seq) is unique, and that index serves lookups by ticket too.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField(_("order"))
    at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    from_value = models.CharField(_("from"), max_length=200, blank=True)
    to_value = models.CharField(_("to"), max_length=200, blank=True)
    # Not indexed: nothing reads events by group (deleting a group scans the table to clear it).
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)

    scope_fields = {"group": "ticket__group_id", "service": "ticket__service_id"}

    class Meta:
        ordering = ["ticket_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["ticket", "seq"], name="ticket_event_unique_seq")]


# Pull connectors and outbound tickets (itxm/tickets/connectors/, docs/connectors.md).


class ConnectorKind(models.TextChoices):
    SERVICENOW = "servicenow", "ServiceNow"
    JIRA = "jira", "Jira Service Management"
    GLPI = "glpi", "GLPI"
    ZAMMAD = "zammad", "Zammad"


class AuthKind(models.TextChoices):
    BASIC = "basic", _("User name and password (or e-mail and API token)")
    BEARER = "bearer", _("Bearer token (OAuth or personal access token)")


class Connector(models.Model):
    """A connection to an ITSM tool: ITXM pulls its tickets on a schedule and may open tickets in it."""

    name = models.CharField(
        _("source name"),
        max_length=50,
        unique=True,
        # The same rule as itxm.tickets.services.SOURCE_NAME: the name is the tickets' source.
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9_.-]{0,49}$", _("Lower-case letters, digits, '.', '_', '-'."))],
        help_text=_("Stored as the source of the tickets it brings, e.g. servicenow."),
    )
    kind = models.CharField(_("product"), max_length=20, choices=ConnectorKind.choices)
    base_url = models.URLField(_("address"), help_text=_("e.g. https://acme.service-now.com"))
    auth_kind = models.CharField(_("authentication"), max_length=10, choices=AuthKind.choices, default=AuthKind.BASIC)
    username = models.CharField(_("user name"), max_length=200, blank=True)
    secret_ciphertext = models.TextField(_("encrypted secret"), blank=True, editable=False)
    # Signs the webhooks the tool sends to /api/v1/tickets/webhooks/<name> (itxm.tickets.webhooks).
    webhook_secret_ciphertext = models.TextField(_("encrypted webhook secret"), blank=True, editable=False)
    options = models.JSONField(_("options"), default=dict, blank=True)
    sync_interval_minutes = models.PositiveIntegerField(
        _("sync every (minutes)"), default=15, validators=[MinValueValidator(1)]
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    last_seen_updated_at = models.DateTimeField(
        _("last update seen"), null=True, blank=True, help_text=_("The next sync starts a little before this.")
    )
    last_error = models.TextField(_("last error"), blank=True)
    running_since = models.DateTimeField(_("sync running since"), null=True, blank=True, editable=False)
    queued_at = models.DateTimeField(_("sync queued"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("connector")
        verbose_name_plural = _("connectors")

    def __str__(self):
        return self.name

    def set_secret(self, plaintext: str) -> None:
        """Keep only the ciphertext; an empty value removes the secret."""
        from itxm.tickets.connectors.encryption import encrypt

        self.secret_ciphertext = encrypt(plaintext) if plaintext else ""

    def secret(self) -> str:
        from itxm.tickets.connectors.encryption import decrypt

        return decrypt(self.secret_ciphertext)

    def set_webhook_secret(self, plaintext: str) -> None:
        """Keep only the ciphertext; an empty value turns the webhook off."""
        from itxm.tickets.connectors.encryption import encrypt

        self.webhook_secret_ciphertext = encrypt(plaintext) if plaintext else ""

    def webhook_secret(self) -> str:
        from itxm.tickets.connectors.encryption import decrypt

        return decrypt(self.webhook_secret_ciphertext)

    def config(self):
        """The connection as plain data for a ``TicketSource``, the secret decrypted."""
        from itxm.tickets.connectors.base import ConnectorConfig

        return ConnectorConfig(
            name=self.name,
            kind=self.kind,
            base_url=self.base_url,
            auth_kind=self.auth_kind,
            username=self.username,
            secret=self.secret(),
            options=dict(self.options or {}),
        )

    def is_due(self, now) -> bool:
        if not self.enabled:
            return False
        if self.last_synced_at is None:
            return True
        return now >= self.last_synced_at + timedelta(minutes=self.sync_interval_minutes)


class SyncStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped (already running)")


class SyncRun(models.Model):
    """One sync of a connector: what it read and stored, or why it stopped."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(_("trigger"), max_length=20, default="schedule")
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    since = models.DateTimeField(_("updated since"), null=True, blank=True)
    fetched = models.PositiveIntegerField(_("fetched"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    stale = models.PositiveIntegerField(_("stale"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    retries = models.PositiveIntegerField(_("retries"), default=0)
    error = models.TextField(_("errors"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        indexes = [models.Index(fields=["connector", "-started_at"])]

    def __str__(self):
        return f"{self.connector} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    CREATED = "created", _("Created")
    FAILED = "failed", _("Failed")


class OutboundTicket(models.Model):
    """A ticket ITXM asked a connected tool to open. One per (connector, correlation id): never two."""

    connector = models.ForeignKey(Connector, on_delete=models.CASCADE, related_name="outbound_tickets")
    correlation_id = models.CharField(_("correlation id"), max_length=80)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING
    )
    remote_id = models.CharField(_("id in the tool"), max_length=100, blank=True)
    remote_number = models.CharField(_("number in the tool"), max_length=100, blank=True)
    remote_url = models.CharField(_("address in the tool"), max_length=500, blank=True)
    payload = models.JSONField(_("request"), default=dict, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    remote_created_at = models.DateTimeField(_("opened in the tool"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbound ticket")
        verbose_name_plural = _("outbound tickets")
        constraints = [
            models.UniqueConstraint(fields=["connector", "correlation_id"], name="outbound_unique_correlation_id")
        ]

    def __str__(self):
        return self.remote_number or self.correlation_id


# --- SLA definitions and their verdicts per ticket (the engine is itxm.tickets.sla) ---


class BusinessCalendar(models.Model):
    """Working hours per weekday in a time zone, and holidays: when an SLA clock may run."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    hours = models.JSONField(
        _("working hours"),
        default=dict,
        blank=True,
        help_text=_('Per weekday, e.g. {"mon": ["08:00-18:00"], "sat": ["09:00-13:00"]}; empty: around the clock.'),
    )
    holidays = models.JSONField(_("holidays"), default=list, blank=True, help_text=_('Local dates: ["2026-10-29"]'))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name

    def schedule(self):
        from itxm.tickets import sla

        if not self.hours:
            return sla.BusinessSchedule.twenty_four_seven(self.time_zone, self.holidays)
        return sla.BusinessSchedule(self.time_zone, self.hours, self.holidays)

    def clean(self):
        from django.core.exceptions import ValidationError

        try:
            self.schedule()
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class SlaTarget(models.TextChoices):
    RESPONSE = "response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class ReopenRule(models.TextChoices):
    CONTINUE = "continue", _("Continue the clock")
    RESTART = "restart", _("Restart the clock")


class SlaDefinition(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    target = models.CharField(_("target"), max_length=20, choices=SlaTarget.choices, default=SlaTarget.RESOLUTION)
    target_minutes = models.PositiveIntegerField(_("target (business minutes)"), validators=[MinValueValidator(1)])
    calendar = models.ForeignKey(BusinessCalendar, verbose_name=_("business calendar"), on_delete=models.PROTECT)
    kinds = models.JSONField(_("ticket types"), default=list, blank=True, help_text=_("Empty: any type."))
    priorities = models.JSONField(_("priorities"), default=list, blank=True, help_text=_("Empty: any priority."))
    services = models.ManyToManyField(Service, verbose_name=_("services"), blank=True, related_name="+")
    groups = models.ManyToManyField(Group, verbose_name=_("groups"), blank=True, related_name="+")
    pause_states = models.JSONField(
        _("states that pause the clock"), default=list, blank=True, help_text=_('e.g. ["on_hold"]')
    )
    on_reopen = models.CharField(_("on reopening"), max_length=10, choices=ReopenRule.choices, default="continue")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("SLA definition")
        verbose_name_plural = _("SLA definitions")

    def __str__(self):
        return self.name


class TicketSla(models.Model):
    """ITXM's own verdict of one SLA on one ticket, beside the source's (Ticket.source_made_sla)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="slas", db_index=False)
    definition = models.ForeignKey(SlaDefinition, on_delete=models.CASCADE, related_name="results")
    elapsed_seconds = models.PositiveIntegerField(default=0)
    target_seconds = models.PositiveIntegerField()
    paused_seconds = models.PositiveIntegerField(default=0)
    percent_used = models.FloatField()
    breached = models.BooleanField()
    met = models.BooleanField(null=True, help_text=_("Empty while the clock runs within target."))
    deadline = models.DateTimeField(null=True)
    evaluated_at = models.DateTimeField()

    scope_fields = {"group": "ticket__group_id", "service": "ticket__service_id"}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "definition"], name="ticket_sla_unique")]
