"""Writes of the RAG domain: adding documents (upload, pasted text, URL), re-indexing, deleting,
retrieval settings. Indexing itself runs in a Celery task enqueued when the transaction commits."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.queue import enqueue_on_commit
from core.tenancy import tenant
from core.text import strip_control_chars
from storage import services as storage_services
from storage.models import UsageContext

from .errors import DocumentError, ExtractionError, VectorStoreError
from .extract import check_size
from .limits import allowance_for_user
from .models import RagDocument, RagSettings, Source, Status
from .tasks import index_document_task
from .vectorstores import get_vector_store, namespace_for_user


def clean_tags(raw: str | list[str] | None) -> list[str]:
    items = raw if isinstance(raw, list) else (raw or "").split(",")
    tags = []
    for item in items:
        tag = " ".join(str(item).strip().lower().split())[:40]
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:20]


def _check_room(user) -> None:
    """Refuse a new document when the user's documents already hold all their plan allows."""
    message = allowance_for_user(user).full_message()
    if message:
        raise DocumentError(message)


def _enqueue(document: RagDocument, embedder_name: str | None = None) -> None:
    document_id, user_id = str(document.id), str(document.user_id)
    enqueue_on_commit(index_document_task, document_id, user_id, embedder_name)  # swept again if the broker is down


@transaction.atomic
def document_create_from_upload(*, user, uploaded_file, title: str = "", tags=None, collection: str = "") -> RagDocument:
    try:
        check_size(uploaded_file.size)
    except ExtractionError as exc:
        raise DocumentError(exc.message) from exc
    data = uploaded_file.read(settings.RAG_MAX_UPLOAD_BYTES + 1)
    try:
        check_size(len(data))
    except ExtractionError as exc:
        raise DocumentError(exc.message) from exc
    if not data:
        raise DocumentError(_("This file is empty."))
    _check_room(user)
    # A quota or duplicate refusal is the storage domain's (storage.errors), shown as it is.
    stored = storage_services.file_store(user=user, content=data, name=uploaded_file.name,
                                         mime_type=getattr(uploaded_file, "content_type", ""),
                                         usage_context=UsageContext.RAG)
    name = stored.original_name
    with tenant(user.id):
        document = RagDocument.objects.create(
            user=user, title=(title or name.rsplit(".", 1)[0] or name)[:300], source=Source.FILE, tags=clean_tags(tags),
            collection=collection.strip()[:100], storage_file=stored, size_bytes=len(data),
        )
    _enqueue(document)
    return document


@transaction.atomic
def document_create_from_text(*, user, title: str, text: str, tags=None, collection: str = "") -> RagDocument:
    text = strip_control_chars(text or "").strip()
    if not text:
        raise DocumentError(_("Paste some text first."))
    try:
        check_size(len(text.encode()))
    except ExtractionError as exc:
        raise DocumentError(exc.message) from exc
    allowance = allowance_for_user(user)
    message = allowance.full_message()
    if message:
        raise DocumentError(message)
    if len(text) > allowance.characters_left:
        raise DocumentError(allowance.paste_message())
    with tenant(user.id):
        document = RagDocument.objects.create(
            user=user, title=(title.strip() or text.splitlines()[0])[:300], source=Source.PASTE, content=text,
            format="md", size_bytes=len(text.encode()), tags=clean_tags(tags), collection=collection.strip()[:100],
        )
    _enqueue(document)
    return document


@transaction.atomic
def document_create_from_url(*, user, url: str, title: str = "", tags=None, collection: str = "") -> RagDocument:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DocumentError(_("Enter a web address starting with http:// or https://."))
    _check_room(user)
    with tenant(user.id):
        document = RagDocument.objects.create(
            user=user, title=(title.strip() or parts.hostname)[:300], source=Source.URL, source_url=url[:2000],
            tags=clean_tags(tags), collection=collection.strip()[:100],
        )
    _enqueue(document)
    return document


REINDEX_WINDOW_SECONDS = 3600


def _reindex_allowed(user) -> bool:
    """At most ``RAG_REINDEX_MAX_PER_HOUR`` re-index requests per user in each clock hour (Redis)."""
    key = f"rag:reindex:{user.id}:{int(time.time() // REINDEX_WINDOW_SECONDS)}"
    cache.add(key, 0, timeout=REINDEX_WINDOW_SECONDS + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=REINDEX_WINDOW_SECONDS + 60)
        count = 1
    return count <= settings.RAG_REINDEX_MAX_PER_HOUR


