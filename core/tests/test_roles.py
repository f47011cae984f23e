"""The runtime role the app connects as can neither skip nor own its way past row-level security."""

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db


def test_app_connects_as_the_runtime_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, session_user")
        current, session = cursor.fetchone()
    assert current == session == settings.DATABASE_APP_USER


def test_runtime_role_is_not_superuser_and_cannot_bypass_rls():
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
        superuser, bypassrls, createrole, createdb = cursor.fetchone()
    assert (superuser, bypassrls, createrole, createdb) == (False, False, False, False)


def test_runtime_role_owns_no_table_or_function():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
            "WHERE r.rolname = current_user"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = current_user"
        )
        assert cursor.fetchone()[0] == 0


def test_runtime_role_cannot_change_the_schema():
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE user_settings DISABLE ROW LEVEL SECURITY")


def test_audit_log_is_append_only_for_the_runtime_role():
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_logs")
