"""Attachments in a real Chromium at phone and desktop sizes (issue 07 item 9): a text file dropped
on the composer becomes a chip that ends "Ready" (indexing runs when the upload commits), the
answer in that chat quotes and cites it, the same question in another chat does not reach it; a
file chosen with the picker, a refused type with its message, removing a chip; no sideways scroll,
no CSP problem or script error."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chats.models import ConversationDocument
from core.tenancy import tenant
from rag.models import RagDocument, Status
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
FERRY = ("# Island trip\n\nThe ferry to Isla Verde leaves at 7:40 from pier 3.\n\n"
         "Tickets cost 18 euros and are sold on board.")
QUESTION = "When does the ferry to Isla Verde leave?"

# A real drag-and-drop as the page sees it: dragenter, dragover and drop carrying a File.
DROP = """([name, text]) => {
  const composer = document.getElementById('composer');
  const data = new DataTransfer();
  data.items.add(new File([text], name, {type: 'text/plain'}));
  for (const type of ['dragenter', 'dragover', 'drop']) {
    composer.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""

PASTE = """([name, text]) => {
  const data = new DataTransfer();
  data.items.add(new File([text], name, {type: 'text/plain'}));
  const box = document.querySelector('#composer textarea');
  box.focus();
  box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
}"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _ask(page, question):
    answers = page.locator(".msg-assistant:not(.msg-streaming)")
    before = answers.count()
    page.locator("#composer textarea").fill(question)
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("n => document.querySelectorAll('.msg-assistant:not(.msg-streaming):not(.msg-pending)').length > n",
                           arg=before)
    return answers.last


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_dropped_file_is_answered_from_in_its_chat_only(signed_in_page, viewport, tmp_path):
    user = make_user(f"attach-{viewport}@example.com", name="Ada")
    agent = factories.agent(make_user(f"curator-attach-{viewport}@example.com", role="ADMIN"), is_public=True,
                            name="Guide")
    with tenant(user.id):
        chat, other_chat = factories.conversation(user, agent_=agent), factories.conversation(user, agent_=agent)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[chat.id]))
    assert page.get_by_role("button", name="Attach files").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # Drop a text file on the composer: a chip, then "Ready", announced.
    page.evaluate(DROP, ["ferry.txt", FERRY])
    chip = page.locator(".attachment-chip[data-attachment-id]", has_text="ferry")
    chip.wait_for()
    page.wait_for_function("() => document.querySelector('.attachment-chip[data-status=\"INDEXED\"]')")
    assert "Ready" in chip.inner_text()
    assert page.locator("#attachment-status").text_content() != ""
    with tenant(user.id):
        link = ConversationDocument.objects.select_related("document").get()
        assert link.conversation_id == chat.id and link.document.status == Status.INDEXED
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # The picker (the hidden input behind "Attach files") and a refused type, with its message.
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ not a document")
    page.locator("#attachment-file").set_input_files(str(bad))
    error = page.locator("#attachment-errors")
    error.wait_for(state="visible")
    assert "Files of this type are not supported." in error.inner_text()
    extra = tmp_path / "packing.md"
    extra.write_text("# Packing\n\nBring a raincoat and sandals.")
    with page.expect_file_chooser() as chooser:  # the button opens the picker, from the keyboard too
        page.get_by_role("button", name="Attach files").focus()
        page.keyboard.press("Enter")
    chooser.value.set_files(str(extra))
    page.locator(".attachment-chip[data-attachment-id]", has_text="packing").wait_for()
    # The chip follows its indexing (polled) until it is ready.
    page.wait_for_function("() => document.querySelectorAll('.attachment-chip[data-status=\"INDEXED\"]').length === 2")
    with tenant(user.id):
        assert RagDocument.objects.count() == 2  # the refused file saved nothing

    # Asked here, the answer quotes the dropped file and cites it.
    answer = _ask(page, QUESTION)
    assert "7:40" in answer.inner_text()
    assert "ferry" in answer.inner_text()  # its source chip
    with tenant(user.id):
        cited = answer_citations(user, chat)
    assert "ferry" in cited

    # Removing a chip removes the file from this chat (and its document).
    page.get_by_role("button", name="Remove “packing”").click()
    page.locator(".attachment-chip", has_text="packing").wait_for(state="detached")
    with tenant(user.id):
        assert list(RagDocument.objects.values_list("title", flat=True)) == ["ferry"]

    # Another chat: the same question does not reach the file.
    page.goto(reverse("chats:detail", args=[other_chat.id]))
    assert not page.locator(".attachment-chip").count()
    elsewhere = _ask(page, QUESTION)
    assert "7:40" not in elsewhere.inner_text()
    with tenant(user.id):
        assert answer_citations(user, other_chat) == set()

    # A file pasted into the message box is attached to this chat (not pasted as text).
    page.evaluate(PASTE, ["shopping.txt", "Buy bread and olives."])
    page.locator(".attachment-chip[data-attachment-id]", has_text="shopping").wait_for()
    assert page.locator("#composer textarea").input_value() == ""
    with tenant(user.id):
        assert ConversationDocument.objects.get(document__title="shopping").conversation_id == other_chat.id
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    # The refused upload's 400 is the one console line expected (Chromium logs every failed request).
    refused = [p for p in page.problems if "status of 400" in p]
    assert len(refused) == 1 and [p for p in page.problems if p not in refused] == []


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_file_dropped_on_a_new_chat_opens_the_conversation_keeping_the_draft(signed_in_page, viewport):
    from chats.models import Conversation

    user = make_user(f"attach-new-{viewport}@example.com", name="Ada")
    agent = factories.agent(make_user(f"curator-new-{viewport}@example.com", role="ADMIN"), is_public=True,
                            name="Guide")
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:new", args=[agent.slug]))
    page.locator("#composer textarea").fill(QUESTION)
    page.evaluate(DROP, ["ferry.txt", FERRY])
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    with tenant(user.id):
        conversation = Conversation.objects.get()
    assert page.url.endswith(reverse("chats:detail", args=[conversation.id]))
    page.locator(".attachment-chip[data-status=INDEXED]", has_text="ferry").wait_for()
    assert page.locator("#composer textarea").input_value() == QUESTION  # the draft came along
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("() => document.querySelector('.msg-assistant:not(.msg-streaming):not(.msg-pending)')")
    assert "7:40" in page.locator(".msg-assistant").last.inner_text()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.problems == []


def answer_citations(user, conversation) -> set[str]:
    from chats.models import Message

    answer = Message.objects.filter(conversation=conversation, role="assistant").order_by("-timestamp").first()
    return {c["title"] for c in (answer.metadata.get("citations") or {}).values()} if answer else set()
