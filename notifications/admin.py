from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.forms import TemplateContentForm
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    EventHandler,
    InvitationUse,
    NotificationTemplate,
    TemplateContent,
)


class TemplateContentInline(admin.StackedInline):
    model = TemplateContent
    form = TemplateContentForm
    extra = 0
    min_num = 1


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "languages"]
    search_fields = ["name", "key"]
    inlines = [TemplateContentInline]

    @admin.display(description=_("languages"))
    def languages(self, obj: NotificationTemplate) -> str:
        return ", ".join(content.language for content in obj.contents.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("contents")


@admin.register(EventHandler)
class EventHandlerAdmin(admin.ModelAdmin):
    list_display = ["reseller", "event", "channel", "template", "enabled"]
    list_filter = ["event", "channel", "enabled"]
    list_select_related = ["reseller", "template"]
    search_fields = ["reseller__name", "template__name"]


class DeliveryAttemptInline(admin.TabularInline):
    """Attempts are history: shown, never edited."""

    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "finished_at", "outcome", "error", "worker_id"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, written by the worker."""

    list_display = [
        "created_at",
        "client",
        "event",
        "recipient",
        "status",
        "attempts",
        "sent_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "event", "channel", "language"]
    list_select_related = ["client"]
    search_fields = ["recipient", "subject", "message_id", "client__name", "=client__id"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    fields = [
        "client",
        "event",
        "channel",
        "handler",
        "template",
        "language",
        "recipient",
        "recipient_user",
        "actor",
        "status",
        "attempts",
        "subject",
        "message_id",
        "last_error",
        "task_id",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(InvitationUse)
class InvitationUseAdmin(admin.ModelAdmin):
    list_display = ["user", "used_at"]
    fields = ["user", "used_at"]
    readonly_fields = fields
    search_fields = ["user__email"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
