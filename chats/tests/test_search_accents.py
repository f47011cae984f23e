"""Conversation search ignores accents, in English and Spanish text, through the real list page;
the snippet marks the words as written; the runtime role's search reads the full-text index."""

import json
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, connections
from django.urls import reverse

from chats import selectors
from chats.checks import accent_folding_check, folded_match_index_check
from chats.models import Conversation, Message
from config import bootstrap
from core.pg import FOLDED_MATCH_FUNCTIONS
from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user


def _conversation(owner, agent, title, *contents):
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
        Conversation.objects.filter(pk=conversation.pk).update(title=title)
        for content in contents:
            Message.objects.create(conversation=conversation, user=owner, role="user", content=content)
    return conversation


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "title", "marked"), [
    ("cancion", "Canciones", "<mark>canción</mark>"),
    ("Canción", "Canciones", "<mark>canción</mark>"),
    ("CANCIÓN", "Canciones", "<mark>canción</mark>"),
    ("cafe", "Coffee", "<mark>café</mark>"),
    ("café", "Coffee", "<mark>café</mark>"),
    ("naive", "Coffee", "<mark>naïve</mark>"),
    ("jalapeño", "Salsa", "<mark>jalapenos</mark>"),
])
def test_search_ignores_accents_both_ways_and_marks_the_words_as_written(owner_client, owner, offline_agent,
                                                                       query, title, marked):
    _conversation(owner, offline_agent, "Canciones", "Quiero escribir una canción sobre el mar de Mazatlán.")
    _conversation(owner, offline_agent, "Coffee", "A naïve question: where is the best café in town?")
    _conversation(owner, offline_agent, "Salsa", "The salsa needs two jalapenos and lime.")
    _conversation(owner, offline_agent, "Groceries", "Bread, milk and eggs for the week.")
    html = owner_client.get(reverse("chats:list"), {"q": query}).content.decode()
    assert title in html and marked in html
    assert "Groceries" not in html
    assert [t for t in ("Canciones", "Coffee", "Salsa") if t in html] == [title]


@pytest.mark.django_db
def test_the_snippet_keeps_every_accent_of_the_message(owner_client, owner, offline_agent):
    _conversation(owner, offline_agent, "Viaje",
                  "Mañana salimos hacia Cancún; después iremos a Mérida y a Valladolid en autobús.")
    html = owner_client.get(reverse("chats:list"), {"q": "merida autobus"}).content.decode()
    assert "Mañana salimos hacia Cancún; después iremos a <mark>Mérida</mark> y a Valladolid en <mark>autobús</mark>" in html


@pytest.mark.django_db
def test_accent_folded_search_still_keeps_users_apart(other_client, owner, offline_agent):
    mine = _conversation(owner, offline_agent, "Secreto", "mi canción secreta")
    html = other_client.get(reverse("chats:list"), {"q": "cancion"}).content.decode()
    assert "secreta" not in html and reverse("chats:detail", args=[mine.id]) not in html


def test_the_snippet_falls_back_to_the_folded_text_when_folding_changed_lengths():
    # PostgreSQL's unaccent turns "æ" into "ae": then the folded snippet is shown as it is.
    headline = "the \x02encyclopaedia\x03 entry"
    assert selectors._with_original_letters(headline, "the encyclopaedia entry", "the encyclopædia entry") == headline
    assert selectors._with_original_letters("a \x02cafe\x03", "a cafe", "a café") == "a \x02café\x03"


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.fixture
def long_history(staff):
    """2,000 committed messages, analysed by the owner (the runtime role may not), one of them about a song."""
    owner = make_user("reader@example.com")
    agent = factories.agent(staff, is_public=True, name="Helper", system_prompt="You help.")
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
        Message.objects.bulk_create([
            Message(conversation=conversation, user=owner, role="user",
                    content=f"Nota {i}: el informe semanal del jardín y del presupuesto." + (" Canción." if i == 7 else ""))
            for i in range(2000)
        ])
    with connections["owner"].cursor() as cursor:
        cursor.execute("ANALYZE messages")
    return owner


def _indexes_used(owner, query):
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        cursor.execute("EXPLAIN (FORMAT JSON) " + selectors.SEARCH_SQL, {"q": query, "user": owner.id, "limit": 20, "offset": 0})
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return {node.get("Index Name") for node in _plan_nodes(plan[0]["Plan"])} - {None}


@contextmanager
def _folded_match_not_leakproof():
    """As a superuser, undo what the bootstrap did, for this (per-run) test database only."""
    with psycopg.connect(bootstrap.plan().admin_conninfo, dbname=connection.settings_dict["NAME"], autocommit=True) as admin:
        admin.execute(f"ALTER FUNCTION {FOLDED_MATCH_FUNCTIONS[0]} NOT LEAKPROOF")
        try:
            yield
        finally:
            admin.execute(f"ALTER FUNCTION {FOLDED_MATCH_FUNCTIONS[0]} LEAKPROOF")


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_runtime_role_searches_through_the_unaccented_index(long_history):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        role, bypass = cursor.fetchone()
    assert role == connection.settings_dict["USER"] and not bypass
    assert folded_match_index_check(databases=["default"]) == []
    assert "idx_messages_content_fulltext" in _indexes_used(long_history, "cancion")
    with tenant(long_history.id):
        hits, total = selectors.search_conversations(user=long_history, query="cancion", limit=20, offset=0)
    assert total == 1 and "<mark>Canción</mark>" in hits[0].snippet


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_without_leakproof_functions_the_check_warns_and_search_still_answers(long_history):
    with _folded_match_not_leakproof():
        messages = folded_match_index_check(databases=["default"])
        assert [m.id for m in messages] == ["chats.W002"]
        assert f"ALTER FUNCTION {FOLDED_MATCH_FUNCTIONS[0]} LEAKPROOF;" in messages[0].hint
        assert "idx_messages_content_fulltext" not in _indexes_used(long_history, "cancion")
        with tenant(long_history.id):
            _hits, total = selectors.search_conversations(user=long_history, query="cancion", limit=20, offset=0)
        assert total == 1


@pytest.mark.django_db
def test_the_check_says_when_accents_are_folded_by_the_built_in_table():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'")
        has_unaccent = cursor.fetchone()[0] == 1
    messages = accent_folding_check(databases=["default"])
    if has_unaccent:
        assert messages == []
    else:
        assert [m.id for m in messages] == ["chats.W001"]
        assert "CREATE EXTENSION unaccent" in messages[0].hint


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "folded"), [
    ("plain ASCII text, with punctuation: (1) [2] {3} ~!", "plain ASCII text, with punctuation: (1) [2] {3} ~!"),
    ("", ""),
    ("Canción del año, CAFÉ, naïve, Łódź", "Cancion del ano, CAFE, naive, Łodz"),
    ("ASCII first, then one é at the end", "ASCII first, then one e at the end"),
])
def test_folding_returns_plain_ascii_unchanged_and_folds_the_rest(text, folded):
    """Chats migration 0007's plain-ASCII test gives what translate() alone gave, for every text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.immutable_unaccent(%s), public.immutable_unaccent(NULL) IS NULL", [text])
        result, null_stays_null = cursor.fetchone()
        cursor.execute("SELECT prosrc FROM pg_proc WHERE oid = 'public.immutable_unaccent(text)'::regprocedure")
        body = cursor.fetchone()[0]
    if "translate(" in body:  # the built-in table (no unaccent extension): folds these letters
        assert "octet_length" in body
        assert result == folded
    assert null_stays_null
