"""Answers are written apart from the browser's connection (chats.generation): a stream that is
left ends only the reading, a reconnecting browser resumes after its ``Last-Event-ID`` (a forged
or stale one replays from the start, never a 500), Stop reaches a generation nobody is reading,
and a generation whose process died is stored as failed on the next view."""

import json
import time

import pytest
from django.urls import reverse

from chats import events as chat_events
from chats.models import Message
from core.tenancy import tenant
from metrics import limits as metering
from metrics.models import UsageLog

from .conftest import consume


def _post(client, conversation, content="Tell me a long story about the mountains and the sea"):
    response = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": content}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def _parse(body: str) -> list[tuple[str, str, dict]]:
    """(id, event, data) of each event in an SSE body."""
    parsed = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in lines:
            parsed.append((lines.get("id", ""), lines["event"], json.loads(lines["data"])))
    return parsed


def _read_until(response, deltas: int) -> str:
    """Read a streaming response until ``deltas`` delta events arrived, then hang up."""
    received = []
    for chunk in response.streaming_content:
        received.append(chunk.decode())
        if sum(c.count("event: delta") for c in received) >= deltas:
            break
    response.close()
    return "".join(received)


def _stored_answer(owner, *, bound=30.0):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        with tenant(owner.id):
            answer = Message.objects.filter(role="assistant").first()
        if answer is not None:
            return answer
        time.sleep(0.05)
    raise AssertionError("no answer was stored")


def _text(parsed) -> str:
    return "".join(data["t"] for _id, name, data in parsed if name == "delta")


@pytest.mark.django_db(transaction=True)
def test_leaving_mid_answer_finishes_it_and_a_reconnect_resumes_after_the_last_event(owner, owner_client, conversation, settings):
    settings.OFFLINE_STREAM_DELAY = 0.05
    data = _post(owner_client, conversation)
    first = _parse(_read_until(owner_client.get(data["stream_url"]), 3))
    assert [name for _id, name, _data in first] == ["delta"] * 3 and all(entry_id for entry_id, _n, _d in first)
    with tenant(owner.id):
        assert not Message.objects.filter(role="assistant").exists()  # still being written, unread
    # The browser comes back with the id of the last event it got: the rest follows, no repeats.
    rest = _parse(consume(owner_client.get(data["stream_url"], HTTP_LAST_EVENT_ID=first[-1][0])))
    assert "reset" not in [name for _id, name, _data in rest]
    assert rest[-1][1] == "done" and rest[-1][2]["status"] == "complete"
    answer = _stored_answer(owner)
    assert answer.metadata["status"] == "complete"
    assert _text(first) + _text(rest) == answer.content
    with tenant(owner.id):
        assert UsageLog.objects.filter(success=True).count() == 1
    assert metering.usage_turns_in_flight(user=owner) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("forged", ["not-an-id", "99999999999999-0", "1-0", "-1", "9" * 40])
def test_a_forged_or_stale_last_event_id_replays_from_the_start(owner, owner_client, conversation, settings, forged):
    settings.OFFLINE_STREAM_DELAY = 0.02
    data = _post(owner_client, conversation)
    _read_until(owner_client.get(data["stream_url"]), 2)
    response = owner_client.get(data["stream_url"], HTTP_LAST_EVENT_ID=forged)
    assert response.status_code == 200
    parsed = _parse(consume(response))
    names = [name for _id, name, _data in parsed]
    assert names[0] == "reset" and names[-1] == "done"  # the page drops what it had, then all of it
    assert _text(parsed) == _stored_answer(owner).content


@pytest.mark.django_db(transaction=True)
def test_stop_reaches_a_generation_nobody_is_reading(owner, owner_client, conversation, settings):
    settings.OFFLINE_STREAM_DELAY = 0.1  # the whole answer would take many seconds
    data = _post(owner_client, conversation)
    _read_until(owner_client.get(data["stream_url"]), 3)  # then the tab is closed
    stopped_at = time.monotonic()
    assert owner_client.post(data["stop_url"], HTTP_ACCEPT="application/json").json() == {"stopping": True}
    answer = _stored_answer(owner, bound=10)
    took = time.monotonic() - stopped_at
    assert answer.metadata["status"] == "cancelled"
    assert took < 3, took  # within a poll or two of the provider's next words, not the whole answer
    assert answer.content and len(answer.content.split()) < 40
    # Coming back shows the stopped answer.
    parsed = _parse(consume(owner_client.get(data["stream_url"])))
    assert [name for _id, name, _data in parsed] == ["done"] and parsed[0][2]["status"] == "cancelled"
    assert metering.usage_turns_in_flight(user=owner) == 0


