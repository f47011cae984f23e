from django.contrib import admin

from core.admin import MaskedEncryptedFieldsMixin, ReadOnlyAdmin

from .models import McpIntegration, McpSyncLog


@admin.register(McpIntegration)
class McpIntegrationAdmin(MaskedEncryptedFieldsMixin, admin.ModelAdmin):
    list_display = ["provider", "user", "is_active", "last_sync", "expires_at", "encrypted_values", "created_at"]
    list_filter = ["provider", "is_active"]
    search_fields = ["user__email", "provider"]
    autocomplete_fields = ["user"]
    readonly_fields = ["encrypted_values", "last_sync", "created_at"]
    list_select_related = ["user"]


@admin.register(McpSyncLog)
class McpSyncLogAdmin(ReadOnlyAdmin):
    list_display = ["integration", "status", "items_synced", "last_sync", "created_at"]
    list_filter = ["status", "integration__provider"]
    search_fields = ["integration__user__email", "error_message"]
    list_select_related = ["integration"]
