from django.contrib import admin

from operations.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    """The task workers seen lately; written by the workers only."""

    list_display = ["worker_id", "hostname", "pid", "started_at", "seen_at"]
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
