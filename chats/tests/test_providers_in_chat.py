"""Chat turns through the real openai and anthropic SDKs, against fake servers on 127.0.0.1:
stored text, provider token counts and cost; errors mid-stream; timeouts; stopping."""

from decimal import Decimal

import pytest
from django.urls import reverse

from agents import registry
from chats import services
from chats.models import Message
from core.tenancy import tenant
from metrics.models import UsageLog
from testutils import factories
from testutils.fakes.anthropic import FakeAnthropic
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer

from .conftest import consume, events

pytestmark = pytest.mark.django_db

REPLY = "Paris is the capital of France. It sits on the Seine."


@pytest.fixture
def openai_server(settings):
    with FakeServer(FakeOpenAI, script=Script(reply=REPLY, input_tokens=42, output_tokens=11)) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        yield server


@pytest.fixture
def anthropic_server(settings):
    with FakeServer(FakeAnthropic, script=Script(reply=REPLY, input_tokens=40, output_tokens=13)) as server:
        settings.ANTHROPIC_BASE_URL = server.url
        settings.ANTHROPIC_API_KEY = "sk-ant-test"
        yield server


def _turn(client, owner, model, content="What is the capital of France?"):
    agent = factories.agent(owner, model=model, system_prompt="You are a geography tutor.")
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
    data = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": content}, HTTP_ACCEPT="application/json").json()
    return conversation, data


def _answer_and_log(owner):
    with tenant(owner.id):
        return Message.objects.get(role="assistant"), UsageLog.objects.get()


@pytest.mark.parametrize("model,server_fixture,tokens", [
    ("gpt-4o-mini", "openai_server", (42, 11)),
    ("claude-haiku-4-5", "anthropic_server", (40, 13)),
])
def test_streamed_reply_is_stored_with_the_providers_counts_and_cost(request, owner_client, owner, model, server_fixture, tokens):
    server = request.getfixturevalue(server_fixture)
    conversation, data = _turn(owner_client, owner, model)
    parsed = events(consume(owner_client.get(data["stream_url"])))
    assert "".join(d["t"] for name, d in parsed if name == "delta") == REPLY
    answer, log = _answer_and_log(owner)
    assert answer.content == REPLY and answer.metadata["status"] == "complete"
    assert (answer.tokens_input, answer.tokens_output) == tokens
    cost_in, cost_out = registry.get_model(model).cost(*tokens)
    assert (log.tokens_input, log.tokens_output, log.success) == (*tokens, True)
    assert log.cost_input == cost_in and log.cost_output == cost_out and log.total_cost == cost_in + cost_out
    assert log.total_cost > Decimal(0)
    sent = server.requests[-1]["json"]
    assert sent["model"] == model and sent["stream"] is True
    assert "geography tutor" in str(sent)  # the agent's system prompt reached the model


@pytest.mark.parametrize("model,server_fixture", [("gpt-4o-mini", "openai_server"), ("claude-haiku-4-5", "anthropic_server")])
def test_error_mid_stream_keeps_the_partial_answer_and_logs_a_failure(request, owner_client, owner, model, server_fixture):
    server = request.getfixturevalue(server_fixture)
    server.httpd.script = Script(reply=REPLY, fail_after=3, fail_with="error")
    conversation, data = _turn(owner_client, owner, model)
    parsed = events(consume(owner_client.get(data["stream_url"])))
    streamed = "".join(d["t"] for name, d in parsed if name == "delta")
    name, done = parsed[-1]
    assert name == "done" and done["status"] == "failed" and done["error"]
    answer, log = _answer_and_log(owner)
    assert answer.content == streamed and REPLY.startswith(streamed) and streamed
    assert answer.metadata["status"] == "failed"
    assert log.success is False and log.tokens_output > 0


def test_a_timeout_is_a_failed_turn_with_a_clear_message(owner_client, owner, openai_server, settings):
    settings.LLM_TIMEOUT_SECONDS = 0.5
    openai_server.httpd.script = Script(reply=REPLY, hang=3)
    conversation, data = _turn(owner_client, owner, "gpt-4o-mini")
    parsed = events(consume(owner_client.get(data["stream_url"])))
    assert parsed[-1][1]["status"] == "failed"
    assert "too long" in parsed[-1][1]["error"]
    answer, log = _answer_and_log(owner)
    assert answer.content == "" and log.success is False


def test_stop_keeps_the_partial_answer(owner_client, owner, openai_server):
    openai_server.httpd.script = Script(reply=" ".join(f"word{i}" for i in range(60)), delay=0.05)
    conversation, data = _turn(owner_client, owner, "gpt-4o-mini")
    response = owner_client.get(data["stream_url"])
    received = []
    for chunk in response.streaming_content:
        received.append(chunk.decode())
        if len([c for c in received if "event: delta" in c]) == 3:
            stop = owner_client.post(data["stop_url"], HTTP_ACCEPT="application/json")
            assert stop.status_code == 200
    parsed = events("".join(received))
    assert parsed[-1][1]["status"] == "cancelled"
    answer, log = _answer_and_log(owner)
    assert answer.metadata["status"] == "cancelled"
    assert 3 <= len(answer.content.split()) < 60
    assert log.success is False
    from testutils.fakes.openai import wait_for_outcome

    assert wait_for_outcome(openai_server) == "disconnected"  # the model's stream was closed too


def test_a_model_without_credentials_is_refused_before_any_call(owner_client, owner, settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = ""
    conversation, data = _turn(owner_client, owner, "gpt-4o-mini")
    parsed = events(consume(owner_client.get(data["stream_url"])))
    assert parsed[-1][1]["status"] == "failed" and "not available" in parsed[-1][1]["error"]


def test_model_output_html_is_inert(owner_client, owner, openai_server):
    openai_server.httpd.script = Script(reply='Here: <script>alert("x")</script> <img src=x onerror=alert(1)> [link](javascript:alert(2))')
    conversation, data = _turn(owner_client, owner, "gpt-4o-mini")
    consume(owner_client.get(data["stream_url"]))
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "<script>alert" not in page and "<img" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page  # shown as text


def test_cancel_flag_is_per_message(owner):
    services.reply_cancel(message_id="a")
    assert services.reply_cancel_requested("a") and not services.reply_cancel_requested("b")
