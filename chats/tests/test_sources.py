"""Source chips under an answer: only the documents its text cites ([n] outside code), one chip per
document with its numbers in order, each a link to its passage (the side panel's address in
``data-passages``), the stored snippet on hover; the same item at the end of the stream as on the
page; the page's query count does not grow with cited answers."""

from __future__ import annotations

import html as html_lib
import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chats.models import Message
from chats.rendering import html_digest, render_markdown
from chats.sources import cited_numbers, source_chips
from core.tenancy import tenant
from rag import indexing
from rag.models import RagDocument
from testutils import factories

from .conftest import consume, events

pytestmark = pytest.mark.django_db

DOC_A, DOC_B, DOC_C = (str(uuid.uuid4()) for _ in range(3))


def _citation(document_id, position, title, snippet=None):
    shape = {"url": reverse("rag:document", args=[document_id]) + f"#chunk-{position}", "title": title,
             "document_id": document_id, "position": position}
    if snippet is not None:
        shape["snippet"] = snippet
    return shape


CITATIONS = {
    "1": _citation(DOC_A, 0, "Flat lease", "The monthly rent is 1,250 euros."),
    "2": _citation(DOC_B, 1, "House rules <b>v2</b>", "No parties after ten."),
    "3": _citation(DOC_A, 2, "Flat lease", "Small pets are allowed with a deposit."),
    "4": _citation(DOC_C, 0, "Bike manual", "Oil the chain."),
}


def _answer(owner, conversation, content, citations=CITATIONS):
    """An answer stored as the service stores one: HTML rendered with its citation links and digest."""
    rendered = render_markdown(content, {int(n): c["url"] for n, c in citations.items()})
    with tenant(owner.id):
        question = Message.objects.create(conversation=conversation, user=owner, role="user", content="Tell me")
        return Message.objects.create(conversation=conversation, user=owner, role="assistant", content=content,
                                      metadata={"status": "complete", "reply_to": str(question.id), "html": rendered,
                                                "html_digest": html_digest(rendered), "citations": citations})


def _item(page: str, message_id) -> str:
    match = re.search(rf'<li class="[^"]*" id="m-{message_id}".*?</li>(?=<li class="msg|\s*</ol>\s*<div id="latest")', page, re.S)
    assert match, "the answer is on the page"
    return match.group(0)


def _chips(item: str) -> list[dict]:
    """What each chip shows and links to, read from the item's HTML."""
    chips = []
    for match in re.finditer(r'<li class="source-chip-item">(.*?)</li>', item, re.S):
        chip = match.group(1)
        href = re.search(r'<a class="source-chip" href="([^"]*)"', chip)
        passages = re.search(r'data-passages="([^"]*)"', chip)
        chips.append({
            "numbers": [int(n) for n in re.findall(r'<span class="source-chip-number">(\d+)</span>', chip)],
            "title": html_lib.unescape(re.search(r'<span class="source-chip-title">(.*?)</span>', chip).group(1)),
            "href": html_lib.unescape(href.group(1)) if href else None,
            "passages": json.loads(html_lib.unescape(passages.group(1))) if passages else [],
            "tip": html_lib.unescape(re.sub(r"<[^>]+>", "", re.search(r'role="tooltip"[^>]*>(.*?)</span>$', chip, re.S).group(1))),
        })
    return chips


def _linked_numbers(item: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r'class="citation-link"[^>]*>\[(\d+)\]</a>', item)})


def test_chips_are_the_cited_documents_once_each_with_their_numbers(owner, owner_client, conversation):
    answer = _answer(owner, conversation, "Pets need a deposit [3]. The rent is 1,250 euros [1], due monthly [1].\n\n"
                                          "Quiet hours are in `rules[2]` and\n\n```\nrules[2]\n```\n\nSee [9].")
    item = _item(owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode(), answer.id)
    chips = _chips(item)
    # [2] only in code and [9] with no passage are no source; [4] was retrieved but never cited.
    assert [(c["numbers"], c["title"]) for c in chips] == [([1, 3], "Flat lease")]
    assert chips[0]["href"] == CITATIONS["1"]["url"]  # without JavaScript: the first cited passage
    assert chips[0]["passages"] == [
        {"n": 1, "url": reverse("rag:passage", args=[DOC_A, 0])},
        {"n": 3, "url": reverse("rag:passage", args=[DOC_A, 2])},
    ]
    assert "The monthly rent is 1,250 euros." in chips[0]["tip"] and "Small pets are allowed" in chips[0]["tip"]
    assert _linked_numbers(item) == [1, 3]  # the inline links and the chips agree
    assert "Bike manual" not in item and "House rules" not in item


