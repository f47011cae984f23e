"""What a turn may read (issue 07 item 9): the conversation's attachments, its agent's knowledge
(collections, and documents that only its owner's library can match), the whole library otherwise;
a document attached to one conversation is never read in another. Retrieval runs as the runtime
role under the chatting person's RLS, as in production."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.models import UserAgentPermission
from chats.attachments import knowledge_scope
from chats.models import Conversation, ConversationDocument
from chats.streaming import retrieve_passages
from core.tenancy import tenant
from rag import indexing, retrieval
from rag.models import RagDocument, RagSettings
from testutils import factories

from .conftest import consume, events

pytestmark = pytest.mark.django_db

TEXTS = {
    "lease": "# Flat lease\n\nThe monthly rent of the flat is 1,250 euros, due on the fifth day of each month.",
    "garden": "# Garden\n\nWater the tomatoes every morning and prune the roses in March.",
    "boat": "# Boat club\n\nThe boat club rent is 90 euros a month, paid at the harbour office.",
}
QUESTION = "How much is the monthly rent?"


def _document(user, key: str, *, title: str | None = None, collection: str = "") -> RagDocument:
    with tenant(user.id):
        document = RagDocument.objects.create(user=user, title=title or key.title(), source="PASTE",
                                              content=TEXTS[key], collection=collection)
    indexing.index_document(user_id=user.id, document_id=document.id)
    return document


def _attach(user, conversation: Conversation, document: RagDocument) -> ConversationDocument:
    with tenant(user.id):
        return ConversationDocument.objects.create(user=user, conversation=conversation, document=document)


def _conversation(user, agent) -> Conversation:
    with tenant(user.id):
        return Conversation.objects.select_related("agent").get(pk=factories.conversation(user, agent_=agent).pk)


def _titles(user, conversation, question=QUESTION) -> set[str]:
    return {p.citation.title for p in retrieve_passages(user=user, query=question, conversation=conversation)}


def _knowledge(agent, *, collections=(), documents=()):
    agent.config = {**agent.config, "knowledge": {"collections": list(collections),
                                                  "documents": [str(d) for d in documents]}}
    agent.save(update_fields=["config"])
    return agent


@pytest.fixture
def library(owner):
    return {key: _document(owner, key, collection="home" if key != "boat" else "leisure") for key in TEXTS}


# --- the whole library, and attachments ------------------------------------------------------------


def test_without_scope_the_whole_library_is_read(owner, offline_agent, library):
    chat = _conversation(owner, offline_agent)
    assert _titles(owner, chat) >= {"Lease", "Boat"}
    assert knowledge_scope(user=owner, conversation=chat).document_ids is None


def test_a_chats_attachment_is_read_in_that_chat_only(owner, offline_agent):
    library = _document(owner, "garden")
    attached = _document(owner, "lease", title="Attached lease")
    first, second = _conversation(owner, offline_agent), _conversation(owner, offline_agent)
    _attach(owner, first, attached)
    assert "Attached lease" in _titles(owner, first)
    assert "Attached lease" not in _titles(owner, second)
    assert _titles(owner, second, "When do I water the tomatoes?") == {library.title}
    scope = knowledge_scope(user=owner, conversation=second)
    assert scope.document_ids is None and scope.exclude_document_ids == {str(attached.id)}


def test_a_deleted_conversations_attachment_joins_no_other_chat(owner, offline_agent):
    attached = _document(owner, "lease", title="Attached lease")
    gone, kept = _conversation(owner, offline_agent), _conversation(owner, offline_agent)
    link = _attach(owner, gone, attached)
    with tenant(owner.id):
        Conversation.objects.filter(pk=gone.pk).delete()
        link.refresh_from_db()
        assert link.conversation_id is None and link.user_id == owner.id  # the row stays, its owner too
        assert RagDocument.objects.filter(pk=attached.pk).exists()
    assert "Attached lease" not in _titles(owner, kept)


def test_retrieval_settings_collections_narrow_the_library_but_never_the_chats_own_files(owner, offline_agent, library):
    with tenant(owner.id):
        RagSettings.objects.filter(user=owner).update(collections=["leisure"])
    attached = _document(owner, "lease", title="Attached lease")
    chat, plain = _conversation(owner, offline_agent), _conversation(owner, offline_agent)
    _attach(owner, chat, attached)
    assert _titles(owner, chat) == {"Attached lease", "Boat"}
    assert _titles(owner, plain) == {"Boat"}


# --- an agent's knowledge ---------------------------------------------------------------------------


def test_an_agents_collections_limit_what_its_chats_read(owner, library):
    agent = _knowledge(factories.agent(owner, name="Home helper"), collections=["home"])
    chat = _conversation(owner, agent)
    found = _titles(owner, chat)
    assert "Lease" in found and found <= {"Lease", "Garden"}  # the boat club (leisure) also speaks of rent
    assert "Garden" in _titles(owner, chat, "When do I water the tomatoes?") <= {"Lease", "Garden"}


def test_an_agents_scope_and_the_chats_attachments_are_united(owner, library):
    agent = _knowledge(factories.agent(owner, name="Leisure"), collections=["leisure"])
    attached = _document(owner, "garden", title="Attached garden")
    chat = _conversation(owner, agent)
    _attach(owner, chat, attached)
    assert "Boat" in _titles(owner, chat) <= {"Boat", "Attached garden"}
    assert "Attached garden" in _titles(owner, chat, "When do I water the tomatoes?") <= {"Boat", "Attached garden"}


def test_an_attachment_moved_into_a_collection_stays_out_of_other_chats(owner, library):
    agent = _knowledge(factories.agent(owner, name="Home helper"), collections=["home"])
    attached = _document(owner, "boat", title="Attached boat", collection="home")
    elsewhere = _conversation(owner, factories.agent(owner, name="Plain"))
    _attach(owner, elsewhere, attached)
    assert "Attached boat" not in _titles(owner, _conversation(owner, agent))


def test_an_agents_documents_are_read_for_its_owner(owner, library):
    agent = _knowledge(factories.agent(owner, name="Lease only"), documents=[library["lease"].id])
    assert _titles(owner, _conversation(owner, agent)) == {"Lease"}


@pytest.mark.parametrize("shared", ["public", "granted"])
def test_someone_elses_agent_with_a_document_scope_reads_nothing_of_theirs(owner, other, library, shared):
    agent = _knowledge(factories.agent(owner, name="Lease only", is_public=shared == "public"),
                       documents=[library["lease"].id])
    if shared == "granted":
        UserAgentPermission.objects.create(user=other, agent=agent, granted_by=owner)
    theirs = _document(other, "lease", title="Their own lease")
    chat = _conversation(other, agent)
    assert _titles(other, chat) == set()  # neither the owner's lease nor their own library
    assert knowledge_scope(user=other, conversation=chat).document_ids == frozenset()
    # Their own attachment in that chat is still theirs to read.
    attached = _document(other, "boat", title="Their boat")
    _attach(other, chat, attached)
    assert _titles(other, chat) == {"Their boat"}
    assert theirs.title not in _titles(other, chat)


def test_someone_elses_agent_with_collections_reads_only_their_documents_in_those_collections(owner, other, library):
    agent = _knowledge(factories.agent(owner, name="Home", is_public=True), collections=["home"],
                       documents=[library["garden"].id])
    _document(other, "lease", title="Their home lease", collection="home")
    _document(other, "boat", title="Their boat", collection="leisure")
    chat = _conversation(other, agent)
    assert _titles(other, chat) == {"Their home lease"}
    # The owner's garden: never (only their home lease can come back, for any question).
    assert _titles(other, chat, "When do I water the tomatoes?") <= {"Their home lease"}


def test_a_malformed_document_scope_matches_nothing_rather_than_everything(owner, library):
    agent = factories.agent(owner, name="Broken")
    agent.config = {**agent.config, "knowledge": {"documents": ["not-a-uuid"]}}
    agent.save(update_fields=["config"])
    assert _titles(owner, _conversation(owner, agent)) == set()


# --- the retrieval parameters themselves --------------------------------------------------------------


def test_an_empty_document_scope_retrieves_nothing_and_exclusions_hold_in_both_halves(owner, library):
    assert retrieval.retrieve(user=owner, query=QUESTION, document_ids=[]) == []
    only = retrieval.retrieve(user=owner, query=QUESTION, document_ids=[library["boat"].id])
    assert {r.title for r in only} == {"Boat"}
    for mode in ("hybrid", "vector", "text"):
        found = retrieval.retrieve(user=owner, query=QUESTION, mode=mode, exclude_document_ids=[library["lease"].id])
        assert "Lease" not in {r.title for r in found}


def test_a_turn_cites_the_chats_attachment_and_another_chat_does_not(owner, owner_client, offline_agent):
    attached = _document(owner, "lease", title="Attached lease")
    chat, other_chat = _conversation(owner, offline_agent), _conversation(owner, offline_agent)
    _attach(owner, chat, attached)

    def ask(conversation):
        data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": QUESTION},
                                 HTTP_ACCEPT="application/json").json()
        return events(consume(owner_client.get(data["stream_url"])))

    answered = ask(chat)
    sources = [data for name, data in answered if name == "sources"]
    assert sources and {c["title"] for c in sources[0]["citations"].values()} == {"Attached lease"}
    assert "1,250" in "".join(d["t"] for n, d in answered if n == "delta")
    elsewhere = ask(other_chat)
    assert not [name for name, _ in elsewhere if name == "sources"]
    assert "1,250" not in "".join(d["t"] for n, d in elsewhere if n == "delta")
