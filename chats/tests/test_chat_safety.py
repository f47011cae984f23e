"""What a stored message can carry into a page: HTML whose keyed digest no longer matches is cleaned
again when shown, and control characters never reach the database (they could forge highlight
marks in search snippets)."""

import pytest
from django.urls import reverse

from chats.models import Message
from chats.rendering import html_digest, render_markdown
from core.tenancy import tenant
from testutils import factories

from .conftest import consume, events

pytestmark = pytest.mark.django_db

TAMPERED_HTML = (
    '<p onclick="steal()">Fine words [1]</p><script>alert("owned")</script>'
    '<img src="https://evil.example/x.png" onerror="alert(2)"><a href="javascript:alert(3)">link</a>'
    '<iframe src="https://evil.example/"></iframe>'
)


def _tampered_conversation(owner, conversation):
    """Rows written with the ORM as their owner, bypassing the services that render on the way in."""
    with tenant(owner.id):
        question = Message.objects.create(
            conversation=conversation, user=owner, role="user", content="What now?",
            metadata={"html": '<script>alert("from the user row")</script>'},
        )
        answer = Message.objects.create(  # its text cites [1]: the source chip shows (escaped)
            conversation=conversation, user=owner, role="assistant", content="Fine words [1]",
            metadata={
                "reply_to": str(question.id), "status": "complete", "html": TAMPERED_HTML,
                # The digest the row had before its HTML was changed: it no longer matches.
                "html_digest": html_digest(render_markdown("Fine words")),
                "citations": {"1": {"url": "javascript:alert(4)", "title": "<b>Source</b>"}},
            },
        )
    return question, answer


def test_tampered_message_html_is_sanitised_in_the_conversation_page(owner, owner_client, conversation):
    _tampered_conversation(owner, conversation)
    html = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "Fine words" in html
    for forbidden in ('alert("owned")', "alert(&quot;owned&quot;)", "from the user row", "onclick", "onerror",
                      "javascript:", "<iframe", "evil.example", "<b>Source</b>"):
        assert forbidden not in html, forbidden
    assert "What now?" in html  # the person's message, escaped again from its text
    assert "&lt;b&gt;Source&lt;/b&gt;" in html  # a citation title is text


def test_a_replayed_answer_is_sanitised_too(owner, owner_client, conversation):
    question, _answer = _tampered_conversation(owner, conversation)
    parsed = events(consume(owner_client.get(reverse("chats:reply_stream", args=[conversation.id, question.id]))))
    name, done = parsed[-1]
    assert name == "done" and "Fine words" in done["html"]
    assert "<script" not in done["html"] and "onclick" not in done["html"] and "javascript:" not in done["html"]


def test_control_characters_cannot_forge_highlights_in_search(owner, owner_client, conversation):
    url = reverse("chats:message_create", args=[conversation.id])
    response = owner_client.post(url, {"content": "\x02forged\x03 notes about mountains\x00\x07"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    with tenant(owner.id):
        stored = Message.objects.get(role="user").content
    assert stored == "forged notes about mountains"
    page = owner_client.get(reverse("chats:list"), {"q": "mountains"}).content.decode()
    assert "<mark>mountains</mark>" in page
    assert "<mark>forged</mark>" not in page


def test_older_rows_with_markers_cannot_forge_highlights_either(owner, owner_client, conversation):
    with tenant(owner.id):
        factories.message(owner, conv=conversation, content="\x02forged\x03 notes about mountains")
    page = owner_client.get(reverse("chats:list"), {"q": "mountains"}).content.decode()
    assert "<mark>mountains</mark>" in page and "<mark>forged</mark>" not in page


def test_an_answer_stored_by_the_service_is_shown_as_stored(owner, owner_client, conversation):
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "Show me **bold**"}, HTTP_ACCEPT="application/json").json()
    consume(owner_client.get(data["stream_url"]))
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
    assert answer.metadata["html_digest"] == html_digest(answer.metadata["html"])
    assert answer.metadata["html"] in owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
