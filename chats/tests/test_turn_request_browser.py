"""In a real Chromium: a chat turn is one request (the question's response carries its answer);
an answer whose response is cut short still arrives (the page opens the stream's URL); and a
browser that cannot read a response as it arrives still chats (JSON, then an EventSource)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _conversation(email):
    user = make_user(email, name="Tess")
    agent = factories.agent(user, model="offline", name="Offline")
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
    return user, conversation


def _requests(page, conversation):
    """The chat requests the page makes, as (method, path) in order."""
    prefix = reverse("chats:detail", args=[conversation.id])
    seen = []

    def note(request):
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        if ("/" + path).startswith(prefix) and request.resource_type in ("fetch", "eventsource", "xhr"):
            seen.append((request.method, "/" + path))
    page.on("request", note)
    return seen


def _ask(page, question):
    before = page.locator(".msg-assistant:not(.msg-streaming)").count()
    page.get_by_role("textbox", name="Message").fill(question)
    page.get_by_role("button", name="Send").click()
    page.locator(".msg-assistant:not(.msg-streaming)").nth(before).wait_for(timeout=20_000)


def _answer(user):
    with tenant(user.id):
        return Message.objects.get(role="assistant")


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_turn_is_one_request(signed_in_page, settings, viewport):
    settings.OFFLINE_STREAM_DELAY = 0.01
    user, conversation = _conversation(f"one-request-{viewport}@example.com")
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    seen = _requests(page, conversation)
    _ask(page, "What should I pack for a week of rain?")
    answer = _answer(user)
    assert answer.metadata["status"] == "complete"
    assert seen == [("POST", reverse("chats:message_create", args=[conversation.id]))]
    assert "rain" in page.locator(".msg-user .msg-body").last.inner_text()
    assert "offline" in page.locator(f"#m-{answer.id} .msg-body").inner_text().lower()
    assert page.get_by_role("button", name="Stop").is_hidden()
    assert page.get_by_role("button", name="Send").is_enabled()
    assert page.problems == []


def test_an_answer_whose_response_is_cut_short_arrives_through_the_stream(signed_in_page):
    user, conversation = _conversation("cut-short@example.com")
    page = signed_in_page(user)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    post_url = reverse("chats:message_create", args=[conversation.id])

    def cut_after_the_question(route):
        # The server writes the whole answer; the page receives only the question's event.
        response = route.fetch()
        body = response.body()
        route.fulfill(status=response.status, headers=response.headers, body=body[:body.index(b"\n\n") + 2])

    page.route(f"**{post_url}", cut_after_the_question)
    seen = _requests(page, conversation)
    _ask(page, "Is the answer still shown?")
    answer = _answer(user)
    assert answer.metadata["status"] == "complete"
    assert ("GET", reverse("chats:reply_stream", args=[conversation.id, answer.metadata["reply_to"]])) in seen
    assert page.locator(f"#m-{answer.id}").count() == 1
    assert page.locator(".msg-assistant").count() == 1
    with tenant(user.id):
        assert Message.objects.filter(role="user").count() == 1


def test_a_browser_that_cannot_read_a_response_as_it_arrives_still_chats(signed_in_page):
    user, conversation = _conversation("no-readable-streams@example.com")
    page = signed_in_page(user)
    page.add_init_script("delete window.ReadableStream;")
    page.goto(reverse("chats:detail", args=[conversation.id]))
    seen = _requests(page, conversation)
    _ask(page, "Does the old way still work?")
    answer = _answer(user)
    assert answer.metadata["status"] == "complete"
    question_id = answer.metadata["reply_to"]
    assert [method for method, _ in seen] == ["POST", "GET"]
    assert seen[1][1].startswith(reverse("chats:reply_stream", args=[conversation.id, question_id]))
    assert page.problems == []
