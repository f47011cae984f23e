"""Row-level security reads the tenant settings once per statement (issue 15), as the runtime role.

Every policy wraps its ``current_setting(...)`` calls in scalar subqueries, which PostgreSQL runs as
InitPlans: once per statement, the rows then compared with a parameter. What a user may see and
write is unchanged: no context sees and writes nothing, the bypass reaches every tenant table but
the health ones.
"""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from core import sqlgen
from core.tenancy import bypass, current_context, tenant
from testutils import factories

pytestmark = pytest.mark.django_db

USER_ID_ONCE = "( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS \"nullif\")"
BYPASS_ONCE = "( SELECT current_setting('app.bypass'::text, true) AS current_setting)"
ROW_CONDITIONS = ("Filter", "Index Cond", "Recheck Cond")


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _explain_count(table: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, FORMAT JSON) SELECT count(*) FROM {table}")
        document = cursor.fetchone()[0]
    document = json.loads(document) if isinstance(document, str) else document
    return list(_nodes(document[0]["Plan"]))


def _assert_settings_read_once(table: str) -> None:
    nodes = _explain_count(table)
    scans = [n for n in nodes if n.get("Relation Name") == table]
    assert scans, nodes
    for scan in scans:  # the rows are compared with a parameter, not with a function call each
        for key in ROW_CONDITIONS:
            assert "current_setting" not in scan.get(key, ""), (key, scan[key])
    initplans = [n for n in nodes if n.get("Parent Relationship") == "InitPlan"]
    assert initplans, nodes
    assert all(n["Actual Loops"] == 1 for n in initplans), initplans


@pytest.fixture
def rows(owner, other):
    """Three transactions and two health measurements of the owner, two and one of the other user."""
    for user, transactions, measurements in ((owner, 3, 2), (other, 2, 1)):
        for _ in range(transactions):
            factories.make("transactions", user)
        for _ in range(measurements):
            factories.make("health_measurements", user)


def test_a_count_reads_the_tenant_once_not_per_row(owner, rows):
    with tenant(owner.id):
        _assert_settings_read_once("transactions")
        _assert_settings_read_once("health_measurements")  # owner-only policy: no bypass term
        assert _count("transactions") == 3
        assert _count("health_measurements") == 2


def test_the_filter_still_drops_other_users_rows(owner, rows):
    with tenant(owner.id):
        scan, = (n for n in _explain_count("transactions") if n.get("Relation Name") == "transactions")
    assert scan["Actual Rows"] == 3


def test_no_context_sees_nothing(owner, rows):
    assert current_context() == ("", "")
    _assert_settings_read_once("transactions")
    assert _count("transactions") == 0
    assert _count("health_measurements") == 0


def test_no_context_cannot_insert(owner):
    with tenant(owner.id):
        factories.user_settings(owner).delete()
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO user_settings (id, user_id, created_at) VALUES (gen_random_uuid(), %s, now())",
                       [owner.id])
    with tenant(owner.id):
        assert _count("user_settings") == 0


def test_the_bypass_sees_every_tenant_but_not_health_data(staff, rows):
    with tenant(staff.id), bypass("issue 15 init-plan check"):
        _assert_settings_read_once("transactions")
        assert _count("transactions") == 5
        assert _count("health_measurements") == 0


def test_every_policy_reads_the_settings_only_in_subqueries():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT polrelid::regclass::text, polname, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) "
            "FROM pg_policy ORDER BY 1, 2"
        )
        policies = cursor.fetchall()
    assert len(policies) >= 50
    per_row = []
    for table, name, *expressions in policies:
        for expression in filter(None, expressions):
            reads = expression.count("current_setting(")
            if reads != expression.count(USER_ID_ONCE) + expression.count(BYPASS_ONCE):
                per_row.append(f"{table}.{name}: {expression}")
    assert not per_row, "policies reading a setting per row (use core.sqlgen.enable_rls / initplan): " + "; ".join(per_row)


def test_the_generator_writes_the_read_once_form_and_reverses_to_the_old_text():
    assert sqlgen.owner_predicate("owner_id") == (
        "owner_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) "
        "OR (SELECT current_setting('app.bypass', true)) = 'on'"
    )
    assert sqlgen.initplan(sqlgen.owner_predicate()) == sqlgen.owner_predicate()  # never wrapped twice
    forward, reverse = sqlgen.rls_once("allergies", allow_bypass=False)
    old = sqlgen.owner_predicate(allow_bypass=False, once=False)
    assert reverse == f"\nALTER POLICY allergies_owner ON allergies USING ({old}) WITH CHECK ({old});\n"
    assert forward == reverse.replace(old, sqlgen.OWNER_EXPR_ONCE.format(column="user_id"))
