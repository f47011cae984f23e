"""Message actions in a real Chromium, at phone and desktop sizes: Copy a message and a code block
(the clipboard holds the text), thumbs up/down toggled without a reload and still pressed after
one, the export menu's downloads; without JavaScript the thumbs post their form."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chats.models import Conversation, Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
QUESTION = "How do I greet in Python?\nJust one line, please."
ANSWER = 'Use **print**:\n\n```python\nprint("¡hola!")\n```\n\nThat is all.'


def _conversation(viewport):
    user = make_user(f"actions-{viewport}@example.com", name="Ada")
    agent = factories.agent(make_user(f"curator-actions-{viewport}@example.com", role="ADMIN"), is_public=True, name="Coder")
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
        Conversation.objects.filter(pk=conversation.pk).update(title="Python greetings")
        question = Message.objects.create(conversation=conversation, user=user, role="user", content=QUESTION)
        answer = Message.objects.create(conversation=conversation, user=user, role="assistant", content=ANSWER,
                                        metadata={"status": "complete", "reply_to": str(question.id)})
    return user, conversation, question, answer


def _feedback(user, answer):
    with tenant(user.id):
        return Message.objects.get(pk=answer.pk).metadata.get("feedback")


def _clipboard(page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_copy_thumbs_and_export_in_a_real_browser(signed_in_page, viewport):
    user, conversation, question, answer = _conversation(viewport)
    page = signed_in_page(user, viewport, permissions=["clipboard-read", "clipboard-write"])
    page.goto(reverse("chats:detail", args=[conversation.id]))
    answer_item = page.locator(f"#m-{answer.id}")
    question_item = page.locator(f"#m-{question.id}")
    status = page.locator("#chat-status")

    # Copy the answer: its Markdown source, with visible and announced feedback.
    copy_answer = answer_item.get_by_role("button", name="Copy", exact=True).element_handle()  # its name changes
    copy_answer.click()
    page.wait_for_function("el => el.textContent === 'Copied'", arg=copy_answer)
    assert _clipboard(page) == ANSWER
    page.wait_for_function("() => document.getElementById('chat-status').textContent === 'Copied to the clipboard.'")
    assert status.get_attribute("aria-live") == "polite"
    page.wait_for_function("el => el.textContent === 'Copy'", arg=copy_answer)  # back after a moment

    # Copy the question (the person's own text, line break kept), from the keyboard.
    question_item.get_by_role("button", name="Copy", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelector('#m-{question.id} .msg-copy').textContent === 'Copied'")
    assert _clipboard(page) == QUESTION

    # Copy a code block: the code only, through the button added above it.
    code_button = answer_item.get_by_role("button", name="Copy code")
    assert answer_item.locator(".code-language").text_content() == "python"
    code_button.focus()
    code_handle = code_button.element_handle()  # its name changes to "Copied"
    page.keyboard.press("Enter")
    page.wait_for_function("el => el.textContent === 'Copied'", arg=code_handle)
    assert _clipboard(page) == 'print("¡hola!")\n'

    # Thumbs up, then down, then down again: stored each time, without a reload.
    page.evaluate("() => { window.__stayed = true; }")
    good = answer_item.get_by_role("button", name="Good answer")
    bad = answer_item.get_by_role("button", name="Bad answer")
    assert good.get_attribute("aria-pressed") == "false" and bad.get_attribute("aria-pressed") == "false"
    good.click()
    page.wait_for_function("el => el.getAttribute('aria-pressed') === 'true'", arg=good.element_handle())
    assert _feedback(user, answer) == "up"
    page.wait_for_function("() => document.getElementById('chat-status').textContent === 'Marked as a good answer.'")
    bad.click()
    page.wait_for_function("el => el.getAttribute('aria-pressed') === 'true'", arg=bad.element_handle())
    assert good.get_attribute("aria-pressed") == "false"
    assert _feedback(user, answer) == "down"
    assert page.evaluate("() => window.__stayed === true")  # no reload
    assert question_item.get_by_role("button", name="Good answer").count() == 0  # answers only

    page.reload()
    assert answer_item.get_by_role("button", name="Bad answer").get_attribute("aria-pressed") == "true"
    assert answer_item.get_by_role("button", name="Good answer").get_attribute("aria-pressed") == "false"
    answer_item.get_by_role("button", name="Bad answer").click()
    page.wait_for_function(f"() => document.querySelector('#m-{answer.id} .msg-thumb[value=down]').getAttribute('aria-pressed') === 'false'")
    assert _feedback(user, answer) is None

    # Export: the header's menu, on screen, downloads the transcript and the JSON.
    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator(".chat-header summary", has_text="Export").click()
    markdown = page.get_by_role("link", name="Markdown (.md)")
    box = markdown.bounding_box()
    width = page.viewport_size["width"]
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
    with page.expect_download() as download:
        markdown.click()
    assert download.value.suggested_filename == "Python-greetings.md"
    with open(download.value.path(), encoding="utf-8") as transcript:
        text = transcript.read()
    assert text.startswith("# Python greetings\n") and "## You · " in text and 'print("¡hola!")' in text
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON (.json)").click()
    assert download.value.suggested_filename == "Python-greetings.json"

    # An answer streamed in after the page opened has its actions too.
    page.keyboard.press("Escape")
    page.evaluate("() => { window.__stayed = true; }")
    page.get_by_role("textbox", name="Message").fill("And in Spanish?")
    page.get_by_role("button", name="Send").click()
    streamed = page.locator(".msg-assistant:not(.msg-streaming)").nth(1)
    streamed.get_by_role("button", name="Good answer").click()
    page.wait_for_function("() => document.querySelectorAll('.msg-assistant .msg-thumb[aria-pressed=true]').length === 1")
    with tenant(user.id):
        latest = Message.objects.filter(conversation=conversation, role="assistant").order_by("-timestamp").first()
    assert latest.pk != answer.pk and latest.metadata.get("feedback") == "up"
    streamed.get_by_role("button", name="Copy", exact=True).click()
    page.wait_for_function("() => document.getElementById('chat-status').textContent === 'Copied to the clipboard.'")
    assert _clipboard(page) == latest.content
    assert page.evaluate("() => window.__stayed === true")  # sent, answered, marked and copied in place

    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_thumbs_without_javascript_post_the_form(signed_in_page, viewport):
    user, conversation, _question, answer = _conversation(f"nojs-{viewport}")
    page = signed_in_page(user, viewport, java_script_enabled=False)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    answer_item = page.locator(f"#m-{answer.id}")
    assert answer_item.get_by_role("button", name="Copy", exact=True).is_hidden()  # copying needs JavaScript
    answer_item.get_by_role("button", name="Good answer").click()
    page.wait_for_url(re.compile(rf"#m-{answer.id}$"))
    assert page.locator(f"#m-{answer.id}").get_by_role("button", name="Good answer").get_attribute("aria-pressed") == "true"
    assert _feedback(user, answer) == "up"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_streamed_answer_gets_its_code_copy_button(signed_in_page, settings, viewport):
    from testutils.fakes.openai import FakeOpenAI, Script
    from testutils.fakes.server import FakeServer

    reply = "Here:\n\n```bash\nls -la /tmp\n```\n"
    with FakeServer(FakeOpenAI, script=Script(reply=reply, input_tokens=5, output_tokens=9)) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        user = make_user(f"code-{viewport}@example.com", name="Lin")
        agent = factories.agent(user, model="gpt-4o-mini", name="Shell helper")
        with tenant(user.id):
            conversation = factories.conversation(user, agent_=agent)
        page = signed_in_page(user, viewport, permissions=["clipboard-read", "clipboard-write"])
        page.goto(reverse("chats:detail", args=[conversation.id]))
        page.get_by_role("textbox", name="Message").fill("List the files in /tmp")
        page.get_by_role("button", name="Send").click()
        answer = page.locator(".msg-assistant:not(.msg-streaming)")
        code_button = answer.get_by_role("button", name="Copy code")
        code_button.wait_for()
        assert answer.locator("pre code").count() == 1 and code_button.count() == 1
        handle = code_button.element_handle()
        handle.click()
        page.wait_for_function("el => el.textContent === 'Copied'", arg=handle)
        assert _clipboard(page) == "ls -la /tmp\n"
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        assert page.problems == []
