"""Surveys: what is asked (templates, factors, lost-time choices), whom and when (invitations, fatigue
rules), what came back (responses), and the e-mails on their way (the outbox).

Question texts are translatable defaults (gettext, per survey kind) that an organisation may override per
language in the admin; factor and lost-time labels are data, kept in English and Turkish side by side.
"""

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from itxm.org.models import Department, Employee, Language, Location
from itxm.tickets.models import Ticket


class SurveyKind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Request")
    DEVICES = "devices", _("Laptops and devices")
    APPLICATIONS = "applications", _("Enterprise applications")
    REMOTE_WORK = "remote_work", _("Remote work")
    COLLABORATION = "collaboration", _("Collaboration with IT")
    OVERALL = "overall", _("Overall IT experience")


TICKET_KINDS = (SurveyKind.INCIDENT, SurveyKind.REQUEST)

# The defaults every organisation starts with; %(ticket)s is the ticket's number and description.
DEFAULT_SCORE_QUESTIONS = {
    SurveyKind.INCIDENT: _("How happy were you with how we solved %(ticket)s?"),
    SurveyKind.REQUEST: _("How happy were you with how we handled your request %(ticket)s?"),
    SurveyKind.DEVICES: _("How happy are you with your laptop and devices?"),
    SurveyKind.APPLICATIONS: _("How happy are you with the enterprise applications you use?"),
    SurveyKind.REMOTE_WORK: _("How happy are you with working remotely?"),
    SurveyKind.COLLABORATION: _("How happy are you with working together with IT?"),
    SurveyKind.OVERALL: _("How happy are you with IT overall?"),
}
DEFAULT_LOST_TIME_QUESTION = _("How much work time did you lose because of this?")
DEFAULT_COMMENT_QUESTION = _("Anything else you would like to tell us?")


class SurveyTemplate(models.Model):
    """What one kind of survey asks. A blank text means the translated default."""

    TEXTS = ("score_question", "lost_time_question", "comment_question")

    kind = models.CharField(_("kind"), max_length=20, choices=SurveyKind.choices, unique=True)
    score_question_en = models.CharField(_("score question (English)"), max_length=300, blank=True)
    score_question_tr = models.CharField(_("score question (Turkish)"), max_length=300, blank=True)
    lost_time_question_en = models.CharField(_("lost time question (English)"), max_length=300, blank=True)
    lost_time_question_tr = models.CharField(_("lost time question (Turkish)"), max_length=300, blank=True)
    comment_question_en = models.CharField(_("comment question (English)"), max_length=300, blank=True)
    comment_question_tr = models.CharField(_("comment question (Turkish)"), max_length=300, blank=True)
    ask_lost_time = models.BooleanField(_("ask for lost work time"), default=True)
    ask_factors = models.BooleanField(_("ask for factors"), default=True)
    ask_comment = models.BooleanField(_("ask for a comment"), default=True)

    scope_fields = {"group": None, "service": None}

    class Meta:
        ordering = ["kind"]
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")

    def __str__(self):
        return self.get_kind_display()

    def text(self, name: str, language: str) -> str:
        """One question in a language: the organisation's own wording, else the translated default.
        A score question may contain %(ticket)s, filled by the caller."""
        own = getattr(self, f"{name}_{language}", "") or ""
        if own:
            return own
        default = {
            "score_question": DEFAULT_SCORE_QUESTIONS.get(self.kind, DEFAULT_SCORE_QUESTIONS[SurveyKind.OVERALL]),
            "lost_time_question": DEFAULT_LOST_TIME_QUESTION,
            "comment_question": DEFAULT_COMMENT_QUESTION,
        }[name]
        with override(language):
            return str(default)


class Polarity(models.TextChoices):
    POSITIVE = "positive", _("Positive (shown for 9–10)")
    NEGATIVE = "negative", _("Negative (shown for 0–6)")


def polarities_for(score: int | None) -> tuple[str, ...]:
    """Which factor lists a score shows: praise for 9–10, complaints for 0–6, both for 7–8."""
    if score is None:
        return ()
    if score >= 9:
        return (Polarity.POSITIVE,)
    if score <= 6:
        return (Polarity.NEGATIVE,)
    return (Polarity.POSITIVE, Polarity.NEGATIVE)


class Factor(models.Model):
    """A reason people may tick: what went well or badly."""

    kind = models.CharField(_("survey kind"), max_length=20, choices=SurveyKind.choices)
    key = models.SlugField(_("key"), max_length=50)
    polarity = models.CharField(_("polarity"), max_length=10, choices=Polarity.choices)
    label_en = models.CharField(_("label (English)"), max_length=200)
    label_tr = models.CharField(_("label (Turkish)"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    scope_fields = {"group": None, "service": None}

    class Meta:
        ordering = ["kind", "polarity", "order", "key"]
        verbose_name = _("factor")
        verbose_name_plural = _("factors")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="survey_factor_unique_key")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.label_en}"

    def label(self, language: str) -> str:
        return (self.label_tr if language == Language.TURKISH else "") or self.label_en


