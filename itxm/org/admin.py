from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from itxm.org.models import (
    Agent,
    ApiToken,
    Category,
    Department,
    Employee,
    Group,
    Location,
    Service,
    Supplier,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "role", "supplier", "is_active", "last_login")
    list_filter = ("role", "supplier", "is_active")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Role and scope"), {"fields": ("role", "supplier", "services", "is_active")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2", "role", "supplier")}),
    )
    filter_horizontal = ("services",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # the secret must be shown once: tokens are created with the API or `itxm token create`

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id")
    search_fields = ("name", "external_id")


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "supplier")
    list_filter = ("supplier",)
    search_fields = ("name", "external_id")


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id")
    search_fields = ("name", "external_id")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "service")
    list_filter = ("service",)
    search_fields = ("name", "external_id")


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "group")
    list_filter = ("group",)
    search_fields = ("name", "external_id", "email")


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "department", "location", "country", "language", "opted_out")
    list_filter = ("country", "language", "opted_out", "department")
    search_fields = ("name", "external_id", "email")


admin.site.register(Department, search_fields=("name",))
admin.site.register(Location, list_display=("name", "country", "time_zone"))
