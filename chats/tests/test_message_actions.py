"""Message actions on the conversation page: thumbs up/down on answers, kept in the message's
metadata (with and without JavaScript), the copy buttons' source, and the conversation exported as
Markdown and JSON."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chats.models import Conversation, Message
from core.tenancy import tenant

pytestmark = pytest.mark.django_db


def _answer(owner, conversation, content="Pack a **rain jacket**.", **metadata):
    with tenant(owner.id):
        question = Message.objects.create(conversation=conversation, user=owner, role="user", content="What to pack?")
        answer = Message.objects.create(conversation=conversation, user=owner, role="assistant", content=content,
                                        metadata={"status": "complete", "reply_to": str(question.id), **metadata})
    return question, answer


def _feedback_url(conversation, message):
    return reverse("chats:feedback", args=[conversation.id, message.id])


def _stored(owner, message) -> dict:
    with tenant(owner.id):
        return Message.objects.get(pk=message.pk).metadata


def _thumbs(page: str, message) -> dict[str, str]:
    """value → aria-pressed of the answer's two thumbs, as the page shows them."""
    item = re.search(rf'id="m-{message.id}".*?</li>', page, re.S).group(0)
    return dict(re.findall(r'name="value" value="(up|down)" class="msg-action msg-thumb" aria-pressed="(true|false)"', item))


# --- feedback ---------------------------------------------------------------------------------------