class LostTimeChoice(models.Model):
    """An answer to "how much work time did you lose", and the minutes it stands for."""

    minutes = models.PositiveIntegerField(_("minutes"), unique=True)
    label_en = models.CharField(_("label (English)"), max_length=100)
    label_tr = models.CharField(_("label (Turkish)"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    scope_fields = {"group": None, "service": None}

    class Meta:
        ordering = ["minutes"]
        verbose_name = _("lost time choice")
        verbose_name_plural = _("lost time choices")

    def __str__(self):
        return self.label_en

    def label(self, language: str) -> str:
        return (self.label_tr if language == Language.TURKISH else "") or self.label_en


class FatigueKind(models.TextChoices):
    ANY = "any", _("Any survey")
    INCIDENT = SurveyKind.INCIDENT.value, SurveyKind.INCIDENT.label
    REQUEST = SurveyKind.REQUEST.value, SurveyKind.REQUEST.label
    PROACTIVE = "proactive", _("Proactive surveys")


class FatigueRule(models.Model):
    """At most one invitation per person per ``days`` for a kind of survey ("any": across all kinds)."""

    kind = models.CharField(_("applies to"), max_length=20, choices=FatigueKind.choices, unique=True)
    days = models.PositiveIntegerField(_("days"), validators=[MinValueValidator(1)])
    enabled = models.BooleanField(_("enabled"), default=True)

    scope_fields = {"group": None, "service": None}

    class Meta:
        ordering = ["kind"]
        verbose_name = _("fatigue rule")
        verbose_name_plural = _("fatigue rules")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.days}"


class InvitationStatus(models.TextChoices):
    CREATED = "created", _("Created")
    HELD_BACK = "held_back", _("Held back")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class HeldBackReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("Opted out")
    NO_EMAIL = "no_email", _("No e-mail address")
    INACTIVE = "inactive", _("Employee not active")
    FATIGUE = "fatigue", _("Invited recently (fatigue rule)")


def new_nonce() -> str:
    return secrets.token_urlsafe(12)


class Invitation(models.Model):
    """One person asked about one thing: a ticket's resolution, or (later) a proactive campaign.

    A held-back invitation is kept too, with its reason, so the effect of each rule can be counted.
    """

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    # Empty only for an answer through a campaign's shareable link: the visitor is not known.
    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    run = models.ForeignKey(
        "CampaignRun",
        verbose_name=_("campaign run"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    via_link = models.BooleanField(_("answered through the shareable link"), default=False)
    kind = models.CharField(_("kind"), max_length=20, choices=SurveyKind.choices)
    # The ticket's resolved_at this invitation asks about: a reopened ticket resolved again is a new resolution.
    resolution_at = models.DateTimeField(_("resolution"), null=True, blank=True)
    nonce = models.CharField(max_length=32, unique=True, default=new_nonce, editable=False)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)
    status = models.CharField(
        _("status"), max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.CREATED
    )
    held_back_reason = models.CharField(
        _("held back because"), max_length=20, choices=HeldBackReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)

    scope_fields = {"group": "ticket__group_id", "service": "ticket__service_id"}

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "resolution_at"],
                condition=models.Q(ticket__isnull=False),
                name="invitation_unique_ticket_resolution",
            )
        ]
        indexes = [
            models.Index(fields=["employee", "created_at"]),
            models.Index(fields=["status"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @classmethod
    def decided(cls, employee: Employee, kind: str, reason: str | None, now, closes_at, **about) -> "Invitation":
        """A new (unsaved) invitation of ``employee``: held back for ``reason``, or queued to close at
        ``closes_at``. ``about`` names what it asks about: the ticket and its resolution, or the run."""
        return cls(
            employee=employee,
            kind=kind,
            language=employee.language if employee.language in Language.values else Language.ENGLISH,
            status=InvitationStatus.HELD_BACK if reason else InvitationStatus.QUEUED,
            held_back_reason=reason or "",
            created_at=now,
            closes_at=None if reason else closes_at,
            **about,
        )

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        if self.status in (InvitationStatus.CLOSED, InvitationStatus.HELD_BACK):
            return False
        return self.closes_at is None or now < self.closes_at


PROACTIVE_KINDS = tuple(kind for kind in SurveyKind if kind not in TICKET_KINDS)


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    FINISHED = "finished", _("Finished")


class Campaign(models.Model):
    """A proactive survey: an area, an audience, a schedule, a sampling rate and how it is delivered.

    The audience is everyone, or the people matching every filter that is set (departments, locations,
    countries, device models); within one filter any value matches.
    """

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("area"), max_length=20, choices=[(k.value, k.label) for k in PROACTIVE_KINDS])
    everyone = models.BooleanField(_("everyone"), default=False)
    departments = models.ManyToManyField(Department, verbose_name=_("departments"), blank=True)
    locations = models.ManyToManyField(Location, verbose_name=_("locations"), blank=True)
    countries = models.JSONField(_("countries"), default=list, blank=True, help_text=_("ISO codes, e.g. TR"))
    device_models = models.JSONField(_("device models"), default=list, blank=True)
    starts_at = models.DateTimeField(_("first run"))
    repeat_days = models.PositiveIntegerField(
        _("repeat every (days)"), null=True, blank=True, help_text=_("Empty: runs once.")
    )
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    sampling_rate = models.FloatField(
        _("sampling rate"),
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("Share of the audience asked in each run, 0 to 1."),
    )
    by_email = models.BooleanField(_("send by e-mail"), default=True)
    by_link = models.BooleanField(_("shareable link"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    # A campaign is the organisation's, not a group's or a service's: restricted users see none.
    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.name


class CampaignRun(models.Model):
    """One launch of a campaign: who was in the audience, who was sampled, asked or held back."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="runs")
    scheduled_for = models.DateTimeField(_("scheduled for"))
    launched_at = models.DateTimeField(_("launched"), default=timezone.now)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    seed = models.BigIntegerField(_("sampling seed"))
    # The shareable link's secret: a link for this run is signed with it, so it cannot be guessed from the id.
    link_nonce = models.CharField(max_length=32, default=new_nonce, editable=False)
    audience = models.PositiveIntegerField(_("audience"), default=0)
    not_sampled = models.PositiveIntegerField(_("left out by sampling"), default=0)
    invited = models.PositiveIntegerField(_("invited"), default=0)
    held_back = models.JSONField(_("held back, by reason"), default=dict, blank=True)

    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-scheduled_for", "-pk"]
        verbose_name = _("campaign run")
        verbose_name_plural = _("campaign runs")
        constraints = [models.UniqueConstraint(fields=["campaign", "scheduled_for"], name="campaign_run_unique_slot")]

    def __str__(self):
        return f"{self.campaign} @ {self.scheduled_for:%Y-%m-%d}"

    def is_open(self, now=None) -> bool:
        return self.closes_at is None or (now or timezone.now()) < self.closes_at


class Response(models.Model):
    """The answer to one invitation; a second click changes it, never adds another."""

    invitation = models.OneToOneField(
        Invitation, verbose_name=_("invitation"), on_delete=models.CASCADE, related_name="response"
    )
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(0), MaxValueValidator(10)])
    lost_minutes = models.PositiveIntegerField(_("work time lost (minutes)"), null=True, blank=True)
    factors = models.JSONField(_("factors"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.ENGLISH)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # Kept for the gaming signals (link scanners clicking every button, one person answering for many).
    score_changes = models.PositiveIntegerField(_("score changes"), default=0)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)

    scope_fields = {"group": "invitation__ticket__group_id", "service": "invitation__ticket__service_id"}

    class Meta:
        ordering = ["-answered_at"]
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self):
        return f"{self.score} ({self.invitation_id})"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Outcome unknown (worker stopped while sending)")
    BOUNCED = "bounced", _("Bounced")


class OutboxMessage(models.Model):
    """An e-mail to send, written in the same transaction as what it is about; the worker sends it."""

    invitation = models.ForeignKey(Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=300)
    text = models.TextField(_("plain text"))
    html = models.TextField(_("HTML"), blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Sent as the Message-ID header: bounces are matched by it, and a receiving system can spot a repeat.
    message_id = models.CharField(_("message id"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # Which claim holds the message: a worker whose lease ran out (and was taken over) must not send it.
    claim_id = models.CharField(max_length=32, blank=True, editable=False)
    # Set just before the SMTP transfer starts: a lease that runs out after this may have been delivered.
    smtp_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)

    # E-mail addresses are personal data: restricted users never see the outbox.
    scope_fields = {"group": False, "service": False}

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.to}: {self.subject}"


class GamingResult(models.Model):
    """The gaming warnings of one period, by agent and by group, as computed from the data of ``version``.

    On a million tickets they take seconds to compute, so pages and the XLA scorecard read them from here:
    the worker keeps the periods people read up to date (``itxm.surveys.gaming_results``). Computed over
    the whole organisation; each reader's scope is applied when they are read."""

    start = models.DateTimeField()
    end = models.DateTimeField()
    version = models.CharField(max_length=100)
    warnings = models.JSONField(default=dict)  # {"agent": [warning, …], "group": […]}
    computed_at = models.DateTimeField(default=timezone.now)
    compute_seconds = models.FloatField(default=0)
    read_at = models.DateTimeField(default=timezone.now)

    # Warnings are about agents and groups; the service that reads them narrows them to the reader's scope.
    scope_fields = {"group": False, "service": False}

    class Meta:
        constraints = [models.UniqueConstraint(fields=["start", "end"], name="gaming_result_unique_period")]
