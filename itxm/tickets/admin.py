from django.contrib import admin

from itxm.tickets.models import Ticket, TicketEvent


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


from itxm.tickets import admin_connectors  # noqa: E402, F401  (connectors, sync runs, outbound tickets)
