"""Edit and resend in a real Chromium, at phone and desktop sizes: Edit opens the message in place,
Escape cancels, an emptied message is refused there, Save & send replaces the text, drops the turns
after it and streams the new answer; without JavaScript the Edit link opens the edit page. A
person's own fenced code is shown as code."""

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
FIRST_QUESTION = "Show me a loop:\n\n```python\nfor i in range(3):\n    print(i)\n```"


def _conversation(viewport, suffix=""):
    user = make_user(f"edit-{viewport}{suffix}@example.com", name="Eda")
    agent = factories.agent(make_user(f"curator-edit-{viewport}{suffix}@example.com", role="ADMIN"), is_public=True, name="Helper")
    turns = []
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
        Conversation.objects.filter(pk=conversation.pk).update(title="Loops")
        for question_text, answer_text in ((FIRST_QUESTION, "Here it is."), ("And a while loop?", "Use while.")):
            question = Message.objects.create(conversation=conversation, user=user, role="user", content=question_text)
            answer = Message.objects.create(conversation=conversation, user=user, role="assistant", content=answer_text,
                                            metadata={"status": "complete", "reply_to": str(question.id)})
            turns.append((question, answer))
    return user, conversation, turns


def _contents(user, conversation):
    with tenant(user.id):
        return list(conversation.messages.order_by("timestamp", "id").values_list("content", flat=True))


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_edit_and_resend_in_a_real_browser(signed_in_page, viewport):
    user, conversation, turns = _conversation(viewport)
    first_question = turns[0][0]
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    item = page.locator(f"#m-{first_question.id}")

    # My own fenced code is shown as code, its indentation kept.
    assert item.locator("pre code.language-python").inner_text() == "for i in range(3):\n    print(i)\n"

    # Edit opens in place with my text; Escape gives the message back as it was.
    item.get_by_role("link", name="Edit").click()
    editor = item.get_by_role("textbox", name="Edit your message")
    editor.wait_for()
    assert editor.input_value() == FIRST_QUESTION
    assert editor.evaluate("el => el === document.activeElement")
    assert "removes the messages that follow it" in item.locator(".msg-edit-later").inner_text()
    assert item.locator(".msg-body").is_hidden()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.keyboard.press("Escape")
    editor.wait_for(state="detached")
    assert item.locator(".msg-body").is_visible()
    assert page.evaluate("() => document.activeElement.classList.contains('msg-edit')")

    # Emptied: refused in place, nothing sent, nothing changed.
    item.get_by_role("link", name="Edit").click()
    editor.fill("   ")
    item.get_by_role("button", name="Save & send").click()
    assert "cannot be empty" in item.get_by_role("alert").inner_text()
    assert editor.get_attribute("aria-invalid") == "true"
    assert _contents(user, conversation) == [FIRST_QUESTION, "Here it is.", "And a while loop?", "Use while."]

    # Save & send: the new text, the later turns gone, the new answer streamed in after it.
    page.evaluate("() => { window.__stayed = true; }")
    editor.fill("How do I loop over a dictionary in Python?")
    item.get_by_role("button", name="Save & send").click()
    page.wait_for_function("() => { const items = document.querySelectorAll('#messages > li.msg');"
                           " return items.length === 2 && items[1].matches('.msg-assistant[data-message-id]'); }")
    answer = page.locator("#messages > li.msg-assistant")
    assert "loop over a dictionary" in answer.inner_text()  # the offline model restates the question
    assert page.locator("#messages > li.msg").count() == 2
    assert "How do I loop over a dictionary in Python?" in item.locator(".msg-body").inner_text()
    assert "Use while." not in page.locator("#messages").inner_text()
    assert page.evaluate("() => window.__stayed === true")
    with tenant(user.id):
        question = Message.objects.get(pk=first_question.pk)
        stored = selectors.answer_for(question)
    assert question.content == "How do I loop over a dictionary in Python?"
    assert question.metadata["edits"][0]["content"] == FIRST_QUESTION
    assert _contents(user, conversation) == [question.content, stored.content]
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_edit_without_javascript(signed_in_page, viewport):
    user, conversation, turns = _conversation(viewport, "-nojs")
    last_question = turns[1][0]
    page = signed_in_page(user, viewport, java_script_enabled=False)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    page.locator(f"#m-{last_question.id}").get_by_role("link", name="Edit").click()
    page.wait_for_url(f"**{reverse('chats:message_edit', args=[conversation.id, last_question.id])}")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.get_by_label("Message").fill("")
    page.get_by_role("button", name="Save & send").click()
    assert "cannot be empty" in page.get_by_role("alert").inner_text()
    page.get_by_label("Message").fill("And a do-while loop?")
    page.get_by_role("button", name="Save & send").click()
    page.get_by_role("button", name="Get the answer").click()
    page.locator("#messages > li.msg-assistant").nth(1).wait_for()
    assert "do-while" in page.locator("#messages > li.msg-assistant").nth(1).inner_text()
    assert _contents(user, conversation)[:3] == [FIRST_QUESTION, "Here it is.", "And a do-while loop?"]
    assert len(_contents(user, conversation)) == 4
