"""The migrated database against the ERD (docs/erd/schema.json, a copy of ../shared/spec).

Our own reading of the contract, table by table; ``test_shared_checker`` also runs the shared
tool (docs/erd/check_schema.py) on the same database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from core.tenancy import OWNER_ONLY_TABLES, TENANT_TABLES

SPEC_PATH = Path(settings.BASE_DIR) / "docs" / "erd" / "spec" / "schema.json"
SPEC = json.loads(SPEC_PATH.read_text())
TABLES = sorted(SPEC["tables"])
RULES = {"c": "CASCADE", "n": "SET NULL", "a": "NO ACTION", "r": "RESTRICT", "d": "SET DEFAULT"}

pytestmark = pytest.mark.django_db


def _rows(sql, params=()):
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _columns(table):
    return {
        name: (data_type, udt)
        for name, data_type, udt in _rows(
            "SELECT column_name, data_type, udt_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s", [table])
    }


def _constraints(table, kind):
    return _rows(
        """SELECT con.conname, pg_get_constraintdef(con.oid), con.confdeltype, con.confrelid::regclass::text,
                  array(SELECT a.attname FROM unnest(con.conkey) k JOIN pg_attribute a
                        ON a.attrelid = con.conrelid AND a.attnum = k ORDER BY a.attname)
             FROM pg_constraint con WHERE con.conrelid = %s::regclass AND con.contype = %s""",
        [table, kind],
    )


def test_the_spec_copy_matches_the_shared_one():
    shared = Path(settings.BASE_DIR).parent / "shared" / "spec" / "schema.json"
    if not shared.exists():
        pytest.skip(f"no shared spec next to the checkout ({shared}); the in-repo copy is used")
    assert json.loads(shared.read_text()) == SPEC


@pytest.mark.parametrize("table", TABLES)
def test_columns_and_types(table):
    have = _columns(table)
    assert have, f"{table} is missing"
    for column, types in SPEC["tables"][table]["columns"].items():
        assert column in have, f"{table}.{column} missing"
        data_type, udt = have[column]
        assert data_type in types, f"{table}.{column} is {data_type}, expected one of {types}"
        if data_type == "ARRAY":
            assert udt == "_text"


@pytest.mark.parametrize("table", TABLES)
def test_primary_key(table):
    keys = _constraints(table, "p")
    assert len(keys) == 1 and sorted(keys[0][4]) == sorted(SPEC["tables"][table]["primary_key"])


@pytest.mark.parametrize("table", TABLES)
def test_foreign_keys_and_delete_rules(table):
    foreign = {tuple(cols): (ref.strip('"'), RULES[rule]) for _, _, rule, ref, cols in _constraints(table, "f")}
    for column, fk in SPEC["tables"][table]["fk"].items():
        assert (column,) in foreign, f"{table}.{column} has no foreign key"
        assert foreign[(column,)] == (fk["table"], fk["on_delete"]), f"{table}.{column}"


@pytest.mark.parametrize("table", TABLES)
def test_unique_sets(table):
    uniques = {tuple(sorted(cols)) for _, _, _, _, cols in _constraints(table, "u") + _constraints(table, "p")}
    for cols in SPEC["tables"][table]["unique"]:
        assert tuple(sorted(cols)) in uniques, f"{table}: no unique constraint on {cols}"


@pytest.mark.parametrize("key", sorted(SPEC["check_values"]))
def test_check_constraints_allow_exactly_the_erd_values(key):
    table, column = key.split(".")
    definitions = [d for _, d, _, _, cols in _constraints(table, "c") if column in cols]
    assert definitions, f"{key}: no CHECK"
    for value in SPEC["check_values"][key]:
        assert any(f"'{value}'" in d for d in definitions), f"{key}: CHECK does not allow {value}"


@pytest.mark.parametrize("table,columns", sorted(SPEC["checks"].items()))
def test_named_checks_exist(table, columns):
    for column in columns:
        assert any(column in cols for _, _, _, _, cols in _constraints(table, "c")), f"{table}.{column}"


@pytest.mark.parametrize("table,events", sorted(SPEC["triggers"].items()))
def test_counter_triggers(table, events):
    have = {row[0] for row in _rows(
        "SELECT event_manipulation FROM information_schema.triggers WHERE event_object_table = %s", [table])}
    assert set(events) <= have


def test_tenant_tables_are_the_erds_35():
    assert len(TENANT_TABLES) == 35
    shared_list = (Path(settings.BASE_DIR) / "docs" / "erd" / "tools" / "check_schema.py").read_text()
    for table in TENANT_TABLES:
        assert f'"{table}"' in shared_list


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
def test_row_level_security_enabled_forced_with_owner_policy(table):
    (enabled, forced), = _rows("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass", [table])
    assert enabled and forced
    policies = _rows("SELECT pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) FROM pg_policy WHERE polrelid = %s::regclass", [table])
    assert len(policies) == 1
    using, check = policies[0]
    owner = TENANT_TABLES[table]
    for expression in (using, check):
        # The settings are read once per statement (an InitPlan), not per row (issue 15).
        assert f"{owner} = ( SELECT (NULLIF(current_setting('app.user_id'::text, true), ''::text))::uuid AS \"nullif\")" in expression
        assert ("app.bypass" in expression) == (table not in OWNER_ONLY_TABLES)
        if table not in OWNER_ONLY_TABLES:
            assert "(( SELECT current_setting('app.bypass'::text, true) AS current_setting) = 'on'::text)" in expression


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
def test_every_owner_column_is_indexed(table):
    owner = TENANT_TABLES[table]
    leading = {row[0] for row in _rows(
        """SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = %s::regclass""", [table])}
    assert owner in leading


@pytest.mark.parametrize("want", SPEC["indexes"], ids=lambda w: f"{w['table']}-{w['contains']}")
def test_strategic_indexes(want):
    rows = _rows(
        """SELECT am.amname, pg_get_indexdef(i.indexrelid), i.indpred IS NOT NULL FROM pg_index i
             JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
            WHERE i.indrelid = %s::regclass""", [want["table"]])
    assert any(
        want["contains"] in definition and (not want.get("using") or am == want["using"]) and (not want.get("partial") or partial)
        for am, definition, partial in rows
    )


def test_shared_checker_passes_on_the_test_database():
    from core.management.commands.check_schema import owner_dsn

    script = Path(settings.BASE_DIR) / "docs" / "erd" / "tools" / "check_schema.py"
    dsn = owner_dsn(settings.DATABASES["default"]["NAME"])
    result = subprocess.run([sys.executable, str(script), "--dsn", dsn], capture_output=True, text=True, timeout=120)
    assert "schema: 1104/1104 checks pass" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
