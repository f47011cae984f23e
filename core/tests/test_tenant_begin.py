"""A transaction's tenant context goes with its BEGIN in one round trip (core.tenancy._apply), and
the transaction behaves as before: local to it, rolled back with it, nested contexts restored.
Run as the runtime role, outside a test transaction (tenant() is then the outermost block)."""

import psycopg
import pytest
from django.db import connection, transaction

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


def test_the_context_rides_with_begin_and_the_transaction_ends_as_before(owner, round_trips):
    connection.ensure_connection()
    with tenant(owner.id):
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        assert UserSettings.objects.filter(user=owner).count() == 1
    assert round_trips[0].startswith("BEGIN; SELECT set_config('app.user_id'") and "BEGIN (psycopg)" not in round_trips
    assert round_trips[-1] == "COMMIT" and len(round_trips) == 3
    assert connection.get_autocommit() and connection.connection.autocommit  # Django's and psycopg's view agree
    assert current_context() == ("", "")  # transaction-local: gone with the COMMIT


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
