"""The indexing pipeline: idempotent, failures leave nothing behind, deletes reach the store."""

import pytest
from django.db import connection

from core.tenancy import tenant
from rag import indexing, services
from rag.models import RagChunk, RagDocument, Status

pytestmark = pytest.mark.django_db

TEXT = "# Guide\n\n## Install\n\n" + "Run the installer and accept the licence. " * 30 + "\n\n## Use\n\n" + "Open the app every morning. " * 40


def _vectors(user, document_id):
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM rag_vectors WHERE document_id = %s ORDER BY id", [document_id])
        return [row[0] for row in cursor.fetchall()]


def _add(user, text=TEXT, **kwargs):
    with tenant(user.id):
        document = RagDocument.objects.create(user=user, title="Guide", source="PASTE", content=text, **kwargs)
    indexing.index_document(user_id=user.id, document_id=document.id)
    with tenant(user.id):
        document.refresh_from_db()
    return document


def test_indexing_stores_chunks_vectors_and_state(owner):
    document = _add(owner)
    assert document.status == Status.INDEXED and document.indexed and document.progress == 100
    assert document.embedder == "static" and document.dimension == 256
    with tenant(owner.id):
        chunks = list(RagChunk.objects.filter(document=document).order_by("position"))
    assert len(chunks) == document.chunk_count > 1
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert sorted(document.vector_ids) == sorted(str(c.id) for c in chunks) == _vectors(owner, document.id)
    assert chunks[0].language == "english" and "Install" in chunks[0].heading


def test_indexing_twice_gives_the_same_chunks_and_vectors(owner):
    document = _add(owner)
    with tenant(owner.id):
        first = list(RagChunk.objects.filter(document=document).values_list("id", "content").order_by("position"))
    first_vectors = _vectors(owner, document.id)
    indexing.index_document(user_id=owner.id, document_id=document.id)
    with tenant(owner.id):
        second = list(RagChunk.objects.filter(document=document).values_list("id", "content").order_by("position"))
    assert first == second
    assert _vectors(owner, document.id) == first_vectors


def test_a_shorter_text_on_reindex_drops_the_vectors_it_no_longer_has(owner):
    document = _add(owner)
    before = len(_vectors(owner, document.id))
    with tenant(owner.id):
        RagDocument.objects.filter(pk=document.pk).update(content="# Short\n\nJust one line now.")
    indexing.index_document(user_id=owner.id, document_id=document.id)
    assert before > 1 and len(_vectors(owner, document.id)) == 1
    with tenant(owner.id):
        assert RagChunk.objects.filter(document=document).count() == 1


def test_deleting_a_document_removes_its_vectors_and_chunks(owner):
    document = _add(owner)
    services.document_delete(user=owner, document=document)
    assert _vectors(owner, document.id) == []
    with tenant(owner.id):
        assert not RagChunk.objects.filter(document_id=document.id).exists()
        assert not RagDocument.objects.filter(pk=document.id).exists()


def test_a_document_without_text_fails_clearly_and_leaves_nothing(owner):
    document = _add(owner, text="   ")
    assert document.status == Status.FAILED and "no text" in document.error_message.lower()
    assert document.chunk_count == 0 and _vectors(owner, document.id) == []


def test_a_failure_after_a_good_index_removes_the_old_chunks(owner):
    document = _add(owner)
    with tenant(owner.id):
        RagDocument.objects.filter(pk=document.pk).update(source="URL", source_url="http://127.0.0.1/secret")
    indexing.index_document(user_id=owner.id, document_id=document.id)
    with tenant(owner.id):
        document.refresh_from_db()
        assert not RagChunk.objects.filter(document=document).exists()
    assert document.status == Status.FAILED and "cannot be fetched" in document.error_message
    assert _vectors(owner, document.id) == []


def test_transient_store_failures_retry_then_fail_with_the_reason(owner, settings, monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)  # let the eager retries run their course
    settings.VECTOR_STORE = "pinecone"
    settings.PINECONE_API_KEY = "key"
    settings.PINECONE_INDEX_HOST = "http://127.0.0.1:9"  # nothing listens: the store is unreachable
    with tenant(owner.id):
        document = RagDocument.objects.create(user=owner, title="Guide", source="PASTE", content=TEXT)
    from rag import tasks

    attempts = []
    original = indexing.index_document

    def counting(**kwargs):
        attempts.append(1)
        return original(**kwargs)

    tasks.index_document = counting
    monkeypatch.setattr(tasks, "MAX_RETRIES", 1)
    try:
        # Eager (as in tests) the retries run at once; the countdown applies on a real worker.
        tasks.index_document_task.apply(args=[str(document.id), str(owner.id)], throw=False)
    finally:
        tasks.index_document = original
    with tenant(owner.id):
        document.refresh_from_db()
    assert len(attempts) == tasks.MAX_RETRIES + 1
    assert document.status == Status.FAILED and document.error_message
    assert not RagChunk.objects.filter(document_id=document.id).exists()


def test_fresh_vectors_are_searchable_before_and_after_compaction(owner):
    from rag import retrieval
    from rag.vectorstores.pgvector import PgVectorStore

    document = _add(owner)

    def flags():
        with tenant(owner.id), connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT indexed FROM rag_vectors WHERE document_id = %s", [document.id])
            return {row[0] for row in cursor.fetchall()}

    assert flags() == {False}  # indexing did not wait on the HNSW index
    before = [r.chunk_id for r in retrieval.retrieve(user=owner, query="run the installer", mode="vector", top_k=3)]
    assert PgVectorStore().compact(user_id=owner.id) == document.chunk_count
    assert flags() == {True}
    after = [r.chunk_id for r in retrieval.retrieve(user=owner, query="run the installer", mode="vector", top_k=3)]
    assert before == after and before
