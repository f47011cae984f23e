from django.contrib import admin

from .models import Artifact


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "version", "user", "agent", "is_public", "created_at"]
    list_filter = ["type", "is_public"]
    search_fields = ["name", "user__email"]
    autocomplete_fields = ["agent", "user", "conversation", "parent"]
    readonly_fields = ["version", "share_token", "created_at"]
    list_select_related = ["user", "agent"]
