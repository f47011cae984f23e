"""Documents attached to a conversation, and the knowledge scope of a turn (issue 07 item 9).

An attachment is an ordinary document of the person's (``rag.services.document_create_from_upload``:
type and size refused before the file is read whole, the quota, indexing in Celery on commit)
linked to one conversation by a ``ConversationDocument`` row. What a turn may read:

* the conversation's attachments, always;
* with an agent whose owner gave it knowledge (``agents.validation.knowledge_of``): the chatting
  person's documents in those collections, plus the documents it names when the chatting person
  is its owner (for anyone else they match nothing: never the whole library instead);
* otherwise the person's whole library (their retrieval settings' collections applying).

A document attached to any *other* conversation (or to a deleted one) is in none of these.
Retrieval itself runs under the chatting person's RLS, so nobody else's document is ever read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agents.validation import knowledge_of
from core.tenancy import tenant
from rag import services as rag_services
from rag.forms import ALLOWED_EXTENSIONS
from rag.models import RagDocument, RagSettings

from .errors import ChatError
from .models import ChatSession, Conversation, ConversationDocument

MAX_ATTACHMENTS_PER_CONVERSATION = 20
ATTACHMENT_FIELDS = ("id", "conversation_id", "document__id", "document__title", "document__status",
                     "document__progress", "document__chunk_count", "document__error_message",
                     "document__size_bytes")


# --- reads ------------------------------------------------------------------------------------------


def attachments_for_conversation(*, user, conversation: Conversation) -> list[ConversationDocument]:
    """The conversation's attachments, oldest first, with their documents' indexing state."""
    with tenant(user.id):
        return attachments_in_context(user=user, conversation=conversation)


def attachments_in_context(*, user, conversation: Conversation) -> list[ConversationDocument]:
    """As ``attachments_for_conversation``, in the tenant context already in force (a request's,
    set by TenantMiddleware): the conversation page saves the savepoint and the two round trips a
    nested ``tenant()`` costs. Outside any context row-level security shows no row at all."""
    return list(
        ConversationDocument.objects.filter(conversation=conversation, user=user)
        .select_related("document").only(*ATTACHMENT_FIELDS).order_by("created_at", "id")
    )


def attachment_get_for_user(*, user, conversation: Conversation, attachment_id) -> ConversationDocument:
    """One attachment of this conversation of the user's; 404 otherwise."""
    with tenant(user.id):
        return get_object_or_404(
            ConversationDocument.objects.select_related("document"),
            pk=attachment_id, conversation=conversation, user=user,
        )


def attachment_state(attachment: ConversationDocument) -> dict:
    """What a chip shows, as JSON for attachments.js."""
    document = attachment.document
    return {
        "id": str(attachment.id),
        "document_id": str(document.id),
        "title": document.title,
        "status": document.status,
        "progress": document.progress,
        "chunk_count": document.chunk_count,
        "error": document.error_message,
    }


@dataclass(frozen=True)
class KnowledgeScope:
    """What ``rag.retrieval.passages_for_chat`` is given: ``document_ids`` None means the whole
    library (less ``exclude_document_ids``); a set, only those documents (empty: none)."""

    document_ids: frozenset[str] | None
    exclude_document_ids: frozenset[str]


def knowledge_scope(*, user, conversation: Conversation) -> KnowledgeScope:
    """The documents this turn of ``conversation`` may read (see the module docstring)."""
    with tenant(user.id):
        return knowledge_scope_in_context(user=user, conversation=conversation)


