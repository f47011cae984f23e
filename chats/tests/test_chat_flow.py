"""A conversation through the pages, with the built-in offline model: post, stream, store."""

import json

import pytest
from django.urls import reverse

from chats import selectors
from chats.models import Conversation, Message
from core.tenancy import tenant
from metrics.models import UsageLog

from .conftest import consume, events

pytestmark = pytest.mark.django_db


def _start(client, agent, content="How do I plan my week?"):
    return client.post(reverse("chats:new", args=[agent.slug]), {"content": content}, HTTP_ACCEPT="application/json")


def test_first_message_starts_a_conversation_and_the_answer_streams(owner_client, owner, offline_agent, django_capture_on_commit_callbacks):
    response = _start(owner_client, offline_agent)
    assert response.status_code == 200
    detail_url = response.json()["redirect"]
    with tenant(owner.id):
        conversation = Conversation.objects.get()
        question = Message.objects.get(role="user")
    assert detail_url == reverse("chats:detail", args=[conversation.id])
    page = owner_client.get(detail_url)
    assert page.status_code == 200
    stream_url = reverse("chats:reply_stream", args=[conversation.id, question.id])
    assert stream_url in page.content.decode()  # the page starts streaming the pending answer

    with django_capture_on_commit_callbacks(execute=True):
        body = consume(owner_client.get(stream_url))
    parsed = events(body)
    deltas = [data["t"] for name, data in parsed if name == "delta"]
    assert len(deltas) >= 2 and deltas[0]  # the first words at once, the rest at a bounded rate
    name, done = parsed[-1]
    assert name == "done" and done["status"] == "complete"
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
        conversation.refresh_from_db()
        log = UsageLog.objects.get()
    assert answer.content == "".join(deltas)
    assert "offline" in answer.content.lower()
    assert answer.metadata["reply_to"] == str(question.id)
    assert done["html"] == answer.metadata["html"]
    # Each delta carried the answer so far as the stored answer's HTML path renders it.
    assert [data["html"] for name, data in parsed if name == "delta"][-1] == answer.metadata["html"]
    assert (log.success, log.model, log.tokens_output) == (True, "offline", answer.tokens_output)
    assert conversation.message_count == 2
    assert conversation.title  # named after the first exchange (task run on commit)


def test_following_messages_and_a_second_stream_of_an_answered_message(owner_client, owner, conversation):
    url = reverse("chats:message_create", args=[conversation.id])
    response = owner_client.post(url, {"content": "First question"}, HTTP_ACCEPT="application/json")
    data = response.json()
    assert "First question" in data["user_html"]
    consume(owner_client.get(data["stream_url"]))
    # Opening the stream again replays the stored answer instead of calling the model twice.
    again = events(consume(owner_client.get(data["stream_url"])))
    assert [name for name, _ in again] == ["done"]
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant").count() == 1


STREAMED = "text/event-stream, application/json"  # what static/js/chat.js asks for


def test_a_turn_in_one_request_the_question_then_its_answer(owner_client, owner, conversation):
    url = reverse("chats:message_create", args=[conversation.id])
    response = owner_client.post(url, {"content": "Plan my week"}, HTTP_ACCEPT=STREAMED)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache, no-transform"
    parsed = events(consume(response))
    (first, turn), (last, done) = parsed[0], parsed[-1]
    with tenant(owner.id):
        question = Message.objects.get(role="user")
        answer = Message.objects.get(role="assistant")
    assert first == "turn" and "Plan my week" in turn["user_html"]
    assert turn["message_id"] == str(question.id)
    # The URLs a browser needs when the connection drops (the stream, from the start) or to stop.
    assert turn["stream_url"] == reverse("chats:reply_stream", args=[conversation.id, question.id])
    assert turn["stop_url"] == reverse("chats:reply_stop", args=[conversation.id, question.id])
    assert any(name == "delta" for name, _ in parsed)
    assert (last, done["status"], done["html"]) == ("done", "complete", answer.metadata["html"])
    assert answer.metadata["reply_to"] == str(question.id)
    # Reopened from its URL, the stream replays the stored answer; the model is not asked again.
    assert [name for name, _ in events(consume(owner_client.get(turn["stream_url"])))] == ["done"]


