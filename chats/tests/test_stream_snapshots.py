"""Markdown while streaming (issue 07 item 6): the server publishes the answer at a bounded rate,
each delta carrying the answer so far rendered by the one markdown-it + nh3 path; snapshots can be
turned off (plain deltas); a provider that goes silent still has its words published, and Stop
ends a turn whose provider is stuck."""

from __future__ import annotations

import json
import time

import pytest
from django.urls import reverse

from chats import streaming
from chats.models import Message
from chats.rendering import render_markdown
from core.tenancy import tenant
from testutils import factories

from .conftest import consume, events

pytestmark = pytest.mark.django_db(transaction=True)


class ScriptedProvider:
    """A provider whose pieces come at given moments (seconds after the call starts)."""

    name = "scripted"

    def __init__(self, pieces, *, hang_after: float | None = None):
        self.pieces = pieces  # [(delay before this piece, text)]
        self.hang_after = hang_after

    def is_configured(self):
        return True

    def stream(self, *, model, messages, temperature, max_tokens, passages=None, cancel=None, timeout=None):
        from agents.providers import StreamEvent, Usage

        for delay, text in self.pieces:
            time.sleep(delay)
            if cancel is not None and cancel.is_set():
                yield StreamEvent(usage=Usage(input_tokens=3, output_tokens=1), finished=True, cancelled=True)
                return
            yield StreamEvent(text=text)
        if self.hang_after is not None:
            time.sleep(self.hang_after)  # stuck on the network: never looks at cancel
        yield StreamEvent(usage=Usage(input_tokens=3, output_tokens=len(self.pieces)), finished=True)


@pytest.fixture
def chat(owner):
    agent = factories.agent(owner, is_public=True, name="Writer")
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
    return conversation


def _turn(client, conversation, monkeypatch, provider):
    monkeypatch.setattr(streaming, "provider_for_model", lambda model_id: provider)
    data = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "Write it"},
                       HTTP_ACCEPT="application/json").json()
    return data


def _timed_events(response):
    """(seconds since the first byte, event name, data) for each SSE event."""
    out, started, buffer = [], None, ""
    for chunk in response.streaming_content:
        now = time.monotonic()
        started = started if started is not None else now
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
            if "event" in lines:
                out.append((now - started, lines["event"], json.loads(lines["data"])))
    return out


def test_each_delta_carries_the_answer_so_far_as_sanitised_markdown(owner_client, chat, monkeypatch):
    pieces = [(0, "# Plan\n\n"), (0.15, "- **one**\n"), (0.15, "- two <script>alert(1)</script>\n"), (0.15, "\n| a | b |\n|---|---|\n| 1 | 2 |\n")]
    data = _turn(owner_client, chat, monkeypatch, ScriptedProvider(pieces))
    parsed = events(consume(owner_client.get(data["stream_url"])))
    deltas = [d for name, d in parsed if name == "delta"]
    assert len(deltas) >= 3  # the pieces came 150 ms apart: each went out on its own
    so_far = ""
    for delta in deltas:
        so_far += delta["t"]
        assert delta["html"] == render_markdown(so_far)
    assert "<h1>Plan</h1>" in deltas[0]["html"] and "<strong>one</strong>" in deltas[1]["html"]
    assert "<script>" not in "".join(d["html"] for d in deltas) and "&lt;script&gt;" in deltas[-1]["html"]
    assert "<table>" in deltas[-1]["html"]
    with tenant(chat.user_id):
        answer = Message.objects.get(role="assistant")
    assert so_far == answer.content and deltas[-1]["html"] == answer.metadata["html"]


def test_text_goes_out_at_a_bounded_rate_and_the_first_words_at_once(owner_client, chat, monkeypatch, settings):
    settings.CHAT_STREAM_INTERVAL_MS = 200
    pieces = [(0, "First ")] + [(0.01, f"w{i} ") for i in range(60)]  # about 0.6 s of words
    data = _turn(owner_client, chat, monkeypatch, ScriptedProvider(pieces))
    timed = _timed_events(owner_client.get(data["stream_url"]))
    deltas = [(at, d) for at, name, d in timed if name == "delta"]
    assert deltas[0][1]["t"] == "First "  # not held back for the interval
    assert 3 <= len(deltas) <= 6, [d["t"] for _at, d in deltas]  # ~0.6 s / 0.2 s, not 61 events
    assert "".join(d["t"] for _at, d in deltas) == "First " + "".join(f"w{i} " for i in range(60))