def test_chips_are_ordered_by_their_first_number_and_titles_are_text(owner, owner_client, conversation):
    answer = _answer(owner, conversation, "Rules first [2], then the lease [3], then the rules again [2].")
    item = _item(owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode(), answer.id)
    chips = _chips(item)
    assert [(c["numbers"], c["title"]) for c in chips] == [([2], "House rules <b>v2</b>"), ([3], "Flat lease")]
    assert "<b>v2</b>" not in item and "House rules &lt;b&gt;v2&lt;/b&gt;" in item
    assert chips[1]["href"] == CITATIONS["3"]["url"]


def test_an_answer_citing_nothing_it_retrieved_has_no_chips(owner, owner_client, conversation):
    answer = _answer(owner, conversation, "I could not find it in your documents. [7]")
    item = _item(owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode(), answer.id)
    assert "msg-sources" not in item and "source-chip" not in item


def test_old_rows_without_snippets_and_unsafe_links(owner, owner_client, conversation):
    citations = {
        "1": _citation(DOC_A, 0, "Old answer's source"),  # stored before snippets existed
        "2": {"url": "javascript:alert(1)", "title": "Forged", "document_id": "not-a-uuid", "position": "0"},
        "3": {"url": "https://example.com/trains", "title": "Rail guide", "document_id": None, "position": 0},
    }
    answer = _answer(owner, conversation, "One [1], two [2], three [3].", citations=citations)
    item = _item(owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode(), answer.id)
    chips = _chips(item)
    assert [(c["numbers"], c["title"], c["href"]) for c in chips] == [
        ([1], "Old answer's source", citations["1"]["url"]),
        ([2], "Forged", None),  # no link at all (a span), and no panel
        ([3], "Rail guide", "https://example.com/trains"),
    ]
    assert chips[0]["tip"] == "Old answer's source" and chips[0]["passages"] == [{"n": 1, "url": reverse("rag:passage", args=[DOC_A, 0])}]
    assert chips[1]["passages"] == [] and chips[2]["passages"] == []  # not a passage of the person's documents
    assert "javascript:" not in item


def test_cited_numbers_reads_text_only():
    rendered = render_markdown("A [2] and [1] and [2]. `[3]`\n\n```\n[4]\n```\n\n<b>[5]</b> [x] [1000]")
    assert cited_numbers(rendered) == [1, 2, 5]
    assert source_chips({"1": {"title": "T", "url": "/d"}}, rendered)[0].numbers == (1,)
    assert source_chips(["not", "a", "dict"], rendered) == [] and source_chips({}, rendered) == []


# --- the stream ---------------------------------------------------------------------------------------

LEASE = ("# Lease summary\n\n## Rent\n\nThe monthly rent is 1,250 euros, due on the fifth day of each month.\n\n"
         "## Pets\n\nSmall pets are allowed with a deposit of 300 euros.")


def test_the_streamed_answer_ends_with_its_chips_as_the_page_shows_them(owner, owner_client, conversation):
    with tenant(owner.id):
        document = RagDocument.objects.create(user=owner, title="Flat lease", source="PASTE", content=LEASE)
    indexing.index_document(user_id=owner.id, document_id=document.id)
    url = reverse("chats:message_create", args=[conversation.id])
    data = owner_client.post(url, {"content": "How much is the monthly rent?"}, HTTP_ACCEPT="application/json").json()
    parsed = events(consume(owner_client.get(data["stream_url"])))
    name, done = parsed[-1]
    assert name == "done" and done["status"] == "complete"
    with tenant(owner.id):
        answer = Message.objects.get(pk=done["message_id"])
    stored = answer.metadata["citations"]
    chips = _chips(done["item"])
    cited = _linked_numbers(done["item"])
    assert cited and [n for chip in chips for n in chip["numbers"]] == cited  # the chips follow the text
    assert all(chip["title"] == "Flat lease" for chip in chips) and len(chips) == 1  # one document, one chip
    first = stored[str(cited[0])]
    assert chips[0]["href"] == first["url"]
    assert chips[0]["passages"][0] == {"n": cited[0], "url": reverse("rag:passage", args=[document.id, first["position"]])}
    # The snippet was stored with the citation when the answer was written, and is what the chip shows.
    assert first["snippet"] and first["snippet"] in chips[0]["tip"] and "##" not in first["snippet"]
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert done["item"] == _item(page, answer.id)


# --- queries ------------------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_chips_cost_no_query(owner, owner_client, offline_agent):
    with tenant(owner.id):
        plain = factories.conversation(owner, agent_=offline_agent)
        cited = factories.conversation(owner, agent_=offline_agent)
    _answer(owner, plain, "Nothing cited.", citations={})
    for _ in range(60):
        _answer(owner, cited, "Rent [1], pets [3], rules [2].")
    few = _queries(owner_client, reverse("chats:detail", args=[plain.id]))
    many = _queries(owner_client, reverse("chats:detail", args=[cited.id]))
    assert few == many
    page = owner_client.get(reverse("chats:detail", args=[cited.id])).content.decode()
    assert page.count('<li class="source-chip-item">') == 120  # two documents cited by each of 60 answers
