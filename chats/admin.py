from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin

from .models import ChatSession, Conversation, ConversationDocument, ConversationPin, Message


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "started_at", "last_activity"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]
    date_hierarchy = "started_at"


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["role", "content", "tokens_input", "tokens_output", "timestamp"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "agent", "message_count", "token_count", "last_message_at", "created_at"]
    list_filter = ["agent"]
    search_fields = ["title", "user__email", "agent__name"]
    autocomplete_fields = ["chat_session", "agent", "user"]
    readonly_fields = ["user", "message_count", "token_count", "last_message_at", "created_at"]
    list_select_related = ["user", "agent"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Messages are what was said and answered: staff read them (escaped, stored HTML included) and
    may delete one, but never edit its content or metadata, where the rendered HTML is kept."""

    list_display = ["conversation", "role", "short_content", "tokens_input", "tokens_output", "timestamp"]
    list_filter = ["role"]
    search_fields = ["content"]
    fields = ["conversation", "user", "role", "content", "metadata", "tokens_input", "tokens_output", "timestamp"]
    readonly_fields = fields
    list_select_related = ["conversation"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return obj.content[:80]


@admin.register(ConversationPin)
class ConversationPinAdmin(ReadOnlyAdmin):
    """Pins are the person's own sidebar order: staff may see them, never change them."""

    list_display = ["conversation", "user", "pinned_at"]
    list_select_related = ["conversation", "user"]


@admin.register(ConversationDocument)
class ConversationDocumentAdmin(ReadOnlyAdmin):
    """Which documents were attached to which conversation: staff may see the links, never change them."""

    list_display = ["document", "conversation", "user", "created_at"]
    list_select_related = ["document", "conversation", "user"]
