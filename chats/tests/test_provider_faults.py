"""The model provider fails (issue 14): a 429 with Retry-After, an error mid-stream, a timeout.
The partial answer is kept with its status, the person sees why (and how long to wait), the turn
is metered once, and Regenerate then answers."""

import pytest
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant
from metrics.models import UsageLog
from testutils import factories
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer

from .conftest import consume, events

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

REPLY = "Lisbon has light, hills and the river. Porto has the bridges."


@pytest.fixture
def server(settings):
    with FakeServer(FakeOpenAI, script=Script(reply=REPLY)) as fake:
        settings.OPENAI_BASE_URL = f"{fake.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        yield fake


@pytest.fixture
def conversation(owner):
    agent = factories.agent(owner, model="gpt-4o-mini")
    with tenant(owner.id):
        return factories.conversation(owner, agent_=agent)


def _ask(client, conversation, content="Which city for a weekend?"):
    data = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": content},
                       HTTP_ACCEPT="application/json").json()
    return events(consume(client.get(data["stream_url"])))


def test_a_429_with_retry_after_says_how_long_to_wait_is_metered_once_and_regenerate_answers(owner_client, owner, conversation, server):
    server.httpd.script = Script(reply=REPLY, status=429, retry_after=7)
    parsed = _ask(owner_client, conversation)
    name, done = parsed[-1]
    assert name == "done" and done["status"] == "failed"
    assert "try again in 7 seconds" in done["error"]
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
        assert answer.metadata["status"] == "failed" and "7 seconds" in answer.metadata["error"]
        assert UsageLog.objects.filter(success=False).count() == 1 and UsageLog.objects.count() == 1
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "try again in 7 seconds" in page and "Regenerate" in page

    server.httpd.script = Script(reply=REPLY)
    data = owner_client.post(reverse("chats:regenerate", args=[conversation.id]), HTTP_ACCEPT="application/json").json()
    regenerated = events(consume(owner_client.get(data["stream_url"])))
    assert regenerated[-1][1]["status"] == "complete"
    with tenant(owner.id):
        assert UsageLog.objects.count() == 2 and UsageLog.objects.filter(success=True).count() == 1


def test_an_error_mid_stream_keeps_the_words_so_far_marked_failed_and_metered_once(owner_client, owner, conversation, server):
    server.httpd.script = Script(reply=REPLY, fail_after=4, fail_with="disconnect")
    parsed = _ask(owner_client, conversation)
    streamed = "".join(d["t"] for n, d in parsed if n == "delta")
    assert parsed[-1][1]["status"] == "failed" and streamed and REPLY.startswith(streamed)
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
        assert answer.content == streamed and answer.metadata["status"] == "failed"
        assert UsageLog.objects.count() == 1 and UsageLog.objects.get().success is False