@pytest.mark.django_db
def test_an_answer_whose_process_died_is_stored_as_failed_on_the_next_view(owner, owner_client, conversation):
    data = _post(owner_client, conversation)
    # What a runner had published when its process died: two deltas, no final event, no lock.
    for piece in ("Once upon ", "a time"):
        chat_events.event_publish(data["message_id"], "delta", {"t": piece})
    parsed = _parse(consume(owner_client.get(data["stream_url"])))
    assert [name for _id, name, _data in parsed] == ["delta", "delta", "done"]
    done = parsed[-1][2]
    assert done["status"] == "failed" and "server stopped" in done["error"]
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
        assert answer.content == "Once upon a time" and answer.metadata["status"] == "failed"
        assert UsageLog.objects.get().success is False
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "Once upon a time" in page and data["stream_url"] not in page  # no longer pending


@pytest.mark.django_db
def test_a_finished_answer_is_served_from_the_database_whatever_the_last_event_id(owner, owner_client, conversation):
    data = _post(owner_client, conversation)
    consume(owner_client.get(data["stream_url"]))
    for last_event_id in ("", "1-0", "garbage\x00"):
        response = owner_client.get(data["stream_url"], HTTP_LAST_EVENT_ID=last_event_id)
        parsed = _parse(consume(response))
        assert response.status_code == 200 and [name for _id, name, _data in parsed] == ["done"]


@pytest.mark.django_db(transaction=True)
def test_past_the_runner_limit_the_request_writes_the_answer_and_finishes_it_when_left(owner, owner_client, conversation, settings):
    from chats import generation

    settings.OFFLINE_STREAM_DELAY = 0.01
    held = 0
    try:
        while generation._runners.acquire(blocking=False):  # the process is writing as many as it may
            held += 1
        assert held == generation.MAX_RUNNERS
        data = _post(owner_client, conversation)
        _read_until(owner_client.get(data["stream_url"]), 3)  # left after three words
        with tenant(owner.id):  # finished by the request itself before it let go
            answer = Message.objects.get(role="assistant")
        assert answer.metadata["status"] == "complete" and "offline" in answer.content.lower()
    finally:
        for _ in range(held):
            generation._runners.release()
    assert metering.usage_turns_in_flight(user=owner) == 0


@pytest.mark.django_db(transaction=True)
def test_answers_reuse_their_runner_thread_and_an_idle_one_ends(owner, owner_client, conversation, monkeypatch):
    import threading

    from chats import generation

    earlier = {t.ident for t in threading.enumerate()}  # idle runners of earlier tests keep their own queue

    def runners():
        return [t for t in threading.enumerate() if t.name == "chat-answer" and t.ident not in earlier]

    monkeypatch.setattr(generation, "RUNNER_IDLE_SECONDS", 1.5)
    monkeypatch.setattr(generation, "_threads", generation._RunnerThreads())
    def idle_again(deadline=10.0):
        # The stream ends with the final event; its runner is waiting for the next answer a moment
        # later (the post starts that answer: on a busy machine it could otherwise come first).
        until = time.monotonic() + deadline
        while generation._threads._idle < 1 and time.monotonic() < until:
            time.sleep(0.01)
        assert generation._threads._idle == 1

    seen = set()
    for turn in range(3):
        data = _post(owner_client, conversation, content=f"Question number {turn}")
        parsed = _parse(consume(owner_client.get(data["stream_url"])))
        assert parsed[-1][1] == "done" and parsed[-1][2]["status"] == "complete"
        seen |= {t.ident for t in runners()}
        idle_again()
    assert len(seen) == 1, seen  # one thread (and its connection) wrote all three answers
    deadline = time.monotonic() + 10
    while runners() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not runners()  # idle past RUNNER_IDLE_SECONDS: it closed its connections and ended
    # A new answer starts a new thread.
    data = _post(owner_client, conversation, content="One more question")
    assert _parse(consume(owner_client.get(data["stream_url"])))[-1][2]["status"] == "complete"


