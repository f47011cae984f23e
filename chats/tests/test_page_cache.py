"""The conversation page opened again: its message items come from the cache (chats.page_cache)
while the rows are as they were, and show at once whatever changed since, in the same transaction
too (a new row version, whoever wrote it). Rows stored without their HTML, the sidebar written in
Python, and the page's constant number of queries, cached or not."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant
from testutils import factories

pytestmark = pytest.mark.django_db


def _fill(owner, conversation, count=6):
    with tenant(owner.id):
        return Message.objects.bulk_create([
            Message(conversation=conversation, user=owner, role="user" if i % 2 == 0 else "assistant",
                    content=f"Message {i} about **the garden**", metadata={} if i % 2 == 0 else {"status": "complete"})
            for i in range(count)
        ])


def _items(html: str) -> str:
    start = html.index('<ol class="messages-list"')
    return html[start:html.index("</ol>", start)]


def _get(client, conversation) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("chats:detail", args=[conversation.id]))
    assert response.status_code == 200
    return response.content.decode(), len(captured)


def test_a_page_opened_again_shows_the_same_items_and_every_change_made_since(owner_client, owner, conversation):
    messages = _fill(owner, conversation)
    first, _ = _get(owner_client, conversation)
    again, _ = _get(owner_client, conversation)
    assert _items(again) == _items(first)
    assert "Message 1 about <strong>the garden</strong>" in first  # an answer stored without HTML: its Markdown

    with tenant(owner.id):  # the same transaction as the pages above: a new row version all the same
        Message.objects.filter(pk=messages[1].pk).update(content="Water **twice** a week")
    changed, _ = _get(owner_client, conversation)
    assert "Water <strong>twice</strong> a week" in changed and "Message 1 about" not in changed

    with tenant(owner.id):
        Message.objects.filter(pk=messages[3].pk).update(metadata={"status": "complete", "feedback": "up"})
    liked, _ = _get(owner_client, conversation)
    item = re.search(rf'<li[^>]*id="m-{messages[3].id}".*?</li>', liked, re.S).group(0)
    assert 'value="up" class="msg-action msg-thumb" aria-pressed="true"' in item

    with tenant(owner.id):
        Message.objects.filter(pk=messages[5].pk).delete()
    shorter, _ = _get(owner_client, conversation)
    assert shorter.count("data-message-id=") == 5 and f'id="m-{messages[5].id}"' not in shorter


def test_an_artifact_made_by_an_answer_appears_on_the_page_opened_again(owner_client, owner, conversation):
    from artifacts import services as artifacts

    messages = _fill(owner, conversation, 2)
    before, _ = _get(owner_client, conversation)
    assert "artifact-card" not in _items(before)
    artifacts.artifact_create(user=owner, agent=conversation.agent, name="plan.py", type="CODE",
                              content="print('water')\n", conversation=conversation, language="python",
                              source_message_id=messages[1].id)
    after, _ = _get(owner_client, conversation)
    assert '<span class="artifact-card-name">plan.py</span>' in _items(after)


def test_the_items_follow_the_readers_language(owner_client, owner, conversation):
    _fill(owner, conversation, 2)
    english, _ = _get(owner_client, conversation)
    owner_client.cookies["django_language"] = "es"
    spanish, _ = _get(owner_client, conversation)
    assert ">Copy</button>" in _items(english) and ">Copiar</button>" in _items(spanish)


def test_cached_or_not_the_page_runs_a_constant_number_of_queries(owner_client, owner, offline_agent):
    with tenant(owner.id):
        small = factories.conversation(owner, agent_=offline_agent)
        large = factories.conversation(owner, agent_=offline_agent)
    _fill(owner, small, 4)
    _fill(owner, large, 300)
    _, small_first = _get(owner_client, small)
    _, large_first = _get(owner_client, large)
    _, small_again = _get(owner_client, small)
    _, large_again = _get(owner_client, large)
    assert small_first == large_first and small_again == large_again
    assert large_again < large_first  # opened again: the rows themselves are not read


def test_another_persons_conversation_is_not_found_even_once_its_items_are_kept(owner_client, other_client, owner, conversation):
    _fill(owner, conversation, 2)
    _get(owner_client, conversation)
    assert other_client.get(reverse("chats:detail", args=[conversation.id])).status_code == 404


def test_the_sidebar_escapes_titles_and_marks_the_open_conversation(owner_client, owner, offline_agent, conversation):
    with tenant(owner.id):
        other = factories.conversation(owner, agent_=offline_agent)
        type(other).objects.filter(pk=other.pk).update(title='<b>"Plans"</b> & more')
    html, _ = _get(owner_client, conversation)
    start = html.index('class="chat-sidebar"')
    sidebar = html[start:html.index("</aside>", start)]
    assert '<span class="convo-title" data-title>&lt;b&gt;&quot;Plans&quot;&lt;/b&gt; &amp; more</span>' in sidebar
    assert 'aria-label="Options for “&lt;b&gt;&quot;Plans&quot;&lt;/b&gt; &amp; more”"' in sidebar
    current = re.search(rf'<li class="convo-item current[^"]*" data-conversation="{conversation.id}"', sidebar)
    assert current and 'aria-current="page"' in sidebar
    assert sidebar.count('name="csrfmiddlewaretoken"') == 2  # each item's pin form posts with the token
