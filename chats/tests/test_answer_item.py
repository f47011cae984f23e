"""The answer's list item after a stream is the server's: the ``done`` event carries it rendered as
the conversation page renders it (status note and sources included), so the page never builds a
note of its own."""

import re

import pytest
from django.urls import reverse

from chats import services
from chats.models import Message
from core.tenancy import tenant
from testutils import factories

from .conftest import consume, events

pytestmark = pytest.mark.django_db


def _post(client, conversation, content="Plan a weekend in Lisbon"):
    url = reverse("chats:message_create", args=[conversation.id])
    return client.post(url, {"content": content}, HTTP_ACCEPT="application/json").json()


def _item_on_page(client, conversation, message_id) -> str:
    page = client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    match = re.search(rf'<li class="[^"]*" id="m-{message_id}".*?</li>(?=<li|\s*</ol>)', page, re.S)
    assert match, "the answer is on the page"
    return match.group(0)


def test_a_stopped_answer_comes_with_its_note_as_the_page_shows_it(owner_client, owner, conversation):
    data = _post(owner_client, conversation)
    services.reply_cancel(message_id=data["message_id"])  # stopped before the first words
    name, done = events(consume(owner_client.get(data["stream_url"])))[-1]
    assert name == "done" and done["status"] == "cancelled"
    assert 'class="msg msg-assistant msg-cancelled"' in done["item"]
    assert '<p class="msg-note">Stopped before the end.</p>' in done["item"]
    assert done["item"] == _item_on_page(owner_client, conversation, done["message_id"])


def test_a_failed_answer_comes_with_its_error_as_the_page_shows_it(owner_client, owner, settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = ""
    agent = factories.agent(owner, model="gpt-4o-mini")
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
    data = _post(owner_client, conversation)
    name, done = events(consume(owner_client.get(data["stream_url"])))[-1]
    assert name == "done" and done["status"] == "failed"
    assert 'role="alert">This model is not available: its provider is not configured.</p>' in done["item"]
    assert done["item"] == _item_on_page(owner_client, conversation, done["message_id"])


def test_a_replayed_answer_comes_with_its_item_too(owner_client, owner, conversation):
    data = _post(owner_client, conversation)
    first = events(consume(owner_client.get(data["stream_url"])))[-1][1]
    again = events(consume(owner_client.get(data["stream_url"])))
    assert [name for name, _ in again] == ["done"] and again[0][1]["item"] == first["item"]
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
    assert f'id="m-{answer.id}"' in first["item"] and "offline" in first["item"].lower()
