"""In a real Chromium: log in, open an agent, send a message and watch the answer stream in,
stop a second one midway, and find the first conversation by searching a word from it."""

import re

import pytest
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_chat_in_a_real_browser(browser_page, settings):
    settings.OFFLINE_STREAM_DELAY = 0.03  # slow enough to watch (and stop) the stream
    user = make_user("walker@example.com", name="Walker")
    staff = make_user("curator@example.com", role="ADMIN")
    factories.agent(staff, is_public=True, name="Trip Planner", description="Plans trips.",
                            system_prompt="You plan trips. Be concrete and brief.")
    page = browser_page

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.wait_for_url(re.compile(r"/$"))

    page.goto(reverse("agents:catalog"))
    page.get_by_role("link", name="Trip Planner").first.click()
    page.get_by_role("link", name=re.compile("Start a conversation", re.I)).or_(
        page.get_by_role("button", name=re.compile("Start a conversation", re.I))).first.click()
    page.wait_for_url(re.compile(r"/chat/new/"))

    # First message: the answer streams in, word by word, then becomes the rendered answer.
    page.get_by_label("Message").fill("Which glaciers should we hike in Patagonia?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    streaming = page.locator(".msg-streaming .msg-body")
    streaming.wait_for()
    first_length = len(streaming.inner_text())
    page.wait_for_function(
        "n => { const el = document.querySelector('.msg-streaming .msg-body'); return el && el.innerText.length > n + 10; }",
        arg=first_length,
    )
    page.locator(".msg-assistant:not(.msg-streaming)").last.wait_for()
    assert "offline" in page.locator(".msg-assistant .msg-body").last.inner_text().lower()
    assert page.get_by_role("button", name="Stop").is_hidden()

    # Second message: stop it midway; the partial answer stays.
    page.get_by_label("Message").fill("And how long should the whole trip take, roughly?")
    page.get_by_label("Message").press("Enter")
    page.get_by_role("button", name="Stop").wait_for(state="visible")
    page.wait_for_function("() => { const el = document.querySelector('.msg-streaming .msg-body'); return el && el.innerText.split(' ').length > 4; }")
    page.get_by_role("button", name="Stop").click()
    page.locator(".msg-cancelled").wait_for()
    assert "Stopped before the end" in page.locator(".msg-cancelled").inner_text()
    with tenant(user.id):
        stopped = Message.objects.filter(role="assistant", metadata__status="cancelled").get()
        assert stopped.content and len(stopped.content.split()) < 200

    # Search finds the first conversation by a word from it.
    page.goto(reverse("chats:list"))
    page.get_by_role("searchbox").fill("glaciers")
    page.get_by_role("button", name="Search").click()
    result = page.locator(".conversation-item").first
    result.wait_for()
    assert "glaciers" in result.locator("mark").first.inner_text().lower()
    result.locator("a").click()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/"))
    assert "Patagonia" in page.content()
