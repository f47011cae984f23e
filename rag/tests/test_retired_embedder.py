"""The retired feature-hashing embedder (``EMBEDDER=offline``): refused at start-up with what to do
(rag.E002), refused by the commands and by indexing without retries, and its stored vectors
replaced by ``reindex_rag --embedder static``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from core.tenancy import tenant
from rag import indexing, tasks
from rag.checks import embedder_check, vector_store_check
from rag.models import RagChunk, RagDocument, Status
from rag.retrieval import text_search, vector_search
from rag.vectorstores import namespace_for_user
from rag.vectorstores.base import VectorRecord, chunk_metadata
from rag.vectorstores.pgvector import PgVectorStore

TEXT = "# Garden\n\nWater the tomatoes every morning and pick the basil before it flowers."


def test_the_system_check_says_the_embedder_was_retired_and_what_to_do(settings):
    assert embedder_check() == []  # the default, static
    settings.EMBEDDER = "Offline"
    (error,) = embedder_check()
    assert error.id == "rag.E002" and error.is_serious()
    assert "feature hashing embedder (offline) was retired" in error.msg
    assert "EMBEDDER=static" in error.msg and "manage.py reindex_rag --embedder static" in error.msg
    assert "full-text search still finds them" in error.msg
    assert error.hint == "EMBEDDER may be one of: static, openai, sentence-transformers."


@pytest.mark.django_db
def test_manage_py_check_stops_on_it_and_the_store_check_does_not_repeat_it(settings):
    settings.EMBEDDER = "offline"
    with pytest.raises(SystemCheckError, match=r"rag\.E002"):
        call_command("check", stdout=StringIO(), stderr=StringIO())
    assert vector_store_check(databases=["default"]) == []


@pytest.mark.django_db
def test_the_commands_refuse_it_with_the_same_explanation():
    for command in (("reindex_rag", "--embedder", "offline"), ("evaluate_rag", "--embedder", "offline")):
        with pytest.raises(CommandError, match="feature hashing embedder \\(offline\\) was retired"):
            call_command(*command, stdout=StringIO())


@pytest.mark.django_db
def test_indexing_with_it_fails_the_document_at_once_with_the_reason(owner, settings, monkeypatch):
    from config.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    settings.EMBEDDER = "offline"
    with tenant(owner.id):
        document = RagDocument.objects.create(user=owner, title="Garden", source="PASTE", content=TEXT)
    attempts = []
    original = tasks.index_document

    def counting(**kwargs):
        attempts.append(1)
        return original(**kwargs)

    monkeypatch.setattr(tasks, "index_document", counting)
    tasks.index_document_task.apply(args=[str(document.id), str(owner.id)], throw=False)
    with tenant(owner.id):
        document.refresh_from_db()
    assert attempts == [1]  # no retries: only a change of configuration helps
    assert document.status == Status.FAILED and "was retired" in document.error_message


def _vectors(document_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, embedder, dimension FROM rag_vectors WHERE document_id = %s ORDER BY id",
                       [document_id])
        return cursor.fetchall()


@pytest.mark.django_db
def test_reindexing_with_static_replaces_the_retired_embedders_vectors(owner):
    with tenant(owner.id):
        document = RagDocument.objects.create(user=owner, title="Garden", source="PASTE", content=TEXT)
    indexing.index_document(user_id=owner.id, document_id=document.id)
    with tenant(owner.id):
        document.refresh_from_db()
        chunks = list(RagChunk.objects.filter(document=document).values_list("id", "position"))
    chunk_ids = sorted(str(chunk_id) for chunk_id, _ in chunks)
    # As a deployment that indexed with feature hashing has it: 512-dimension vectors marked "offline",
    # one per chunk, under the chunks' ids.
    PgVectorStore(embedder="offline").upsert(namespace=namespace_for_user(owner.id), records=[
        VectorRecord(id=str(chunk_id), values=[1.0] + [0.0] * 511,
                     metadata=chunk_metadata(document_id=document.id, chunk_index=position, title=document.title))
        for chunk_id, position in chunks
    ])
    with tenant(owner.id):
        RagDocument.objects.filter(pk=document.pk).update(embedder="offline", dimension=512)
        assert {(embedder, dimension) for _, embedder, dimension in _vectors(document.id)} == {("offline", 512)}
        # Until it is re-indexed the vector half never sees it; the full-text half still does.
        assert vector_search(user=owner, query="watering tomatoes") == []
        assert text_search(user=owner, query="tomatoes basil")

    out = StringIO()
    call_command("reindex_rag", "--embedder", "static", stdout=out)
    assert "re-indexed 1 of 1" in out.getvalue()
    with tenant(owner.id):
        document.refresh_from_db()
        rows = _vectors(document.id)
        assert (document.embedder, document.dimension) == ("static", 256)
        assert [row_id for row_id, _, _ in rows] == chunk_ids  # one per chunk, none left over
        assert {(embedder, dimension) for _, embedder, dimension in rows} == {("static", 256)}
        assert vector_search(user=owner, query="watering tomatoes")
