"""A transaction's tenant context goes with its BEGIN and its first statement in one round trip
(core.tenancy._apply, core.db.base.TenantCursor), and the transaction behaves as before: local to
it, rolled back with it, nested contexts restored, every kind of statement acting for the tenant.
Run as the runtime role, outside a test transaction (tenant() is then the outermost block)."""

import select

import psycopg
import pytest
from django.db import ProgrammingError, connection, transaction

from accounts.models import UserSettings
from core.tenancy import current_context, tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def round_trips(monkeypatch):
    """What psycopg sends, in order: its own BEGIN/COMMIT/ROLLBACK and each statement."""
    sent = []
    execute, commit, rollback = psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback
    idle = psycopg.pq.TransactionStatus.IDLE

    def counted_execute(self, query, *args, **kwargs):
        if not self.connection.autocommit and self.connection.info.transaction_status == idle:
            sent.append("BEGIN (psycopg)")
        sent.append(str(query))
        return execute(self, query, *args, **kwargs)

    def ending(original, name):
        def counted(self):
            if self.info.transaction_status != idle:
                sent.append(name)
            return original(self)
        return counted

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Connection, "commit", ending(commit, "COMMIT"))
    monkeypatch.setattr(psycopg.Connection, "rollback", ending(rollback, "ROLLBACK"))
    return sent


def test_the_context_rides_with_begin_and_the_first_statement(owner, round_trips):
    connection.ensure_connection()
    with tenant(owner.id):
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # nothing sent yet
        assert UserSettings.objects.filter(user=owner).count() == 1  # RLS: the context was in force for it
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    first = round_trips[0]
    assert first.startswith("BEGIN;\nSELECT set_config('app.user_id', '%s', true)" % owner.id) and 'FROM "user_settings"' in first
    assert "BEGIN (psycopg)" not in round_trips and round_trips[-1] == "COMMIT" and len(round_trips) == 2
    assert connection.get_autocommit() and connection.connection.autocommit  # Django's and psycopg's view agree
    assert current_context() == ("", "")  # transaction-local: gone with the COMMIT


def test_a_transaction_that_sends_nothing_costs_nothing_and_leaves_nothing(owner, round_trips):
    connection.ensure_connection()
    with tenant(owner.id):
        pass
    assert round_trips == []  # no BEGIN, no context, no COMMIT
    with connection.cursor() as cursor:  # autocommit: the forgotten context is not carried into it
        cursor.execute("SELECT coalesce(current_setting('app.user_id', true), '')")
        assert cursor.fetchone() == ("",)
    assert round_trips[-1].startswith("SELECT coalesce") and len(round_trips) == 1


def test_the_first_statement_answers_as_if_sent_alone(owner):
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("UPDATE user_settings SET rag_enabled = rag_enabled WHERE user_id = %s", [owner.id])
        assert cursor.rowcount == 1 and cursor.description is None
    with tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("SELECT %s::int; SELECT 2", [41 + 1])  # a batch: its first result, then the next
        assert cursor.fetchall() == [(42,)] and cursor.nextset() and cursor.fetchall() == [(2,)]


def test_statements_that_cannot_carry_it_run_it_first(owner, other):
    with tenant(owner.id):  # a named cursor (iterator()): its DECLARE goes after the context
        assert [s.user_id for s in UserSettings.objects.iterator(chunk_size=10)] == [owner.id]
    with tenant(owner.id), connection.cursor() as cursor:  # executemany
        cursor.executemany("UPDATE user_settings SET rag_enabled = false WHERE user_id = %s", [[owner.id], [other.id]])
    with tenant(owner.id):
        assert UserSettings.objects.get().rag_enabled is False
    with tenant(other.id):  # RLS kept the other row out of reach
        assert UserSettings.objects.get().rag_enabled is True


def test_a_failing_first_statement_rolls_back_and_the_next_transaction_starts_clean(owner):
    with pytest.raises(ProgrammingError), tenant(owner.id), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert current_context() == ("", "")
    with tenant(owner.id):
        assert UserSettings.objects.filter(user=owner).count() == 1


def test_a_kept_connection_is_checked_without_a_round_trip_unless_the_server_wrote(round_trips):
    connection.ensure_connection()
    round_trips.clear()  # the connection's own set-up
    assert connection.is_usable() and round_trips == []  # nothing to read: in use as it was left
    pid = connection.connection.info.backend_pid
    killer = connection.get_new_connection(connection.get_connection_params())  # the same role may end its own
    killer.autocommit = True
    killer.execute("SELECT pg_terminate_backend(%s)", [pid])
    killer.close()
    for _attempt in range(50):  # the termination notice arrives
        if select.select([connection.connection.fileno()], [], [], 0.1)[0]:
            break
    assert not connection.is_usable()
    connection.close_if_unusable_or_obsolete()  # what a request's start does (CONN_HEALTH_CHECKS)
    with tenant(None):
        assert current_context() == ("", "")  # a new connection


def test_a_rolled_back_transaction_keeps_nothing(owner):
    class Stop(Exception):
        pass

    with pytest.raises(Stop), tenant(owner.id):
        UserSettings.objects.filter(user=owner).update(rag_enabled=False)
        raise Stop
    with tenant(owner.id):
        assert UserSettings.objects.get(user=owner).rag_enabled is True
    assert current_context() == ("", "")


def test_nested_contexts_and_savepoints_are_restored(owner, other):
    with tenant(owner.id):
        with tenant(other.id):
            assert current_context() == (str(other.id), "")
            assert list(UserSettings.objects.values_list("user_id", flat=True)) == [other.id]
        assert current_context() == (str(owner.id), "")
        with transaction.atomic():  # a savepoint after the merged BEGIN
            assert UserSettings.objects.filter(user=owner).count() == 1
    assert current_context() == ("", "")


def test_a_transaction_begun_by_another_statement_sets_its_context_on_its_own(owner, round_trips):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # the transaction begins here (psycopg's BEGIN)
        with tenant(owner.id):  # nested: a savepoint, then the context
            assert UserSettings.objects.filter(user=owner).count() == 1
    assert round_trips[0] == "BEGIN (psycopg)" and not any(q.startswith("BEGIN;") for q in round_trips)
