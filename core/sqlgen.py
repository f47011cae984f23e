"""SQL for the rules every domain repeats (owner triggers, row-level security), to paste into a migration.

Each function returns ``(forward_sql, reverse_sql)`` for a ``migrations.RunSQL``. Functions are
specific to their table (static SQL, so PostgreSQL caches their plans) rather than one dynamic
function for all.

Migrations never import this module: a published migration is history, and an edit here must not
change what it runs on a fresh database. Generate the SQL once and paste it into the new migration
as literal constants::

    python -m core.sqlgen owner_from_parent messages conversation_id conversations
    python -m core.sqlgen enable_rls health_profiles allow_bypass=false
    python -m core.sqlgen rls_once transactions      # an existing per-row policy -> read once

``core/tests/test_migration_history.py`` fails when a published migration's SQL changes or a
migration imports this module.
"""

from __future__ import annotations

import re
import sys

# The owner policy: a row is visible and writable only inside its owner's context. Deny by default:
# with no context the setting is '' -> NULL, and NULL = anything is not true.
USER_ID_READ = "nullif(current_setting('app.user_id', true), '')::uuid"
BYPASS_READ = "current_setting('app.bypass', true)"
# The per-row form every policy up to issue 15 was created with: PostgreSQL calls current_setting()
# for each row it filters. Kept for the reverse SQL of the migrations that replaced it.
OWNER_EXPR = "{column} = " + USER_ID_READ
BYPASS_EXPR = BYPASS_READ + " = 'on'"


def initplan(predicate: str) -> str:
    """``predicate`` with each settings read wrapped in a scalar subquery.

    An uncorrelated ``(SELECT ...)`` becomes an InitPlan: read once per statement, its value then a
    parameter (usable in an index condition), not a function call per row (a 10,000-row count under
    RLS went from 3.8 ms to 1.4 ms). Same truth table: the setting cannot change inside a statement.
    """
    for read in (USER_ID_READ, BYPASS_READ):
        predicate = predicate.replace(f"(SELECT {read})", read).replace(read, f"(SELECT {read})")
    return predicate


# What new policies use (enable_rls): the settings read once per statement.
OWNER_EXPR_ONCE = initplan(OWNER_EXPR)
BYPASS_EXPR_ONCE = initplan(BYPASS_EXPR)

ENABLE_RLS_SQL = """
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY {policy} ON {table} USING ({predicate}) WITH CHECK ({predicate});
"""
DISABLE_RLS_SQL = """
DROP POLICY IF EXISTS {policy} ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""


def owner_predicate(column: str = "user_id", allow_bypass: bool = True, *, once: bool = True) -> str:
    """The owner policy's expression; ``once=False`` gives the old per-row form."""
    predicate = OWNER_EXPR.format(column=column)
    predicate = f"{predicate} OR {BYPASS_EXPR}" if allow_bypass else predicate
    return initplan(predicate) if once else predicate


def enable_rls(table: str, owner_column: str = "user_id", allow_bypass: bool = True) -> tuple[str, str]:
    """Enable and force RLS on ``table`` with the owner policy on ``owner_column``.

    ``allow_bypass=False`` makes the table owner-only: no audited bypass reaches it (health data).
    """
    policy = f"{table}_owner"
    forward = ENABLE_RLS_SQL.format(table=table, policy=policy, predicate=owner_predicate(owner_column, allow_bypass))
    return forward, DISABLE_RLS_SQL.format(table=table, policy=policy)


def alter_policy(table: str, policy: str, using: str, check: str | None = None) -> tuple[str, str]:
    """Rewrite one policy's per-row settings reads as InitPlans (``using``/``check``: its old text).

    The reverse restores the old text exactly. ``check=None``: a policy without WITH CHECK (FOR SELECT).
    """
    def statement(using_sql: str, check_sql: str | None) -> str:
        with_check = f" WITH CHECK ({check_sql})" if check_sql is not None else ""
        return f"ALTER POLICY {policy} ON {table} USING ({using_sql}){with_check};\n"

    once_check = initplan(check) if check is not None else None
    return statement(initplan(using), once_check), statement(using, check)


def rls_once(table: str, owner_column: str = "user_id", allow_bypass: bool = True) -> tuple[str, str]:
    """An owner policy made by ``enable_rls`` before issue 15, moved to the read-once form."""
    old = owner_predicate(owner_column, allow_bypass, once=False)
    forward, reverse = alter_policy(table, f"{table}_owner", old, old)
    return "\n" + forward, "\n" + reverse