@pytest.mark.django_db(transaction=True)
def test_the_post_starts_the_answer_before_the_stream_is_opened(owner, owner_client, conversation, settings):
    """Once the question is committed a runner writes its answer: stored without any stream
    opened; the stream opened afterwards serves it (from the database once it is stored)."""
    settings.OFFLINE_STREAM_DELAY = 0
    data = _post(owner_client, conversation)
    answer = _stored_answer(owner, bound=10.0)  # nobody opened the stream
    assert answer.metadata["status"] == "complete" and answer.metadata["reply_to"] == data["message_id"]
    parsed = _parse(consume(owner_client.get(data["stream_url"])))
    assert [name for _id, name, _data in parsed] == ["done"] and parsed[0][2]["message_id"] == str(answer.id)
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant").count() == 1
        assert UsageLog.objects.filter(conversation=conversation, success=True).count() == 1
    assert metering.usage_turns_in_flight(user=owner) == 0


@pytest.mark.django_db(transaction=True)
def test_a_stream_opened_while_the_post_started_answer_is_written_tails_it_once(owner, owner_client, conversation, settings):
    settings.OFFLINE_STREAM_DELAY = 0.02  # still writing when the stream opens
    data = _post(owner_client, conversation)
    parsed = _parse(consume(owner_client.get(data["stream_url"])))
    assert parsed[-1][1] == "done" and parsed[-1][2]["status"] == "complete"
    assert "offline" in _text(parsed).lower()
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant").count() == 1  # written once, by the post's runner
        assert UsageLog.objects.filter(conversation=conversation).count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_no_runner_free_the_post_starts_nothing_and_the_stream_writes_the_answer(owner, owner_client, conversation, settings):
    from chats import generation, streaming

    settings.OFFLINE_STREAM_DELAY = 0
    held = 0
    try:
        while generation._runners.acquire(blocking=False):
            held += 1
        data = _post(owner_client, conversation)
        time.sleep(0.3)
        assert not chat_events._client().exists(streaming.lock_key(data["message_id"]))  # nobody claimed it
        with tenant(owner.id):
            assert not Message.objects.filter(role="assistant").exists()
    finally:
        for _ in range(held):
            generation._runners.release()
    parsed = _parse(consume(owner_client.get(data["stream_url"])))
    assert parsed[-1][1] == "done" and parsed[-1][2]["status"] == "complete"
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_no_javascript_form_post_starts_no_answer(owner, owner_client, conversation, settings):
    """Without JavaScript the page offers its own button (reply_generate); the post only redirects."""
    from chats import streaming

    response = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "A question"})
    assert response.status_code == 302
    with tenant(owner.id):
        question = Message.objects.get(role="user")
    time.sleep(0.3)
    assert not chat_events._client().exists(streaming.lock_key(question.id))
    with tenant(owner.id):
        assert not Message.objects.filter(role="assistant").exists()


def _post_streamed(client, conversation, content="Tell me a long story about the mountains and the sea"):
    """The question as static/js/chat.js posts it: its response streams the answer."""
    response = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": content},
                           HTTP_ACCEPT="text/event-stream, application/json")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    return response


@pytest.mark.django_db(transaction=True)
def test_leaving_the_question_s_own_response_mid_answer_finishes_it_and_the_stream_resumes(owner, owner_client, conversation, settings):
    settings.OFFLINE_STREAM_DELAY = 0.05
    first = _parse(_read_until(_post_streamed(owner_client, conversation), 3))
    assert [name for _id, name, _data in first] == ["turn", "delta", "delta", "delta"]
    answer = _stored_answer(owner)  # written all the same, after the reader left
    assert answer.metadata["status"] == "complete"
    # The page that comes back through the stream's URL, with the last id it got: the rest.
    stream_url = first[0][2]["stream_url"]
    assert _parse(consume(owner_client.get(stream_url, HTTP_LAST_EVENT_ID=first[-1][0])))[-1][1] == "done"
    assert _text(first[1:]) and answer.content.startswith(_text(first[1:]))
    with tenant(owner.id):
        assert UsageLog.objects.filter(success=True).count() == 1
    assert metering.usage_turns_in_flight(user=owner) == 0


@pytest.mark.django_db(transaction=True)
def test_leaving_the_question_s_own_response_before_its_answer_began_leaves_it_to_a_runner(owner, owner_client, conversation):
    response = _post_streamed(owner_client, conversation)
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"event: turn")
    response.close()  # gone after the question's event: nothing in this request writes the answer
    answer = _stored_answer(owner)
    assert answer.metadata["status"] == "complete"
    with tenant(owner.id):
        question = Message.objects.get(role="user")
    assert answer.metadata["reply_to"] == str(question.id)
    assert metering.usage_turns_in_flight(user=owner) == 0
