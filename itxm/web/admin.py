"""Admin pages for share links (revoke, never show a token: only its hash is kept) and report subscriptions."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itxm.web import sharing
from itxm.web.models import ReportSubscription, ShareLink


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = ("__str__", "title", "created_by", "created_at", "expires_at", "status", "views", "last_viewed_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("path", "title", "created_by__username")
    readonly_fields = ("path", "title", "created_by", "created_at", "expires_at", "revoked_at", "views",
                       "last_viewed_at")  # fmt: skip
    exclude = ("token_hash",)
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # links are made from the page they share, where the token is shown once

    @admin.display(description=_("status"))
    def status(self, obj):
        return sharing.status(obj)

    @admin.action(description=_("Revoke the selected links"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d links revoked.") % {"count": count})


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "active", "created_at", "last_sent_month", "last_error")
    list_filter = ("active",)
    search_fields = ("user__username", "user__email")
    readonly_fields = ("created_at", "last_sent_month", "last_error")
    autocomplete_fields = ("user",)
