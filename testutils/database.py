"""Database helpers for tests: empty what committed rows left, as the owner role; copy a database."""

from __future__ import annotations

import time

from django.db import connections

# Tables filled by migrations themselves; everything else is emptied after committing tests.
_KEEP_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


def truncate_all_as_owner(attempts: int = 5) -> None:
    """Empty every table the tests fill, as the owner role.

    A request still being served by the live server when its test ends (a stream noticing the
    closed page late) can hold a lock on one table while it waits for another that TRUNCATE holds:
    PostgreSQL ends one of the two as a deadlock. When it ends ours, try again; the request is gone
    a moment later. Giving up would leave Django's per-test database guards in place and fail every
    later test that uses the owner alias, as CI once did.
    """
    import psycopg

    # A raw connection: Django's test guard forbids the "owner" alias inside tests, on purpose.
    wrapper = connections["owner"]
    for attempt in range(1, attempts + 1):
        raw = wrapper.get_new_connection(wrapper.get_connection_params())
        try:
            with raw.cursor() as cursor:
                cursor.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> ALL(%s)",
                    [list(_KEEP_TABLES)],
                )
                tables = [row[0] for row in cursor.fetchall()]
                if tables:
                    quoted = ", ".join(wrapper.ops.quote_name(t) for t in tables)
                    cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
            raw.commit()
            return
        except (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable):
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)
        finally:
            raw.close()
