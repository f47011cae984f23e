"""The conversation sidebar on the chat pages: grouped by day, searched by title, pin, rename,
delete (confirmation page without JavaScript; the held delete the undo toast sends), the title
endpoint, and the pins table's row-level security. Every new URL answers 404 to an outsider."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import timezone

from chats.models import Conversation, ConversationPin
from chats.selectors import conversation_sidebar
from core.tenancy import tenant
from testutils import factories

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def _conversation(owner, agent, title="", days_ago=0.0):
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
        when = timezone.now() - timedelta(days=days_ago)
        Conversation.objects.filter(pk=conversation.pk).update(title=title, last_message_at=when)
        conversation.refresh_from_db()
    return conversation


def _groups(html: str) -> list[tuple[str, list[str]]]:
    """(group heading, [conversation titles]) in page order, as the sidebar shows them."""
    start = html.index('class="chat-sidebar"')
    sidebar = html[start:html.index("</aside>", start)]
    found = []
    for section in sidebar.split('<section class="convo-group"')[1:]:
        heading = re.search(r'<h3 class="convo-group-title"[^>]*>(.*?)</h3>', section).group(1)
        titles = re.findall(r'<span class="convo-title" data-title>(.*?)</span>', section)
        found.append((heading, titles))
    return found


def _page(client, conversation, **params):
    response = client.get(reverse("chats:detail", args=[conversation.id]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_sidebar_groups_conversations_by_day_newest_first(owner_client, owner, offline_agent):
    now = _conversation(owner, offline_agent, "Now", 0)
    _conversation(owner, offline_agent, "One day", 1)
    _conversation(owner, offline_agent, "Three days", 3)
    _conversation(owner, offline_agent, "Six days", 6)
    _conversation(owner, offline_agent, "Twenty days", 20)
    old = _conversation(owner, offline_agent, "Ninety days", 90)
    month = timezone.localtime(old.last_message_at).strftime("%B %Y")
    assert _groups(_page(owner_client, now)) == [
        ("Today", ["Now"]),
        ("Yesterday", ["One day"]),
        ("Previous 7 days", ["Three days", "Six days"]),
        ("Previous 30 days", ["Twenty days"]),
        (month, ["Ninety days"]),
    ]


def test_grouping_follows_the_calendar_day_in_the_current_time_zone(owner, offline_agent, settings):
    settings.TIME_ZONE = "America/Mexico_City"  # UTC-6
    late = _conversation(owner, offline_agent, "Late", 0)
    early = _conversation(owner, offline_agent, "Early", 0)
    # 05:00 UTC on 2 March is still 1 March (23:00) in Mexico City: yesterday there at noon on the 2nd.
    with tenant(owner.id):
        Conversation.objects.filter(pk=late.pk).update(last_message_at=datetime(2026, 3, 2, 7, 0, tzinfo=dt_timezone.utc))
        Conversation.objects.filter(pk=early.pk).update(last_message_at=datetime(2026, 3, 2, 5, 0, tzinfo=dt_timezone.utc))
        timezone.activate("America/Mexico_City")
        try:
            groups = conversation_sidebar(user=owner, now=datetime(2026, 3, 2, 18, 0, tzinfo=dt_timezone.utc))
        finally:
            timezone.deactivate()
    assert [(g.key, [c.title for c in g.conversations]) for g in groups] == [("today", ["Late"]), ("yesterday", ["Early"])]


def test_the_sidebar_marks_the_open_conversation_and_new_chat_uses_its_agent(owner_client, owner, offline_agent):
    first = _conversation(owner, offline_agent, "First", 0)
    _conversation(owner, offline_agent, "Second", 0)
    html = _page(owner_client, first)
    current = re.findall(r'<a class="convo-link" href="([^"]+)" aria-current="page">', html)
    assert current == [reverse("chats:detail", args=[first.id]) + "#latest"]  # opens at its latest message, without JS too
    new_chat = re.search(r'<a class="button primary convo-new" href="([^"]+)"', html).group(1)
    assert new_chat == reverse("chats:new", args=[offline_agent.slug])
    assert 'aria-keyshortcuts="Control+Shift+O Meta+Shift+O"' in html
    # The new-conversation page has the sidebar too.
    html = owner_client.get(reverse("chats:new", args=[offline_agent.slug])).content.decode()
    assert sorted(t for _, titles in _groups(html) for t in titles) == ["First", "Second"]


def test_search_keeps_the_conversations_whose_title_matches(owner_client, owner, offline_agent):
    trip = _conversation(owner, offline_agent, "Trip to Iceland", 0)
    _conversation(owner, offline_agent, "Groceries", 0)
    _conversation(owner, offline_agent, "Old ICELAND notes", 40)
    html = _page(owner_client, trip, sq="iceland")
    assert sorted(t for _, titles in _groups(html) for t in titles) == ["Old ICELAND notes", "Trip to Iceland"]
    assert 'value="iceland"' in html
    fragment = owner_client.get(reverse("chats:sidebar"), {"sq": "grocer"}).content.decode()
    assert "Groceries" in fragment and "Iceland" not in fragment
    empty = owner_client.get(reverse("chats:sidebar"), {"sq": "volcano"}).content.decode()
    assert "No conversation title contains “volcano”." in empty


@pytest.mark.parametrize("query", ["ice\x00land", "a" * 5000, "%", "_", "\\"])
def test_search_takes_any_input_without_failing(owner_client, owner, offline_agent, query):
    _conversation(owner, offline_agent, "Iceland 100%", 0)
    response = owner_client.get(reverse("chats:sidebar"), {"sq": query})
    assert response.status_code == 200
    body = response.content.decode()
    if query == "ice\x00land":  # the NUL byte is dropped, the rest still searched
        assert "Iceland 100%" in body
    if query in ("_", "\\"):  # LIKE wildcards are literal
        assert "Iceland 100%" not in body


def test_pin_moves_a_conversation_to_the_top_and_unpin_puts_it_back(owner_client, owner, offline_agent):
    recent = _conversation(owner, offline_agent, "Recent", 0)
    older = _conversation(owner, offline_agent, "Older", 10)
    response = owner_client.post(reverse("chats:pin", args=[older.id]), {"pinned": "1"}, **JSON)
    assert response.json() == {"pinned": True}
    with tenant(owner.id):
        pin = ConversationPin.objects.get()
        assert (pin.conversation_id, pin.user_id) == (older.id, owner.id)
    assert _groups(_page(owner_client, recent)) == [("Pinned", ["Older"]), ("Today", ["Recent"])]
    # Pinning again keeps one pin.
    owner_client.post(reverse("chats:pin", args=[older.id]), {"pinned": "1"}, **JSON)
    with tenant(owner.id):
        assert ConversationPin.objects.count() == 1
    # Without JavaScript: the form posts and the page it came from comes back.
    back = reverse("chats:detail", args=[recent.id])
    response = owner_client.post(reverse("chats:pin", args=[older.id]), {"pinned": "0", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    with tenant(owner.id):
        assert not ConversationPin.objects.exists()
    assert _groups(_page(owner_client, recent)) == [("Today", ["Recent"]), ("Previous 30 days", ["Older"])]


def test_pin_never_redirects_off_site(owner_client, conversation):
    response = owner_client.post(reverse("chats:pin", args=[conversation.id]), {"pinned": "1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("chats:detail", args=[conversation.id])


def test_the_most_recently_pinned_is_first(owner_client, owner, offline_agent):
    a = _conversation(owner, offline_agent, "A", 0)
    b = _conversation(owner, offline_agent, "B", 0)
    owner_client.post(reverse("chats:pin", args=[a.id]), {"pinned": "1"})
    with tenant(owner.id):
        ConversationPin.objects.filter(conversation=a).update(pinned_at=timezone.now() - timedelta(hours=1))
    owner_client.post(reverse("chats:pin", args=[b.id]), {"pinned": "1"})
    assert _groups(_page(owner_client, a))[0] == ("Pinned", ["B", "A"])


def test_rename_from_the_menu(owner_client, owner, conversation):
    response = owner_client.post(reverse("chats:rename", args=[conversation.id]), {"title": "  Trip\x00 plans  "}, **JSON)
    assert response.status_code == 200 and response.json() == {"title": "Trip plans"}
    with tenant(conversation.user_id):
        conversation.refresh_from_db()
    assert conversation.title == "Trip plans"
    # Without JavaScript the menu's Rename opens a page with the form.
    page = owner_client.get(reverse("chats:rename", args=[conversation.id])).content.decode()
    assert 'name="title"' in page and 'value="Trip plans"' in page


@pytest.mark.parametrize("title", ["", "   ", "\x00\x01", "x" * 201])
def test_rename_refuses_an_empty_or_overlong_title(owner_client, conversation, title):
    response = owner_client.post(reverse("chats:rename", args=[conversation.id]), {"title": title}, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == ["A title must have between 1 and 200 characters."]
    with tenant(conversation.user_id):
        conversation.refresh_from_db()
    assert conversation.title == "Hello"


def test_delete_without_javascript_asks_on_a_page_first(owner_client, owner, conversation):
    page = owner_client.get(reverse("chats:delete", args=[conversation.id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "“Hello” and its 0 messages will be deleted." in html
    assert f'action="{reverse("chats:delete", args=[conversation.id])}"' in html
    with tenant(owner.id):
        assert Conversation.objects.filter(pk=conversation.pk).exists()  # asking deletes nothing
    response = owner_client.post(reverse("chats:delete", args=[conversation.id]))
    assert response.status_code == 302 and response["Location"] == reverse("chats:list")
    with tenant(owner.id):
        assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_the_held_delete_the_toast_sends_deletes_the_conversation_its_messages_and_pin(owner_client, owner, conversation):
    with tenant(owner.id):
        factories.message(owner, conv=conversation)
    owner_client.post(reverse("chats:pin", args=[conversation.id]), {"pinned": "1"})
    response = owner_client.post(reverse("chats:delete", args=[conversation.id]), **JSON)
    assert response.json() == {"deleted": True}
    with tenant(owner.id):
        assert not Conversation.objects.filter(pk=conversation.pk).exists()
        assert not ConversationPin.objects.exists()
        assert not conversation.messages.exists()


def test_the_title_endpoint_gives_the_generated_title_once_it_exists(owner_client, owner, conversation):
    url = reverse("chats:title", args=[conversation.id])
    with tenant(owner.id):
        Conversation.objects.filter(pk=conversation.pk).update(title="")
    response = owner_client.get(url)
    assert response.json() == {"title": "", "display": "Untitled conversation"}
    assert response["Cache-Control"] == "no-store"
    with tenant(owner.id):
        Conversation.objects.filter(pk=conversation.pk).update(title="Glaciers of Patagonia")
    assert owner_client.get(url).json()["title"] == "Glaciers of Patagonia"


def test_an_untitled_conversation_is_marked_for_the_title_poll(owner_client, owner, offline_agent):
    untitled = _conversation(owner, offline_agent, "", 0)
    html = _page(owner_client, untitled)
    assert 'class="convo-item current untitled"' in html
    assert f'data-title-url="{reverse("chats:title", args=[untitled.id])}"' in html


# --- outsiders and forged ids ---------------------------------------------------------------------


def _new_urls(conversation_id):
    return [
        ("get", reverse("chats:rename", args=[conversation_id]), {}),
        ("post", reverse("chats:rename", args=[conversation_id]), {"title": "Mine now"}),
        ("get", reverse("chats:delete", args=[conversation_id]), {}),
        ("post", reverse("chats:delete", args=[conversation_id]), {}),
        ("post", reverse("chats:pin", args=[conversation_id]), {"pinned": "1"}),
        ("get", reverse("chats:title", args=[conversation_id]), {}),
    ]


@pytest.mark.parametrize("index", range(6))
def test_an_outsider_gets_404_on_every_new_url(other_client, owner, conversation, index):
    method, url, data = _new_urls(conversation.id)[index]
    assert getattr(other_client, method)(url, data).status_code == 404
    assert getattr(other_client, method)(url, data, **JSON).status_code == 404
    with tenant(conversation.user_id):
        conversation.refresh_from_db()
    assert conversation.title == "Hello"
    with tenant(owner.id):
        assert not ConversationPin.objects.exists()


@pytest.mark.parametrize("index", range(6))
def test_a_forged_id_gets_404(owner_client, index):
    method, url, data = _new_urls(uuid.uuid4())[index]
    assert getattr(owner_client, method)(url, data).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, conversation):
    for method, url, data in _new_urls(conversation.id) + [("get", reverse("chats:sidebar"), {})]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_sidebar_never_lists_another_users_conversations(other_client, owner, other, offline_agent):
    mine = _conversation(owner, offline_agent, "Owner's secret plan", 0)
    response = other_client.get(reverse("chats:sidebar"), {"current": str(mine.id), "sq": "secret"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "secret plan" not in body and str(mine.id) not in body
    # A forged "current" or "next" is only echoed where harmless: never an off-site form target.
    response = other_client.get(reverse("chats:sidebar"), {"current": "not-a-uuid", "next": "https://evil.example/"})
    assert "evil.example" not in response.content.decode()


# --- the pins table: row-level security like every tenant table ----------------------------------


def _pin_count(where="TRUE", params=()):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM conversation_pins WHERE {where}", params)
        return cursor.fetchone()[0]


def test_pins_are_invisible_and_untouchable_for_another_user(owner, other, conversation):
    with tenant(owner.id):
        pin = ConversationPin.objects.create(conversation=conversation, user=owner)
    assert _pin_count() == 0  # no context sees nothing
    with tenant(other.id):
        assert _pin_count() == 0
        with connection.cursor() as cursor:
            cursor.execute("UPDATE conversation_pins SET pinned_at = now() WHERE id = %s", [pin.pk])
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM conversation_pins WHERE id = %s", [pin.pk])
            assert cursor.rowcount == 0
    with tenant(owner.id):
        assert _pin_count("id = %s", [pin.pk]) == 1


def test_a_pin_belongs_to_its_conversations_owner_and_cannot_name_anothers(owner, other, conversation):
    with tenant(owner.id):
        # Even claiming another owner, the trigger takes the conversation's.
        pin = ConversationPin.objects.create(conversation=conversation, user=other)
        assert ConversationPin.objects.filter(pk=pin.pk, user=owner).exists()
        pin.delete()
    with pytest.raises(DatabaseError) as failure, tenant(other.id):
        ConversationPin.objects.create(conversation=conversation, user=other)
    assert failure.value.__cause__.sqlstate in {"42501", "23503"}
    with tenant(owner.id):
        assert not ConversationPin.objects.exists()


def test_the_pins_table_has_forced_rls_and_the_owner_policy():
    with connection.cursor() as cursor:
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'conversation_pins'::regclass")
        assert cursor.fetchone() == (True, True)
        cursor.execute("SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'conversation_pins'::regclass")
        (policy,), = cursor.fetchall()
    assert "user_id = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS \"nullif\")" in policy


def test_json_answers_are_json(owner_client, conversation):
    response = owner_client.post(reverse("chats:pin", args=[conversation.id]), {"pinned": "1"}, **JSON)
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content) == {"pinned": True}


def test_after_a_refused_message_the_sidebar_forms_lead_back_to_the_conversation(owner_client, conversation):
    response = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "   "})
    assert response.status_code == 400
    html = response.content.decode()
    detail = reverse("chats:detail", args=[conversation.id])
    assert f'<form method="get" action="{detail}" class="convo-search"' in html
    assert f'name="next" value="{detail}"' in html
    assert owner_client.get(detail, {"sq": "hel"}).status_code == 200  # where the search goes
