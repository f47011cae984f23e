"""Migrations go forward and back to zero, app by app, on a scratch database, and models match them.

The scratch database is a copy of the test database as the session's own ``migrate`` left it
(conftest's ``freshly_migrated_database``): that run already took every migration forward from an
empty database, so the test starts from its result instead of migrating a second database from
scratch (12 to 20 s, more on a loaded machine). Every migration then runs backwards, and forwards
again, here.
"""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

# Dependents before their dependencies, so each `migrate <app> zero` unapplies only that app.
REVERSE_ORDER = ["metrics", "artifacts", "chats", "agents", "support", "finance", "health", "storage",
                 "integrations", "rag", "accounts"]


def test_models_and_migrations_agree(db):
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.slow
def test_every_app_migrates_to_zero_and_back(django_db_blocker, freshly_migrated_database):
    assert set(REVERSE_ORDER) == set(settings.DOMAIN_APPS)
    _, scratch = freshly_migrated_database
    owner = connections["owner"]
    original = owner.settings_dict["NAME"]
    with django_db_blocker.unblock():
        try:
            owner.close()
            owner.settings_dict["NAME"] = scratch
            executor = MigrationExecutor(owner)
            assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == [], "the copy is not fully migrated"
            with owner.cursor() as cursor:
                cursor.execute("SELECT app, count(*) FROM django_migrations GROUP BY app")
                applied = dict(cursor.fetchall())
            assert all(applied.get(app) for app in REVERSE_ORDER), applied
            for app in REVERSE_ORDER:
                call_command("migrate", app, "zero", database="owner", verbosity=0)
                with owner.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM django_migrations WHERE app = %s", [app])
                    assert cursor.fetchone()[0] == 0, app
            with owner.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relname IN ('users', 'messages', 'usage_logs', 'storage_files')"
                )
                assert cursor.fetchone()[0] == 0
                # Our functions and triggers are gone; only extensions' (pgvector) remain.
                cursor.execute(
                    "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = current_schema() AND NOT EXISTS "
                    "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
                )
                leftover = cursor.fetchone()[0]
            call_command("migrate", database="owner", verbosity=0)
            out = io.StringIO()
            call_command("check_schema", stdout=out)
            assert "schema: 1104/1104 checks pass" in out.getvalue()
        finally:
            owner.close()
            owner.settings_dict["NAME"] = original
    assert leftover == 0, "functions left behind after migrating everything to zero"
