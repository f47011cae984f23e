"""Full-text search reads its GIN index under row-level security (as the runtime role), and the
system check says when the database does not allow it."""

import json
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, connections

from config import bootstrap
from core.tenancy import tenant
from rag import retrieval
from rag.checks import full_text_index_check
from rag.models import RagChunk, RagDocument, Status
from testutils.testing import make_user

# Committed rows, so the owner can VACUUM and ANALYZE them (the runtime role may not) and the planner sees real statistics.
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


@contextmanager
def _text_match_not_leakproof():
    """As a superuser, undo what the bootstrap did, for this (per-run) test database only."""
    conninfo = bootstrap.plan().admin_conninfo
    name = connection.settings_dict["NAME"]
    with psycopg.connect(conninfo, dbname=name, autocommit=True) as admin:
        admin.execute("ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF")
        try:
            yield
        finally:
            admin.execute(bootstrap.TEXT_MATCH_LEAKPROOF_SQL)


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


# The smallest query that needs the GIN index: the user's chunks matching the question's lexemes.
# The tsquery is a constant (built in its own statement), as the BM25 half passes it; under RLS the
# planner may use the index only when the match operator is LEAKPROOF. (The BM25 scoring query's own
# plan is checked in test_bm25_database.py.)
_MATCH_SQL = "SELECT c.id FROM rag_chunks c WHERE c.user_id = %(user)s AND c.search @@ %(tsq)s::tsquery"


def _indexes_used(user, question):
    with tenant(user.id), connection.cursor() as cursor:
        cursor.execute("SELECT plainto_tsquery('english', %s)::text", [question])
        tsquery = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        cursor.execute("EXPLAIN (FORMAT JSON) " + _MATCH_SQL, {"tsq": tsquery, "user": user.id})
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
    return {node.get("Index Name") for node in _plan_nodes(plan[0]["Plan"])} - {None}


@pytest.fixture
def library():
    user = make_user("reader@example.com")
    with tenant(user.id):
        document = RagDocument.objects.create(user=user, title="Notes", source="PASTE", status=Status.INDEXED, indexed=True)
        RagChunk.objects.bulk_create([
            RagChunk(user=user, document=document, position=i, language="english",
                     content=f"Entry {i}: the weekly report about the garden and the budget." + (" Zeppelin." if i == 7 else ""))
            for i in range(2000)
        ])
    # VACUUM, not ANALYZE alone: tests that ran before (test_bm25.py and others) insert thousands of
    # chunks in transactions they roll back. Until autovacuum happens by, their dead rows (7,179 in
    # one run: 346 pages for 2,000 live rows) and their dead entries in the GIN index's pending list
    # make the planner price the GIN scan above one of idx_rag_chunks_user_id. VACUUM removes them,
    # flushes the pending list and then analyzes, so the plan depends on this test's rows alone.
    with connections["owner"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE rag_chunks")
    return user


def test_the_runtime_role_searches_through_the_gin_index(library):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        role, bypass = cursor.fetchone()
    assert role == connection.settings_dict["USER"] and not bypass
    assert full_text_index_check(databases=["default"]) == []
    assert "idx_rag_chunks_search" in _indexes_used(library, "zeppelin")
    hits = retrieval.text_search(user=library, query="zeppelin")
    with tenant(library.id):
        assert [RagChunk.objects.get(id=chunk_id).position for chunk_id, _ in hits] == [7]


def test_without_leakproof_matching_the_check_warns_and_search_still_answers(library):
    with _text_match_not_leakproof():
        messages = full_text_index_check(databases=["default"])
        assert [m.id for m in messages] == ["rag.W002"]
        assert "ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF" in messages[0].hint
        assert "idx_rag_chunks_search" not in _indexes_used(library, "zeppelin")
        assert len(retrieval.text_search(user=library, query="zeppelin")) == 1


def test_search_through_the_index_still_keeps_users_apart(library):
    other = make_user("other@example.com")
    assert retrieval.text_search(user=other, query="zeppelin") == []
