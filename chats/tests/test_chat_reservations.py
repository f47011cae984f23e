"""A turn is reserved against the monthly limits before the model is called, and the reservation
always ends: written into the usage log, or released when the turn fails or is stopped, or
expiring when the process holding it died (a browser leaving mid-answer is tested against the real
server, in test_concurrent_streams). A title from a model is a metered turn."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from chats.models import Conversation, Message
from core.tenancy import tenant
from metrics import limits as metering
from metrics.models import MonthlyUsage, UsageLog
from metrics.plans import utc_month
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer

from .conftest import consume, events

pytestmark = pytest.mark.django_db

REPLY = "Paris is the capital of France and sits on the Seine"


@pytest.fixture
def openai_server(settings):
    with FakeServer(FakeOpenAI, script=Script(reply=REPLY, input_tokens=42, output_tokens=11)) as server:
        settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = f"{server.url}/v1", "sk-test"
        yield server


@pytest.fixture
def tight_limits(settings):
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 3, "tokens": 1_000_000}}


def _post(client, conversation, content="Tell me about rivers"):
    response = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": content}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def _completions(server) -> int:
    return len([r for r in server.requests if r["path"].endswith("/chat/completions")])


def test_a_failed_turn_releases_its_reservation(owner, owner_client, conversation, openai_server, tight_limits):
    from testutils import factories

    agent = factories.agent(owner, model="gpt-4o-mini")
    with tenant(owner.id):
        chat = factories.conversation(owner, agent_=agent)
    openai_server.httpd.script = Script(reply=REPLY, fail_after=2, fail_with="error")
    parsed = events(consume(owner_client.get(_post(owner_client, chat)["stream_url"])))
    assert parsed[-1][1]["status"] == "failed"
    assert metering.usage_turns_in_flight(user=owner) == 0


def test_a_turn_in_flight_counts_and_an_expired_one_does_not(owner, owner_client, conversation, tight_limits):
    year, month = utc_month()
    with tenant(owner.id):
        MonthlyUsage.objects.create(user=owner, year=year, month=month, total_messages=2)
    # Another tab's turn holds the last message of the month.
    held = metering.usage_reserve_turn(user=owner)
    parsed = events(consume(owner_client.get(_post(owner_client, conversation)["stream_url"])))
    assert parsed[-1][0] == "failed" and "used all 3 messages" in parsed[-1][1]["error"]
    with tenant(owner.id):
        assert not Message.objects.filter(role="assistant").exists()
        assert not MonthlyUsage.objects.get(user=owner).exceeded_limit  # only what is used marks the month
    # The process holding it died: once its expiry passes, the reservation no longer counts.
    cache._cache.get_client(write=True).zadd(metering.INFLIGHT_KEY.format(owner.id), {held.member: time.time() - 1})
    with tenant(owner.id):
        question = Message.objects.filter(role="user").order_by("-timestamp").first()
    parsed = events(consume(owner_client.get(reverse("chats:reply_stream", args=[conversation.id, question.id]))))
    assert parsed[-1][0] == "done" and parsed[-1][1]["status"] == "complete"
    with tenant(owner.id):
        assert MonthlyUsage.objects.get(user=owner).total_messages == 3
    assert metering.usage_turns_in_flight(user=owner) == 0


def test_the_title_from_a_model_is_metered_like_a_turn(owner, owner_client, openai_server, django_capture_on_commit_callbacks):
    from testutils import factories

    agent = factories.agent(owner, model="gpt-4o-mini")
    response = owner_client.post(reverse("chats:new", args=[agent.slug]), {"content": "What is the capital of France?"}, HTTP_ACCEPT="application/json")
    with tenant(owner.id):
        conversation = Conversation.objects.get()
        question = Message.objects.get(role="user")
    assert response.status_code == 200 and conversation.title == ""
    with django_capture_on_commit_callbacks(execute=True):
        consume(owner_client.get(reverse("chats:reply_stream", args=[conversation.id, question.id])))
    assert _completions(openai_server) == 2  # the answer, then the title
    with tenant(owner.id):
        conversation.refresh_from_db()
        logs = list(UsageLog.objects.order_by("timestamp").values_list("model", "tokens_input", "tokens_output", "success", "conversation_id"))
        usage = MonthlyUsage.objects.get(user=owner)
    assert conversation.title.startswith("Paris is the capital")
    assert logs == [("gpt-4o-mini", 42, 11, True, conversation.id)] * 2
    assert (usage.total_messages, usage.total_tokens) == (2, 2 * 53)
    assert metering.usage_turns_in_flight(user=owner) == 0


def test_at_the_limit_the_title_comes_from_the_offline_model_without_a_call(owner, owner_client, openai_server, settings, django_capture_on_commit_callbacks):
    from testutils import factories

    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 1, "tokens": 1_000_000}}
    agent = factories.agent(owner, model="gpt-4o-mini")
    owner_client.post(reverse("chats:new", args=[agent.slug]), {"content": "What is the capital of France?"}, HTTP_ACCEPT="application/json")
    with tenant(owner.id):
        conversation = Conversation.objects.get()
        question = Message.objects.get(role="user")
    with django_capture_on_commit_callbacks(execute=True):
        consume(owner_client.get(reverse("chats:reply_stream", args=[conversation.id, question.id])))
    assert _completions(openai_server) == 1  # the answer only: the month's last message is used
    with tenant(owner.id):
        conversation.refresh_from_db()
        assert conversation.title  # named by the offline model
        assert UsageLog.objects.count() == 1
        assert MonthlyUsage.objects.get(user=owner).total_messages == 1
