"""Indexing runs in Celery, enqueued on commit; transient failures retry with backoff.

Tasks call the work modules (``rag.indexing``, the vector store); nothing in those modules enqueues
a task, so the indexing task itself schedules the compaction that follows a successful index.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .errors import EmbeddingError, VectorStoreError
from .indexing import fail_stuck_documents, index_document, mark_failed_after_retries, requeue_queued_documents
from .models import Status

MAX_RETRIES = 4


# At the soft limit the pipeline fails the document with its reason; at the hard one the worker
# process is killed and ``fail_stuck_documents`` fails it later.
@shared_task(bind=True, name="rag.index_document", max_retries=MAX_RETRIES, acks_late=True, reject_on_worker_lost=True,
             ignore_result=True,
             soft_time_limit=settings.RAG_INDEX_SOFT_TIME_LIMIT, time_limit=settings.RAG_INDEX_TIME_LIMIT)
def index_document_task(self, document_id: str, user_id: str, embedder_name: str | None = None) -> None:
    try:
        document = index_document(user_id=user_id, document_id=document_id, embedder_name=embedder_name)
    except (EmbeddingError, VectorStoreError) as exc:
        retryable = getattr(exc, "retryable", True)
        if retryable and self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries * 5, 300)) from exc
        mark_failed_after_retries(user_id=user_id, document_id=document_id, error=exc)
        return
    if document is not None and document.status == Status.INDEXED:
        compact_vectors_later(user_id)


COMPACT_QUEUE = "maintenance"  # routed in settings (CELERY_TASK_ROUTES)
COMPACT_BATCHES = 2_000
COMPACT_DELAY = 30  # seconds: a burst of uploads is compacted once, after it


def compact_vectors_later(user_id) -> None:
    """Queue moving this user's fresh vectors into the search index, once per burst of indexing
    (on commit, ``COMPACT_DELAY`` seconds later)."""
    if settings.VECTOR_STORE != "pgvector" or not cache.add(f"rag:compact:{user_id}", 1, timeout=COMPACT_DELAY):
        return
    transaction.on_commit(lambda: compact_vectors_task.apply_async(args=[str(user_id)], countdown=COMPACT_DELAY))


@shared_task(name="rag.compact_vectors", ignore_result=True)
def compact_vectors_task(user_id: str | None = None) -> int:
    """Move fresh pgvector rows into the HNSW index, a bounded batch at a time, on the maintenance
    queue (its own worker), so indexing never waits behind it; re-queues itself while rows remain."""
    if settings.VECTOR_STORE != "pgvector":
        return 0
    from .vectorstores.pgvector import PgVectorStore  # only the pgvector store has fresh rows

    moved = PgVectorStore().compact(user_id=user_id, limit=COMPACT_BATCHES)
    if moved >= COMPACT_BATCHES and not settings.CELERY_TASK_ALWAYS_EAGER:
        compact_vectors_task.apply_async(args=[user_id])
    return moved


@shared_task(name="rag.requeue_queued_documents", ignore_result=True)
def requeue_queued_documents_task() -> int:
    """Beat: documents still "Queued" whose task never reached the broker get it again."""
    from core.queue import send

    return requeue_queued_documents(send=lambda document_id, user_id: send(index_document_task, document_id, user_id, None))


@shared_task(name="rag.fail_stuck_documents", ignore_result=True)
def fail_stuck_documents_task() -> int:
    """Beat: fail documents stuck in "Indexing" longer than an indexing task may run."""
    return fail_stuck_documents()
