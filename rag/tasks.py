"""Indexing runs in Celery, enqueued on commit; transient failures retry with backoff."""

from __future__ import annotations

from celery import shared_task

from .embedders import EmbeddingError
from .indexing import index_document, mark_failed_after_retries
from .vectorstores.base import VectorStoreError

MAX_RETRIES = 4


@shared_task(bind=True, name="rag.index_document", max_retries=MAX_RETRIES, acks_late=True, ignore_result=True)
def index_document_task(self, document_id: str, user_id: str, embedder_name: str | None = None) -> None:
    try:
        index_document(user_id=user_id, document_id=document_id, embedder_name=embedder_name)
    except (EmbeddingError, VectorStoreError) as exc:
        retryable = getattr(exc, "retryable", True)
        if retryable and self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries * 5, 300)) from exc
        mark_failed_after_retries(user_id=user_id, document_id=document_id, error=exc)
