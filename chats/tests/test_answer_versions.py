"""Answer versions: Regenerate keeps the earlier answer as a version, the page shows one version of
each answer with "< n/m >" to browse them (a POST, with and without JavaScript), the model's context
for later turns uses the version shown, and export carries the versions shown."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chats import selectors
from chats.models import Conversation, Message
from chats.streaming import build_context
from core.tenancy import tenant
from testutils import factories
from testutils.testing import client_for

from .conftest import consume, events

pytestmark = pytest.mark.django_db


def _ask(client, conversation, content):
    data = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": content},
                       HTTP_ACCEPT="application/json").json()
    consume(client.get(data["stream_url"]))
    return data


def _regenerate(client, conversation):
    data = client.post(reverse("chats:regenerate", args=[conversation.id]), HTTP_ACCEPT="application/json").json()
    consume(client.get(data["stream_url"]))
    return data


def _versions(owner, conversation, question_text="Which city for a weekend?", texts=("Try Lisbon.", "Try Porto.")):
    """A question with one answer per text, the last one shown (as Regenerate leaves them)."""
    with tenant(owner.id):
        question = Message.objects.create(conversation=conversation, user=owner, role="user", content=question_text)
        answers = [
            Message.objects.create(conversation=conversation, user=owner, role="assistant", content=text,
                                   metadata={"status": "complete", "reply_to": str(question.id),
                                             **({"superseded": True} if index < len(texts) - 1 else {})})
            for index, text in enumerate(texts)
        ]
    return question, answers


def _select_url(conversation, answer):
    return reverse("chats:answer_select", args=[conversation.id, answer.id])


def _page(client, conversation) -> str:
    return client.get(reverse("chats:detail", args=[conversation.id])).content.decode()


def _item(page: str, message) -> str:
    found = re.search(rf'<li class="[^"]*" id="m-{message.id}".*?</li>', page, re.S)
    return found.group(0) if found else ""


def _stored(owner, message) -> Message:
    with tenant(owner.id):
        return Message.objects.get(pk=message.pk)


def test_regenerate_keeps_the_earlier_answer_as_a_version(owner_client, owner, conversation):
    first = _ask(owner_client, conversation, "Tell me something")
    with tenant(owner.id):
        earlier = Message.objects.get(role="assistant")
    regen = _regenerate(owner_client, conversation)
    assert regen["message_id"] == first["message_id"]
    with tenant(owner.id):
        answers = list(Message.objects.filter(role="assistant").order_by("timestamp"))
        conversation.refresh_from_db()
        question = Message.objects.get(role="user")
        assert selectors.answer_for(question) == answers[1]
    assert [a.pk for a in answers][0] == earlier.pk and len(answers) == 2
    assert answers[0].metadata["superseded"] is True and "superseded" not in answers[1].metadata
    # Every stored message counts, versions included (the delete page says as much).
    assert conversation.message_count == 3

    page = _page(owner_client, conversation)
    assert len(re.findall(r'<li class="msg msg-assistant[^"]*" id="m-', page)) == 1  # one version shown
    shown = _item(page, answers[1])
    assert '<span class="msg-version-count" aria-hidden="true">2/2</span>' in shown
    assert "Version 2 of 2" in shown
    assert f'formaction="{_select_url(conversation, answers[0])}"' in shown  # < goes to version 1
    assert re.search(r'<button type="submit" disabled class="msg-action msg-version" data-version-step="next" '
                     r'aria-label="Next version"', shown)
    assert f'id="m-{answers[0].id}"' not in page


def test_a_third_version_and_the_stream_item_carries_the_control(owner_client, owner, conversation):
    _ask(owner_client, conversation, "Name a colour")
    _regenerate(owner_client, conversation)
    data = owner_client.post(reverse("chats:regenerate", args=[conversation.id]), HTTP_ACCEPT="application/json").json()
    done = events(consume(owner_client.get(data["stream_url"])))[-1][1]
    # The item the page swaps in when the stream ends already says which version it is.
    assert '<span class="msg-version-count" aria-hidden="true">3/3</span>' in done["item"]
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant").count() == 3
        assert Message.objects.filter(role="assistant", metadata__contains={"superseded": True}).count() == 2


def test_while_a_new_version_is_awaited_the_question_has_no_answer(owner_client, owner, conversation):
    question, (older, newer) = _versions(owner, conversation)
    owner_client.post(reverse("chats:regenerate", args=[conversation.id]))  # without JavaScript
    with tenant(owner.id):
        question = Message.objects.get(pk=question.pk)
        assert selectors.answer_for(question) is None
    page = _page(owner_client, conversation)
    assert reverse("chats:reply_generate", args=[conversation.id, question.id]) in page  # pending again
    assert "Try Porto." not in page and "msg-version-count" not in page

    # Choosing an older version meanwhile is refused, with a translated reason, and changes nothing.
    response = owner_client.post(_select_url(conversation, older), HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == ["A new version of this answer is being written. Wait for it to finish, then choose."]
    assert _stored(owner, older).metadata["superseded"] is True and _stored(owner, newer).metadata["superseded"] is True

    # The no-JavaScript answer becomes version 3 of 3.
    owner_client.post(reverse("chats:reply_generate", args=[conversation.id, question.id]))
    with tenant(owner.id):
        latest = selectors.answer_for(question)
    assert latest not in (older, newer)
    assert "3/3" in _item(_page(owner_client, conversation), latest)


def test_choosing_a_version_without_javascript_redirects_back_to_it(owner_client, owner, conversation):
    _question, (older, newer) = _versions(owner, conversation)
    response = owner_client.post(_select_url(conversation, older))
    assert response.status_code == 302
    assert response["Location"] == reverse("chats:detail", args=[conversation.id]) + f"#m-{older.id}"
    assert "superseded" not in _stored(owner, older).metadata
    assert _stored(owner, newer).metadata["superseded"] is True
    page = _page(owner_client, conversation)
    assert "Try Lisbon." in page and "Try Porto." not in page
    shown = _item(page, older)
    assert "1/2" in shown and f'formaction="{_select_url(conversation, newer)}"' in shown
    assert 'data-version-step="previous" aria-label="Previous version"' in shown and "disabled" in shown


def test_choosing_a_version_with_javascript_returns_its_item(owner_client, owner, conversation):
    _question, (older, _newer) = _versions(owner, conversation)
    response = owner_client.post(_select_url(conversation, older), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    data = response.json()
    assert data["message_id"] == str(older.id)
    assert f'id="m-{older.id}"' in data["item"] and "Try Lisbon." in data["item"] and "1/2" in data["item"]
    # Choosing the version already shown changes nothing.
    again = owner_client.post(_select_url(conversation, older), HTTP_ACCEPT="application/json")
    assert again.status_code == 200
    with tenant(owner.id):
        shown = list(selectors.conversation_messages(conversation).filter(role="assistant"))
    assert shown == [older]


def test_the_models_context_uses_the_version_shown(owner_client, owner, conversation):
    _question, (older, _newer) = _versions(owner, conversation)
    owner_client.post(_select_url(conversation, older))
    with tenant(owner.id):
        follow_up = Message.objects.create(conversation=conversation, user=owner, role="user", content="And for food?")
        history = selectors.history_for_turn(conversation=conversation, user_message=follow_up)
    assert history == [("user", "Which city for a weekend?"), ("assistant", "Try Lisbon."), ("user", "And for food?")]
    context = build_context(user=owner, conversation=conversation, user_message=follow_up)
    contents = [m.content for m in context.messages]
    assert "Try Lisbon." in contents and "Try Porto." not in contents


def test_choosing_needs_the_csrf_token(owner, conversation):
    _question, (older, _newer) = _versions(owner, conversation)
    strict = client_for(owner)
    strict.handler.enforce_csrf_checks = True
    assert strict.post(_select_url(conversation, older)).status_code == 403
    assert _stored(owner, older).metadata["superseded"] is True


def test_outsiders_forged_ids_and_questions_get_404(owner_client, other_client, owner, conversation):
    question, (older, _newer) = _versions(owner, conversation)
    assert other_client.post(_select_url(conversation, older)).status_code == 404
    assert owner_client.post(reverse("chats:answer_select", args=[conversation.id, question.id])).status_code == 404
    with tenant(owner.id):
        elsewhere = factories.conversation(owner, agent_=conversation.agent)
    assert owner_client.post(reverse("chats:answer_select", args=[elsewhere.id, older.id])).status_code == 404
    assert owner_client.get(_select_url(conversation, older)).status_code == 405
    assert _stored(owner, older).metadata["superseded"] is True


def test_export_has_the_versions_shown(owner_client, owner, conversation):
    _question, (older, _newer) = _versions(owner, conversation)
    owner_client.post(_select_url(conversation, older))
    markdown = owner_client.get(reverse("chats:export_md", args=[conversation.id])).content.decode()
    assert "Try Lisbon." in markdown and "Try Porto." not in markdown
    exported = json.loads(owner_client.get(reverse("chats:export_json", args=[conversation.id])).content)
    assert [m["content"] for m in exported["messages"]] == ["Which city for a weekend?", "Try Lisbon."]
    assert exported["messages"][1]["version"] == {"number": 1, "of": 2}


def test_page_queries_do_not_grow_with_versions(owner_client, owner, offline_agent):
    with tenant(owner.id):
        small = factories.conversation(owner, agent_=offline_agent)
        large = factories.conversation(owner, agent_=offline_agent)
    _versions(owner, small)
    for turn in range(40):
        _versions(owner, large, question_text=f"Question {turn}", texts=(f"A {turn}", f"B {turn}", f"C {turn}"))

    def count(conversation):
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(reverse("chats:detail", args=[conversation.id])).status_code == 200
        return len(captured)

    assert count(small) == count(large)
    page = _page(owner_client, large)
    assert page.count("3/3</span>") == 40 and page.count("data-message-id=") == 80


def test_another_users_conversation_with_versions_stays_theirs(other_client, owner, conversation):
    _versions(owner, conversation)
    assert other_client.get(reverse("chats:detail", args=[conversation.id])).status_code == 404
    with tenant(owner.id):
        assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_search_finds_the_versions_shown(owner_client, owner, conversation):
    _question, (older, newer) = _versions(owner, conversation, texts=("Visit the volcanoes.", "Visit the glaciers."))
    found = owner_client.get(reverse("chats:list"), {"q": "glaciers"}).content.decode()
    assert f"#m-{newer.id}" in found  # the hit opens at the answer shown
    hidden = owner_client.get(reverse("chats:list"), {"q": "volcanoes"}).content.decode()
    assert f"#m-{older.id}" not in hidden
    owner_client.post(_select_url(conversation, older))
    assert f"#m-{older.id}" in owner_client.get(reverse("chats:list"), {"q": "volcanoes"}).content.decode()


def test_under_another_users_context_the_services_change_nothing(owner, other, conversation):
    """Row-level security as the runtime role: another tenant's context sees none of the rows, so
    neither choosing a version nor editing can touch them (the views answer 404 before that)."""
    from chats import services
    from chats.errors import ChatError

    question, (older, newer) = _versions(owner, conversation)
    with pytest.raises(ChatError):
        services.answer_version_select(user=other, answer=older)
    with pytest.raises(ChatError):
        services.message_edit(user=other, conversation=conversation, message=question, content="Taken over")
    with tenant(other.id):
        assert not Message.objects.filter(conversation=conversation).exists()
    assert _stored(owner, older).metadata["superseded"] is True and "superseded" not in _stored(owner, newer).metadata
    assert _stored(owner, question).content == "Which city for a weekend?"
