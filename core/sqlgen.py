"""SQL for the triggers every domain repeats, generated once at import into migration constants.

Each function returns ``(forward_sql, reverse_sql)`` for a ``migrations.RunSQL``. Functions are
specific to their table (static SQL, so PostgreSQL caches their plans) rather than one dynamic
function for all.
"""

from __future__ import annotations


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