def test_without_snapshots_deltas_carry_text_only(owner_client, chat, monkeypatch, settings):
    settings.CHAT_STREAM_SNAPSHOTS = False
    data = _turn(owner_client, chat, monkeypatch, ScriptedProvider([(0, "**bold** "), (0.15, "end")]))
    parsed = events(consume(owner_client.get(data["stream_url"])))
    deltas = [d for name, d in parsed if name == "delta"]
    assert deltas and all(set(d) == {"t"} for d in deltas)
    assert parsed[-1][0] == "done" and "<strong>bold</strong>" in parsed[-1][1]["html"]


def test_words_before_a_silence_are_published_during_it(owner_client, chat, monkeypatch, settings):
    settings.CHAT_STREAM_INTERVAL_MS = 100
    # Two quick pieces (the second held back by the interval), then the provider is silent 1.5 s.
    pieces = [(0, "Thinking "), (0.01, "hard "), (1.5, "done.")]
    data = _turn(owner_client, chat, monkeypatch, ScriptedProvider(pieces))
    timed = _timed_events(owner_client.get(data["stream_url"]))
    deltas = [(at, d["t"]) for at, name, d in timed if name == "delta"]
    assert deltas[0][1] == "Thinking "
    assert deltas[1][1] == "hard " and deltas[1][0] < 0.5, deltas  # not kept until the silence ends
    assert deltas[-1][1] == "done."


def test_stop_ends_a_turn_whose_provider_is_stuck(owner, owner_client, chat, monkeypatch):
    data = _turn(owner_client, chat, monkeypatch, ScriptedProvider([(0, "Partial "), (0.05, "answer ")], hang_after=30))
    response = owner_client.get(data["stream_url"])
    chunks = iter(response.streaming_content)
    seen = ""
    while "Partial" not in seen:
        seen += next(chunks).decode()
    stopped_at = time.monotonic()
    assert owner_client.post(data["stop_url"], HTTP_ACCEPT="application/json").json() == {"stopping": True}
    rest = "".join(chunk.decode() for chunk in chunks)
    took = time.monotonic() - stopped_at
    name, done = events(rest)[-1]
    assert name == "done" and done["status"] == "cancelled"
    assert took < 1.5, took  # Stop still stops within a second, the provider's silence or not
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
    assert answer.content == "Partial answer " and answer.metadata["status"] == "cancelled"


def test_an_outsider_gets_404_for_a_streaming_answer(other_client, owner_client, chat, monkeypatch):
    data = _turn(owner_client, chat, monkeypatch, ScriptedProvider([(0, "Secret plan")]))
    assert other_client.get(data["stream_url"]).status_code == 404
    consume(owner_client.get(data["stream_url"]))


@pytest.mark.django_db
def test_snapshots_keep_citation_links():
    snapshots = streaming.Snapshots(citations={1: "/documents/x/#p-1"}, interval=0, html=True)
    snapshots.add("See [1] and [2].")
    data = snapshots.take(["See [1] and [2]."], now=1.0)
    assert 'href="/documents/x/#p-1"' in data["html"] and "[2]" in data["html"]
    assert not snapshots.due(2.0)  # nothing pending




def test_a_detached_answer_is_written_in_the_language_of_the_page_that_asked(owner, owner_client, staff, monkeypatch):
    agent = factories.agent(staff, is_public=True, slug="general-assistant", name="General assistant")  # as seeded
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
    owner_client.cookies["django_language"] = "es"
    data = _turn(owner_client, conversation, monkeypatch, ScriptedProvider([(0, "Hola "), (0.05, "mundo")]))
    from django.utils import translation  # noqa: PLC0415

    with translation.override("en"):  # the runner thread must not take the test's (or server's) language
        parsed = events(consume(owner_client.get(data["stream_url"])))
    name, done = parsed[-1]
    assert name == "done" and done["status"] == "complete"
    assert "Asistente general" in done["item"] and "General assistant" not in done["item"]
    assert "Mala respuesta" in done["item"]  # the thumbs, in Spanish


def test_a_long_answer_is_snapshotted_less_often_than_its_rendering_costs():
    snapshots = streaming.Snapshots(citations={}, interval=0.0001, html=True)
    text = ("## Step\n\nSome **bold** and `code` words in a list:\n\n- one\n- two\n\n") * 200
    snapshots.add(text)
    started = time.perf_counter()
    snapshots.take([text], now=1.0)
    took = time.perf_counter() - started
    # The next snapshot waits five times what this one took to render (here far above 0.1 ms).
    assert snapshots.wait > 0.0001 and snapshots.wait <= streaming.RENDER_SHARE_FACTOR * took + 1e-6
    snapshots.add("more")
    assert not snapshots.due(1.0 + snapshots.wait / 2) and snapshots.due(1.0 + snapshots.wait)
