"""What analytics reads: one fact row per ticket and per survey invitation, and daily rollups of them.

The facts copy every dimension a dashboard slices by (service, group, supplier, agent, department,
location, country, channel, priority, kind) into plain columns, so that no dashboard query joins the
organisation. The rollups sum the facts per day, dimension member, group and service: a year of a
million tickets answers in a few hundred rows per member, and the group and service columns let the one
scope code (``itxm.org.scopes``) restrict them like any ticket.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itxm.org.models import Group, Service

SCOPED = {"group": "group_id", "service": "service_id"}
SAMPLE_SLICES = 256
# The group and service of rollup rows that sum all groups and services (never an id: ids start at 1).
TOTAL = -1
COVERED = {"group": "groups__id", "service": "services__id"}
# The total rows of a rollup: what a reader who sees everything reads (``queries._within``).
TOTALS = Q(group_id=TOTAL, service_id=TOTAL)


class TicketFact(models.Model):
    ticket_id = models.BigIntegerField(primary_key=True)
    opened_day = models.DateField()
    resolved_day = models.DateField(null=True)
    kind = models.CharField(max_length=10)
    channel = models.CharField(max_length=20)
    priority = models.PositiveSmallIntegerField(null=True)
    service_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    group_id = models.BigIntegerField(null=True)
    supplier_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    department_id = models.BigIntegerField(null=True)
    location_id = models.BigIntegerField(null=True)
    country = models.CharField(max_length=2, blank=True)
    resolution_seconds = models.BigIntegerField(null=True)
    reassignments = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    ping_pongs = models.PositiveIntegerField(default=0)
    waiting_seconds = models.BigIntegerField(default=0)
    first_contact_resolution = models.BooleanField(default=False)
    # The SLA as the dashboards of the source report it (its own verdict, else ITXM's), and ITXM's own.
    sla_met = models.BooleanField(null=True)
    itxm_sla_met = models.BooleanField(null=True)
    group_path = models.CharField(max_length=500, blank=True)
    state_path = models.CharField(max_length=500, blank=True)
    # ticket_id % SAMPLE_SLICES: statistics over a year of a million tickets read a few slices only.
    sample = models.PositiveSmallIntegerField(default=0)

    scope_fields = SCOPED

    class Meta:
        indexes = [
            models.Index(fields=["resolved_day"]),
            models.Index(fields=["opened_day"]),
            # With the resolution time: the whole scope's percentiles read the index alone.
            models.Index(fields=["sample", "resolved_day", "resolution_seconds"], name="ticketfact_sample"),
            # The same with the paths: the journeys' percentiles of the variants shown read the index alone.
            models.Index(
                fields=["sample", "resolved_day", "group_path", "state_path", "resolution_seconds"],
                name="ticketfact_paths",
            ),
        ]


class SurveyFact(models.Model):
    """One invitation that reached a person (held-back ones are not asked, so not counted)."""

    invitation_id = models.BigIntegerField(primary_key=True)
    ticket_id = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=20)
    sent_day = models.DateField()
    answered_day = models.DateField(null=True)
    channel = models.CharField(max_length=20, blank=True)
    priority = models.PositiveSmallIntegerField(null=True)
    service_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    group_id = models.BigIntegerField(null=True)
    supplier_id = models.BigIntegerField(null=True)
    agent_id = models.BigIntegerField(null=True)
    department_id = models.BigIntegerField(null=True)
    location_id = models.BigIntegerField(null=True)
    country = models.CharField(max_length=2, blank=True)
    score = models.PositiveSmallIntegerField(null=True)
    lost_minutes = models.PositiveIntegerField(null=True)
    lost_cost = models.FloatField(null=True)
    # ",key,key," so that one factor is found with LIKE '%,key,%' on every database.
    factors = models.CharField(max_length=500, blank=True)

    scope_fields = SCOPED

    class Meta:
        indexes = [
            # With the lost time: its concentration over a period reads the index alone.
            models.Index(fields=["answered_day", "lost_minutes"], name="surveyfact_answered"),
            # The drivers' answers: counted, and their sample slices (by invitation id) chosen, in the index.
            models.Index(
                fields=["answered_day", "ticket_id", "score", "lost_minutes", "invitation_id"],
                name="surveyfact_drivers",
            ),
            models.Index(fields=["sent_day"]),
            models.Index(fields=["ticket_id"]),
        ]


class SurveyFactor(models.Model):
    """One factor named in one answer (the factors of ``SurveyFact`` one per row, for counting)."""

    invitation_id = models.BigIntegerField(db_index=True)
    factor = models.CharField(max_length=50)


class RollupMeasures(models.Model):
    """Sums of the facts of one day (or month) for one member of one dimension, within one group and
    service.

    Ticket measures count on the day the ticket was resolved (``opened`` on the day it was opened),
    survey measures on the day the invitation went out (``invited``) or was answered (the rest)."""

    dimension = models.CharField(max_length=20)
    member = models.CharField(max_length=50)
    group_id = models.BigIntegerField(null=True)
    service_id = models.BigIntegerField(null=True)
    opened = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    sla_known = models.IntegerField(default=0)
    sla_met = models.IntegerField(default=0)
    itxm_sla_known = models.IntegerField(default=0)
    itxm_sla_met = models.IntegerField(default=0)
    reassigned = models.IntegerField(default=0)
    reassignments = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    ping_ponged = models.IntegerField(default=0)
    first_contact = models.IntegerField(default=0)
    resolution_seconds = models.BigIntegerField(default=0)
    waiting_seconds = models.BigIntegerField(default=0)
    invited = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    score_sum = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    lost_known = models.IntegerField(default=0)
    lost_minutes = models.BigIntegerField(default=0)
    lost_cost = models.FloatField(default=0)

    scope_fields = SCOPED

    class Meta:
        abstract = True


class Rollup(RollupMeasures):
    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "day"]),
            models.Index(fields=["day"]),
            # The total rows only (one in ~13): a dimension's members over a period without reading the
            # rows of each group and service beside them.
            models.Index(fields=["dimension", "day", "member"], condition=TOTALS, name="rollup_totals"),
        ]


class MonthRollup(RollupMeasures):
    """The daily rollups of one calendar month summed: a year reads twelve rows per member, not 365."""

    day = models.DateField(help_text="the first day of the month")

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "day"]),
            models.Index(fields=["day"]),
            models.Index(fields=["dimension", "day", "member"], condition=TOTALS, name="monthrollup_totals"),
        ]


class FactorCounts(models.Model):
    dimension = models.CharField(max_length=20)
    member = models.CharField(max_length=50)
    group_id = models.BigIntegerField(null=True)
    service_id = models.BigIntegerField(null=True)
    factor = models.CharField(max_length=50)
    answers = models.IntegerField(default=0)

    scope_fields = SCOPED

    class Meta:
        abstract = True


class FactorRollup(FactorCounts):
    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "day"]),
            models.Index(fields=["day"]),
            # Member before day: factors are read for the members on one page (member IN (...)), and a
            # list after a range would scan the range once per member.
            models.Index(fields=["dimension", "member", "day"], condition=TOTALS, name="factorrollup_totals"),
        ]


class MonthFactorRollup(FactorCounts):
    day = models.DateField(help_text="the first day of the month")

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "day"]),
            models.Index(fields=["day"]),
            models.Index(fields=["dimension", "member", "day"], condition=TOTALS, name="monthfactorrollup_totals"),
        ]


class TicketRollupMeasures(models.Model):
    """Tickets of one day (or month) with one path or channel, within one group and service, and the
    answers about them, for the journeys (``dimension`` ``group_path`` or ``state_path``: the day each
    ticket was resolved) and the channels (``channel``: the day it was opened).

    Answers count on their ticket's day, not on the day they were given, so the group, service and day of
    a row are those of the tickets it counts, as the journey and channel reports select them."""

    dimension = models.CharField(max_length=20)
    member = models.CharField(max_length=500)
    group_id = models.BigIntegerField(null=True)
    service_id = models.BigIntegerField(null=True)
    tickets = models.IntegerField(default=0)
    reassignments = models.IntegerField(default=0)
    sla_known = models.IntegerField(default=0)
    sla_met = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    resolution_seconds = models.BigIntegerField(default=0)
    answers = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    lost_known = models.IntegerField(default=0)
    lost_minutes = models.BigIntegerField(default=0)

    scope_fields = SCOPED

    class Meta:
        abstract = True


class TicketRollup(TicketRollupMeasures):
    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "day"]),
            models.Index(fields=["day"]),
            models.Index(fields=["dimension", "day", "member"], condition=TOTALS, name="ticketrollup_totals"),
        ]


class MonthTicketRollup(TicketRollupMeasures):
    day = models.DateField(help_text="the first day of the month")

    class Meta:
        indexes = [
            models.Index(fields=["dimension", "day"]),
            models.Index(fields=["day"]),
            models.Index(fields=["dimension", "day", "member"], condition=TOTALS, name="monthticketrollup_totals"),
        ]


class PendingFact(models.Model):
    """A ticket or invitation whose facts must be recomputed: filled by ingestion and surveys through
    signals, emptied by ``facts.catch_up`` before any dashboard reads."""

    TICKET, INVITATION = "t", "i"
    kind = models.CharField(max_length=1)
    object_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="pending_fact_unique")]


class FactsVersion(models.Model):
    """One row counting changes of the facts: results computed from them may be kept until it moves."""

    version = models.BigIntegerField(default=0)


class StoredResult(models.Model):
    """A costly result (journey variants, channels, drivers, the overview's figures) computed from the facts
    of one version, kept for every web and API process: the worker computes the usual ones right after it
    catches the facts up, a page computes (and stores) any other on demand. Read only while ``version`` is
    the facts' version (``itxm.analytics.remembered``)."""

    name = models.CharField(max_length=40)
    key = models.CharField(max_length=64, help_text="SHA-256 of the arguments")
    arguments = models.TextField(blank=True, help_text="the arguments as text, for people to read")
    version = models.BigIntegerField(help_text="the facts version it was computed from")
    value = models.BinaryField(help_text="the result, pickled by ITXM itself")
    seconds = models.FloatField(default=0, help_text="how long computing it took")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "key"], name="stored_result_unique")]


