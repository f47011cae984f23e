"""The conversation page and the conversation list run a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chats.models import Conversation, Message
from core.tenancy import tenant
from testutils import factories

pytestmark = pytest.mark.django_db


def _fill(owner, conversation, count):
    with tenant(owner.id):
        Message.objects.bulk_create([
            Message(conversation=conversation, user=owner, role="user" if i % 2 == 0 else "assistant",
                    content=f"message {i} about travel plans", metadata={"html": f"<p>message {i}</p>", "status": "complete"})
            for i in range(count)
        ])


def _queries(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


def test_conversation_page_queries_do_not_grow_with_messages(owner_client, owner, offline_agent):
    with tenant(owner.id):
        small = factories.conversation(owner, agent_=offline_agent)
        large = factories.conversation(owner, agent_=offline_agent)
    _fill(owner, small, 10)
    _fill(owner, large, 500)
    few = _queries(owner_client, reverse("chats:detail", args=[small.id]))
    many = _queries(owner_client, reverse("chats:detail", args=[large.id]))
    assert few == many
    page = owner_client.get(reverse("chats:detail", args=[large.id])).content.decode()
    assert page.count("data-message-id=") == 500


def test_conversation_list_and_search_queries_do_not_grow(owner_client, owner, offline_agent):
    with tenant(owner.id):
        conversations = [factories.conversation(owner, agent_=offline_agent) for _ in range(3)]
    _fill(owner, conversations[0], 10)
    few = _queries(owner_client, reverse("chats:list"))
    few_search = _queries(owner_client, reverse("chats:list"), q="travel")
    with tenant(owner.id):
        for _ in range(40):
            factories.conversation(owner, agent_=offline_agent)
    for conversation in conversations:
        _fill(owner, conversation, 500)
    assert _queries(owner_client, reverse("chats:list")) == few
    assert _queries(owner_client, reverse("chats:list"), q="travel") == few_search


def test_search_finds_a_conversation_by_a_word_with_a_highlighted_snippet(owner_client, owner, offline_agent):
    with tenant(owner.id):
        hit = factories.conversation(owner, agent_=offline_agent)
        miss = factories.conversation(owner, agent_=offline_agent)
        Conversation.objects.filter(pk=hit.pk).update(title="Holiday")
        Message.objects.create(conversation=hit, user=owner, role="user", content="We should visit the volcanoes of Iceland in spring.")
        Message.objects.create(conversation=miss, user=owner, role="user", content="Groceries for the week.")
    html = owner_client.get(reverse("chats:list"), {"q": "volcano"}).content.decode()  # stemmed: volcanoes
    assert "Holiday" in html and "<mark>volcanoes</mark>" in html
    assert reverse("chats:detail", args=[miss.id]) not in html


def test_search_never_returns_another_users_messages(other_client, owner, offline_agent):
    with tenant(owner.id):
        mine = factories.conversation(owner, agent_=offline_agent)
        Message.objects.create(conversation=mine, user=owner, role="user", content="my secret volcano plan")
    html = other_client.get(reverse("chats:list"), {"q": "volcano"}).content.decode()
    assert "secret" not in html and reverse("chats:detail", args=[mine.id]) not in html


def test_sidebar_queries_do_not_grow_with_conversations_or_pins(owner_client, owner, offline_agent):
    from chats.models import ConversationPin

    with tenant(owner.id):
        open_one = factories.conversation(owner, agent_=offline_agent)
        factories.conversation(owner, agent_=offline_agent)
    detail = reverse("chats:detail", args=[open_one.id])
    few = _queries(owner_client, detail)
    few_sidebar = _queries(owner_client, reverse("chats:sidebar"))
    few_search = _queries(owner_client, reverse("chats:sidebar"), sq="hel")
    with tenant(owner.id):
        others = [factories.conversation(owner, agent_=factories.agent(owner, name=f"Agent {i}")) for i in range(40)]
        ConversationPin.objects.bulk_create([ConversationPin(conversation=c, user=owner) for c in others[:10]])
    html = owner_client.get(detail).content.decode()
    assert html.count(' data-conversation="') == 42 and html.count(">Unpin</button>") == 10
    assert _queries(owner_client, detail) == few
    assert _queries(owner_client, reverse("chats:sidebar")) == few_sidebar
    assert _queries(owner_client, reverse("chats:sidebar"), sq="hel") == few_search