def owner_from_parent(table: str, parent_fk: str, parent_table: str, *, owner: str = "user_id",
                      parent_owner: str = "user_id") -> tuple[str, str]:
    """Fill ``table.owner`` from the parent row, on insert and whenever the link changes.

    The parent is read under row-level security: a parent of another tenant is invisible, the
    owner comes out NULL and the insert fails (NOT NULL / policy). A child can never name
    another owner than its parent.
    """
    name = f"{table}_fill_{owner}"
    forward = f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.{parent_owner} INTO NEW.{owner} FROM {parent_table} p WHERE p.id = NEW.{parent_fk};
    IF NEW.{owner} IS NULL THEN
        RAISE EXCEPTION '{table}.{parent_fk} does not name a visible {parent_table} row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER {name} BEFORE INSERT OR UPDATE OF {parent_fk}, {owner} ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    reverse = f"""
DROP TRIGGER IF EXISTS {name} ON {table};
DROP FUNCTION IF EXISTS {name}();
"""
    return forward, reverse


def same_owner(table: str, column: str, ref_table: str, *, owner: str = "user_id",
               ref_owner: str = "user_id") -> tuple[str, str]:
    """Refuse a reference (``table.column`` → ``ref_table``) to a row of another owner.

    Foreign-key checks ignore row-level security, so without this a tenant could point at a row
    it cannot see.
    """
    name = f"{table}_{column}_same_owner"
    forward = f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.{column} IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM {ref_table} r WHERE r.id = NEW.{column} AND r.{ref_owner} = NEW.{owner}
    ) THEN
        RAISE EXCEPTION '{table}.{column} must name a {ref_table} row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER {name} BEFORE INSERT OR UPDATE OF {column}, {owner} ON {table}
    FOR EACH ROW EXECUTE FUNCTION {name}();
"""
    reverse = f"""
DROP TRIGGER IF EXISTS {name} ON {table};
DROP FUNCTION IF EXISTS {name}();
"""
    return forward, reverse


def row_per_user(table: str, columns: str = "", values: str = "") -> tuple[str, str]:
    """Create ``table``'s row for every new user (and every existing one), inside that user's context."""
    name = f"users_create_{table}"
    extra_columns = f", {columns}" if columns else ""
    extra_values = f", {values}" if values else ""
    forward = f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('app.user_id', true), '');
BEGIN
    PERFORM set_config('app.user_id', NEW.id::text, true);
    INSERT INTO {table} (id, user_id, created_at{extra_columns})
    VALUES (gen_random_uuid(), NEW.id, now(){extra_values})
    ON CONFLICT (user_id) DO NOTHING;
    PERFORM set_config('app.user_id', previous, true);
    RETURN NEW;
END
$$;
CREATE TRIGGER {name} AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION {name}();
DO $$
DECLARE
    u record;
BEGIN
    FOR u IN SELECT id FROM users LOOP
        PERFORM set_config('app.user_id', u.id::text, true);
        INSERT INTO {table} (id, user_id, created_at{extra_columns})
        VALUES (gen_random_uuid(), u.id, now(){extra_values}) ON CONFLICT (user_id) DO NOTHING;
    END LOOP;
    PERFORM set_config('app.user_id', '', true);
END
$$;
"""
    reverse = f"""
DROP TRIGGER IF EXISTS {name} ON users;
DROP FUNCTION IF EXISTS {name}();
"""
    return forward, reverse


# The acting user for audit rows written by triggers: the request's (or task's) tenant context,
# when it names an existing user.
AUDIT_ACTOR = "(SELECT u.id FROM users u WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid)"


def as_constants(forward_reverse: tuple[str, str], name: str) -> str:
    """Python source for the two migration constants ``NAME_SQL`` and ``DROP_NAME_SQL``."""
    forward, reverse = forward_reverse
    for text in forward_reverse:
        if '"""' in text or "\\" in text:
            raise ValueError("the SQL does not fit in a plain triple-quoted string")
    return f'{name}_SQL = """{forward}"""\nDROP_{name}_SQL = """{reverse}"""\n'


def constant_name(function: str, args: list[str], forward: str) -> str:
    if function == "enable_rls":
        return f"RLS_{args[0].upper()}"
    if function == "rls_once":
        return f"RLS_ONCE_{args[0].upper()}"
    return re.search(r"CREATE FUNCTION (\w+)\(", forward).group(1).upper()


GENERATORS = {"owner_from_parent": owner_from_parent, "same_owner": same_owner, "row_per_user": row_per_user,
              "enable_rls": enable_rls, "rls_once": rls_once}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in GENERATORS:
        print(f"usage: python -m core.sqlgen {{{'|'.join(GENERATORS)}}} ARG... [key=value...]", file=sys.stderr)
        return 2
    function, rest = argv[0], argv[1:]
    args = [a for a in rest if "=" not in a]
    kwargs = {}
    for item in (a for a in rest if "=" in a):
        key, value = item.split("=", 1)
        kwargs[key] = {"true": True, "false": False}.get(value.lower(), value)
    pair = GENERATORS[function](*args, **kwargs)
    print(as_constants(pair, constant_name(function, args, pair[0])), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
