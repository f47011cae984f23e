"""Answer versions in a real Chromium, at phone and desktop sizes: Regenerate leaves "< 2/2 >" on the
new answer; the previous-version button (from the keyboard too) shows the other text without a
reload and the choice holds after one; without JavaScript the same buttons post their form."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chats import selectors
from chats.models import Conversation, Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
FIRST = "A first answer, written before Regenerate."


def _conversation(viewport, suffix=""):
    user = make_user(f"versions-{viewport}{suffix}@example.com", name="Vera")
    agent = factories.agent(make_user(f"curator-versions-{viewport}{suffix}@example.com", role="ADMIN"),
                            is_public=True, name="Helper")
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
        Conversation.objects.filter(pk=conversation.pk).update(title="Weekend plans")
        question = Message.objects.create(conversation=conversation, user=user, role="user", content="Where should I go this weekend?")
        first = Message.objects.create(conversation=conversation, user=user, role="assistant", content=FIRST,
                                       metadata={"status": "complete", "reply_to": str(question.id)})
    return user, conversation, question, first


def _shown_answer(user, question):
    with tenant(user.id):
        return selectors.answer_for(Message.objects.get(pk=question.pk))


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_regenerate_then_browse_the_versions(signed_in_page, viewport):
    user, conversation, question, first = _conversation(viewport)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    assert page.locator(".msg-versions").count() == 0  # one version: no control

    page.get_by_role("button", name="Regenerate").click()
    control = page.get_by_role("group", name="Answer versions")
    control.wait_for()
    assert control.locator(".msg-version-count").inner_text() == "2/2"
    answer = page.locator("#messages > li.msg-assistant")
    assert answer.count() == 1 and FIRST not in answer.inner_text()
    assert "offline" in answer.inner_text().lower()
    second = _shown_answer(user, question)
    assert second.pk != first.pk
    assert page.get_by_role("button", name="Next version").is_disabled()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # The previous version, from the keyboard: its text replaces the other, without a reload.
    page.evaluate("() => { window.__stayed = true; }")
    page.get_by_role("button", name="Previous version").focus()
    page.keyboard.press("Enter")
    page.locator(f"#m-{first.id}").wait_for()
    assert page.locator("#messages > li.msg-assistant").inner_text().count(FIRST) == 1
    assert page.locator(".msg-version-count").inner_text() == "1/2"
    assert page.evaluate("() => window.__stayed === true")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Next version"
    page.wait_for_function("() => document.getElementById('chat-status').textContent === 'Showing version 1 of 2.'")
    assert _shown_answer(user, question).pk == first.pk

    # Kept after a reload; and forward again with a click.
    page.reload()
    assert page.locator(f"#m-{first.id} .msg-version-count").inner_text() == "1/2"
    page.get_by_role("button", name="Next version").click()
    page.locator(f"#m-{second.id}").wait_for()
    assert FIRST not in page.locator("#messages > li.msg-assistant").inner_text()
    assert _shown_answer(user, question).pk == second.pk
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_versions_without_javascript(signed_in_page, viewport):
    user, conversation, question, first = _conversation(viewport, "-nojs")
    with tenant(user.id):
        Message.objects.filter(pk=first.pk).update(metadata={"status": "complete", "reply_to": str(question.id), "superseded": True})
        second = Message.objects.create(conversation=conversation, user=user, role="assistant", content="A second answer.",
                                        metadata={"status": "complete", "reply_to": str(question.id)})
    page = signed_in_page(user, viewport, java_script_enabled=False)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    assert page.locator(f"#m-{second.id} .msg-version-count").inner_text() == "2/2"
    page.get_by_role("button", name="Previous version").click()
    page.wait_for_url(f"**{reverse('chats:detail', args=[conversation.id])}#m-{first.id}")
    assert page.locator("#messages > li.msg-assistant").inner_text().count(FIRST) == 1
    assert "A second answer." not in page.locator("#messages").inner_text()
    assert _shown_answer(user, question).pk == first.pk
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
