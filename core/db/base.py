"""PostgreSQL backend that writes ``ON DELETE`` rules into foreign keys.

Django 5.2 emulates ``on_delete`` in Python and creates foreign keys without a database rule.
Here deletes cascade in the database, where row-level security cannot hide the rows a cascade
must reach (referential actions run as the table owner), and where the ERD's rules are visible to
any client. Fields declare the rule with ``core.fields.ForeignKey(..., db_on_delete=...)``.
"""

import select

from django.db.backends.postgresql import base, operations, schema
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus

_DEFERRABLE = "%(deferrable)s"


def _with_rule(template: str, field) -> str:
    rule = getattr(field, "db_on_delete", None)
    if not rule:
        return template
    return template.replace(_DEFERRABLE, f" ON DELETE {rule}{_DEFERRABLE}", 1)


class DatabaseSchemaEditor(schema.DatabaseSchemaEditor):
    def _create_fk_sql(self, model, field, suffix):
        statement = super()._create_fk_sql(model, field, suffix)
        statement.template = _with_rule(statement.template, field)
        return statement

    def add_field(self, model, field):
        inline = self.sql_create_column_inline_fk
        self.sql_create_column_inline_fk = _with_rule(inline, field)
        try:
            super().add_field(model, field)
        finally:
            self.sql_create_column_inline_fk = inline


# A statement to run before the next one of this transaction (``core.tenancy``: its tenant
# context), kept on the psycopg connection until a statement carries it in the same round trip.
PREFIX_ATTRIBUTE = "_cjh_prefix"
_IDLE = TransactionStatus.IDLE


def set_prefix(raw, sql: str | None) -> None:
    """Run ``sql`` together with the next statement of this transaction, in the same round trip;
    None forgets it. ``sql`` is one statement with its values written into its text (it takes no
    parameters, and holds no ``%``: the carrying statement's parameters are bound over both)."""
    setattr(raw, PREFIX_ATTRIBUTE, sql)


def send_prefix(raw) -> None:
    """Run the waiting prefix now, on its own (before a statement that cannot carry it)."""
    if getattr(raw, PREFIX_ATTRIBUTE, None) is not None:
        with raw.cursor() as cursor:  # a TenantCursor (the connection's cursor_factory)
            cursor.send_prefix()


class TenantCursor(base.Cursor):
    """Django's client-side binding cursor, which runs a waiting prefix (``set_prefix``) with the
    next statement, as one simple query, and then stands on that statement's result as if it had
    been sent alone. When the transaction has not begun on the server, the same query begins it
    (``BEGIN; prefix; statement``): psycopg, which would send its own BEGIN first (autocommit off,
    server idle), is told autocommit is on for this one call.

    A plain ``execute`` of a text statement carries the prefix; ``executemany``, ``copy`` and
    ``stream`` run it on its own first, and so do named cursors (``DatabaseWrapper.create_cursor``).
    A prefix found in autocommit (no transaction) is dropped, never carried into other work.
    """

    def execute(self, query, params=None, **kwargs):
        prefix = self._take_prefix()
        if prefix is None:
            return super().execute(query, params, **kwargs)
        if isinstance(query, str) and not kwargs:
            return self._with_prefix(prefix, query, params)
        self._with_prefix(prefix, None, None)
        return super().execute(query, params, **kwargs)

    def send_prefix(self) -> None:
        prefix = self._take_prefix()
        if prefix is not None:
            self._with_prefix(prefix, None, None)

    def _take_prefix(self) -> str | None:
        """The waiting prefix, forgotten on the connection; None when there is none, or in autocommit."""
        raw = self.connection
        prefix = getattr(raw, PREFIX_ATTRIBUTE, None)
        if prefix is None:
            return None
        setattr(raw, PREFIX_ATTRIBUTE, None)
        return None if raw.autocommit else prefix

    def _with_prefix(self, prefix: str, query: str | None, params):
        raw = self.connection
        idle = raw.pgconn.transaction_status == _IDLE
        parts = ["BEGIN"] if idle else []
        parts += [prefix] if query is None else [prefix, query]
        if idle:
            raw._autocommit = True  # psycopg's private flag (psycopg pinned; core/tests/test_tenant_begin.py)
        try:
            super().execute(";\n".join(parts), params)
        finally:
            if idle:
                raw._autocommit = False
        for _result in range(len(parts) - 1):  # past the results of BEGIN and the prefix: on the statement's (a batch's first)
            self.nextset()
        return self

    def executemany(self, *args, **kwargs):
        self.send_prefix()
        return super().executemany(*args, **kwargs)

    def copy(self, *args, **kwargs):
        self.send_prefix()
        return super().copy(*args, **kwargs)

    def stream(self, *args, **kwargs):
        self.send_prefix()
        return super().stream(*args, **kwargs)


MOGRIFIER_ATTRIBUTE = "_cjh_mogrifier"


class DatabaseOperations(operations.DatabaseOperations):
    def compose_sql(self, sql, params):
        """``sql`` with ``params`` bound as client-side binding sends them. Django opens a cursor
        and a ``ClientCursor`` for each call (a chat turn binds eight statements it sends
        together); one ``ClientCursor`` kept per connection, never executed, binds them all."""
        wrapper = self.connection
        wrapper.ensure_connection()
        raw = wrapper.connection
        mogrifier = getattr(raw, MOGRIFIER_ATTRIBUTE, None)
        if mogrifier is None:
            mogrifier = ClientCursor(raw)
            setattr(raw, MOGRIFIER_ATTRIBUTE, mogrifier)
        return mogrifier.mogrify(sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
    ops_class = DatabaseOperations

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("cursor_factory") is base.Cursor:  # client-side binding, Django's default
            params["cursor_factory"] = TenantCursor
        return params

    def create_cursor(self, name=None):
        if name and self.connection is not None:
            send_prefix(self.connection)  # a named cursor's DECLARE cannot carry it
        return super().create_cursor(name)

    def _commit(self):
        self._forget_prefix()  # a transaction that sent nothing: psycopg sends no COMMIT either
        return super()._commit()

    def _rollback(self):
        self._forget_prefix()
        return super()._rollback()

    def _set_autocommit(self, autocommit):
        self._forget_prefix()
        return super()._set_autocommit(autocommit)

    def _forget_prefix(self):
        if self.connection is not None:
            set_prefix(self.connection, None)

    def is_usable(self):
        """Whether the kept connection still works, without a round trip when it can be told: an
        idle connection has nothing to read, so a readable socket means the server wrote (a
        termination notice, a closed socket) and ``SELECT 1`` decides; an unreadable one is in use
        as it was left. Django's check is that ``SELECT 1``, once per request and per runner answer."""
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        try:
            readable, _w, _x = select.select([raw.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return super().is_usable() if readable else True
