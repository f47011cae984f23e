"""One user's query never returns another user's chunks, in both vector stores, end to end."""

import pytest

from core.tenancy import tenant
from rag import indexing, retrieval
from rag.models import RagDocument
from rag.vectorstores.pinecone import close_clients
from testutils.fakes.pinecone import fake_pinecone
from testutils.testing import make_user

pytestmark = pytest.mark.django_db

ALICE_DOC = "# Alice's garden\n\nThe tomatoes need water every morning; the basil likes shade."
BOB_DOC = "# Bob's garden\n\nThe tomatoes need water every evening; the peppers like full sun."


def _index(user, text):
    with tenant(user.id):
        document = RagDocument.objects.create(user=user, title=text.splitlines()[0][2:], source="PASTE", content=text)
    indexing.index_document(user_id=user.id, document_id=document.id)
    return document


def _assert_isolated(alice, bob, alice_doc, bob_doc):
    for user, mine, theirs in ((alice, alice_doc, bob_doc), (bob, bob_doc, alice_doc)):
        for mode in ("hybrid", "vector", "text"):
            results = retrieval.retrieve(user=user, query="when do the tomatoes need water", top_k=10, mode=mode)
            documents = {r.document_id for r in results}
            assert documents == {str(mine.id)}, (mode, documents)
            assert str(theirs.id) not in documents


def test_pgvector_keeps_users_apart():
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    _assert_isolated(alice, bob, _index(alice, ALICE_DOC), _index(bob, BOB_DOC))


def test_pinecone_keeps_users_apart(settings):
    with fake_pinecone(dimension=256, api_key="pc-key") as server:  # the default (static) embedder
        settings.VECTOR_STORE = "pinecone"
        settings.PINECONE_API_KEY = "pc-key"
        settings.PINECONE_INDEX_HOST = server.url
        try:
            alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
            alice_doc, bob_doc = _index(alice, ALICE_DOC), _index(bob, BOB_DOC)
            namespaces = {r["body"].get("namespace") for r in server.requests if r["path"].startswith("/vectors/upsert")}
            assert namespaces == {f"user-{alice.id}", f"user-{bob.id}"}
            _assert_isolated(alice, bob, alice_doc, bob_doc)
        finally:
            close_clients()
