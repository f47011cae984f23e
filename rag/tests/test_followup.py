"""Follow-up questions (issue 08 item 3): a turn retrieves with the conversation's previous user
turns when its question only makes sense with them (``rag.followup``, called by
``chats.streaming.build_context``)."""

from __future__ import annotations

import pytest

from chats.models import Message
from chats.streaming import build_context
from core.tenancy import tenant
from rag.evaluation import LIBRARY_PATH, index_corpus, load_corpus
from rag.followup import context_terms, is_followup, previous_user_turns, retrieval_query
from rag.retrieval import passages_for_chat
from testutils import factories

FIRST = "How do I create a virtual environment?"
SECOND = "and how do I delete it?"
# Real pages of the library set: the venv tutorial, and the library FAQ and the pathlib reference,
# where "delete" alone finds how to delete a file.
DOCUMENTS = ("tutorial-venv", "faq-library", "library-pathlib")


def test_a_follow_up_gets_the_previous_turns_salient_terms_after_its_own_words():
    assert retrieval_query(SECOND, [FIRST]) == "and how do I delete it? create virtual environment"
    # Newest turn first, each stem once, none the question already has.
    assert context_terms("and the packages?", ["Which Python version do I need?", "How do I create a venv?"]) == [
        "create", "venv", "python", "version", "need"]
    assert retrieval_query("¿y cómo lo borro?", ["¿Cómo creo un entorno virtual?"]) == "¿y cómo lo borro? creo entorno virtual"


def test_a_self_contained_question_changes_subject_without_the_context():
    assert not is_followup("How do I parse a JSON document with the json module?")
    assert retrieval_query("How do I parse a JSON document with the json module?", [FIRST]) == (
        "How do I parse a JSON document with the json module?")
    assert is_followup("What about Windows?") and is_followup("Can I rename them?") and is_followup("deleting?")
    assert retrieval_query(SECOND, []) == SECOND


def test_the_previous_user_turns_leave_out_answers_and_the_question_itself():
    history = [("user", FIRST), ("assistant", "Run python3 -m venv tutorial-env."), ("user", SECOND)]
    assert previous_user_turns(history, SECOND) == [FIRST]
    assert previous_user_turns([("user", SECOND)], SECOND) == []


@pytest.mark.django_db
def test_the_second_turn_of_a_conversation_retrieves_with_the_first(owner, settings):
    settings.EMBEDDER = "static"
    library = load_corpus(LIBRARY_PATH).select(DOCUMENTS)
    indexed = index_corpus(owner, library)
    venv = indexed.document_ids["tutorial-venv"]
    # Alone, the second question is about deleting anything: a file.
    alone = passages_for_chat(user=owner, query=SECOND)
    assert alone and alone[0].citation.document_id != venv
    with tenant(owner.id):
        conversation = factories.conversation(owner)
        Message.objects.create(conversation=conversation, user=owner, role="user", content=FIRST)
        Message.objects.create(conversation=conversation, user=owner, role="assistant",
                               content="Run python3 -m venv tutorial-env, then activate it.")
        second = Message.objects.create(conversation=conversation, user=owner, role="user", content=SECOND)
    context = build_context(user=owner, conversation=conversation, user_message=second)
    cited = [citation.document_id for citation in context.citations]
    assert cited and cited[0] == venv, [c.title for c in context.citations]
    assert set(cited[:3]) == {venv}, [c.title for c in context.citations]
    # What the model reads: the venv passages, and the question as the user wrote it.
    assert "virtual environment" in context.passages[0].text.lower()
    assert context.messages[-1].content == SECOND


@pytest.mark.django_db
def test_a_new_subject_in_the_same_conversation_retrieves_with_its_own_words(owner, settings):
    settings.EMBEDDER = "static"
    indexed = index_corpus(owner, load_corpus(LIBRARY_PATH).select(DOCUMENTS))
    with tenant(owner.id):
        conversation = factories.conversation(owner)
        Message.objects.create(conversation=conversation, user=owner, role="user", content=FIRST)
        question = Message.objects.create(conversation=conversation, user=owner, role="user",
                                          content="How do I delete a file with os.remove?")
    context = build_context(user=owner, conversation=conversation, user_message=question)
    assert context.citations[0].document_id == indexed.document_ids["faq-library"]


# --- the optional rewrite by a real model -------------------------------------------------------------


@pytest.fixture
def openai_server(settings):
    from testutils.fakes.openai import FakeOpenAI, Script
    from testutils.fakes.server import FakeServer

    # Not what the condensed query would find (the venv tutorial): retrieval must use the model's query.
    script = Script(reply="How do I remove a file with Path.unlink in pathlib?", input_tokens=30, output_tokens=8)
    with FakeServer(FakeOpenAI, script=script) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        yield server


def _two_turns(owner, model):
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=factories.agent(owner, model=model))
        Message.objects.create(conversation=conversation, user=owner, role="user", content=FIRST)
        second = Message.objects.create(conversation=conversation, user=owner, role="user", content=SECOND)
    return conversation, second


@pytest.mark.django_db
def test_with_the_setting_a_real_model_rewrites_the_follow_up_and_the_call_is_metered(owner, settings, openai_server):
    from metrics.models import UsageLog

    settings.EMBEDDER = "static"
    settings.RAG_FOLLOWUP_REWRITE = True
    indexed = index_corpus(owner, load_corpus(LIBRARY_PATH).select(DOCUMENTS))
    conversation, second = _two_turns(owner, "gpt-4o-mini")
    context = build_context(user=owner, conversation=conversation, user_message=second)
    assert len(openai_server.requests) == 1
    sent = str(openai_server.requests[0]["json"]["messages"])
    assert FIRST in sent and SECOND in sent
    assert context.citations[0].document_id == indexed.document_ids["library-pathlib"]
    with tenant(owner.id):
        log = UsageLog.objects.get()
    assert (log.model, log.tokens_input, log.tokens_output, log.success) == ("gpt-4o-mini", 30, 8, True)
    assert log.conversation_id == conversation.id


@pytest.mark.django_db
def test_without_the_setting_or_with_the_offline_model_nothing_is_asked(owner, settings, openai_server):
    from metrics.models import UsageLog

    settings.EMBEDDER = "static"
    index_corpus(owner, load_corpus(LIBRARY_PATH).select(DOCUMENTS))
    conversation, second = _two_turns(owner, "gpt-4o-mini")
    build_context(user=owner, conversation=conversation, user_message=second)  # off by default
    settings.RAG_FOLLOWUP_REWRITE = True
    offline_conversation, offline_second = _two_turns(owner, "offline")
    context = build_context(user=owner, conversation=offline_conversation, user_message=offline_second)
    assert openai_server.requests == []
    with tenant(owner.id):
        assert not UsageLog.objects.exists()
    assert context.citations  # the condensed query still retrieves


@pytest.mark.django_db
def test_a_failed_rewrite_falls_back_to_the_condensed_query(owner, settings, openai_server):
    settings.EMBEDDER = "static"
    settings.RAG_FOLLOWUP_REWRITE = True
    openai_server.httpd.script.status = 500
    indexed = index_corpus(owner, load_corpus(LIBRARY_PATH).select(DOCUMENTS))
    conversation, second = _two_turns(owner, "gpt-4o-mini")
    context = build_context(user=owner, conversation=conversation, user_message=second)
    assert openai_server.requests  # it was asked
    assert context.citations[0].document_id == indexed.document_ids["tutorial-venv"]
