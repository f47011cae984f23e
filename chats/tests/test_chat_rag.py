"""Chat with the user's documents: retrieved passages reach the model and come back as numbered
citations linking to the document and passage; with RAG off, none are used."""

import pytest
from django.urls import reverse

from accounts.models import UserSettings
from chats.models import Message
from core.tenancy import tenant
from rag import indexing
from rag.models import RagDocument

from .conftest import consume, events

pytestmark = pytest.mark.django_db

LEASE = ("# Lease summary\n\n## Rent\n\nThe monthly rent is 1,250 euros, due on the fifth day of each month.\n\n"
         "## Pets\n\nSmall pets are allowed with a deposit of 300 euros.")


@pytest.fixture
def lease(owner):
    with tenant(owner.id):
        document = RagDocument.objects.create(user=owner, title="Flat lease", source="PASTE", content=LEASE)
    indexing.index_document(user_id=owner.id, document_id=document.id)
    return document


def _ask(client, conversation, question):
    data = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": question}, HTTP_ACCEPT="application/json").json()
    return events(consume(client.get(data["stream_url"])))


def test_the_answer_cites_the_users_document(owner_client, owner, conversation, lease):
    parsed = _ask(owner_client, conversation, "How much is the monthly rent and when is it due?")
    sources = [data for name, data in parsed if name == "sources"]
    assert sources and any(c["title"] == "Flat lease" for c in sources[0]["citations"].values())
    done = parsed[-1][1]
    assert "1,250" in "".join(d["t"] for n, d in parsed if n == "delta")  # the offline model answers from the passage
    link = reverse("rag:document", args=[lease.id]) + "#chunk-"
    assert 'class="citation-link"' in done["html"] and link in done["html"]
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
    assert answer.metadata["citations"]["1"]["title"] == "Flat lease"
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert link in page  # the sources list under the answer


def test_with_rag_off_no_document_is_used(owner_client, owner, conversation, lease):
    with tenant(owner.id):
        UserSettings.objects.filter(user=owner).update(rag_enabled=False)
    parsed = _ask(owner_client, conversation, "How much is the monthly rent?")
    assert not [name for name, _ in parsed if name == "sources"]
    assert "citation-link" not in parsed[-1][1]["html"]


def test_another_users_documents_are_never_cited(other_client, other, offline_agent, lease):
    from testutils import factories

    with tenant(other.id):
        conversation = factories.conversation(other, agent_=offline_agent)
    parsed = _ask(other_client, conversation, "How much is the monthly rent?")
    assert not [name for name, _ in parsed if name == "sources"]
