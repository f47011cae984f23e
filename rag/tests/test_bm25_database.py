"""BM25 statistics in the database under concurrency (real threads, one connection each, as the
runtime role), the scoring query through the GIN index under row-level security, and the
migration's backfill of existing chunks."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections

from config import bootstrap
from core.tenancy import tenant
from rag import indexing, lexical
from rag.models import RagChunk, RagDocument, Status

from .test_bm25 import recount, stats

# Committed rows: each thread has its own connection and sees only what the others committed.
pytestmark = pytest.mark.django_db(transaction=True)

SHARED = "The harbour pilot guides every ship past the lighthouse and the breakwater."


def _text(n: int) -> str:
    sections = [f"## Part {i}\n\n{SHARED} Section {i} of log {n} notes the tide, the wind and cargo {n * 100 + i}."
                for i in range(12)]
    return f"# Log {n}\n\n" + "\n\n".join(sections)


def _documents(user, count):
    with tenant(user.id):
        return [RagDocument.objects.create(user=user, title=f"Log {n}", source="PASTE", content=_text(n)).id
                for n in range(count)]


def _in_threads(*targets):
    errors = []

    def run(target):
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert not errors, errors


def test_two_concurrent_indexings_keep_the_statistics_exact(owner):
    first, second = _documents(owner, 2)
    barrier = threading.Barrier(2)

    def index(document_id):
        def work():
            barrier.wait(timeout=30)
            for _ in range(3):  # indexing, then re-indexing twice: deletes and inserts the same terms
                indexing.index_document(user_id=owner.id, document_id=document_id)
        return work

    _in_threads(index(first), index(second))
    with tenant(owner.id):
        assert set(RagDocument.objects.values_list("status", flat=True)) == {Status.INDEXED}  # no deadlock failed one
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    chunks = totals["english"][0]
    assert chunks > 2 and terms[("english", "lighthous")] == chunks  # in every chunk of both documents


def test_a_second_writer_waits_for_the_first_and_neither_count_is_lost(owner):
    """Two transactions writing the same owner's terms: the second queues on the owner's lock until
    the first commits, then adds to the committed counts (no read-modify-write)."""
    with tenant(owner.id):
        one = RagDocument.objects.create(user=owner, title="One", source="PASTE", status=Status.INDEXED, indexed=True)
        two = RagDocument.objects.create(user=owner, title="Two", source="PASTE", status=Status.INDEXED, indexed=True)
    first_wrote, release = threading.Event(), threading.Event()
    pids = {}

    def first():
        with tenant(owner.id):
            RagChunk.objects.bulk_create([RagChunk(user=owner, document_id=one.id, position=i, language="english",
                                                   content=f"lighthouse keeper {i}") for i in range(50)])
            first_wrote.set()
            assert release.wait(timeout=30)

    def second():
        assert first_wrote.wait(timeout=30)
        with tenant(owner.id):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids["second"] = cursor.fetchone()[0]
            RagChunk.objects.bulk_create([RagChunk(user=owner, document_id=two.id, position=i, language="english",
                                                   content=f"lighthouse beacon {i}") for i in range(30)])

    def watch():
        assert first_wrote.wait(timeout=30)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT l.locktype FROM pg_locks l WHERE l.pid = %s AND NOT l.granted",
                                   [pids.get("second", -1)])
                    waiting = [row[0] for row in cursor.fetchall()]
                if waiting:
                    pids["waited_on"] = waiting
                    break
                time.sleep(0.02)
        finally:
            release.set()

    _in_threads(first, second, watch)
    assert pids.get("waited_on") == ["advisory"]
    terms, totals = stats(owner)
    assert (terms, totals) == recount(owner)
    assert terms[("english", "lighthous")] == 80 and terms[("english", "keeper")] == 50 and totals["english"][0] == 80


def test_different_owners_do_not_wait_for_each_other(owner, other):
    started = threading.Barrier(2)

    def write(user):
        def work():
            with tenant(user.id):
                document = RagDocument.objects.create(user=user, title="Log", source="PASTE", status=Status.INDEXED,
                                                      indexed=True)
                started.wait(timeout=30)
                RagChunk.objects.bulk_create([RagChunk(user=user, document=document, position=i, language="english",
                                                       content=f"lighthouse {i}") for i in range(20)])
                started.wait(timeout=30)  # both inside their transactions, past their inserts, at once
        return work

    _in_threads(write(owner), write(other))
    assert stats(owner) == recount(owner) and stats(other) == recount(other)


# --- the scoring query's plan ---------------------------------------------------------------------------------


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_scoring_query_reads_the_gin_index_as_the_runtime_role(owner):
    with tenant(owner.id):
        document = RagDocument.objects.create(user=owner, title="Notes", source="PASTE", status=Status.INDEXED, indexed=True)
        RagChunk.objects.bulk_create([
            RagChunk(user=owner, document=document, position=i, language="english",
                     content=f"Entry {i}: the weekly report about the garden and the budget." + (" Zeppelin." if i == 7 else ""))
            for i in range(2000)
        ])
    # VACUUM as well: earlier tests' rolled-back chunks leave dead rows and dead GIN pending-list
    # entries that make the planner price the GIN scan above idx_rag_chunks_user_id's.
    with connections["owner"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE rag_chunks")
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False
        terms, totals = lexical.question_terms(cursor, owner, "zeppelin garden")
        assert [t.term for t in terms] == ["zeppelin", "garden"]
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        sql, params = lexical.round_query(owner, "english", terms, 0, 1, totals, 10)
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
    assert "idx_rag_chunks_search" in {node.get("Index Name") for node in _plan_nodes(plan[0]["Plan"])}
    hits = lexical.lexical_search(owner, "zeppelin garden", 3)
    with tenant(owner.id):
        assert RagChunk.objects.get(id=hits[0][0]).position == 7


# --- the migration's backfill -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_migration_fills_the_statistics_of_existing_chunks_and_goes_back(django_db_blocker):
    """On a scratch database: chunks written before migration 0006, then 0006 applied (the counts
    match a recount), unapplied (tables, column and triggers gone, chunks kept) and applied again."""
    scratch = f"{settings.DATABASES['default']['NAME']}_bm25_backfill"
    plan = bootstrap.prepare(database=scratch, recreate=True)
    owner = connections["owner"]
    original = owner.settings_dict["NAME"]
    try:
        owner.close()
        owner.settings_dict["NAME"] = scratch
        call_command("migrate", database="owner", verbosity=0)
        call_command("migrate", "rag", "0005", database="owner", verbosity=0)
        with owner.cursor() as cursor:
            cursor.execute("SELECT set_config('app.bypass', 'on', false)")
            cursor.execute("INSERT INTO users (email, password) SELECT e, '' "
                           "FROM unnest(ARRAY['a@example.com', 'b@example.com']) e RETURNING id")
            users = [row[0] for row in cursor.fetchall()]
            for n, (user_id, language, text) in enumerate([
                (users[0], "english", "The lighthouse keeper logs every ship"),
                (users[0], "english", "Ships pass the lighthouse at dawn"),
                (users[0], "spanish", "El farero anota cada barco"),
                (users[1], "english", "A lighthouse, a lighthouse"),
            ]):
                cursor.execute("INSERT INTO rag_documents (id, user_id, title, source, status) "
                               "VALUES (gen_random_uuid(), %s, 'Doc', 'PASTE', 'INDEXED') RETURNING id", [user_id])
                document_id = cursor.fetchone()[0]
                cursor.execute("INSERT INTO rag_chunks (id, user_id, document_id, position, content, language) "
                               "VALUES (gen_random_uuid(), %s, %s, %s, %s, %s)", [user_id, document_id, n, text, language])
            cursor.execute("SELECT set_config('app.bypass', '', false)")
        owner.close()
        call_command("migrate", "rag", database="owner", verbosity=0)
        with owner.cursor() as cursor:
            cursor.execute("SELECT set_config('app.bypass', 'on', false)")
            cursor.execute("SELECT user_id, language, term, df FROM rag_term_stats ORDER BY 1, 2, 3")
            kept = cursor.fetchall()
            cursor.execute("SELECT c.user_id, c.language, l.term, count(*) FROM rag_chunks c, "
                           "unnest(tsvector_to_array(c.search)) l(term) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
            assert kept == cursor.fetchall() and kept
            cursor.execute("SELECT user_id, language, chunk_count, total_length FROM rag_lexical_totals ORDER BY 1, 2")
            totals = cursor.fetchall()
            cursor.execute("SELECT user_id, language, count(*), sum(search_length) FROM rag_chunks GROUP BY 1, 2 ORDER BY 1, 2")
            assert totals == cursor.fetchall()
            assert dict(((u, lang, t), df) for u, lang, t, df in kept)[(users[1], "english", "lighthous")] == 1
            assert sum(count for u, lang, count, _ in totals if u == users[0]) == 3
            cursor.execute("SELECT set_config('app.bypass', '', false)")
        owner.close()
        call_command("migrate", "rag", "0005", database="owner", verbosity=0)
        with owner.cursor() as cursor:
            cursor.execute("SELECT to_regclass('rag_term_stats'), to_regclass('rag_lexical_totals')")
            assert cursor.fetchone() == (None, None)
            cursor.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'rag_chunks' "
                           "AND column_name = 'search_length'")
            assert cursor.fetchone()[0] == 0
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'rag_chunks_stats_%%'")
            assert cursor.fetchone()[0] == 0
        call_command("migrate", "rag", database="owner", verbosity=0)
    finally:
        owner.close()
        owner.settings_dict["NAME"] = original
        bootstrap.drop_database(plan, scratch)
