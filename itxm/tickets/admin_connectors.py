"""Admin pages for connectors: the secret is written through a password field and never shown again."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from itxm.tickets import tasks
from itxm.tickets.connectors import REGISTRY, ConnectorConfig, ConnectorError, glpi, source_for, zammad  # noqa: F401
from itxm.tickets.models import Connector, OutboundTicket, SyncRun

# glpi and zammad are imported to register themselves (connectors/__init__.py imports the other products).
OPTIONS_HELP = _(
    "JSON. ServiceNow: tables, query, page_size, history, sla, reference_key, time_zone, create_table, "
    "create_fields. Jira: deployment (cloud/datacenter), jql, sla_fields, first_response_sla_field, group_field, "
    "service_field, category_field, request_types, status_map, time_zone, project_key, issue_type. "
    "GLPI: app_token, page_size, history, time_zone, channel_map, create_fields. Zammad: query, page_size, "
    "history, reference_key (display/login), state_map, request_types, create_group, create_customer, "
    "create_fields. See docs/connectors.md."
)


class ConnectorForm(forms.ModelForm):
    base_url = forms.URLField(
        label=_("address"), assume_scheme="https", help_text=_("e.g. https://acme.service-now.com")
    )
    secret = forms.CharField(
        label=_("password or token"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again. Leave empty to keep the stored one."),
    )
    clear_secret = forms.BooleanField(label=_("remove the stored secret"), required=False)
    webhook_secret = forms.CharField(
        label=_("webhook secret"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "The key the tool signs its webhooks with: Zammad's HMAC SHA1 signature token, the secret of a Jira "
            "admin webhook or of a GLPI 11 webhook; for other tools, the key of the X-ITXM-Signature header. "
            "Stored encrypted and never shown again. Leave empty to keep the stored one."
        ),
    )
    clear_webhook_secret = forms.BooleanField(label=_("turn webhooks off (remove the webhook secret)"), required=False)

    class Meta:
        model = Connector
        fields = ["name", "kind", "base_url", "auth_kind", "username", "options", "sync_interval_minutes", "enabled"]
        help_texts = {"options": OPTIONS_HELP}

    def clean_options(self):
        options = self.cleaned_data.get("options") or {}
        if not isinstance(options, dict):
            raise forms.ValidationError(_('Options are a JSON object, e.g. {"jql": "project = ITS"}.'))
        return options

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind not in REGISTRY:
            raise forms.ValidationError(_("There is no connector for this product yet."))
        return kind

    def clean(self):
        cleaned = super().clean()
        kind, options = cleaned.get("kind"), cleaned.get("options")
        if kind in REGISTRY and isinstance(options, dict):
            config = ConnectorConfig(
                name=cleaned.get("name") or kind, kind=kind, base_url="https://check.invalid", options=options
            )
            try:
                source_for(config)
            except ConnectorError as exc:
                self.add_error("options", str(exc))
        return cleaned

    def save(self, commit=True):
        connector = super().save(commit=False)
        if self.cleaned_data.get("clear_secret"):
            connector.set_secret("")
        elif self.cleaned_data.get("secret"):
            connector.set_secret(self.cleaned_data["secret"])
        if self.cleaned_data.get("clear_webhook_secret"):
            connector.set_webhook_secret("")
        elif self.cleaned_data.get("webhook_secret"):
            connector.set_webhook_secret(self.cleaned_data["webhook_secret"])
        if commit:
            connector.save()
        return connector


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    form = ConnectorForm
    list_display = ("name", "kind", "base_url", "enabled", "sync_interval_minutes", "last_synced_at", "has_secret")
    list_filter = ("kind", "enabled")
    readonly_fields = (
        "has_secret",
        "has_webhook_secret",
        "webhook_address",
        "last_synced_at",
        "last_seen_updated_at",
        "last_error",
        "runs",
    )
    fieldsets = (
        (None, {"fields": ("name", "kind", "base_url", "enabled", "sync_interval_minutes")}),
        (_("Sign-in"), {"fields": ("auth_kind", "username", "secret", "has_secret", "clear_secret")}),
        (_("Options"), {"fields": ("options",)}),
        (
            _("Webhook"),
            {"fields": ("webhook_address", "webhook_secret", "has_webhook_secret", "clear_webhook_secret")},
        ),
        (_("State"), {"fields": ("last_synced_at", "last_seen_updated_at", "last_error", "runs")}),
    )
    actions = ["sync_now"]

    @admin.display(boolean=True, description=_("secret stored"))
    def has_secret(self, connector):
        return bool(connector.secret_ciphertext)

    @admin.display(boolean=True, description=_("webhook secret stored"))
    def has_webhook_secret(self, connector):
        return bool(connector.webhook_secret_ciphertext)

    @admin.display(description=_("webhook address"))
    def webhook_address(self, connector):
        if not connector.pk:
            return "-"
        return f"/api/v1/tickets/webhooks/{connector.name}"

    @admin.display(description=_("sync runs"))
    def runs(self, connector):
        if not connector.pk:
            return "-"
        url = reverse("admin:tickets_syncrun_changelist") + f"?connector__id__exact={connector.pk}"
        return format_html('<a href="{}">{}</a>', url, _("history of this connector's syncs"))

    @admin.action(description=_("Sync now (in the background)"))
    def sync_now(self, request, queryset):
        for connector in queryset:
            tasks.sync_connector.enqueue(connector.pk)
        self.message_user(request, _("Syncs queued: the worker runs them."), messages.SUCCESS)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("connector", "started_at", "status", "trigger", "fetched", "created", "updated", "rejected")
    list_filter = ("connector", "status")
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboundTicket)
class OutboundTicketAdmin(admin.ModelAdmin):
    list_display = ("correlation_id", "connector", "status", "remote_number", "attempts", "created_at")
    list_filter = ("connector", "status")
    search_fields = ("correlation_id", "remote_number", "remote_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
