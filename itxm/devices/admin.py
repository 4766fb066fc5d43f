from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from itxm.devices.models import DailyRollup, Device, DeviceToken, EnrolmentCode, TelemetryBatch


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("hostname", "serial", "manufacturer", "model", "os_name", "primary_user", "source", "last_seen_at")
    list_filter = ("source", "os_name", "manufacturer")
    search_fields = ("hostname", "serial", "model")
    autocomplete_fields = ("primary_user",)
    readonly_fields = ("last_seen_at", "enrolled_at", "created_at")


@admin.register(EnrolmentCode)
class EnrolmentCodeAdmin(admin.ModelAdmin):
    list_display = ("code_prefix", "note", "created_at", "expires_at", "used_at", "device", "created_by")
    fields = ("note", "expires_at")
    readonly_fields = ()

    def get_changeform_initial_data(self, request):
        return {"expires_at": timezone.now() + timedelta(days=1)}

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        code, secret = EnrolmentCode.issue(obj.expires_at, request.user, obj.note)
        obj.pk = code.pk
        # Shown once: only the hash is stored.
        messages.warning(
            request, _("Enrolment code (shown once, give it to the device's installer): %(code)s") % {"code": secret}
        )


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin):
    list_display = ("device", "key_prefix", "created_at", "revoked_at")
    readonly_fields = ("device", "key_prefix", "created_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens come from enrolment only

    @admin.action(description=_("Revoke the selected device tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": count})


@admin.register(TelemetryBatch)
class TelemetryBatchAdmin(admin.ModelAdmin):
    list_display = ("device", "batch_id", "received_at", "samples", "rejected")
    readonly_fields = ("device", "batch_id", "received_at", "samples", "rejected")
    list_select_related = ("device",)

    def has_add_permission(self, request):
        return False


@admin.register(DailyRollup)
class DailyRollupAdmin(admin.ModelAdmin):
    list_display = ("device", "day", "metric", "count", "mean", "p95")
    list_filter = ("metric", "day")
    list_select_related = ("device",)

    def has_add_permission(self, request):
        return False
