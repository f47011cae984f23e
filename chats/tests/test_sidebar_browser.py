"""The conversation sidebar in a real Chromium, at phone and desktop sizes: the menu's pin, rename
and delete (with its undo toast), New chat always in view and on Ctrl+Shift+O, and the generated
title replacing "Untitled conversation" without a reload."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chats.models import Conversation, ConversationPin, Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
# The New chat button is on screen and nothing covers its middle.
NEW_CHAT_IN_VIEW = """() => {
  const b = document.querySelector('[data-new-chat]'); const r = b.getBoundingClientRect();
  if (r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth || !r.width) return false;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return hit === b || b.contains(hit);
}"""


def _conversation(user, agent, title, days_ago, messages=0):
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
        Message.objects.bulk_create([
            Message(conversation=conversation, user=user, role="user" if i % 2 == 0 else "assistant",
                    content=f"line {i}", metadata={"html": f"<p>line {i}</p>" * 3, "status": "complete"})
            for i in range(messages)
        ])
        Conversation.objects.filter(pk=conversation.pk).update(title=title, last_message_at=timezone.now() - timedelta(days=days_ago))
    return conversation


# How long the toast holds a delete for Undo (static/js/sidebar.js's UNDO_MS). The tests that let it
# expire move the page's clock (Playwright's, installed before the page loads; it runs at real
# speed otherwise) past it at once instead of waiting the 8 s, four times in this file.
UNDO_MS = 8000


def _item(page, title):
    return page.locator(".convo-item", has=page.locator("[data-title]", has_text=re.compile(f"^{re.escape(title)}$")))


def _menu(page, title):
    page.get_by_label(f"Options for “{title}”").click()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_sidebar_menu_pin_rename_delete_with_undo(signed_in_page, viewport):
    user = make_user(f"sidebar-{viewport}@example.com", name="Sid")
    agent = factories.agent(make_user(f"curator-{viewport}@example.com", role="ADMIN"), is_public=True, name="Guide")
    alpha = _conversation(user, agent, "Alpha", 0, messages=40)
    _conversation(user, agent, "Gamma", 1)
    beta = _conversation(user, agent, "Beta", 3)
    page = signed_in_page(user, viewport)
    page.clock.install()
    page.goto(reverse("chats:detail", args=[alpha.id]))

    # New chat stays in view while the conversation scrolls.
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function(NEW_CHAT_IN_VIEW)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    summary = page.locator(".convo-summary")
    if viewport == "phone":  # folded under its toggle on a phone
        assert not page.locator("[data-convo-list]").is_visible()
        summary.click()
    assert page.locator(".convo-group-title").all_text_contents() == ["Today", "Yesterday", "Previous 7 days"]

    # Pin: Beta moves to the top, under "Pinned".
    _menu(page, "Beta")
    page.get_by_role("button", name="Pin", exact=True).click()
    page.wait_for_function("() => document.querySelector('.convo-group')?.dataset.group === 'pinned'")
    first = page.locator(".convo-group").first
    assert first.locator(".convo-group-title").text_content() == "Pinned"
    assert first.locator("[data-title]").all_text_contents() == ["Beta"]
    with tenant(user.id):
        assert list(ConversationPin.objects.values_list("conversation_id", flat=True)) == [beta.id]

    # Rename in place: Enter saves.
    _menu(page, "Gamma")
    page.get_by_role("link", name="Rename").click()
    field = page.get_by_label("New title")
    field.fill("Gamma, renamed")
    field.press("Enter")
    _item(page, "Gamma, renamed").wait_for()
    with tenant(user.id):
        assert Conversation.objects.filter(title="Gamma, renamed").count() == 1

    # Delete: the item goes, a toast offers Undo (no confirm() dialog), Undo brings it back.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _menu(page, "Gamma, renamed")
    page.get_by_role("link", name="Delete").click()
    toast = page.locator("[data-convo-toast]")
    assert "Conversation deleted." in toast.inner_text()
    assert _item(page, "Gamma, renamed").is_hidden()
    page.get_by_role("button", name="Undo").click()
    _item(page, "Gamma, renamed").wait_for(state="visible")
    assert "Deletion undone." in toast.inner_text()
    with tenant(user.id):
        assert Conversation.objects.filter(title="Gamma, renamed").exists()

    # Delete again and let the toast expire: the delete is sent then.
    _menu(page, "Gamma, renamed")
    page.get_by_role("link", name="Delete").click()
    assert _item(page, "Gamma, renamed").is_hidden()
    page.clock.fast_forward(UNDO_MS)
    page.wait_for_function("() => !document.querySelector('.convo-item[hidden]')", timeout=30_000)
    with tenant(user.id):
        assert not Conversation.objects.filter(title="Gamma, renamed").exists()
        assert Conversation.objects.count() == 2
    assert dialogs == []
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_held_delete_is_sent_when_the_page_is_left(signed_in_page, viewport):
    user = make_user(f"leaver-{viewport}@example.com")
    agent = factories.agent(make_user(f"curator2-{viewport}@example.com", role="ADMIN"), is_public=True, name="Guide")
    keep = _conversation(user, agent, "Keep", 0)
    _conversation(user, agent, "Drop", 0)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[keep.id]))
    if viewport == "phone":
        page.locator(".convo-summary").click()
    _menu(page, "Drop")
    page.get_by_role("link", name="Delete").click()
    assert _item(page, "Drop").is_hidden()
    page.goto(reverse("chats:list"))  # leave before the toast expires
    page.get_by_role("heading", name="Conversations").wait_for()
    for _ in range(100):
        with tenant(user.id):
            if not Conversation.objects.filter(title="Drop").exists():
                break
        page.wait_for_timeout(100)
    with tenant(user.id):
        assert list(Conversation.objects.values_list("title", flat=True)) == ["Keep"]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_ctrl_shift_o_opens_a_new_chat(signed_in_page, viewport):
    user = make_user(f"keys-{viewport}@example.com")
    agent = factories.agent(make_user(f"curator3-{viewport}@example.com", role="ADMIN"), is_public=True, name="Guide")
    conversation = _conversation(user, agent, "Something", 0)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    page.locator("body").press("Control+Shift+O")
    page.wait_for_url(re.compile(re.escape(reverse("chats:new", args=[agent.slug])) + "$"))
    page.get_by_label("Message").wait_for()
    # And from the new chat page itself, with the focus in the message box.
    page.get_by_label("Message").press("Meta+Shift+O")
    page.wait_for_url(re.compile(re.escape(reverse("chats:new", args=[agent.slug])) + "$"))
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_generated_title_appears_without_a_reload(signed_in_page, viewport, settings):
    settings.OFFLINE_STREAM_DELAY = 0.01
    user = make_user(f"titles-{viewport}@example.com")
    agent = factories.agent(make_user(f"curator4-{viewport}@example.com", role="ADMIN"), is_public=True, name="Guide")
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:new", args=[agent.slug]))
    page.get_by_label("Message").fill("Which glaciers should we hike in Patagonia?")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    # The page was rendered before the answer (and so the title) was written.
    assert page.locator(".chat-title").inner_text() == "Untitled conversation"
    page.evaluate("() => { window.__sameDocument = true; }")
    page.locator(".msg-assistant:not(.msg-streaming):not(.msg-pending)").last.wait_for()
    page.wait_for_function("() => document.querySelector('.chat-title').textContent !== 'Untitled conversation'", timeout=30_000)
    with tenant(user.id):
        title = Conversation.objects.get().title
    assert title
    assert page.locator(".chat-title").inner_text() == title
    assert page.locator(".convo-item.current [data-title]").text_content() == title  # folded on a phone
    assert page.title().startswith(title)
    assert page.evaluate("() => window.__sameDocument === true")  # no reload happened
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_menu_works_from_the_keyboard_and_the_header_delete_has_the_toast_too(signed_in_page, viewport):
    user = make_user(f"keyboard-{viewport}@example.com")
    agent = factories.agent(make_user(f"curator5-{viewport}@example.com", role="ADMIN"), is_public=True, name="Guide")
    other = _conversation(user, agent, "Other", 0)
    opened = _conversation(user, agent, "Open one", 0)
    page = signed_in_page(user, viewport)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.clock.install()
    page.goto(reverse("chats:detail", args=[opened.id]))
    if viewport == "phone":
        page.locator(".convo-summary").focus()
        page.keyboard.press("Enter")  # unfold the list from the keyboard
    menu = page.get_by_label("Options for “Other”")
    menu.focus()
    page.keyboard.press("Enter")
    pin = page.get_by_role("button", name="Pin", exact=True)
    pin.wait_for(state="visible")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Pin"
    page.keyboard.press("Escape")
    assert pin.is_hidden()
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Options for “Other”"

    # The header's Delete (the open conversation): the same toast, Undo keeps it ...
    page.locator(".chat-actions").get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Undo").click()
    assert "Deletion undone." in page.locator("[data-convo-toast]").inner_text()
    # ... and once the toast expires it is deleted and the conversation list opens.
    page.locator(".chat-actions").get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Undo").wait_for(state="visible")
    page.clock.fast_forward(UNDO_MS)
    page.wait_for_url(re.compile(re.escape(reverse("chats:list")) + "$"), timeout=30_000)
    with tenant(user.id):
        assert list(Conversation.objects.values_list("id", flat=True)) == [other.id]
    assert dialogs == []
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_search_as_you_type_keeps_matching_titles(signed_in_page, viewport):
    user = make_user(f"search-{viewport}@example.com")
    agent = factories.agent(make_user(f"curator6-{viewport}@example.com", role="ADMIN"), is_public=True, name="Guide")
    opened = _conversation(user, agent, "Trip to Iceland", 0)
    _conversation(user, agent, "Groceries", 2)
    _conversation(user, agent, "Iceland photos", 50)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[opened.id]))
    if viewport == "phone":
        page.locator(".convo-summary").click()
    page.get_by_label("Search conversation titles").fill("icel")
    page.wait_for_function("() => document.querySelectorAll('.convo-item').length === 2")
    assert sorted(page.locator("[data-title]").all_text_contents()) == ["Iceland photos", "Trip to Iceland"]
    assert page.locator(".convo-item.current [data-title]").text_content() == "Trip to Iceland"
    page.get_by_label("Search conversation titles").fill("zeppelin")
    page.get_by_text("No conversation title contains “zeppelin”.").wait_for()
    page.get_by_label("Search conversation titles").fill("")
    page.wait_for_function("() => document.querySelectorAll('.convo-item').length === 3")
    assert page.url.endswith(reverse("chats:detail", args=[opened.id]))  # no navigation
    assert page.problems == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_without_javascript_the_menu_pins_renames_and_deletes_through_pages(signed_in_page, viewport):
    user = make_user(f"nojs-{viewport}@example.com")
    agent = factories.agent(make_user(f"curator7-{viewport}@example.com", role="ADMIN"), is_public=True, name="Guide")
    opened = _conversation(user, agent, "Open", 0)
    _conversation(user, agent, "Later", 4)
    page = signed_in_page(user, viewport, java_script_enabled=False)
    detail = reverse("chats:detail", args=[opened.id])
    page.goto(detail)
    assert page.locator("[data-convo-list]").is_visible()  # unfolded without JavaScript

    _menu(page, "Later")
    page.get_by_role("button", name="Pin", exact=True).click()
    page.wait_for_url(re.compile(re.escape(detail) + "$"))
    assert page.locator(".convo-group").first.locator("[data-title]").all_text_contents() == ["Later"]

    _menu(page, "Later")
    page.get_by_role("link", name="Rename").click()
    page.get_by_label("Title").fill("Later, renamed")
    page.get_by_role("button", name="Save").click()
    _item(page, "Later, renamed").wait_for()

    _menu(page, "Later, renamed")
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("heading", name="Delete the conversation").wait_for()
    with tenant(user.id):
        assert Conversation.objects.count() == 2  # asking deletes nothing
    page.locator(".page-content").get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(re.escape(reverse("chats:list")) + "$"))
    with tenant(user.id):
        assert list(Conversation.objects.values_list("title", flat=True)) == ["Open"]
