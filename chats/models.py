"""Chat sessions, conversations and messages (ERD domain 3). Counters are kept by triggers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import fields
from core.models import CreatedAtModel, UUIDModel

EMPTY_JSON = models.Value({}, models.JSONField())


class ChatSession(UUIDModel):
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="chat_sessions", db_index=False)
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_default=Now())
    last_activity = models.DateTimeField(_("last activity"), default=timezone.now, db_default=Now())
    metadata = models.JSONField(default=dict, db_default=EMPTY_JSON, blank=True)

    class Meta:
        db_table = "chat_sessions"
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        indexes = [models.Index(fields=["user", "-last_activity"], name="idx_chat_sessions_user_recent")]

    def __str__(self) -> str:
        return f"session {self.started_at:%Y-%m-%d %H:%M}"


class Conversation(UUIDModel, CreatedAtModel):
    """One conversation with one agent. ``user`` is the session's owner (denormalised, filled by a
    trigger); ``last_message_at`` is beyond the ERD, for ordering the conversation list."""

    chat_session = fields.ForeignKey(ChatSession, db_on_delete="CASCADE", related_name="conversations", db_index=False)
    agent = fields.ForeignKey("agents.Agent", db_on_delete="CASCADE", related_name="conversations")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="conversations", db_index=False)
    title = models.CharField(_("title"), max_length=200, blank=True, default="", db_default="")
    message_count = models.IntegerField(_("messages"), default=0, db_default=0, editable=False)
    token_count = models.IntegerField(_("tokens"), default=0, db_default=0, editable=False)
    last_message_at = models.DateTimeField(_("last message"), default=timezone.now, db_default=Now())

    class Meta:
        db_table = "conversations"
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.CheckConstraint(condition=Q(message_count__gte=0) & Q(token_count__gte=0), name="conversations_counters_non_negative"),
        ]
        indexes = [
            models.Index(fields=["chat_session", "agent"], name="idx_conversations_user_agent"),
            models.Index(fields=["user", "-last_message_at"], name="idx_conversations_user_recent"),
        ]

    def __str__(self) -> str:
        return self.title or str(_("Untitled conversation"))


class MessageRole(models.TextChoices):
    USER = "user", _("User")
    ASSISTANT = "assistant", _("Assistant")
    SYSTEM = "system", _("System")
    TOOL = "tool", _("Tool")


class Message(UUIDModel):
    """A turn. ``metadata`` carries the model, status (complete, failed, cancelled), citations."""

    conversation = fields.ForeignKey(Conversation, db_on_delete="CASCADE", related_name="messages", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="messages")
    role = models.CharField(_("role"), max_length=16, choices=MessageRole.choices)
    content = models.TextField(_("content"))
    tokens_input = models.IntegerField(default=0, db_default=0)
    tokens_output = models.IntegerField(default=0, db_default=0)
    metadata = models.JSONField(default=dict, db_default=EMPTY_JSON, blank=True)
    timestamp = models.DateTimeField(_("time"), default=timezone.now, db_default=Now())

    class Meta:
        db_table = "messages"
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=MessageRole.values), name="messages_role_valid"),
            models.CheckConstraint(condition=Q(tokens_input__gte=0) & Q(tokens_output__gte=0), name="messages_tokens_non_negative"),
        ]
        indexes = [
            models.Index(fields=["conversation", "timestamp"], name="idx_messages_conversation_id"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class ConversationPin(UUIDModel):
    """A conversation the person pinned to the top of their list. Beyond the ERD (schema decision 5:
    ``conversations``' columns are fixed): one row per pinned conversation, tenant-owned with RLS;
    ``user`` is filled from the conversation by a trigger, so it can never name another owner."""

    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+", db_index=False)
    conversation = fields.OneToOneField(Conversation, db_on_delete="CASCADE", related_name="pin")
    pinned_at = models.DateTimeField(_("pinned"), default=timezone.now, db_default=Now())

    class Meta:
        db_table = "conversation_pins"
        verbose_name = _("pinned conversation")
        verbose_name_plural = _("pinned conversations")
        indexes = [models.Index(fields=["user", "-pinned_at"], name="idx_conversation_pins_user")]

    def __str__(self) -> str:
        return f"pin {self.conversation_id}"


class ConversationDocument(UUIDModel, CreatedAtModel):
    """A document attached to one conversation from its composer (issue 07 item 9). Beyond the ERD
    (schema decision 5): one row per attached document, tenant-owned with RLS. ``user`` is filled
    from the conversation by a trigger, which also refuses a document of anyone else. Retrieval
    reads an attached document only in its conversation (``chats.attachments.knowledge_scope``);
    when the conversation is deleted the row stays with no conversation, so the document never
    joins the rest of the library's answers."""

    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+", db_index=False)
    conversation = fields.ForeignKey(Conversation, db_on_delete="SET NULL", null=True, blank=True,
                                     related_name="attachments", db_index=False)
    document = fields.OneToOneField("rag.RagDocument", db_on_delete="CASCADE", related_name="chat_attachment")

    class Meta:
        db_table = "conversation_documents"
        verbose_name = _("attached document")
        verbose_name_plural = _("attached documents")
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="idx_conv_documents_conv"),
            models.Index(fields=["user"], name="idx_conv_documents_user"),
        ]

    def __str__(self) -> str:
        return f"attachment {self.document_id} of {self.conversation_id}"