def test_thumbs_toggle_with_javascript_and_are_kept_in_the_metadata(owner_client, owner, conversation):
    _question, answer = _answer(owner, conversation, html="<p>kept</p>", model="offline")
    url = _feedback_url(conversation, answer)

    response = owner_client.post(url, {"value": "up"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json() == {"feedback": "up"}
    assert _stored(owner, answer)["feedback"] == "up"

    assert owner_client.post(url, {"value": "down"}, HTTP_ACCEPT="application/json").json() == {"feedback": "down"}
    assert _stored(owner, answer)["feedback"] == "down"

    assert owner_client.post(url, {"value": "down"}, HTTP_ACCEPT="application/json").json() == {"feedback": None}
    metadata = _stored(owner, answer)
    assert "feedback" not in metadata
    assert metadata["html"] == "<p>kept</p>" and metadata["model"] == "offline"  # the rest untouched


def test_thumbs_without_javascript_post_the_form_and_show_pressed_on_reload(owner_client, owner, conversation):
    _question, answer = _answer(owner, conversation)
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert _thumbs(page, answer) == {"up": "false", "down": "false"}
    # The buttons belong to the page's form, which carries the CSRF token.
    assert f'form="feedback-form" formaction="{_feedback_url(conversation, answer)}"' in page
    form = re.search(r'<form method="post" action="[^"]*" id="feedback-form" hidden>(.*?)</form>', page, re.S)
    assert form and 'name="csrfmiddlewaretoken"' in form.group(1)

    response = owner_client.post(_feedback_url(conversation, answer), {"value": "up"})
    assert response.status_code == 302
    assert response["Location"] == reverse("chats:detail", args=[conversation.id]) + f"#m-{answer.id}"
    page = owner_client.get(response["Location"]).content.decode()
    assert _thumbs(page, answer) == {"up": "true", "down": "false"}
    assert "Good answer" in page and "Bad answer" in page


def test_feedback_needs_the_csrf_token(owner, conversation):
    from testutils.testing import client_for

    _question, answer = _answer(owner, conversation)
    client = client_for(owner)
    client.handler.enforce_csrf_checks = True
    assert client.post(_feedback_url(conversation, answer), {"value": "up"}).status_code == 403
    assert "feedback" not in _stored(owner, answer)


def test_feedback_refuses_a_bad_value_with_a_translated_message(owner_client, owner, conversation):
    _question, answer = _answer(owner, conversation)
    url = _feedback_url(conversation, answer)
    response = owner_client.post(url, {"value": "sideways"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json() == {"errors": ["Feedback is either a thumbs up or a thumbs down."]}
    response = owner_client.post(url, {})  # without JavaScript: the page again, saying why
    assert response.status_code == 400
    assert "Feedback is either a thumbs up or a thumbs down." in response.content.decode()
    assert "feedback" not in _stored(owner, answer)


def test_outsiders_forged_ids_and_user_messages_get_404(owner_client, other_client, owner, other, conversation, offline_agent):
    from testutils import factories

    question, answer = _answer(owner, conversation)
    url = _feedback_url(conversation, answer)
    assert other_client.post(url, {"value": "up"}, HTTP_ACCEPT="application/json").status_code == 404
    assert other_client.post(url, {"value": "up"}).status_code == 404
    assert owner_client.post(_feedback_url(conversation, question), {"value": "up"}).status_code == 404
    with tenant(owner.id):
        elsewhere = factories.conversation(owner, agent_=offline_agent)
    # The answer's id under another conversation of the same person: not found either.
    assert owner_client.post(_feedback_url(elsewhere, answer), {"value": "up"}).status_code == 404
    assert owner_client.post(reverse("chats:feedback", args=[conversation.id, elsewhere.id]), {"value": "up"}).status_code == 404
    assert owner_client.get(url).status_code == 405
    assert "feedback" not in _stored(owner, answer)


# --- copy buttons -----------------------------------------------------------------------------------

def test_copy_buttons_carry_the_message_source_escaped(owner_client, owner, conversation):
    _question, answer = _answer(owner, conversation, content='Use `<b>` & "quotes"\n\n```python\nprint(1)\n```')
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert 'data-copy="What to pack?"' in page
    assert 'data-copy="Use `&lt;b&gt;` &amp; &quot;quotes&quot;\n\n```python\nprint(1)\n```"' in page
    assert "<b>" not in page.split('id="messages"', 1)[1].split("</ol>", 1)[0]


# --- export -----------------------------------------------------------------------------------------

def _conversation_with_turns(owner, conversation):
    with tenant(owner.id):
        Conversation.objects.filter(pk=conversation.pk).update(title='Trip: Lisbon / "Porto" <3 días')
        conversation.refresh_from_db()
    _answer(owner, conversation, content="Take the **train** [1].", feedback="up",
            citations={"1": {"url": "https://example.com/trains", "title": "Rail [guide]", "document_id": None, "position": 0}})
    with tenant(owner.id):
        Message.objects.create(conversation=conversation, user=owner, role="user", content="And back?")
        Message.objects.create(conversation=conversation, user=owner, role="assistant", content="By",
                               metadata={"status": "cancelled"})


def test_export_json_has_the_conversation_and_every_message(owner_client, owner, conversation):
    _conversation_with_turns(owner, conversation)
    response = owner_client.get(reverse("chats:export_json", args=[conversation.id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''Trip-Lisbon-Porto-3-d%C3%ADas.json"
    data = json.loads(response.content)
    assert data["title"] == 'Trip: Lisbon / "Porto" <3 días'
    assert data["agent"] == "Helper" and data["model"] == conversation.agent.model
    assert data["created"] == conversation.created_at.isoformat()
    assert [(m["role"], m["content"], m["status"], m["feedback"]) for m in data["messages"]] == [
        ("user", "What to pack?", None, None),
        ("assistant", "Take the **train** [1].", "complete", "up"),
        ("user", "And back?", None, None),
        ("assistant", "By", "cancelled", None),
    ]
    assert data["messages"][1]["citations"] == [{"number": 1, "title": "Rail [guide]", "url": "https://example.com/trains"}]
    assert all(m["created_at"] for m in data["messages"])


def test_export_markdown_is_a_readable_transcript(owner_client, owner, conversation):
    _conversation_with_turns(owner, conversation)
    response = owner_client.get(reverse("chats:export_md", args=[conversation.id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; ")
    text = response.content.decode()
    assert text.startswith('# Trip: Lisbon / "Porto" <3 días\n\n- Agent: Helper (')
    assert "## You · " in text and "## Helper · " in text
    assert "What to pack?" in text and "Take the **train** [1]." in text
    assert "1. [Rail \\[guide\\]](<https://example.com/trains>)" in text
    assert "*Marked as a good answer.*" in text and "*Stopped before the end.*" in text
    assert text.index("What to pack?") < text.index("Take the") < text.index("And back?") < text.index("By\n")


def test_export_filename_is_safe_and_falls_back_without_a_title(owner_client, owner, conversation):
    with tenant(owner.id):
        Conversation.objects.filter(pk=conversation.pk).update(title="../../etc/passwd\r\nX-Evil: 1")
    response = owner_client.get(reverse("chats:export_md", args=[conversation.id]))
    assert response["Content-Disposition"] == 'attachment; filename="etc-passwd-X-Evil-1.md"'
    assert "X-Evil" not in {name.lower() for name in response.headers}
    with tenant(owner.id):
        Conversation.objects.filter(pk=conversation.pk).update(title="")
    response = owner_client.get(reverse("chats:export_json", args=[conversation.id]))
    assert response["Content-Disposition"] == 'attachment; filename="conversation.json"'
    assert json.loads(response.content)["title"] == "Untitled conversation"


def test_export_does_not_run_a_model_link_as_a_source(owner_client, owner, conversation):
    _answer(owner, conversation, content="See [1].",
            citations={"1": {"url": "javascript:alert(1)", "title": "Bad", "document_id": None, "position": 0}})
    text = owner_client.get(reverse("chats:export_md", args=[conversation.id])).content.decode()
    assert "javascript:" not in text and "1. Bad" in text


def test_outsiders_cannot_export(other_client, owner, conversation):
    _conversation_with_turns(owner, conversation)
    for name in ("chats:export_md", "chats:export_json"):
        response = other_client.get(reverse(name, args=[conversation.id]))
        assert response.status_code == 404
        assert b"What to pack" not in response.content


def test_export_links_are_in_the_conversation_header(owner_client, conversation):
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    header = page.split('<header class="chat-header">', 1)[1].split("</header>", 1)[0]
    assert f'href="{reverse("chats:export_md", args=[conversation.id])}" download>Markdown (.md)</a>' in header
    assert f'href="{reverse("chats:export_json", args=[conversation.id])}" download>JSON (.json)</a>' in header


def _fill(owner, conversation, count):
    with tenant(owner.id):
        Message.objects.bulk_create([
            Message(conversation=conversation, user=owner, role="user" if i % 2 == 0 else "assistant",
                    content=f"message {i}", metadata={"status": "complete", "feedback": "up"} if i % 2 else {})
            for i in range(count)
        ])


@pytest.mark.parametrize("name", ["chats:export_md", "chats:export_json"])
def test_export_queries_do_not_grow_with_messages(owner_client, owner, offline_agent, name):
    from testutils import factories

    with tenant(owner.id):
        small = factories.conversation(owner, agent_=offline_agent)
        large = factories.conversation(owner, agent_=offline_agent)
    _fill(owner, small, 4)
    _fill(owner, large, 300)
    counts = []
    for conversation in (small, large):
        with CaptureQueriesContext(connection) as captured:
            response = owner_client.get(reverse(name, args=[conversation.id]))
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
    assert response.content.decode().count("message 299") == 1
