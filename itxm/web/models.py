"""What the web UI keeps: share links and monthly-report subscriptions."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ShareLink(models.Model):
    """A read-only view of one page, as its creator sees it (the creator's scope, now), until it expires.

    Only a hash of the token is stored: the link is shown once, when it is made."""

    token_hash = models.CharField(max_length=64, unique=True)
    path = models.CharField(_("page"), max_length=2000)  # path and query string of the shared page
    title = models.CharField(_("title"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    views = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self):
        return f"{self.path} ({self.created_by})"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now and self.created_by.is_active


class ReportSubscription(models.Model):
    """Someone who gets the monthly report by e-mail, in their language, with the data their scope holds."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscription")
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The first day of the last month whose report was sent: sending is safe to run twice.
    last_sent_month = models.DateField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")

    def __str__(self):
        return f"{self.user} ({'active' if self.active else 'paused'})"
