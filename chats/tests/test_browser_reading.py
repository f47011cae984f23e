"""In a real Chromium, on a phone and on a desktop: an answer survives leaving the page, the
page follows a streaming answer only while the reader is at the bottom (scrolled up, it stays put
and offers "Jump to latest"), a 500-message conversation opens at its latest message, and the end
of an answer is never under the composer."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chats.models import Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = ["phone", "desktop"]

# How far the page is from its end, and whether the last message clears the composer.
GAP_TO_END = "() => { const p = document.scrollingElement; return p.scrollHeight - (p.scrollTop + innerHeight); }"
LAST_CLEARS_COMPOSER = """() => {
  const items = document.querySelectorAll('#messages > .msg');
  const last = items[items.length - 1].getBoundingClientRect();
  const composer = document.getElementById('composer').getBoundingClientRect();
  return last.bottom <= composer.top + 1 && last.bottom > 0;
}"""
NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth"


def _conversation(user, *, history: int, question: str | None = "Tell me a long story about the mountains and the sea"):
    agent = factories.agent(user, is_public=True, name="Storyteller")
    start = timezone.now() - timedelta(hours=1)
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
        Message.objects.bulk_create([
            Message(conversation=conversation, user=user, role="user" if i % 2 == 0 else "assistant",
                    content=f"Message {i}: " + "some words about the plan " * 6,
                    timestamp=start + timedelta(seconds=i), metadata={"status": "complete"})
            for i in range(history)
        ])
        pending = factories.message(user, conv=conversation, content=question) if question else None
    return conversation, pending


def _answer(user):
    with tenant(user.id):
        return Message.objects.filter(role="assistant", metadata__reply_to__isnull=False).first()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_leaving_mid_answer_and_coming_back_finds_it_finished(signed_in_page, settings, viewport):
    settings.OFFLINE_STREAM_DELAY = 0.04
    user = make_user(f"leaver-{viewport}@example.com")
    conversation, _pending = _conversation(user, history=0)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    page.wait_for_function("() => { const el = document.querySelector('.msg-streaming .msg-body'); return el && el.innerText.split(' ').length > 4; }")
    page.goto(reverse("chats:list"))  # away, mid-answer
    assert _answer(user) is None  # it was not finished when the page was left
    page.wait_for_timeout(300)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    finished = page.locator(".msg-assistant:not(.msg-streaming):not(.msg-pending)").last
    finished.wait_for()
    assert "offline" in finished.inner_text().lower()
    answer = _answer(user)
    assert answer.metadata["status"] == "complete" and answer.content.strip()
    with tenant(user.id):
        assert Message.objects.filter(role="assistant").count() == 1  # written once, not twice
    page.wait_for_function(f"() => ({GAP_TO_END})() <= 48")
    assert page.evaluate(LAST_CLEARS_COMPOSER)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert not page.problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_scrolled_up_while_it_streams_the_page_stays_and_offers_jump_to_latest(signed_in_page, settings, viewport):
    settings.OFFLINE_STREAM_DELAY = 0.08
    user = make_user(f"reader-{viewport}@example.com")
    conversation, _pending = _conversation(user, history=30)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    streaming = page.locator(".msg-streaming .msg-body")
    streaming.wait_for()
    jump = page.get_by_role("button", name="Jump to latest")
    assert jump.is_hidden()  # at the bottom, following the answer
    page.mouse.move(100, 300)
    for _ in range(6):
        page.mouse.wheel(0, -800)
        page.wait_for_timeout(50)
    page.wait_for_function(f"() => ({GAP_TO_END})() > 400")
    jump.wait_for(state="visible")
    where = page.evaluate("() => document.scrollingElement.scrollTop")
    length = len(streaming.inner_text())
    # More words arrive (or the answer ends) while the reader is up there.
    page.wait_for_function("n => { const el = document.querySelector('.msg-streaming .msg-body'); return !el || el.innerText.length > n + 20; }", arg=length)
    assert abs(page.evaluate("() => document.scrollingElement.scrollTop") - where) <= 2  # not pulled down
    page.locator(".msg-streaming, .msg-pending").wait_for(state="detached", timeout=30_000)  # the answer ended
    assert _answer(user).metadata["status"] == "complete"
    assert abs(page.evaluate("() => document.scrollingElement.scrollTop") - where) <= 2
    assert jump.is_visible()
    jump.click()
    page.wait_for_function(f"() => ({GAP_TO_END})() <= 48")
    assert jump.is_hidden()
    assert page.evaluate(LAST_CLEARS_COMPOSER)  # the end of the answer is above the composer
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert not page.problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_conversation_of_500_messages_opens_at_its_latest_message(signed_in_page, viewport):
    user = make_user(f"archivist-{viewport}@example.com")
    conversation, _pending = _conversation(user, history=500, question=None)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    page.wait_for_function(f"() => ({GAP_TO_END})() <= 48")
    page.wait_for_timeout(300)  # the lazily laid-out messages have settled: still at the end
    assert page.evaluate(GAP_TO_END) <= 48
    last = page.locator("#messages > .msg").last
    assert "Message 499:" in last.inner_text()
    assert last.is_visible() and page.evaluate(LAST_CLEARS_COMPOSER)
    assert page.get_by_role("button", name="Jump to latest").is_hidden()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert not page.problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_coming_back_to_an_answer_still_being_written_it_can_be_stopped(signed_in_page, settings, viewport):
    settings.OFFLINE_STREAM_DELAY = 0.1  # the whole answer would take many seconds
    user = make_user(f"returner-{viewport}@example.com")
    conversation, _pending = _conversation(user, history=0)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    page.locator(".msg-streaming .msg-body").wait_for()
    page.goto(reverse("chats:list"))
    page.goto(reverse("chats:detail", args=[conversation.id]))
    # Still being written: the page picks it up (from its start) and offers Stop.
    page.wait_for_function("() => { const el = document.querySelector('.msg-streaming .msg-body'); return el && el.innerText.split(' ').length > 4; }")
    assert _answer(user) is None
    page.get_by_role("button", name="Stop").click()
    page.locator(".msg-cancelled").wait_for()
    answer = _answer(user)
    assert answer.metadata["status"] == "cancelled" and answer.content.strip()
    assert page.get_by_role("button", name="Stop").is_hidden()
    assert not page.problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_without_javascript_get_the_answer_lands_at_the_answer(signed_in_page, viewport):
    user = make_user(f"plain-{viewport}@example.com")
    conversation, pending = _conversation(user, history=500)
    page = signed_in_page(user, viewport, java_script_enabled=False)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    page.get_by_role("button", name="Get the answer").click()
    page.wait_for_url(f"**{reverse('chats:detail', args=[conversation.id])}#latest")
    answer = _answer(user)
    assert answer.metadata["reply_to"] == str(pending.id) and answer.metadata["status"] == "complete"
    assert page.evaluate(GAP_TO_END) <= 48  # at the end of the page, where the answer is
    last = page.locator("#messages > .msg").last
    assert "offline" in last.inner_text().lower()
    assert page.evaluate(LAST_CLEARS_COMPOSER)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_without_javascript_a_conversation_link_opens_at_the_latest_message(signed_in_page, viewport):
    user = make_user(f"nojs-reader-{viewport}@example.com")
    conversation, _pending = _conversation(user, history=60, question=None)
    page = signed_in_page(user, viewport, java_script_enabled=False)
    page.goto(reverse("chats:list"))
    page.locator(f'.conversation-link[href^="{reverse("chats:detail", args=[conversation.id])}"]').first.click()
    page.wait_for_url(f"**{reverse('chats:detail', args=[conversation.id])}#latest")
    last = page.locator("#messages > .msg").last
    assert "Message 59:" in last.inner_text()
    assert page.evaluate("el => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }", last.element_handle())
    assert page.evaluate("() => document.scrollingElement.scrollTop") > 0  # not at the top of the page


def test_message_times_are_shown_in_the_browsers_time_zone(signed_in_page):
    from datetime import datetime
    from datetime import timezone as dt_timezone

    user = make_user("zoned-reader@example.com")
    conversation, _pending = _conversation(user, history=0, question=None)
    with tenant(user.id):
        message = factories.message(user, conv=conversation, content="What time is it?")
        Message.objects.filter(pk=message.pk).update(timestamp=datetime(2026, 3, 2, 18, 5, tzinfo=dt_timezone.utc))
    page = signed_in_page(user, "desktop", timezone_id="America/Mexico_City")
    page.goto(reverse("chats:detail", args=[conversation.id]))
    clock = page.locator(f"#m-{message.id} .msg-meta time")
    assert clock.get_attribute("datetime").startswith("2026-03-02T18:05")
    page.wait_for_function("el => el.textContent === '12:05'", arg=clock.element_handle())  # UTC-6
    assert not page.problems
