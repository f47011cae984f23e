"""Who may chat with what: outsiders get 404 everywhere; private agents need a grant."""

import pytest
from django.urls import reverse

from agents.models import UserAgentPermission
from chats.models import Conversation, Message
from core.tenancy import tenant
from testutils import factories

from .conftest import consume

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(owner_client, owner, conversation):
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "Mine"}, HTTP_ACCEPT="application/json").json()
    with tenant(owner.id):
        return Message.objects.get(pk=data["message_id"])


def _urls(conversation, message):
    c, m = conversation.id, message.id
    return [
        ("get", reverse("chats:detail", args=[c])),
        ("post", reverse("chats:message_create", args=[c])),
        ("get", reverse("chats:reply_stream", args=[c, m])),
        ("post", reverse("chats:reply_generate", args=[c, m])),
        ("post", reverse("chats:reply_stop", args=[c, m])),
        ("post", reverse("chats:regenerate", args=[c])),
        ("post", reverse("chats:rename", args=[c])),
        ("post", reverse("chats:delete", args=[c])),
    ]


def test_another_users_conversation_is_a_404_everywhere(other_client, owner, conversation, asked):
    for method, url in _urls(conversation, asked):
        response = getattr(other_client, method)(url, {"content": "x", "title": "x"})
        assert response.status_code == 404, url
    with tenant(owner.id):
        assert Conversation.objects.filter(pk=conversation.pk, title=conversation.title).exists()
        assert Message.objects.filter(conversation=conversation).count() == 1


def test_anonymous_visitors_are_sent_to_login(client, conversation, asked):
    for method, url in _urls(conversation, asked):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


@pytest.fixture
def private_agent(staff):
    return factories.agent(staff, is_public=False, name="Secret agent")


def test_private_agent_without_a_grant_is_a_404_for_the_chat_url(owner_client, private_agent):
    assert owner_client.get(reverse("chats:new", args=[private_agent.slug])).status_code == 404
    assert owner_client.post(reverse("chats:new", args=[private_agent.slug]), {"content": "hi"}).status_code == 404
    assert owner_client.get(reverse("agents:detail", args=[private_agent.slug])).status_code == 404


def test_revoked_grant_closes_the_chat_and_the_stream(owner_client, owner, staff, private_agent):
    grant = UserAgentPermission.objects.create(user=owner, agent=private_agent, granted_by=staff)
    response = owner_client.post(reverse("chats:new", args=[private_agent.slug]), {"content": "hello"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    with tenant(owner.id):
        conversation = Conversation.objects.get()
        question = Message.objects.get()
    grant.delete()
    stream = owner_client.get(reverse("chats:reply_stream", args=[conversation.id, question.id]))
    assert stream.status_code == 404
    assert owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "more"}).status_code == 404
    # The history stays readable; the page says why it cannot go on.
    page = owner_client.get(reverse("chats:detail", args=[conversation.id]))
    assert page.status_code == 200 and "no longer available" in page.content.decode()


def test_unknown_agent_slug_is_a_404(owner_client):
    assert owner_client.get(reverse("chats:new", args=["no-such-agent"])).status_code == 404


def test_deactivated_agent_cannot_be_chatted_with(owner_client, offline_agent):
    offline_agent.is_active = False
    offline_agent.save()
    assert owner_client.get(reverse("chats:new", args=[offline_agent.slug])).status_code == 404


def test_streaming_someone_elses_answer_id_is_a_404(owner_client, owner, conversation, asked):
    consume(owner_client.get(reverse("chats:reply_stream", args=[conversation.id, asked.id])))
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
    # An assistant message is not something to answer.
    assert owner_client.get(reverse("chats:reply_stream", args=[conversation.id, answer.id])).status_code == 404
