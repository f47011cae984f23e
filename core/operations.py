"""Reusable migration operations for row-level security."""

from __future__ import annotations

from django.db.migrations.operations.base import Operation

# The owner policy: a row is visible and writable only inside its owner's context. Deny by default:
# with no context the setting is '' -> NULL, and NULL = anything is not true.
OWNER_EXPR = "{column} = nullif(current_setting('app.user_id', true), '')::uuid"
BYPASS_EXPR = "current_setting('app.bypass', true) = 'on'"

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


def owner_predicate(column: str = "user_id", allow_bypass: bool = True) -> str:
    predicate = OWNER_EXPR.format(column=column)
    return f"{predicate} OR {BYPASS_EXPR}" if allow_bypass else predicate


class EnableRLS(Operation):
    """Enable and force RLS on ``table`` with the owner policy on ``owner_column``.

    ``allow_bypass=False`` makes the table owner-only: no audited bypass reaches it (health data).
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, table: str, owner_column: str = "user_id", allow_bypass: bool = True):
        self.table = table
        self.owner_column = owner_column
        self.allow_bypass = allow_bypass

    @property
    def policy(self) -> str:
        return f"{self.table}_owner"

    def deconstruct(self):
        kwargs = {"table": self.table}
        if self.owner_column != "user_id":
            kwargs["owner_column"] = self.owner_column
        if not self.allow_bypass:
            kwargs["allow_bypass"] = False
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(
            ENABLE_RLS_SQL.format(
                table=self.table,
                policy=self.policy,
                predicate=owner_predicate(self.owner_column, self.allow_bypass),
            )
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        schema_editor.execute(DISABLE_RLS_SQL.format(table=self.table, policy=self.policy))

    def describe(self):
        kind = "owner-only " if not self.allow_bypass else ""
        return f"Enable {kind}row-level security on {self.table} ({self.owner_column})"

    @property
    def migration_name_fragment(self):
        return f"rls_{self.table}"