def knowledge_scope_in_context(*, user, conversation: Conversation) -> KnowledgeScope:
    """As ``knowledge_scope``, in the tenant context already in force (a turn reads it in the same
    transaction as its settings and history: one ``tenant()`` and its round trips fewer)."""
    agent = conversation.agent
    knowledge = knowledge_of(agent)
    links = list(ConversationDocument.objects.filter(user=user).values_list("document_id", "conversation_id"))
    here = frozenset(str(doc) for doc, conv in links if conv == conversation.id)
    elsewhere = frozenset(str(doc) for doc, conv in links if conv != conversation.id)
    attached = here | elsewhere
    if knowledge.scoped:
        chosen: set[str] = set()
        if knowledge.collections:
            chosen |= {str(pk) for pk in RagDocument.objects.filter(
                user=user, collection__in=knowledge.collections).values_list("id", flat=True)}
        if knowledge.documents and agent.created_by_id == user.id:
            chosen |= {str(pk) for pk in RagDocument.objects.filter(
                user=user, pk__in=knowledge.documents).values_list("id", flat=True)}
        return KnowledgeScope(document_ids=frozenset(chosen - attached) | here, exclude_document_ids=elsewhere)
    settings_collections = list(RagSettings.objects.filter(user=user).values_list("collections", flat=True).first() or [])
    if here and settings_collections:
        # The settings' collections narrow the library, never the conversation's own files.
        library = {str(pk) for pk in RagDocument.objects.filter(
            user=user, collection__in=settings_collections).values_list("id", flat=True)}
        return KnowledgeScope(document_ids=frozenset(library - attached) | here, exclude_document_ids=elsewhere)
    return KnowledgeScope(document_ids=None, exclude_document_ids=elsewhere)


# --- writes -----------------------------------------------------------------------------------------


@transaction.atomic
def attachment_create(*, user, conversation: Conversation, uploaded_file) -> ConversationDocument:
    """Attach an uploaded file: a new document of the user's (refused type, size or quota: a
    ``UserFacingError`` and nothing saved), indexed in the background, read in this conversation only."""
    with tenant(user.id):
        # One attachment at a time per conversation: the count below cannot be raced past.
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        count = ConversationDocument.objects.filter(conversation=conversation, user=user).count()
    if count >= MAX_ATTACHMENTS_PER_CONVERSATION:
        raise ChatError(ngettext(
            "A conversation can have at most %(limit)s attached file. Remove one first.",
            "A conversation can have at most %(limit)s attached files. Remove one first.",
            MAX_ATTACHMENTS_PER_CONVERSATION,
        ) % {"limit": MAX_ATTACHMENTS_PER_CONVERSATION})
    document = rag_services.document_create_from_upload(user=user, uploaded_file=uploaded_file)
    with tenant(user.id):
        return ConversationDocument.objects.create(user=user, conversation=conversation, document=document)


@transaction.atomic
def attachment_create_in_new_conversation(*, user, agent, uploaded_file) -> ConversationDocument:
    """A file attached from a new chat's composer: the conversation is opened first (empty, in the
    user's current chat session, as ``chats.services`` picks it), then the file attached. A refused
    file leaves neither behind (one transaction)."""
    since = timezone.now() - timedelta(hours=settings.CHAT_SESSION_IDLE_HOURS)
    with tenant(user.id):
        session = (ChatSession.objects.filter(user=user, last_activity__gte=since).order_by("-last_activity").first()
                   or ChatSession.objects.create(user=user))
        conversation = Conversation.objects.create(chat_session=session, agent=agent, user=user)
    return attachment_create(user=user, conversation=conversation, uploaded_file=uploaded_file)


def attachment_delete(*, user, attachment: ConversationDocument) -> None:
    """Remove the file from the conversation: its document, passages, vectors and stored file go
    too (it was uploaded for this conversation only). A vector store failure is a ``UserFacingError``."""
    document = attachment.document
    rag_services.document_delete(user=user, document=document)


def no_file_message() -> str:
    return _("No file was received. Choose the file again.")


def composer_options() -> dict:
    """What the composer's picker needs: accepted types, the size limit, and the chip texts that
    attachments.js fills in (%(…)s placeholders)."""
    return {
        "accept": ",".join(ALLOWED_EXTENSIONS),
        "max_bytes": settings.RAG_MAX_UPLOAD_BYTES,
        "labels": {
            "QUEUED": _("Queued"),
            "INDEXING": _("Indexing… %(progress)s%%"),
            "INDEXED": _("Ready"),
            "FAILED": _("Failed: %(reason)s"),
            "unknown": _("unknown error"),
            "remove": _("Remove “%(title)s”"),
            "remove_short": _("Remove"),
            "uploading": _("Uploading…"),
            "too_large": _("This file is too large. The limit is %(limit)s."),
            "upload_failed": _("The file could not be attached. Try again."),
            "announce_added": _("“%(title)s” attached; it is being indexed."),
            "announce_ready": _("“%(title)s” is ready: answers in this conversation use it."),
            "announce_failed": _("“%(title)s” could not be indexed: %(reason)s"),
            "announce_removed": _("“%(title)s” removed."),
        },
    }
