"""The Anthropic provider, driving the real ``anthropic`` SDK against the fake server."""

from __future__ import annotations

import threading
import time

import pytest

from agents.providers import ChatMessage, Passage, ProviderError, ProviderTimeout, ProviderUnavailable, base, get_provider
from testutils.fakes.anthropic import FakeAnthropic, Script
from testutils.fakes.openai import wait_for_outcome
from testutils.fakes.server import FakeServer

MESSAGES = [
    ChatMessage("system", "You are a cooking assistant."),
    ChatMessage("assistant", "Hello! What are we cooking?"),  # trimmed history may start like this
    ChatMessage("user", "How long do I boil an egg?"),
]


@pytest.fixture(scope="module")
def running_server():
    # One server per module: stopping a FakeServer waits out serve_forever's 0.5 s poll.
    with FakeServer(FakeAnthropic, script=Script()) as fake:
        yield fake


@pytest.fixture
def server(running_server, settings):
    running_server.httpd.script = Script()
    running_server.requests.clear()
    settings.ANTHROPIC_BASE_URL = running_server.url  # the SDK adds /v1 itself
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    return running_server


def stream(**overrides):
    kwargs = {"model": "claude-haiku-4-5", "messages": MESSAGES, "temperature": 0.5, "max_tokens": 300,
              "timeout": 2.0}
    kwargs.update(overrides)
    return get_provider("anthropic").stream(**kwargs)


def header(request: dict, name: str) -> str | None:
    return next((v for k, v in request["headers"].items() if k.lower() == name.lower()), None)


def test_streams_reply_with_usage_from_message_start_and_delta(server):
    server.httpd.script = Script(reply="About nine minutes for a hard egg.", input_tokens=30, output_tokens=9)
    passages = [Passage(1, "Egg guide", "Hard-boiled eggs need nine to ten minutes."),
                Passage(2, "Breakfast", "Soft eggs need six minutes.")]

    events = list(stream(passages=passages))

    texts = [e.text for e in events if e.text]
    assert len(texts) >= 3
    assert "".join(texts) == "About nine minutes for a hard egg."
    assert [e.finished for e in events] == [False] * len(texts) + [True]
    assert events[-1].usage == base.Usage(30, 9, estimated=False)

    (request,) = server.requests
    body = request["json"]
    assert request["path"] == "/v1/messages"
    # anthropic SDK 2.x sends the API key as a bearer token (1.x and older: an x-api-key header).
    assert header(request, "Authorization") == "Bearer sk-ant-test"
    assert header(request, "anthropic-version")
    assert body["model"] == "claude-haiku-4-5"
    assert body["max_tokens"] == 300
    assert body["temperature"] == 0.5
    assert body["stream"] is True
    assert body["system"].startswith("You are a cooking assistant.")
    assert base.format_passages(passages) in body["system"]
    # No system role among the messages, and the leading assistant turn is dropped.
    assert body["messages"] == [{"role": "user", "content": "How long do I boil an egg?"}]
    assert wait_for_outcome(server) == "completed"


def test_models_that_reject_temperature_do_not_get_it(server):
    list(stream(model="claude-opus-4-7"))
    assert "temperature" not in server.requests[0]["json"]


@pytest.mark.parametrize(("fail_with", "message"), [("error", base.MSG_OVERLOADED),
                                                    ("disconnect", base.MSG_INTERRUPTED)])
def test_error_mid_stream_keeps_the_partial_text(server, fail_with, message):
    server.httpd.script = Script(reply="Boil it for nine minutes", fail_after=2, fail_with=fail_with, input_tokens=30)
    received = []

    with pytest.raises(ProviderError) as caught:
        for event in stream():
            received.append(event.text)

    error = caught.value
    assert error.partial_text == "Boil it " == "".join(received)
    assert error.retryable is True
    assert error.message == message
    # Input tokens were reported by message_start; output tokens are estimated.
    assert error.usage.input_tokens == 30 and error.usage.output_tokens >= 2 and error.usage.estimated


@pytest.mark.parametrize("hang_after", [None, 2])
def test_hanging_server_times_out(server, hang_after):
    server.httpd.script = Script(reply="one two three four", hang=2.0, hang_after=hang_after)
    started = time.monotonic()

    with pytest.raises(ProviderTimeout) as caught:
        list(stream(timeout=0.4))

    assert time.monotonic() - started < 1.8  # gave up before the 2 s hang ended
    assert caught.value.retryable is True
    assert caught.value.partial_text == ("" if hang_after is None else "one two ")


def test_cancel_stops_early_and_the_server_sees_the_disconnect(server):
    words = [f"w{i}" for i in range(30)]
    server.httpd.script = Script(reply=" ".join(words), delay=0.03, input_tokens=25)
    cancel = threading.Event()
    events = []

    for event in stream(cancel=cancel):
        events.append(event)
        if len(events) == 2:
            cancel.set()

    assert [e.text for e in events[:2]] == ["w0 ", "w1 "]
    final = events[-1]
    assert len(events) == 3 and final.finished and final.cancelled
    assert final.usage.input_tokens == 25  # reported in message_start
    assert final.usage.estimated is True and final.usage.output_tokens >= 2
    assert wait_for_outcome(server) == "disconnected"
    assert server.requests[0]["chunks_sent"] < len(words)


@pytest.mark.parametrize(
    ("status", "retryable", "message"),
    [(401, False, base.MSG_AUTH), (429, True, base.MSG_RATE_LIMITED), (500, True, base.MSG_SERVER),
     (529, True, base.MSG_OVERLOADED), (400, False, base.MSG_REJECTED)],
)
def test_http_errors_are_mapped(server, status, retryable, message):
    server.httpd.script = Script(status=status)

    with pytest.raises(ProviderError) as caught:
        list(stream())

    assert caught.value.retryable is retryable
    assert caught.value.message == message
    assert caught.value.partial_text == "" and caught.value.usage is None
    assert len(server.requests) == 1  # max_retries=0


def test_wrong_key_is_an_authentication_error(server, settings):
    server.httpd.script = Script(api_key="sk-ant-right")
    with pytest.raises(ProviderError) as caught:
        list(stream())
    assert caught.value.message == base.MSG_AUTH and not caught.value.retryable


def test_not_configured_without_key(settings):
    settings.ANTHROPIC_API_KEY = ""
    provider = get_provider("anthropic")
    assert not provider.is_configured()
    with pytest.raises(ProviderUnavailable):
        list(stream())
