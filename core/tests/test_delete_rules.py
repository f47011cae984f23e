"""Every CASCADE and SET NULL rule of the ERD, on real rows, as the runtime role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from core.tenancy import tenant
from testutils import factories
from testutils.testing import make_user

SPEC = json.loads((Path(settings.BASE_DIR) / "docs" / "erd" / "spec" / "schema.json").read_text())
CASES = sorted(
    (table, column, fk["table"], fk["on_delete"])
    for table, spec in SPEC["tables"].items()
    for column, fk in spec["fk"].items()
)

pytestmark = pytest.mark.django_db


def _value(table, column, row_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [row_id])
        row = cursor.fetchone()
    return row[0] if row else "gone"


def _execute(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _parent_for(parent_table, owner):
    if parent_table == "users":
        return make_user()
    if parent_table == "agents":
        return factories.agent(owner)
    return factories.FACTORIES[parent_table](owner)


def test_every_foreign_key_of_the_erd_is_covered():
    assert len(CASES) == 58
    assert {rule for *_, rule in CASES} == {"CASCADE", "SET NULL"}


@pytest.mark.parametrize("table,column,parent_table,rule", CASES, ids=[f"{t}.{c}" for t, c, _, _ in CASES])
def test_delete_rule(table, column, parent_table, rule):
    owner = make_user()
    with tenant(owner.id):
        child = factories.FACTORIES[table](owner)
        parent_id = _value(table, column, child.pk)
        if parent_table == "users" and (rule == "CASCADE" or table == "audit_logs"):
            # The owner (or creator, or the actor of an append-only audit row) itself.
            victim = parent_id
        else:
            if parent_id is None or parent_table == "users":
                parent = _parent_for(parent_table, owner)
                _execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [parent.pk, child.pk])
                parent_id = parent.pk
            victim = parent_id
        assert victim is not None
        if parent_table == "users":
            # Through the ORM, as the app deletes users: it clears allauth's own tables first.
            from accounts.models import User

            User.objects.filter(pk=victim).delete()
        else:
            _execute(f"DELETE FROM {parent_table} WHERE id = %s", [victim])
        after = _value(table, column, child.pk)
    if rule == "CASCADE":
        assert after == "gone", f"{table} row survived the deletion of its {parent_table}"
    else:
        assert after is None, f"{table}.{column} should be NULL after its {parent_table} is deleted"
