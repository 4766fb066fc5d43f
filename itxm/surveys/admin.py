from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from itxm.surveys import outbox
from itxm.surveys.models import (
    Factor,
    FatigueRule,
    Invitation,
    LostTimeChoice,
    OutboxMessage,
    Response,
    SurveyTemplate,
)


@admin.register(SurveyTemplate)
class SurveyTemplateAdmin(admin.ModelAdmin):
    list_display = ("kind", "ask_lost_time", "ask_factors", "ask_comment")
    fieldsets = (
        (None, {"fields": ("kind", "ask_lost_time", "ask_factors", "ask_comment")}),
        (
            _("Questions (leave blank for the standard wording)"),
            {
                "fields": (
                    "score_question_en",
                    "score_question_tr",
                    "lost_time_question_en",
                    "lost_time_question_tr",
                    "comment_question_en",
                    "comment_question_tr",
                )
            },
        ),
    )


@admin.register(Factor)
class FactorAdmin(admin.ModelAdmin):
    list_display = ("label_en", "label_tr", "kind", "polarity", "order", "is_active")
    list_filter = ("kind", "polarity", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("key", "label_en", "label_tr")


@admin.register(LostTimeChoice)
class LostTimeChoiceAdmin(admin.ModelAdmin):
    list_display = ("minutes", "label_en", "label_tr", "is_active")


@admin.register(FatigueRule)
class FatigueRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "days", "enabled")
    list_editable = ("days", "enabled")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "ticket", "status", "held_back_reason", "created_at", "sent_at", "closes_at")
    list_filter = ("status", "held_back_reason", "kind")
    raw_id_fields = ("ticket", "employee")
    date_hierarchy = "created_at"


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ("pk", "invitation", "score", "lost_minutes", "language", "answered_at", "completed_at")
    list_filter = ("score", "language")
    raw_id_fields = ("invitation",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("pk", "to", "subject", "status", "attempts", "next_attempt_at", "sent_at", "last_error")
    list_filter = ("status",)
    search_fields = ("to", "message_id")
    actions = ["send_again"]

    @admin.action(description=_("Send again (may deliver a second copy of an 'unknown' message)"))
    def send_again(self, request, queryset):
        outbox.requeue(list(queryset.values_list("pk", flat=True)))
