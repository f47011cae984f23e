"""Published migrations are history: the SQL each one runs, forwards and backwards, never changes.

``data/migration_sql.sha256.json`` holds, for every migration of our apps, the SHA-256 of the
statements it runs in each direction, collected as ``sqlmigrate`` collects them
(``schema_editor(collect_sql=True)``). Editing a published migration, or code it calls (a field
class's ``db_type``, say), changes what a fresh database gets; this test catches it.

A new migration is recorded once with ``MIGRATION_FINGERPRINTS=record`` (which adds missing entries
and never rewrites an existing one). Migrations write their SQL as literals: they import no SQL
generator (``core.sqlgen``), whose later edits would rewrite them silently.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunSQL

FINGERPRINTS = Path(__file__).parent / "data" / "migration_sql.sha256.json"
# Live code whose output would change old migrations if it were imported by them.
FORBIDDEN_IMPORTS = ("core.sqlgen", "core.operations")
HISTORY = (
    "published migrations are history: add a new migration instead of editing one "
    "(or the code it calls)"
)


def _our_app_labels() -> list[str]:
    base = Path(settings.BASE_DIR).resolve()
    labels = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if path.is_relative_to(base) and ".venv" not in path.parts and (path / "migrations").is_dir():
            labels.append(config.label)
    return sorted(labels)


def _collector_class(conn):
    class Collector(conn.SchemaEditorClass):
        """Collects the SQL; questions to the database are answered from the migration alone.

        Some operations (removing a foreign key, for one) ask the live database for constraint
        names. A stable stand-in keeps the collected SQL a function of the migration files, not of
        whatever the database holds today.
        """

        def _constraint_names(self, model, column_names=None, **kinds):
            kind = ",".join(sorted(k for k, v in kinds.items() if v and k != "exclude")) or "any"
            return [f"<{kind} of {model._meta.db_table}({','.join(column_names or [])})>"]

    return Collector


def _normalise(statement: str) -> str:
    # The runtime role's name comes from the environment (DATABASE_APP_USER).
    role = connection.ops.quote_name(settings.DATABASE_APP_USER)
    return re.sub(rf"\b(TO|FROM) {re.escape(role)}", r"\1 <DATABASE_APP_USER>", statement)


def collect_migration_sql(only: set[str] | None = None, conn=connection) -> dict[str, dict[str, list[str]]]:
    """``{"app.name": {"forwards": [statements], "backwards": [statements]}}`` for our migrations."""
    conn.ensure_connection()  # quoting literals needs a live connection; nothing is executed
    collector = _collector_class(conn)
    loader = MigrationLoader(None, ignore_no_migrations=True)
    labels = set(_our_app_labels())
    result = {}
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        if app_label not in labels or (only is not None and f"{app_label}.{name}" not in only):
            continue
        state = loader.project_state((app_label, name), at_end=False)
        steps = []
        with collector(conn, collect_sql=True, atomic=False) as editor:
            for operation in migration.operations:
                before = state.clone()
                operation.state_forwards(app_label, state)
                steps.append((operation, before, state.clone()))
                if operation.reduces_to_sql:
                    operation.database_forwards(app_label, editor, before, state)
        forwards = editor.collected_sql
        with collector(conn, collect_sql=True, atomic=False) as editor:
            for operation, before, after in reversed(steps):
                if operation.reduces_to_sql and operation.reversible:
                    operation.database_backwards(app_label, editor, after, before)
        result[f"{app_label}.{name}"] = {
            "forwards": [_normalise(s) for s in forwards],
            "backwards": [_normalise(s) for s in editor.collected_sql],
        }
    return result


def fingerprint(statements: list[str]) -> str:
    return hashlib.sha256(json.dumps(statements, ensure_ascii=False).encode()).hexdigest()


def current_fingerprints(only: set[str] | None = None) -> dict[str, dict[str, str]]:
    return {
        key: {direction: fingerprint(sql) for direction, sql in directions.items()}
        for key, directions in collect_migration_sql(only).items()
    }


def recorded_fingerprints() -> dict[str, dict[str, str]]:
    return json.loads(FINGERPRINTS.read_text()) if FINGERPRINTS.exists() else {}


def changed_migrations(recorded: dict, current: dict) -> list[str]:
    return sorted(
        f"{key} ({', '.join(d for d in ('forwards', 'backwards') if current[key][d] != recorded[key].get(d))})"
        for key in set(current) & set(recorded)
        if current[key] != recorded[key]
    )


def test_published_migrations_run_the_sql_they_always_ran(db):
    recorded = recorded_fingerprints()
    current = current_fingerprints()
    new = sorted(set(current) - set(recorded))
    if new and os.environ.get("MIGRATION_FINGERPRINTS") == "record":
        recorded.update({key: current[key] for key in new})
        FINGERPRINTS.parent.mkdir(exist_ok=True)
        FINGERPRINTS.write_text(json.dumps(dict(sorted(recorded.items())), indent=2) + "\n")
        new = []
    changed = changed_migrations(recorded, current)
    missing = sorted(set(recorded) - set(current))
    assert not changed, f"{HISTORY}; the SQL of these migrations changed: {', '.join(changed)}"
    assert not missing, f"{HISTORY}; these recorded migrations are gone: {', '.join(missing)}"
    assert not new, (
        f"new migrations without a fingerprint: {', '.join(new)}; once final, record them with "
        f"MIGRATION_FINGERPRINTS=record (this adds entries and never rewrites one)"
    )


def _run_sql_operation(key: str):
    app_label, name = key.split(".")
    migration = MigrationLoader(None, ignore_no_migrations=True).disk_migrations[(app_label, name)]
    return next(op for op in migration.operations if isinstance(op, RunSQL) and isinstance(op.sql, str))


@pytest.mark.parametrize(
    ("direction", "old", "new"), [("forwards", "BEFORE INSERT", "AFTER INSERT"), ("backwards", "IF EXISTS ", "")]
)
def test_an_edited_migration_is_caught(db, monkeypatch, direction, old, new):
    key = "chats.0002_database_rules"
    recorded = recorded_fingerprints()
    assert current_fingerprints({key}) == {key: recorded[key]}
    # The operation objects are the migration class's own: the next load sees the edit.
    operation = _run_sql_operation(key)
    attribute = "sql" if direction == "forwards" else "reverse_sql"
    assert old in getattr(operation, attribute)
    monkeypatch.setattr(operation, attribute, getattr(operation, attribute).replace(old, new, 1))
    assert changed_migrations(recorded, current_fingerprints({key})) == [f"{key} ({direction})"]


@pytest.mark.parametrize("module", FORBIDDEN_IMPORTS)
def test_migrations_import_no_sql_generator(module):
    offenders = []
    for label in _our_app_labels():
        for path in sorted(Path(apps.get_app_config(label).path, "migrations").glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
                if any(name == module or name.startswith(f"{module}.") for name in names):
                    offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{node.lineno}")
    assert not offenders, (
        f"{HISTORY}; a migration must not import {module} (its SQL would change when the helper "
        f"does): write the SQL it produces as literals instead: {', '.join(offenders)}"
    )
