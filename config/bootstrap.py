"""Database roles and databases, prepared before Django migrates.

Two roles: the *owner* runs migrations and owns every table; the *runtime* role (``cjh_app`` by
default) is what the app connects as: LOGIN, NOSUPERUSER, NOBYPASSRLS, owning nothing, with
privileges on tables granted through default privileges. This works the same on the embedded
server and on any ``DATABASE_URL`` whose user may create roles (or where the runtime role exists).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from artifacts.pg import ARTIFACT_LEAKPROOF_FUNCTIONS  # shared with artifacts.checks
from config import embedded
from core.pg import FOLDED_MATCH_FUNCTIONS, FOLDING_FUNCTION, TEXT_MATCH_LEAKPROOF_SQL  # shared with the checks


class BootstrapError(RuntimeError):
    pass


@dataclass(frozen=True)
class Plan:
    admin_conninfo: str  # may create roles and databases
    owner_conninfo: str  # the migrations' connection (database name replaced per target)
    owner_role: str
    app_role: str
    app_password: str
    database: str
    embedded: bool


def plan() -> Plan:
    app_role = os.environ.get("DATABASE_APP_USER") or embedded.DEFAULT_APP_ROLE
    app_password = os.environ.get("DATABASE_APP_PASSWORD", "")
    url = os.environ.get("DATABASE_URL", "")
    if url:
        params = conninfo_to_dict(url)
        owner = params.get("user") or os.environ.get("PGUSER") or os.environ.get("USER", "postgres")
        return Plan(
            admin_conninfo=make_conninfo(url, dbname="postgres"),
            owner_conninfo=url,
            owner_role=owner,
            app_role=app_role,
            app_password=app_password,
            database=params.get("dbname") or owner,
            embedded=False,
        )
    host = str(embedded.pg_socket_dir())
    return Plan(
        admin_conninfo=make_conninfo(host=host, user=embedded.EMBEDDED_SUPERUSER, dbname="postgres"),
        owner_conninfo=make_conninfo(host=host, user=embedded.EMBEDDED_OWNER, dbname=embedded.EMBEDDED_DB_NAME),
        owner_role=embedded.EMBEDDED_OWNER,
        app_role=app_role,
        app_password=app_password,
        database=embedded.EMBEDDED_DB_NAME,
        embedded=True,
    )


def _connect(conninfo: str, **overrides) -> psycopg.Connection:
    return psycopg.connect(make_conninfo(conninfo, **overrides), autocommit=True, connect_timeout=10)


def _role_attributes(cur, role: str):
    cur.execute("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = %s", [role])
    return cur.fetchone()


def ensure_roles(p: Plan) -> None:
    with _connect(p.admin_conninfo) as conn, conn.cursor() as cur:
        if p.embedded and _role_attributes(cur, p.owner_role) is None:
            cur.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(p.owner_role)))
        attrs = _role_attributes(cur, p.app_role)
        if attrs is None:
            statement = sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE").format(
                sql.Identifier(p.app_role)
            )
            if p.app_password:
                statement += sql.SQL(" PASSWORD {}").format(sql.Literal(p.app_password))
            try:
                cur.execute(statement)
            except psycopg.errors.InsufficientPrivilege as exc:
                raise BootstrapError(
                    f"The runtime role {p.app_role!r} does not exist and {p.owner_role!r} may not create roles. "
                    f"Create it once as an administrator: CREATE ROLE {p.app_role} LOGIN NOSUPERUSER NOBYPASSRLS;"
                ) from exc
        elif attrs[0] or attrs[1]:
            try:
                cur.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(p.app_role)))
            except psycopg.errors.InsufficientPrivilege as exc:
                raise BootstrapError(f"The runtime role {p.app_role!r} must be NOSUPERUSER NOBYPASSRLS") from exc
        elif p.app_password:
            cur.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(p.app_role), sql.Literal(p.app_password))
            )




def ensure_database(p: Plan, name: str, *, recreate: bool = False) -> None:
    """Create ``name`` owned by the owner role, with pgvector when available and the grants."""
    with _connect(p.admin_conninfo) as conn, conn.cursor() as cur:
        if recreate:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(name), sql.Identifier(p.owner_role)
                )
            )
    # Extensions need a superuser on most servers; pgvector is optional (RAG falls back without it).
    try:
        with _connect(p.admin_conninfo, dbname=name) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            if cur.fetchone():
                cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error:
        pass
    # unaccent (contrib) folds accents for conversation search; optional: without it chats
    # migration 0004 folds with a built-in table (system check chats.W001). Before the migrations,
    # so that migration finds it.
    try:
        with _connect(p.admin_conninfo, dbname=name) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
            if cur.fetchone():
                cur.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    except psycopg.Error:
        pass
    # Under row-level security the planner only uses an index for a condition whose function is
    # LEAKPROOF; tsvector @@ tsquery is not marked so, which keeps full-text search off its GIN
    # index (a scan of all the user's chunks). Also a superuser's job; the system check rag.W002
    # says so when it could not be done. See docs/decisions.md ("Full-text half").
    try:
        with _connect(p.admin_conninfo, dbname=name) as conn, conn.cursor() as cur:
            cur.execute(TEXT_MATCH_LEAKPROOF_SQL)
    except psycopg.Error:
        pass
    # The same for the functions of the accent-folded match of conversation search (chats.W002).
    try:
        with _connect(p.admin_conninfo, dbname=name) as conn, conn.cursor() as cur:
            cur.execute("SELECT to_regprocedure(%s) IS NOT NULL", [FOLDING_FUNCTION])
            functions = [*FOLDED_MATCH_FUNCTIONS, *([FOLDING_FUNCTION] if cur.fetchone()[0] else [])]
            for function in functions:
                cur.execute(f"ALTER FUNCTION {function} LEAKPROOF")
    except psycopg.Error:
        pass
    # The same for the artifacts' metadata filters and search (artifacts.W001).
    try:
        with _connect(p.admin_conninfo, dbname=name) as conn, conn.cursor() as cur:
            for function in ARTIFACT_LEAKPROOF_FUNCTIONS:
                cur.execute(f"ALTER FUNCTION {function} LEAKPROOF")
    except psycopg.Error:
        pass
    with _connect(p.owner_conninfo, dbname=name) as conn, conn.cursor() as cur:
        app = sql.Identifier(p.app_role)
        cur.execute(sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(sql.Identifier(name), app))
        cur.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app))
        cur.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(app)
        )
        cur.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}").format(app))
        cur.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO {}").format(app))


def drop_database(p: Plan, name: str) -> None:
    with _connect(p.admin_conninfo) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def prepare(*, database: str | None = None, recreate: bool = False) -> Plan:
    p = plan()
    ensure_roles(p)
    ensure_database(p, database or p.database, recreate=recreate)
    return p
