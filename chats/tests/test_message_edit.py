"""Edit your message and resend: the text replaced (the earlier one kept in the metadata), the
messages after it dropped, the new answer streamed; bad input refused with nothing changed; other
people's messages not found. And a person's own message shown as Markdown (fenced code as code,
line breaks kept, raw HTML as text), rendered from its text every time."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from chats import selectors, streaming
from chats.models import Conversation, Message
from core.tenancy import tenant
from testutils import factories
from testutils.testing import client_for

from .conftest import consume, events

pytestmark = pytest.mark.django_db


def _turns(owner, conversation, *pairs):
    """Question/answer rows, oldest first: [(question, answer), ...]."""
    made = []
    with tenant(owner.id):
        for question_text, answer_text in pairs:
            question = Message.objects.create(conversation=conversation, user=owner, role="user", content=question_text)
            answer = Message.objects.create(conversation=conversation, user=owner, role="assistant", content=answer_text,
                                            metadata={"status": "complete", "reply_to": str(question.id)})
            made.append((question, answer))
    return made


def _edit_url(conversation, message):
    return reverse("chats:message_edit", args=[conversation.id, message.id])


def _contents(owner, conversation) -> list[str]:
    with tenant(owner.id):
        return list(conversation.messages.order_by("timestamp", "id").values_list("content", flat=True))


def _count(owner, conversation) -> int:
    with tenant(owner.id):
        return Conversation.objects.get(pk=conversation.pk).message_count


def test_editing_the_last_message_replaces_it_and_streams_a_new_answer(owner_client, owner, conversation):
    [(question, answer)] = _turns(owner, conversation, ("Plan a trip to Rome", "Day one: the Forum."))
    response = owner_client.post(_edit_url(conversation, question), {"content": "Plan a trip to Florence"},
                                 HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["message_id"] == str(question.id)
    assert data["stream_url"] == reverse("chats:reply_stream", args=[conversation.id, question.id])
    assert "Plan a trip to Florence" in data["user_html"] and f'id="m-{question.id}"' in data["user_html"]
    with tenant(owner.id):
        edited = Message.objects.get(pk=question.pk)
        assert not Message.objects.filter(pk=answer.pk).exists()
    assert edited.content == "Plan a trip to Florence"
    assert [e["content"] for e in edited.metadata["edits"]] == ["Plan a trip to Rome"]  # nothing lost
    assert _count(owner, conversation) == 1

    done = events(consume(owner_client.get(data["stream_url"])))[-1]
    assert done[0] == "done" and done[1]["status"] == "complete"
    with tenant(owner.id):
        new_answer = selectors.answer_for(edited)
    assert "Plan a trip to Florence" in new_answer.content  # the offline model restates the question
    assert _contents(owner, conversation) == ["Plan a trip to Florence", new_answer.content]
    assert _count(owner, conversation) == 2


def test_editing_an_earlier_message_drops_the_turns_after_it(owner_client, owner, conversation):
    turns = _turns(owner, conversation, ("First question", "First answer"), ("Second question", "Second answer"),
                   ("Third question", "Third answer"))
    first_question = turns[0][0]
    page = owner_client.get(_edit_url(conversation, first_question)).content.decode()
    assert "Sending it removes the 5 messages that follow it" in page  # said before it is done
    response = owner_client.post(_edit_url(conversation, first_question), {"content": "A better first question"})
    assert response.status_code == 302
    assert response["Location"] == reverse("chats:detail", args=[conversation.id]) + "#latest"
    assert _contents(owner, conversation) == ["A better first question"]
    assert _count(owner, conversation) == 1
    # Without JavaScript the page offers to write the answer, as after any message.
    detail = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert reverse("chats:reply_generate", args=[conversation.id, first_question.id]) in detail
    owner_client.post(reverse("chats:reply_generate", args=[conversation.id, first_question.id]))
    with tenant(owner.id):
        question = Message.objects.get(pk=first_question.pk)
        history = selectors.history_for_turn(conversation=conversation, user_message=question)
        assert "A better first question" in selectors.answer_for(question).content
    assert history == [("user", "A better first question")]


def test_a_message_edited_twice_keeps_both_earlier_texts(owner_client, owner, conversation):
    [(question, _answer)] = _turns(owner, conversation, ("one", "1"))
    owner_client.post(_edit_url(conversation, question), {"content": "two"})
    owner_client.post(_edit_url(conversation, question), {"content": "three"})
    with tenant(owner.id):
        edited = Message.objects.get(pk=question.pk)
    assert edited.content == "three" and [e["content"] for e in edited.metadata["edits"]] == ["one", "two"]


@pytest.mark.parametrize("content, message", [
    ("", "An edited message cannot be empty. Write something, or cancel the edit."),
    ("   \n\t ", "An edited message cannot be empty. Write something, or cancel the edit."),
    ("x" * 16001, "This message is too long: 16001 characters, the limit is 16000."),
])
def test_bad_edits_are_refused_and_change_nothing(owner_client, owner, conversation, content, message):
    turns = _turns(owner, conversation, ("Keep me", "Kept answer"), ("And me", "Me too"))
    before = _contents(owner, conversation)
    response = owner_client.post(_edit_url(conversation, turns[0][0]), {"content": content}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json() == {"errors": [message]}
    page = owner_client.post(_edit_url(conversation, turns[0][0]), {"content": content})  # without JavaScript
    assert page.status_code == 400
    html = page.content.decode()
    assert message in html and 'aria-invalid="true"' in html
    assert _contents(owner, conversation) == before and _count(owner, conversation) == 4
    with tenant(owner.id):
        assert "edits" not in Message.objects.get(pk=turns[0][0].pk).metadata


def test_an_edit_is_refused_while_an_answer_is_being_written(owner_client, owner, conversation):
    turns = _turns(owner, conversation, ("Earlier", "Earlier answer"))
    with tenant(owner.id):
        pending = Message.objects.create(conversation=conversation, user=owner, role="user", content="Being answered")
    assert streaming.lock_take(pending.id)  # a runner is writing its answer
    try:
        response = owner_client.post(_edit_url(conversation, turns[0][0]), {"content": "Changed"}, HTTP_ACCEPT="application/json")
    finally:
        streaming.lock_release(pending.id)
    assert response.status_code == 400
    assert response.json() == {"errors": ["An answer is still being written. Stop it or wait for it to finish, then edit."]}
    assert _contents(owner, conversation) == ["Earlier", "Earlier answer", "Being answered"]
    assert not cache.get(streaming.LOCK_KEY.format(pending.id))


def test_outsiders_answers_and_forged_ids_get_404(owner_client, other_client, owner, conversation, offline_agent):
    [(question, answer)] = _turns(owner, conversation, ("Mine", "Yours"))
    url = _edit_url(conversation, question)
    assert other_client.get(url).status_code == 404
    assert other_client.post(url, {"content": "Hijacked"}, HTTP_ACCEPT="application/json").status_code == 404
    assert owner_client.post(_edit_url(conversation, answer), {"content": "An answer is not mine to edit"}).status_code == 404
    with tenant(owner.id):
        elsewhere = factories.conversation(owner, agent_=offline_agent)
    assert owner_client.post(_edit_url(elsewhere, question), {"content": "Moved"}).status_code == 404
    assert _contents(owner, conversation) == ["Mine", "Yours"]


def test_editing_needs_the_csrf_token(owner, conversation):
    [(question, _answer)] = _turns(owner, conversation, ("Mine", "Yours"))
    client = client_for(owner)
    client.handler.enforce_csrf_checks = True
    assert client.post(_edit_url(conversation, question), {"content": "Forged"}).status_code == 403
    assert _contents(owner, conversation) == ["Mine", "Yours"]


def test_the_page_offers_edit_on_my_messages_only(owner_client, owner, conversation):
    [(question, answer)] = _turns(owner, conversation, ("Mine", "Yours"))
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    mine = re.search(rf'id="m-{question.id}".*?</li>', page, re.S).group(0)
    theirs = re.search(rf'id="m-{answer.id}".*?</li>', page, re.S).group(0)
    assert f'<a class="msg-action msg-edit" href="{_edit_url(conversation, question)}"' in mine
    assert "msg-edit" not in theirs
    assert 'id="tpl-edit"' in page and 'id="version-form"' in page and "js/message-edit.js" in page
    # The edit page without JavaScript: the text in a textarea, Save & send, Cancel back to it.
    edit = owner_client.get(_edit_url(conversation, question)).content.decode()
    assert '<textarea name="content" id="edit-content"' in edit and ">Mine</textarea>" in edit
    assert re.search(r">Save (&amp;|&) send</button>", edit) and f'#m-{question.id}"' in edit
    assert "Sending it removes the message that follows it" in edit  # its answer


def test_no_edit_when_the_agent_is_no_longer_usable(owner_client, owner, conversation):
    [(question, _answer)] = _turns(owner, conversation, ("Mine", "Yours"))
    conversation.agent.is_active = False
    conversation.agent.save(update_fields=["is_active"])
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert 'class="msg-action msg-edit"' not in page
    assert owner_client.post(_edit_url(conversation, question), {"content": "Changed"}).status_code == 404


# --- a person's own message, as Markdown ----------------------------------------------------------------

OWN = 'Why does this fail?\nIt is line two.\n\n```python\nif x:\n    print("<b>")\n```\n\n<b>not bold</b> <script>alert(1)</script>'


def test_my_message_keeps_its_line_breaks_and_shows_fenced_code_as_code(owner_client, owner, conversation):
    response = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": OWN},
                                 HTTP_ACCEPT="application/json")
    html = response.json()["user_html"]
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    for shown in (html, page):
        body = re.search(r'<li class="msg msg-user".*?<div class="msg-body">(.*?)</div><div class="msg-', shown, re.S).group(1)
        assert "Why does this fail?<br" in body and "It is line two." in body  # the line break kept
        assert '<pre class="highlight"><code class="language-python">' in body
        assert "    " in body and "print" in body  # the code's indentation kept
        assert "&lt;b&gt;not bold&lt;/b&gt;" in body and "&lt;script&gt;" in body  # raw HTML as text
        assert "<b>" not in body and "<script" not in body


def test_my_message_is_rendered_from_its_text_not_from_stored_html(owner_client, owner, conversation):
    with tenant(owner.id):
        Message.objects.create(conversation=conversation, user=owner, role="user", content="**plain** words",
                               metadata={"html": '<img src=x onerror="alert(1)">'})
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "<strong>plain</strong> words" in page and "onerror" not in page


def test_an_edit_past_the_monthly_limit_is_refused_and_changes_nothing(owner_client, owner, conversation, settings):
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 1, "tokens": 1_000_000}}
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "The one turn"},
                             HTTP_ACCEPT="application/json").json()
    consume(owner_client.get(data["stream_url"]))
    with tenant(owner.id):
        question = Message.objects.get(role="user")
    before = _contents(owner, conversation)
    response = owner_client.post(_edit_url(conversation, question), {"content": "Another turn"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["errors"]
    assert _contents(owner, conversation) == before
