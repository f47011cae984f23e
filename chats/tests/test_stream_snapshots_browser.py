"""In a real Chromium, at phone and desktop sizes: an answer shows as formatted Markdown while it
is still streaming (headings, bold, lists, a code block with its language label), and ends as the
stored answer."""

from __future__ import annotations

import pytest
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPLY = ["## Steps\n\n", "1. **Open** the file\n", "2. Run:\n\n", "```python\n", "print('hi')\n", "```\n\n"] + \
    [f"More words {i}. " for i in range(20)]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_markdown_appears_before_the_stream_ends(signed_in_page, settings, viewport):
    from testutils.fakes.openai import FakeOpenAI, Script
    from testutils.fakes.server import FakeServer

    with FakeServer(FakeOpenAI, script=Script(chunks=REPLY, delay=0.12, input_tokens=5, output_tokens=30)) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        user = make_user(f"markdown-{viewport}@example.com", name="Mia")
        agent = factories.agent(user, model="gpt-4o-mini", name="Guide")
        with tenant(user.id):
            conversation = factories.conversation(user, agent_=agent)
        page = signed_in_page(user, viewport)
        page.goto(reverse("chats:detail", args=[conversation.id]))
        page.get_by_role("textbox", name="Message").fill("How do I run it?")
        page.get_by_role("button", name="Send").click()
        streaming = page.locator(".msg-assistant.msg-streaming")
        # While the answer is still streaming, it is already formatted: no raw Markdown marks.
        streaming.locator(".msg-body h2", has_text="Steps").wait_for()
        streaming.locator(".msg-body ol li strong", has_text="Open").wait_for()
        streaming.locator(".msg-body pre code.language-python").wait_for()
        assert streaming.locator(".code-language").first.text_content() == "python"
        assert "**" not in streaming.locator(".msg-body").inner_text()
        assert streaming.count() == 1  # still streaming when all of that was seen
        page.locator(".msg-assistant:not(.msg-streaming)").wait_for(timeout=20_000)
        with tenant(user.id):
            answer = Message.objects.get(role="assistant")
        assert answer.metadata["status"] == "complete"
        final = page.locator(f"#m-{answer.id} .msg-body")
        assert final.locator("h2").text_content() == "Steps" and final.locator("pre code").count() == 1
        assert page.problems == []
