"""Reads of the RAG domain, always scoped to the person asking (another user's document is a 404)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import F, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from core.search import folded_contains

from .models import RagChunk, RagDocument, RagSettings, Status

# What a list row shows; the extracted text and the vector ids stay in the database.
LIST_FIELDS = (
    "id", "title", "source", "source_url", "collection", "tags", "status", "progress", "chunk_count",
    "error_message", "size_bytes", "created_at",
)
PENDING_STATUSES = (Status.QUEUED, Status.INDEXING)
STATUS_IDS_MAX = 100


def documents_for_user(user: User, *, collection: str | None = None, search: str | None = None) -> QuerySet[RagDocument]:
    """The user's documents, newest first, optionally in one collection and/or with a title match.
    Each says whether it was attached to a conversation (``attachment_id``, ``attached_to_id``,
    ``attached_to_title``; the conversation id is None once that conversation is deleted)."""
    queryset = RagDocument.objects.filter(user=user).only(*LIST_FIELDS).annotate(
        attachment_id=F("chat_attachment__id"), attached_to_id=F("chat_attachment__conversation_id"),
        attached_to_title=F("chat_attachment__conversation__title"),
    )
    if collection is not None:
        queryset = queryset.filter(collection=collection)
    search = (search or "").strip()
    if search:
        queryset = folded_contains(queryset, search, "title")
    return queryset.order_by("-created_at", "-id")


def document_get_for_user(*, user: User, document_id: uuid.UUID | str) -> RagDocument:
    return get_object_or_404(RagDocument.objects.select_related("storage_file"), pk=document_id, user=user)


def document_passages(document: RagDocument) -> QuerySet[RagChunk]:
    return RagChunk.objects.filter(document=document, user_id=document.user_id).only(
        "id", "position", "heading", "content"
    ).order_by("position")


def collections_for_user(user: User) -> list[str]:
    """The names of the user's non-empty collections, sorted."""
    names = (
        RagDocument.objects.filter(user=user).exclude(collection="")
        .order_by("collection").values_list("collection", flat=True).distinct()
    )
    return list(names)


def collections_for_user_id(user_id) -> list[str]:
    """``collections_for_user`` by id (the agent form has the owner's id, not the user)."""
    names = (
        RagDocument.objects.filter(user_id=user_id).exclude(collection="")
        .order_by("collection").values_list("collection", flat=True).distinct()
    )
    return list(names)


def document_statuses(*, user: User, ids: Iterable[str]) -> list[dict]:
    """Indexing state of those of ``ids`` that are the user's documents (others are silently left out)."""
    wanted = []
    for raw in ids:
        try:
            wanted.append(uuid.UUID(str(raw).strip()))
        except ValueError:
            continue
        if len(wanted) >= STATUS_IDS_MAX:
            break
    if not wanted:
        return []
    rows = (
        RagDocument.objects.filter(user=user, pk__in=wanted)
        .order_by("-created_at", "-id")
        .values("id", "status", "progress", "chunk_count", "error_message")
    )
    return [
        {"id": str(row["id"]), "status": row["status"], "progress": row["progress"],
         "chunk_count": row["chunk_count"], "error": row["error_message"]}
        for row in rows
    ]


def rag_settings_get(*, user: User) -> RagSettings:
    """The user's retrieval settings (the row is created with the user by a trigger)."""
    return get_object_or_404(RagSettings, user=user)


# --- the library apart from chat attachments (agents' knowledge, issue 07 item 9) ---------------

LIBRARY_CHOICES_MAX = 500


def library_documents_for_choice(user_id) -> list[tuple[str, str]]:
    """(id, title) of the user's documents not attached to a conversation, by title: what an
    agent's knowledge may name (at most ``LIBRARY_CHOICES_MAX``). Call inside ``tenant(user_id)``."""
    rows = (RagDocument.objects.filter(user_id=user_id, chat_attachment__isnull=True)
            .order_by("title", "id").values_list("id", "title")[:LIBRARY_CHOICES_MAX])
    return [(str(pk), title) for pk, title in rows]


def library_document_ids(*, user_id, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` that are the user's documents not attached to a conversation."""
    wanted = [str(i) for i in ids]
    if not wanted:
        return set()
    found = RagDocument.objects.filter(user_id=user_id, pk__in=wanted, chat_attachment__isnull=True)
    return {str(pk) for pk in found.values_list("id", flat=True)}