def test_a_refused_question_asked_for_a_stream_gets_its_errors_as_json(owner_client, owner, conversation):
    url = reverse("chats:message_create", args=[conversation.id])
    response = owner_client.post(url, {"content": "   "}, HTTP_ACCEPT=STREAMED)
    assert response.status_code == 400
    assert response.json()["errors"]
    with tenant(owner.id):
        assert not Message.objects.exists()


def test_an_outsider_asking_for_a_stream_gets_404(other_client, owner, conversation):
    url = reverse("chats:message_create", args=[conversation.id])
    assert other_client.post(url, {"content": "Hello"}, HTTP_ACCEPT=STREAMED).status_code == 404
    with tenant(owner.id):
        assert not Message.objects.exists()


def test_history_sent_to_the_model_is_trimmed_oldest_first(owner, conversation, settings):
    from agents import registry
    from chats.streaming import build_context

    long_text = "word " * 3000
    with tenant(owner.id):
        for i in range(10):
            Message.objects.create(conversation=conversation, user=owner, role="user", content=f"old {i} {long_text}")
        last = Message.objects.create(conversation=conversation, user=owner, role="user", content="the newest question")
    context = build_context(user=owner, conversation=conversation, user_message=last)
    window = registry.get_model("offline").context_window
    assert context.trimmed > 0
    assert context.messages[0].role == "system"
    assert context.messages[-1].content == "the newest question"
    kept = [m.content.split()[1] for m in context.messages[1:-1]]
    assert kept == sorted(kept)  # the survivors are the most recent ones, in order
    from agents.tokens import estimate_messages_tokens

    assert estimate_messages_tokens(context.messages) <= window


def test_regenerate_replaces_the_last_answer(owner_client, owner, conversation):
    url = reverse("chats:message_create", args=[conversation.id])
    data = owner_client.post(url, {"content": "Tell me something"}, HTTP_ACCEPT="application/json").json()
    consume(owner_client.get(data["stream_url"]))
    with tenant(owner.id):
        first = Message.objects.get(role="assistant")
    regen = owner_client.post(reverse("chats:regenerate", args=[conversation.id]), HTTP_ACCEPT="application/json").json()
    assert regen["message_id"] == data["message_id"]
    consume(owner_client.get(regen["stream_url"]))
    with tenant(owner.id):
        answers = list(Message.objects.filter(role="assistant"))
        conversation.refresh_from_db()
    # The earlier answer stays as a version (chats/tests/test_answer_versions.py); the new one is shown.
    assert len(answers) == 2 and first.pk in {a.pk for a in answers}
    with tenant(owner.id):
        assert [a.pk for a in selectors.conversation_messages(conversation) if a.role == "assistant"] == \
            [a.pk for a in answers if a.pk != first.pk]
    assert conversation.message_count == 3


def test_rename_and_delete(owner_client, owner, conversation):
    owner_client.post(reverse("chats:rename", args=[conversation.id]), {"title": "Trip plans"})
    with tenant(owner.id):
        assert Conversation.objects.get().title == "Trip plans"
    bad = owner_client.post(reverse("chats:rename", args=[conversation.id]), {"title": "   "}, follow=True)
    assert "A title" in bad.content.decode()
    with tenant(owner.id):
        assert Conversation.objects.get().title == "Trip plans"
    owner_client.post(reverse("chats:delete", args=[conversation.id]))
    with tenant(owner.id):
        assert not Conversation.objects.exists()


def test_without_javascript_the_answer_is_generated_on_a_post(owner_client, owner, conversation):
    owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "No JS here"})
    with tenant(owner.id):
        question = Message.objects.get(role="user")
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    generate = reverse("chats:reply_generate", args=[conversation.id, question.id])
    assert generate in page
    owner_client.post(generate)
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant", metadata__reply_to=str(question.id)).exists()


def test_the_list_shows_my_conversations(owner_client, owner, conversation):
    with tenant(owner.id):
        Conversation.objects.filter(pk=conversation.pk).update(title="Budget review")
    html = owner_client.get(reverse("chats:list")).content.decode()
    assert "Budget review" in html and reverse("chats:detail", args=[conversation.id]) in html


def test_sse_payloads_are_json(owner_client, conversation):
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "hi"}, HTTP_ACCEPT="application/json").json()
    response = owner_client.get(data["stream_url"])
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"].startswith("no-cache")
    for block in consume(response).split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                json.loads(line[6:])
