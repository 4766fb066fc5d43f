"""Tickets from the ITSM tools the company runs, with the ordered history of their changes."""

from django.db import models
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

    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.SET_NULL)
    # group and service are indexed together with opened_at (Meta.indexes); a second index would only
    # slow down ingestion.
    service = models.ForeignKey(
        Service, verbose_name=_("service"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    caller = models.ForeignKey(Employee, verbose_name=_("caller"), null=True, blank=True, on_delete=models.SET_NULL)
    group = models.ForeignKey(
        Group, verbose_name=_("assignment group"), null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    assignee = models.ForeignKey(Agent, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL)

    reassignment_count = models.PositiveIntegerField(_("reassignments"), default=0)
    reopen_count = models.PositiveIntegerField(_("reopenings"), default=0)
    source_made_sla = models.BooleanField(_("SLA met (source's verdict)"), null=True, blank=True)

    scope_fields = {"group": "group_id", "service": "service_id"}

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="ticket_unique_source_id")]
        indexes = [
            models.Index(fields=["opened_at"]),
            models.Index(fields=["resolved_at"]),
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
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    scope_fields = {"group": "ticket__group_id", "service": "ticket__service_id"}

    class Meta:
        ordering = ["ticket_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["ticket", "seq"], name="ticket_event_unique_seq")]
