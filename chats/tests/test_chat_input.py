"""Bad input gets a clear error and stores nothing; people's and models' HTML stays inert."""

import pytest
from django.urls import reverse

from chats.models import Conversation, Message
from core.tenancy import tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("content,expected", [("", "Write a message first"), ("   \n ", "Write a message first"), ("x" * 16001, "too long")])
def test_bad_messages_are_refused_and_nothing_is_stored(owner_client, owner, conversation, content, expected):
    url = reverse("chats:message_create", args=[conversation.id])
    as_json = owner_client.post(url, {"content": content}, HTTP_ACCEPT="application/json")
    assert as_json.status_code == 400 and expected in " ".join(as_json.json()["errors"])
    as_page = owner_client.post(url, {"content": content})
    assert as_page.status_code == 400 and expected in as_page.content.decode()
    with tenant(owner.id):
        assert not Message.objects.exists()


def test_bad_first_message_starts_no_conversation(owner_client, owner, offline_agent):
    response = owner_client.post(reverse("chats:new", args=[offline_agent.slug]), {"content": ""})
    assert response.status_code == 400 and "Write a message first" in response.content.decode()
    with tenant(owner.id):
        assert not Conversation.objects.exists()


def test_html_in_my_message_is_shown_inert(owner_client, conversation):
    payload = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": payload}, HTTP_ACCEPT="application/json").json()
    assert "<script>" not in data["user_html"] and "&lt;script&gt;" in data["user_html"]
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert '<script>alert("pwned")' not in page and "onerror=alert(1)>" not in page


def test_search_snippets_escape_message_html(owner_client, owner, conversation):
    with tenant(owner.id):
        Message.objects.create(conversation=conversation, user=owner, role="user", content="budget <b onmouseover=x>bold</b> plan")
    html = owner_client.get(reverse("chats:list"), {"q": "budget"}).content.decode()
    assert "<mark>budget</mark>" in html
    assert "<b onmouseover" not in html  # the snippet is text: escaped, with tags dropped
