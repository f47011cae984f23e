from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import RagChunk, RagDocument, RagSettings


@admin.register(RagDocument)
class RagDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "source", "indexed", "chunk_count", "created_at"]
    list_filter = ["source", "indexed"]
    search_fields = ["title", "source_url", "user__email"]
    autocomplete_fields = ["user"]
    readonly_fields = ["indexed", "vector_ids", "chunk_count", "created_at"]
    list_select_related = ["user"]


@admin.register(RagSettings)
class RagSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "top_k", "threshold", "collections"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(RagChunk)
class RagChunkAdmin(ReadOnlyAdmin):
    list_display = ["document", "position", "heading", "language"]
    search_fields = ["document__title", "heading", "content"]
    list_select_related = ["document"]