class Direction(models.TextChoices):
    HIGHER = "higher", _("higher is better")
    LOWER = "lower", _("lower is better")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class IndicatorKind(models.TextChoices):
    EXPERIENCE = "experience", _("Experience")
    OPERATIONAL = "operational", _("Operational")
    SENTIMENT = "sentiment", _("Sentiment")


class Xla(models.Model):
    """An experience level agreement: what good looks like for one scope, measured each period."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    dimension = models.CharField(_("scope"), max_length=20, default="all")
    member = models.CharField(_("scope member"), max_length=50, blank=True)
    period = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # The groups and services the scope covers (filled from dimension and member), so that a supplier
    # or a service owner sees the XLAs about its own data only.
    groups = models.ManyToManyField(Group, blank=True, related_name="+", editable=False)
    services = models.ManyToManyField(Service, blank=True, related_name="+", editable=False)

    scope_fields = COVERED

    class Meta:
        ordering = ["name"]
        verbose_name = _("XLA")
        verbose_name_plural = _("XLAs")

    def __str__(self):
        return self.name


class XlaIndicator(models.Model):
    xla = models.ForeignKey(Xla, on_delete=models.CASCADE, related_name="indicators")
    kind = models.CharField(_("kind"), max_length=12, choices=IndicatorKind.choices)
    metric = models.CharField(_("metric"), max_length=40)
    factor = models.CharField(_("factor"), max_length=50, blank=True)
    target = models.FloatField(_("target"))
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    weight = models.FloatField(_("weight"), default=1)
    at_risk_margin = models.FloatField(_("at risk within"), null=True, blank=True)

    scope_fields = {"group": "xla__groups__id", "service": "xla__services__id"}

    class Meta:
        ordering = ["id"]


class InitiativeStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Initiative(models.Model):
    """An improvement someone made, and the metric that should show it worked."""

    title = models.CharField(_("title"), max_length=200)
    owner = models.CharField(_("owner"), max_length=200, blank=True)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dimension = models.CharField(_("scope"), max_length=20, default="all")
    member = models.CharField(_("scope member"), max_length=50, blank=True)
    metric = models.CharField(_("target metric"), max_length=40)
    starts_on = models.DateField(_("start date"))
    status = models.CharField(_("status"), max_length=10, choices=InitiativeStatus.choices, default="active")
    you_said = models.TextField(_("you said"), blank=True)
    we_did = models.TextField(_("we did"), blank=True)
    public = models.BooleanField(_("show on the public page"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    groups = models.ManyToManyField(Group, blank=True, related_name="+", editable=False)
    services = models.ManyToManyField(Service, blank=True, related_name="+", editable=False)

    scope_fields = COVERED

    class Meta:
        ordering = ["-starts_on", "title"]
        verbose_name = _("improvement initiative")
        verbose_name_plural = _("improvement initiatives")

    def __str__(self):
        return self.title
