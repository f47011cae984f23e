"""In a real Chromium: a streamed answer's artifacts appear as cards when it finishes, a card opens
the side panel beside the conversation (its own page on a phone), the panel follows the agent's
next revision, a Mermaid block is drawn as an image, and an HTML artifact's scripts cannot reach
the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from artifacts.models import Artifact
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = "\n".join(f"    total += {i}" for i in range(8))
REPLY = ("Here it is:\n\n```python title=\"sum.py\"\ndef total():\n    total = 0\n" + CODE + "\n    return total\n```\n\n"
         "```mermaid\nflowchart LR\n    A[Start] --> B[Add]\n    B --> C[Done]\n```\n")


def _problems(page) -> list[str]:
    """The page's problems, less the notes Chromium logs when the page's CSP (style-src 'self')
    blocks the inline styles Mermaid writes into its off-screen measuring element: the drawing
    itself is an image with its own styles."""
    return [p for p in page.problems if "Applying inline style violates" not in p]


def _chunks(text: str) -> list[str]:
    return [text[i:i + 12] for i in range(0, len(text), 12)]


def _server(settings, reply):
    from testutils.fakes.openai import FakeOpenAI, Script
    from testutils.fakes.server import FakeServer

    server = FakeServer(FakeOpenAI, script=Script(chunks=_chunks(reply), delay=0.02, input_tokens=5, output_tokens=30))
    return server


def _start(signed_in_page, settings, server, viewport):
    settings.OPENAI_BASE_URL = f"{server.url}/v1"
    settings.OPENAI_API_KEY = "sk-test"
    user = make_user(f"panel-{viewport}@example.com", name="Pia")
    agent = factories.agent(user, model="gpt-4o-mini", name="Builder")
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    page.get_by_role("textbox", name="Message").fill("Write the sum function")
    page.get_by_role("button", name="Send").click()
    return user, conversation, page


def test_the_panel_opens_from_a_streamed_answer_and_follows_its_revision(signed_in_page, settings):
    from testutils.fakes.openai import Script

    with _server(settings, REPLY) as server:
        user, conversation, page = _start(signed_in_page, settings, server, "desktop")
        card = page.locator(".msg-assistant:not(.msg-streaming) .artifact-card", has_text="sum.py")
        card.wait_for(timeout=20_000)
        assert page.locator(".msg-assistant .artifact-card").count() == 2
        # A ```mermaid block of the finished answer is drawn as an image.
        page.locator(".msg-assistant .mermaid-diagram img.mermaid-image").wait_for(timeout=20_000)
        card.click()
        panel = page.locator("#artifact-panel")
        panel.locator(".artifact-title", has_text="sum.py").wait_for()
        assert panel.is_visible()
        assert page.url.endswith(reverse("chats:detail", args=[conversation.id]))  # still the conversation
        assert panel.locator("pre code.language-python").count() == 1
        assert "Version 1 of 1" in panel.inner_text()
        # The agent revises it: the panel shows version 2 when the answer finishes.
        revised = REPLY.replace("return total", "return total * 2")
        server.httpd.script = Script(chunks=_chunks(revised), delay=0.01, input_tokens=5, output_tokens=30)
        page.get_by_role("textbox", name="Message").fill("Double it")
        page.get_by_role("button", name="Send").click()
        panel.get_by_text("Version 2 of 2").wait_for(timeout=20_000)
        assert "total * 2" in panel.locator("pre").first.inner_text()
        page.get_by_role("button", name="Close").last.click()
        assert not panel.is_visible()
        with tenant(user.id):
            assert Artifact.objects.filter(name="sum.py").count() == 2
        assert _problems(page) == []


def test_on_a_phone_a_card_opens_the_artifact_page(signed_in_page, settings):
    with _server(settings, REPLY) as server:
        user, conversation, page = _start(signed_in_page, settings, server, "phone")
        card = page.locator(".msg-assistant:not(.msg-streaming) .artifact-card", has_text="sum.py")
        card.wait_for(timeout=20_000)
        card.click()
        page.wait_for_url("**/artifacts/*/")
        assert page.locator("h1.artifact-title").text_content() == "sum.py"
        assert _problems(page) == []


def test_html_artifact_scripts_cannot_reach_the_page(signed_in_page, settings):
    from artifacts import services

    user = make_user("frame@example.com", name="Fay")
    agent = factories.agent(user, name="Maker")
    page_html = ("<!doctype html><html><body><p id='out'>start</p><script>"
                 "var r=[];try{parent.document.title='owned';r.push('parent')}catch(e){r.push('no-parent')}"
                 "try{r.push(document.cookie.length?'cookie':'no-cookie')}catch(e){r.push('no-cookie')}"
                 "fetch('/artifacts/').then(function(){r.push('fetched')},function(){r.push('no-fetch')})"
                 ".finally(function(){document.getElementById('out').textContent=r.join(',')});"
                 "</script></body></html>")
    artifact = services.artifact_create(user=user, agent=agent, name="page", type="HTML", content=page_html)
    page = signed_in_page(user, "desktop")
    page.goto(reverse("artifacts:detail", args=[artifact.pk]))
    frame = page.frame_locator("iframe.artifact-frame")
    frame.locator("#out", has_text="no-fetch").wait_for(timeout=15_000)
    text = frame.locator("#out").text_content()
    assert text == "no-parent,no-cookie,no-fetch"
    assert page.title() != "owned"


def test_save_a_selection_of_an_answer_as_an_artifact(signed_in_page):
    user = make_user("saver@example.com", name="Sal")
    agent = factories.agent(user, name="Writer")
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
        question = factories.message(user, conv=conversation, role="user", content="Tell me two things")
        factories.message(user, conv=conversation, role="assistant", content="The first thing.\n\nThe second thing, kept.",
                          metadata={"reply_to": str(question.id), "status": "complete"})
    page = signed_in_page(user, "desktop")
    page.goto(reverse("chats:detail", args=[conversation.id]))
    answer = page.locator(".msg-assistant").first
    answer.hover()
    button = answer.get_by_role("button", name="Save as artifact")
    button.wait_for()
    page.evaluate("""() => {
        const p = [...document.querySelectorAll('.msg-assistant .msg-body p')].find(e => e.textContent.includes('second'));
        const range = document.createRange(); range.selectNodeContents(p);
        const s = window.getSelection(); s.removeAllRanges(); s.addRange(range);
    }""")
    button.click()
    page.wait_for_url("**/artifacts/*/")
    with tenant(user.id):
        saved = Artifact.objects.get()
    assert saved.content == "The second thing, kept." and saved.type == "MARKDOWN"
    assert "The second thing, kept." in page.locator(".artifact-body").inner_text()
    assert page.problems == []