@transaction.atomic
def document_reindex(*, user, document: RagDocument, embedder_name: str | None = None,
                     rate_limited: bool = False) -> RagDocument:
    """Queue the document for indexing again. ``rate_limited`` (a person asking, not an operator or
    an edit of its filters) refuses with DocumentError past the hourly allowance, changing nothing."""
    if rate_limited and not _reindex_allowed(user):
        raise DocumentError(_("You have asked for %(count)s re-indexes in the last hour, the most allowed. "
                              "Try again later.") % {"count": settings.RAG_REINDEX_MAX_PER_HOUR})
    with tenant(user.id):
        RagDocument.objects.filter(pk=document.pk).update(status=Status.QUEUED, progress=0, error_message="")
    _enqueue(document, embedder_name)
    return document


@transaction.atomic
def document_update_metadata(*, user, document: RagDocument, title: str, tags: list[str], collection: str) -> bool:
    """Rename, retag or move a document; re-index when tags or collection change, since the
    vector store filters on them. Returns whether a re-index was queued."""
    with tenant(user.id):
        RagDocument.objects.filter(pk=document.pk, user=user).update(
            title=title, tags=tags, collection=collection, updated_at=timezone.now()
        )
    filters_changed = list(tags) != list(document.tags) or collection != document.collection
    document.title, document.tags, document.collection = title, list(tags), collection
    # A failed document has no vectors, so there is no metadata to bring up to date.
    if filters_changed and document.status != Status.FAILED:
        document_reindex(user=user, document=document)
        return True
    return False


def document_delete(*, user, document: RagDocument) -> None:
    """Delete the document, its chunks, its vectors (in whichever store holds them) and its file."""
    try:
        get_vector_store().delete_document(
            namespace=namespace_for_user(user.id), document_id=str(document.id), ids=list(document.vector_ids)
        )
    except VectorStoreError as exc:
        raise DocumentError(_("The document's vectors could not be deleted now (%(reason)s). Try again later.")
                            % {"reason": exc.message}) from exc
    with tenant(user.id), transaction.atomic():
        stored = document.storage_file
        RagDocument.objects.filter(pk=document.pk).delete()
        if stored is not None:
            storage_services.file_delete(file=stored)


@transaction.atomic
def rag_settings_update(*, user, top_k: int, threshold, collections: list[str]) -> RagSettings:
    with tenant(user.id):
        rag_settings = RagSettings.objects.select_for_update().get(user=user)
        rag_settings.top_k, rag_settings.threshold, rag_settings.collections = top_k, threshold, list(collections)
        rag_settings.save(update_fields=["top_k", "threshold", "collections"])
    return rag_settings


# --- platform documents (source SYSTEM) -----------------------------------------------------------
# Owned by a dedicated system user (the help centre's, see support.helpcentre), so no person's
# retrieval ever sees them (RLS) and only ``retrieval.system_passages`` reads them.


@transaction.atomic
def system_document_put(*, owner, document_id=None, title: str, text: str, collection: str,
                        tags=None) -> RagDocument:
    """Create or replace a SYSTEM document of ``owner`` with ``text`` and queue its indexing."""
    text = strip_control_chars(text or "").strip()
    if not text:
        raise DocumentError(_("This document has no text."))
    fields = {"title": title.strip()[:300] or _("Untitled document"), "content": text, "format": "md",
              "size_bytes": len(text.encode()), "tags": clean_tags(tags), "collection": collection.strip()[:100],
              "status": Status.QUEUED, "progress": 0, "error_message": ""}
    with tenant(owner.id):
        document = RagDocument.objects.filter(pk=document_id, user=owner, source=Source.SYSTEM).first() if document_id else None
        if document is None:
            document = RagDocument.objects.create(user=owner, source=Source.SYSTEM, **fields)
        else:
            RagDocument.objects.filter(pk=document.pk).update(**fields, updated_at=timezone.now())
            document.refresh_from_db()
    _enqueue(document)
    return document


@transaction.atomic
def system_document_remove(*, owner, document_id) -> None:
    """Delete a SYSTEM document of ``owner`` (its passages and vectors go with it)."""
    with tenant(owner.id):
        document = RagDocument.objects.filter(pk=document_id, user=owner, source=Source.SYSTEM).first()
    if document is not None:
        document_delete(user=owner, document=document)
