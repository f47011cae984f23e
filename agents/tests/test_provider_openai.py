"""The OpenAI-compatible provider, driving the real ``openai`` SDK against the fake server."""

from __future__ import annotations

import socket
import threading
import time

import openai
import pytest

from agents.providers import ChatMessage, Passage, ProviderError, ProviderTimeout, ProviderUnavailable, base, get_provider
from testutils.fakes.openai import FakeOpenAI, Script, fake_embedding, wait_for_outcome
from testutils.fakes.server import FakeServer

MESSAGES = [
    ChatMessage("system", "You are a geography tutor. Answer briefly."),
    ChatMessage("user", "What is the capital of France?"),
    ChatMessage("assistant", "Do you mean today?"),
    ChatMessage("user", "Yes, today."),
]


@pytest.fixture(scope="module")
def running_server():
    # One server per module: stopping a FakeServer waits out serve_forever's 0.5 s poll.
    with FakeServer(FakeOpenAI, script=Script()) as fake:
        yield fake


@pytest.fixture
def server(running_server, settings):
    running_server.httpd.script = Script()
    running_server.requests.clear()
    settings.OPENAI_BASE_URL = f"{running_server.url}/v1"
    settings.OPENAI_API_KEY = "sk-test-key"
    return running_server


def stream(**overrides):
    kwargs = {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.2, "max_tokens": 256, "timeout": 2.0}
    kwargs.update(overrides)
    return get_provider("openai").stream(**kwargs)


def header(request: dict, name: str) -> str | None:
    return next((v for k, v in request["headers"].items() if k.lower() == name.lower()), None)


def test_streams_reply_in_pieces_with_provider_usage_and_sends_the_request(server):
    server.httpd.script = Script(reply="The capital of France is Paris.", input_tokens=42, output_tokens=7)
    passages = [Passage(1, "Atlas", "Paris is the capital of France.", "https://example.org/atlas")]

    events = list(stream(passages=passages))

    texts = [e.text for e in events if e.text]
    assert len(texts) >= 3
    assert "".join(texts) == "The capital of France is Paris."
    assert [e.finished for e in events] == [False] * len(texts) + [True]
    assert events[-1].usage == base.Usage(42, 7, estimated=False)
    assert events[-1].cancelled is False

    (request,) = server.requests
    body = request["json"]
    assert request["path"] == "/v1/chat/completions"
    assert header(request, "Authorization") == "Bearer sk-test-key"
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 256
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    system, *rest = body["messages"]
    assert system["role"] == "system"
    assert system["content"].startswith("You are a geography tutor. Answer briefly.")
    assert base.format_passages(passages) in system["content"]
    assert "[1] Atlas (https://example.org/atlas)\nParis is the capital of France." in system["content"]
    assert rest == [{"role": m.role, "content": m.content} for m in MESSAGES[1:]]
    assert wait_for_outcome(server) == "completed"


def test_server_without_usage_gives_estimated_usage_and_local_servers_need_no_key(server, settings):
    settings.OPENAI_API_KEY = ""  # e.g. Ollama: only a base URL
    server.httpd.script = Script(reply="Paris, of course.", usage=False)
    provider = get_provider("openai")
    assert provider.is_configured()

    events = list(stream())

    usage = events[-1].usage
    assert usage.estimated is True
    assert usage.input_tokens > 10 and usage.output_tokens >= 3
    assert header(server.requests[0], "Authorization") == "Bearer not-needed"


@pytest.mark.parametrize("fail_with", ["disconnect", "error"])
def test_error_mid_stream_keeps_the_partial_text(server, fail_with):
    server.httpd.script = Script(reply="one two three four five six", fail_after=3, fail_with=fail_with)
    received = []

    with pytest.raises(ProviderError) as caught:
        for event in stream():
            received.append(event.text)

    error = caught.value
    assert error.partial_text == "one two three " == "".join(received)
    assert error.retryable is True
    assert error.usage.estimated is True and error.usage.output_tokens >= 3
    assert not isinstance(error, ProviderTimeout)


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
    server.httpd.script = Script(reply=" ".join(words), delay=0.03)
    cancel = threading.Event()
    events = []

    for event in stream(cancel=cancel):
        events.append(event)
        if len(events) == 2:
            cancel.set()

    assert [e.text for e in events[:2]] == ["w0 ", "w1 "]
    final = events[-1]
    assert len(events) == 3 and final.finished and final.cancelled
    assert final.usage.estimated is True and final.usage.output_tokens >= 2
    assert wait_for_outcome(server) == "disconnected"
    assert server.requests[0]["chunks_sent"] < len(words)


def test_cancel_before_start_sends_nothing(server):
    cancel = threading.Event()
    cancel.set()
    (final,) = list(stream(cancel=cancel))
    assert final.cancelled and final.finished and final.usage == base.Usage(0, 0)
    assert server.requests == []


@pytest.mark.parametrize(
    ("status", "retryable", "message"),
    [(401, False, base.MSG_AUTH), (429, True, base.MSG_RATE_LIMITED), (500, True, base.MSG_SERVER),
     (400, False, base.MSG_REJECTED)],
)
def test_http_errors_are_mapped(server, status, retryable, message):
    server.httpd.script = Script(status=status)

    with pytest.raises(ProviderError) as caught:
        list(stream())

    assert caught.value.retryable is retryable
    assert str(caught.value.message) == str(message)
    assert caught.value.partial_text == "" and caught.value.usage is None
    assert len(server.requests) == 1  # max_retries=0: the chat service decides about retries


def test_wrong_key_is_an_authentication_error(server, settings):
    server.httpd.script = Script(api_key="sk-right")
    settings.OPENAI_API_KEY = "sk-wrong"
    with pytest.raises(ProviderError) as caught:
        list(stream())
    assert caught.value.message == base.MSG_AUTH and not caught.value.retryable


def test_unreachable_server_is_a_retryable_connection_error(settings):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{port}/v1"
    settings.OPENAI_API_KEY = "sk-test-key"
    with pytest.raises(ProviderError) as caught:
        list(stream())
    assert caught.value.retryable and caught.value.message == base.MSG_CONNECTION


def test_not_configured_without_key_or_base_url(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    provider = get_provider("openai")
    assert not provider.is_configured()
    with pytest.raises(ProviderUnavailable):
        list(stream())


def test_fake_serves_embeddings_models_and_plain_completions(server):
    client = openai.OpenAI(api_key="sk-test-key", base_url=f"{server.url}/v1", max_retries=0, timeout=2.0)

    default = client.embeddings.create(model="text-embedding-3-small", input=["alpha", "beta"])  # base64
    floats = client.embeddings.create(model="text-embedding-3-small", input=["alpha"], dimensions=16,
                                      encoding_format="float")
    assert [d.index for d in default.data] == [0, 1]
    assert default.data[0].embedding == pytest.approx(fake_embedding("alpha", 8), abs=1e-6)
    assert default.data[0].embedding != pytest.approx(default.data[1].embedding)
    assert len(floats.data[0].embedding) == 16
    assert floats.data[0].embedding == pytest.approx(fake_embedding("alpha", 16))
    assert default.usage.prompt_tokens == 2

    assert "gpt-4o-mini" in [m.id for m in client.models.list()]

    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content == Script().reply
    assert completion.usage.prompt_tokens == 1
