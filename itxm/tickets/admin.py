from django.contrib import admin

from itxm.tickets import admin_connectors  # noqa: F401  (registers connectors, sync runs, outbound tickets)
from itxm.tickets.models import BusinessCalendar, SlaDefinition, Ticket, TicketEvent


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    readonly_fields = ("seq", "at", "kind", "from_value", "to_value", "group")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("number", "kind", "state", "service", "group", "priority", "opened_at", "resolved_at")
    list_filter = ("kind", "state", "channel", "priority", "service", "group")
    search_fields = ("number", "source_id", "short_description")
    date_hierarchy = "opened_at"
    raw_id_fields = ("caller", "assignee", "category")
    inlines = [TicketEventInline]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ("name", "time_zone")


@admin.register(SlaDefinition)
class SlaDefinitionAdmin(admin.ModelAdmin):
    list_display = ("name", "target", "target_minutes", "calendar", "on_reopen", "is_active")
    list_filter = ("target", "is_active", "calendar")
    filter_horizontal = ("services", "groups")
