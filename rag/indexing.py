"""The indexing pipeline: extract → chunk → embed in batches → upsert vectors → store chunks.

Idempotent: chunk ids (which are also vector ids) are derived from the document and the chunk's
position, so indexing twice rewrites the same rows and vectors, and vectors of positions that no
longer exist are deleted. A failure that retrying cannot fix (an unreadable file, an unsafe URL,
no text, a cap reached: see ``rag.extract.Limits`` and ``rag.limits``) marks the document failed
with its reason and leaves no chunk or vector behind; transient ones (the embedding service or the
vector store) are retried by the task with backoff. Anything unexpected (a bug, a library raising
what it should not) fails the document with a generic reason and the traceback in the log, so no
document stays "Indexing" forever; ``fail_stuck_documents`` (beat) catches the rest, such as a
worker killed at its hard time limit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import UserFacingError
from core.tenancy import bypass, tenant
from core.text import detect_language, strip_control_chars

from .chunking import chunk_text
from .embedders import get_embedder
from .errors import (
    EmbeddingError,
    ExtractionError,
    FetchError,
    LimitExceeded,
    PermanentIndexingError,
    VectorStoreError,
)
from .extract import Limits, extract_from_url_response, extract_text
from .limits import Allowance, allowance_for_user
from .models import RagChunk, RagDocument, Source, Status
from .urlfetch import fetch_url
from .vectorstores import get_vector_store, namespace_for_user
from .vectorstores.base import VectorRecord, chunk_metadata

logger = logging.getLogger(__name__)

EMBED_BATCH = 64
CHUNK_NAMESPACE = uuid.UUID("6f1c7a52-2f0e-4c55-9d5b-0d7f4a6f3b21")
LANGUAGES = {"en": "english", "es": "spanish"}


def chunk_id(document_id, position: int) -> str:
    return str(uuid.uuid5(CHUNK_NAMESPACE, f"{document_id}:{position}"))


def _set(user_id, document_id, **fields) -> None:
    with tenant(user_id):
        RagDocument.objects.filter(pk=document_id).update(**fields, updated_at=timezone.now())


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str
    format: str


def _extract(document: RagDocument, allowance: Allowance) -> Extracted:
    limits = Limits.from_settings(max_chars=allowance.characters_left)
    plan_binds = allowance.characters_left < settings.RAG_MAX_DOCUMENT_CHARS
    try:
        if document.source == Source.FILE:
            if document.storage_file is None:
                raise PermanentIndexingError(_("The uploaded file is gone; upload it again."))
            with default_storage.open(document.storage_file.storage_path, "rb") as handle:
                data = handle.read(settings.RAG_MAX_UPLOAD_BYTES + 1)
            result = extract_text(data=data, filename=document.storage_file.original_name,
                                  content_type=document.storage_file.mime_type, limits=limits)
        elif document.source == Source.URL:
            page = fetch_url(document.source_url)
            result = extract_from_url_response(page.data, page.content_type, page.final_url, limits=limits)
        else:
            text = strip_control_chars(document.content).strip()
            if not text:
                raise PermanentIndexingError(_("This document has no text."))
            limits.check_chars(len(text))
            return Extracted(text=text, title=document.title, format=document.format or "txt")
    except LimitExceeded as exc:
        if exc.kind == "characters" and plan_binds:
            raise PermanentIndexingError(allowance.characters_message()) from exc
        raise PermanentIndexingError(exc.message) from exc
    except (ExtractionError, FetchError) as exc:
        raise PermanentIndexingError(exc.message) from exc
    except OSError as exc:
        raise PermanentIndexingError(_("The uploaded file could not be read; upload it again.")) from exc
    return Extracted(text=result.text, title=result.title, format=result.format)


def index_document(*, user_id, document_id, embedder_name: str | None = None) -> RagDocument | None:
    """Index one document (see the module docstring). Raises EmbeddingError/VectorStoreError when
    a retry may help; returns the document (None if it was deleted meanwhile)."""
    with tenant(user_id):
        document = RagDocument.objects.select_related("storage_file").filter(pk=document_id).first()
    if document is None:
        return None
    _set(user_id, document_id, status=Status.INDEXING, progress=5, error_message="")
    try:
        return _index(user_id, document, embedder_name)
    except (EmbeddingError, VectorStoreError):
        raise  # the task retries these, then fails the document with their reason
    except PermanentIndexingError as exc:
        _fail(user_id, document, exc.message)
    except SoftTimeLimitExceeded:
        logger.warning("indexing document %s hit the task's soft time limit", document_id)
        _fail(user_id, document, _("Indexing this document took longer than %(minutes)s minutes, so it was "
                                   "stopped. Split it into smaller documents.")
              % {"minutes": max(settings.RAG_INDEX_SOFT_TIME_LIMIT // 60, 1)})
    except Exception:
        logger.exception("indexing document %s failed unexpectedly", document_id)
        _fail(user_id, document, unexpected_failure_reason())
    return document


def unexpected_failure_reason() -> str:
    return _("This document could not be indexed because of an unexpected error. Try re-indexing it later.")


def _index(user_id, document: RagDocument, embedder_name: str | None) -> RagDocument:
    document_id = document.id
    with tenant(user_id):
        user = get_user_model().objects.only("id", "subscription_tier").get(pk=user_id)
    allowance = allowance_for_user(user, exclude_document_id=document.id)
    full = allowance.full_message()
    if full:
        raise PermanentIndexingError(full)
    extracted = _extract(document, allowance)
    chunks = chunk_text(extracted.text)
    if not chunks:
        raise PermanentIndexingError(_("No text was found in this document."))
    if len(chunks) > allowance.chunks_left:
        raise PermanentIndexingError(allowance.chunks_message())
    language = LANGUAGES.get(detect_language(extracted.text[:4000]), "simple")
    title = document.title or extracted.title or _("Untitled document")
    _set(user_id, document_id, progress=15, content=extracted.text, format=extracted.format, title=title[:300])

    embedder = get_embedder(embedder_name)
    vectors: list[list[float]] = []
    for start in range(0, len(chunks), EMBED_BATCH):
        batch = chunks[start:start + EMBED_BATCH]
        vectors.extend(embedder.embed_documents([c.text for c in batch]))
        done = min(start + EMBED_BATCH, len(chunks))
        _set(user_id, document_id, progress=15 + int(70 * done / len(chunks)))

    ids = [chunk_id(document.id, c.position) for c in chunks]
    store = get_vector_store(dimension=embedder.dimension, embedder=embedder.name)
    namespace = namespace_for_user(user_id)
    records = [
        VectorRecord(id=ids[i], values=vectors[i], metadata={
            **chunk_metadata(document_id=document.id, chunk_index=c.position, collection=document.collection,
                             tags=document.tags, title=title),
            "embedder": embedder.name,
        })
        for i, c in enumerate(chunks)
    ]
    store.upsert(namespace=namespace, records=records)
    stale = sorted(set(document.vector_ids) - set(ids))
    if stale:
        store.delete(namespace=namespace, ids=stale)
    _set(user_id, document_id, progress=90)

    with tenant(user_id):
        # Two runs of one document (a resent task, a redelivery after a lost worker) write their
        # chunks one after the other, never interleaved: the same ids, the same rows, once.
        if not list(RagDocument.objects.select_for_update().filter(pk=document.id).values_list("pk", flat=True)):
            return document  # deleted meanwhile
        RagChunk.objects.filter(document_id=document.id).delete()
        RagChunk.objects.bulk_create([
            RagChunk(id=ids[i], user_id=user_id, document_id=document.id, position=c.position, heading=c.heading[:500],
                     content=c.text, start_char=c.start, end_char=c.end, language=language)
            for i, c in enumerate(chunks)
        ])
        RagDocument.objects.filter(pk=document.id).update(
            vector_ids=ids, chunk_count=len(chunks), indexed=True, status=Status.INDEXED, progress=100,
            embedder=embedder.name, dimension=embedder.dimension, indexed_at=timezone.now(), updated_at=timezone.now(),
            error_message="",
        )
        document.refresh_from_db()
    return document


def _fail(user_id, document: RagDocument, reason: str) -> None:
    """Mark failed with its reason and leave no partial chunks or vectors behind."""
    try:
        get_vector_store(embedder=document.embedder or None).delete_document(
            namespace=namespace_for_user(user_id), document_id=str(document.id), ids=list(document.vector_ids)
        )
    except VectorStoreError as exc:  # the reason shown is the document's; the store's is logged
        logger.warning("could not delete vectors of failed document %s: %s", document.id, exc)
    with tenant(user_id):
        RagChunk.objects.filter(document_id=document.id).delete()
        RagDocument.objects.filter(pk=document.id).update(
            status=Status.FAILED, progress=0, error_message=str(reason)[:2000], indexed=False, chunk_count=0,
            vector_ids=[], updated_at=timezone.now(),
        )


# A task past its hard time limit is killed before it can say so; allow for the retry back-off too.
STUCK_MARGIN_SECONDS = 300
STUCK_BATCH = 500


def stuck_reason() -> str:
    return _("Indexing stopped unexpectedly (it ran out of time or its worker stopped). Try re-indexing it.")


def fail_stuck_documents(*, older_than: float | None = None) -> int:
    """Fail documents left "Indexing" with no progress for longer than an indexing task may run
    (``RAG_INDEX_TIME_LIMIT`` plus a margin); returns how many. A document that moves meanwhile is
    left alone: each update is conditional on the state seen."""
    seconds = settings.RAG_INDEX_TIME_LIMIT + STUCK_MARGIN_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=seconds)
    with bypass("rag: find documents stuck in indexing"):
        stuck = list(RagDocument.objects.filter(status=Status.INDEXING, updated_at__lt=cutoff)
                     .order_by("updated_at").values_list("id", "user_id")[:STUCK_BATCH])
    failed = 0
    for document_id, user_id in stuck:
        with tenant(user_id):
            changed = RagDocument.objects.filter(pk=document_id, status=Status.INDEXING, updated_at__lt=cutoff).update(
                status=Status.FAILED, progress=0, error_message=stuck_reason(), indexed=False, updated_at=timezone.now(),
            )
            document = RagDocument.objects.filter(pk=document_id).first() if changed else None
        if document is not None:
            logger.warning("document %s was stuck in indexing since before %s; marked failed", document_id, cutoff)
            _fail(user_id, document, stuck_reason())  # no passages or vectors left half-written
            failed += 1
    return failed


def requeue_queued_documents(*, older_than: float | None = None, send=None) -> int:
    """Send the indexing task again for documents still "Queued" after ``older_than`` seconds
    (``RAG_REQUEUE_AFTER_SECONDS``): their task never reached the broker (it was down when they were
    uploaded, see core.queue) or was lost with it. Each resent document's ``updated_at`` moves, so it
    is resent at most once per period; a second delivery of one still waiting is harmless (the task
    writes the same chunks again, under the document's row lock). Returns how many were sent."""
    seconds = settings.RAG_REQUEUE_AFTER_SECONDS if older_than is None else older_than
    cutoff = timezone.now() - timedelta(seconds=seconds)
    with bypass("rag: find documents whose indexing task was never delivered"):
        waiting = list(RagDocument.objects.filter(status=Status.QUEUED, updated_at__lt=cutoff)
                       .order_by("updated_at").values_list("id", "user_id")[:STUCK_BATCH])
    sent = 0
    for document_id, user_id in waiting:
        with tenant(user_id):
            moved = RagDocument.objects.filter(pk=document_id, status=Status.QUEUED, updated_at__lt=cutoff).update(updated_at=timezone.now())
        if moved and send(str(document_id), str(user_id)):
            sent += 1
    if sent:
        logger.warning("sent the indexing task again for %d queued documents", sent)
    return sent


def mark_failed_after_retries(*, user_id, document_id, error: Exception) -> None:
    with tenant(user_id):
        document = RagDocument.objects.filter(pk=document_id).first()
    if document is not None:
        if isinstance(error, UserFacingError):
            reason = str(error.message)
        else:
            reason = _("Indexing failed. Try re-indexing later.")
        _fail(user_id, document, reason)
