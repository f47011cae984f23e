from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.tenancy import tenant
from rag.models import RagDocument, Status

pytestmark = pytest.mark.django_db


def test_reindex_rag_indexes_a_users_documents_with_a_progress_bar(owner, other):
    for user in (owner, other):
        with tenant(user.id):
            RagDocument.objects.create(user=user, title="Notes", source="PASTE", content="# Notes\n\nBuy milk and bread.")
    out = StringIO()
    call_command("reindex_rag", "--user", owner.email, stdout=out)
    assert "1/1" in out.getvalue() and "re-indexed 1 of 1" in out.getvalue()
    with tenant(owner.id):
        assert RagDocument.objects.get().status == Status.INDEXED
    with tenant(other.id):
        assert RagDocument.objects.get().status == Status.QUEUED


def test_reindex_rag_refuses_an_unusable_embedder_and_unknown_user():
    with pytest.raises(CommandError, match="not usable"):
        call_command("reindex_rag", "--embedder", "openai")
    with pytest.raises(CommandError, match="no user"):
        call_command("reindex_rag", "--user", "nobody@example.com")


def test_the_system_check_names_what_the_vector_store_misses(settings):
    from rag.checks import vector_store_check

    assert vector_store_check(databases=["default"]) == []
    settings.VECTOR_STORE = "pinecone"
    settings.PINECONE_API_KEY = ""
    messages = [m.msg for m in vector_store_check(databases=["default"])]
    assert any("PINECONE_API_KEY" in m or "API key" in m for m in messages)
