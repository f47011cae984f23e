from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import MonthlyUsage, UsageAlert, UsageLog


@admin.register(UsageLog)
class UsageLogAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "user", "agent", "model", "total_tokens", "total_cost", "duration", "success"]
    list_filter = ["success", "model"]
    search_fields = ["user__email", "agent__name", "model"]
    list_select_related = ["user", "agent"]
    date_hierarchy = "timestamp"


@admin.register(MonthlyUsage)
class MonthlyUsageAdmin(admin.ModelAdmin):
    list_display = ["user", "year", "month", "total_messages", "total_tokens", "total_cost", "limit_messages", "limit_tokens", "exceeded_limit"]
    list_filter = ["year", "month", "exceeded_limit"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "year", "month", "total_messages", "total_tokens", "total_cost", "agent_usage", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(UsageAlert)
class UsageAlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "type", "threshold", "year", "month"]
    list_filter = ["type", "threshold"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
