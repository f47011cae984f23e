"""Source chips in a real Chromium, at phone (tapped) and desktop (clicked, hovered) sizes: an answer
streamed from the OpenAI fake citing [2] and [1] of the passages its turn retrieved has the chips
for exactly those numbers as soon as the stream ends; a chip and an inline [n] open the cited
passages in the side panel (a sheet on phones) without leaving the chat, Escape or Close shut it
and give the focus back; a deleted document shows as no longer available. Without JavaScript a
chip is a link to its passage on the document's page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chats.models import Message
from chats.rendering import html_digest, render_markdown
from core.tenancy import tenant
from rag import indexing
from rag.models import RagChunk, RagDocument
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
DOCUMENTS = {
    "Flat lease": "# Flat lease\n\n## Rent\n\nThe monthly rent of the flat is 1,250 euros, due on the fifth day of each month.",
    "Pet rules": "# Pet rules\n\n## Deposit\n\nSmall pets in the flat are allowed with a deposit of 300 euros.",
    "Garden notes": "# Garden notes\n\n## Watering\n\nThe flat's garden is watered by the landlord every morning.",
}
QUESTION = "What do the rent, the pets and the garden of the flat cost?"
REPLY = "Pets need a deposit [2]. The rent is 1,250 euros [1], and [2] again."


def _library(user):
    with tenant(user.id):
        documents = [RagDocument.objects.create(user=user, title=title, source="PASTE", content=text)
                     for title, text in DOCUMENTS.items()]
    for document in documents:
        indexing.index_document(user_id=user.id, document_id=document.id)
    return documents


def _passage_text(user, citation) -> str:
    """The cited chunk's own text (after its heading line), on one line."""
    with tenant(user.id):
        content = RagChunk.objects.get(document_id=citation["document_id"], position=citation["position"]).content
    return " ".join(content.split("\n\n", 1)[-1].split())


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_chips_follow_the_text_and_open_the_cited_passages(signed_in_page, settings, viewport):
    from testutils.fakes.openai import FakeOpenAI, Script
    from testutils.fakes.server import FakeServer

    with FakeServer(FakeOpenAI, script=Script(reply=REPLY, input_tokens=50, output_tokens=20)) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        user = make_user(f"sources-{viewport}@example.com", name="Noor")
        _library(user)
        agent = factories.agent(user, model="gpt-4o-mini", name="Flat helper")
        with tenant(user.id):
            conversation = factories.conversation(user, agent_=agent)
        phone = viewport == "phone"
        page = signed_in_page(user, viewport, **({"has_touch": True} if phone else {}))
        page.goto(reverse("chats:detail", args=[conversation.id]))
        page.evaluate("() => { window.__stayed = true; }")
        page.get_by_role("textbox", name="Message").fill(QUESTION)
        page.get_by_role("button", name="Send").click()

        # As soon as the stream ends, the answer has its chips: the numbers its text cites, no more.
        answer = page.locator(".msg-assistant:not(.msg-streaming)")
        answer.locator(".msg-sources").wait_for()
        with tenant(user.id):
            stored = Message.objects.get(conversation=conversation, role="assistant").metadata["citations"]
        assert len(stored) >= 3  # the turn retrieved more passages than the answer cites
        chip_numbers = [int(n) for n in answer.locator(".source-chip-number").all_text_contents()]
        inline = sorted({int(re.sub(r"\D", "", t)) for t in answer.locator(".msg-body a.citation-link").all_text_contents()})
        assert inline == [1, 2] and sorted(chip_numbers) == [1, 2]
        chips = answer.locator("a.source-chip")
        titles = [stored["1"]["title"]] if stored["1"]["document_id"] == stored["2"]["document_id"] else [stored["1"]["title"], stored["2"]["title"]]
        assert [_squash(t) for t in chips.locator(".source-chip-title").all_text_contents()] == titles  # by first number

        # Hover (desktop): the title and the stored snippet of the passage.
        first_chip = chips.first
        if not phone:
            first_chip.hover()
            tip = answer.locator(".source-tip").first
            tip.wait_for(state="visible")
            assert stored["1"]["title"] in tip.text_content() and stored["1"]["snippet"][:40] in _squash(tip.text_content())

        # The chip opens its passages in the panel, focus inside; Escape closes, focus back on the chip.
        panel = page.locator("#source-panel")
        first_chip.tap() if phone else first_chip.click()
        page.wait_for_function("() => document.getElementById('source-panel').open")
        assert page.evaluate("() => document.getElementById('source-panel').contains(document.activeElement)")
        assert _squash(panel.locator(".source-panel-title").text_content()) == stored["1"]["title"]
        sections = panel.locator(".source-panel-passage")
        numbers = [int(sections.nth(i).get_attribute("data-number")) for i in range(sections.count())]
        assert numbers == [n for n in (1, 2) if stored[str(n)]["document_id"] == stored["1"]["document_id"]]
        first_text = panel.locator('.source-panel-passage[data-number="1"] .passage-text')
        first_text.wait_for()
        assert _squash(first_text.text_content()) == _passage_text(user, stored["1"])
        box, width = panel.bounding_box(), page.viewport_size["width"]
        if phone:  # a full-width sheet from the bottom
            assert box["x"] == 0 and box["width"] == width
            assert abs(box["y"] + box["height"] - page.viewport_size["height"]) <= 1
        else:  # a side panel on the right, the chat still in view beside it
            assert abs(box["x"] + box["width"] - width) <= 1 and box["width"] <= width / 2
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('source-panel').open")
        assert page.evaluate("() => document.activeElement === document.querySelector('.msg-assistant:not(.msg-streaming) a.source-chip')")
        page.keyboard.press("Enter")  # from the keyboard too
        page.wait_for_function("() => document.getElementById('source-panel').open")
        panel.locator('.source-panel-passage[data-number="1"] .passage-text').wait_for()
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('source-panel').open")

        # An inline [2] opens that passage: the number in the text and the passage shown agree.
        link = answer.locator(".msg-body a.citation-link", has_text="[2]").first
        link.tap() if phone else link.click()
        page.wait_for_function("() => document.getElementById('source-panel').open")
        assert sections.count() == 1 and sections.first.get_attribute("data-number") == "2"
        second_text = panel.locator(".passage-text")
        second_text.wait_for()
        assert _squash(second_text.text_content()) == _passage_text(user, stored["2"])
        assert _squash(panel.locator(".source-panel-title").text_content()) == stored["2"]["title"]
        panel.get_by_role("button", name="Close").click()
        page.wait_for_function("() => !document.getElementById('source-panel').open")
        assert page.evaluate("() => document.activeElement && document.activeElement.classList.contains('citation-link')")

        assert page.problems == []
        # A document deleted since: the panel says so instead of showing stale text (its 404 is the
        # one console line Chromium writes).
        with tenant(user.id):
            RagDocument.objects.filter(pk=stored["1"]["document_id"]).delete()
        first_chip.tap() if phone else first_chip.click()
        gone = panel.locator('.source-panel-passage[data-number="1"] .passage-gone')
        gone.wait_for()
        assert "no longer available" in gone.text_content()
        page.keyboard.press("Escape")

        assert page.evaluate("() => window.__stayed === true")  # all of it without leaving the chat
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        assert page.problems == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_without_javascript_a_chip_is_a_link_to_its_passage(signed_in_page, viewport):
    user = make_user(f"sources-nojs-{viewport}@example.com", name="Ivo")
    lease, _pets, _garden = _library(user)
    with tenant(user.id):
        chunk = RagChunk.objects.filter(document=lease).order_by("-position").first()
        conversation = factories.conversation(user, agent_=factories.agent(user, name="Flat helper"))
        question = Message.objects.create(conversation=conversation, user=user, role="user", content=QUESTION)
        citation = {"url": reverse("rag:document", args=[lease.id]) + f"#chunk-{chunk.position}", "title": lease.title,
                    "document_id": str(lease.id), "position": chunk.position}
        content = "The rent is 1,250 euros [1]."
        rendered = render_markdown(content, {1: citation["url"]})
        Message.objects.create(conversation=conversation, user=user, role="assistant", content=content,
                               metadata={"status": "complete", "reply_to": str(question.id), "html": rendered,
                                         "html_digest": html_digest(rendered), "citations": {"1": citation}})
    page = signed_in_page(user, viewport, java_script_enabled=False)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    chip = page.locator("a.source-chip")
    assert chip.count() == 1 and _squash(chip.text_content()) == "1 Flat lease"
    chip.click()
    page.wait_for_url(re.compile(rf"{reverse('rag:document', args=[lease.id])}#chunk-{chunk.position}$"))
    target = page.locator(f"#chunk-{chunk.position}")
    assert "1,250 euros" in target.text_content()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
