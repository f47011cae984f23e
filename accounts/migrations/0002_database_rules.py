"""Database rules for the accounts domain: settings row per user, audit triggers, RLS, grants."""

from django.conf import settings
from django.db import migrations
from psycopg import sql

CREATE_SETTINGS_SQL = """
CREATE FUNCTION users_create_settings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('app.user_id', true), '');
BEGIN
    -- user_settings is a tenant table: act as the new user just for this insert.
    PERFORM set_config('app.user_id', NEW.id::text, true);
    INSERT INTO user_settings (id, user_id, created_at) VALUES (gen_random_uuid(), NEW.id, now())
    ON CONFLICT (user_id) DO NOTHING;
    PERFORM set_config('app.user_id', previous, true);
    RETURN NEW;
END
$$;
CREATE TRIGGER users_create_settings AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION users_create_settings();
"""
DROP_SETTINGS_SQL = """
DROP TRIGGER IF EXISTS users_create_settings ON users;
DROP FUNCTION IF EXISTS users_create_settings();
"""

AUDIT_USERS_SQL = """
CREATE FUNCTION users_audit_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    actor uuid := (SELECT id FROM users WHERE id = nullif(current_setting('app.user_id', true), '')::uuid);
BEGIN
    IF NEW.role IS DISTINCT FROM OLD.role THEN
        INSERT INTO audit_logs (id, admin_id, action, target_id, target_type, details, timestamp)
        VALUES (gen_random_uuid(), actor, 'user.role_change', NEW.id, 'user',
                jsonb_build_object('from', OLD.role, 'to', NEW.role, 'email', NEW.email), now());
    END IF;
    IF NEW.subscription_tier IS DISTINCT FROM OLD.subscription_tier THEN
        INSERT INTO audit_logs (id, admin_id, action, target_id, target_type, details, timestamp)
        VALUES (gen_random_uuid(), actor, 'user.tier_change', NEW.id, 'user',
                jsonb_build_object('from', OLD.subscription_tier, 'to', NEW.subscription_tier, 'email', NEW.email), now());
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER users_audit_changes AFTER UPDATE OF role, subscription_tier ON users
    FOR EACH ROW EXECUTE FUNCTION users_audit_changes();
"""
DROP_AUDIT_USERS_SQL = """
DROP TRIGGER IF EXISTS users_audit_changes ON users;
DROP FUNCTION IF EXISTS users_audit_changes();
"""

# The audit log is append-only for the runtime role.
AUDIT_APPEND_ONLY_SQL = "REVOKE UPDATE, DELETE ON audit_logs FROM {role}"
AUDIT_APPEND_ONLY_REVERSE_SQL = "GRANT UPDATE, DELETE ON audit_logs TO {role}"

# Generated once by core.operations and frozen here: a published migration's SQL never changes.
RLS_ACCOUNTS_SQL = """
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY accounts_owner ON accounts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_ACCOUNTS_SQL = """
DROP POLICY IF EXISTS accounts_owner ON accounts;
ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE accounts DISABLE ROW LEVEL SECURITY;
"""
RLS_USER_SETTINGS_SQL = """
ALTER TABLE user_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY user_settings_owner ON user_settings USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_USER_SETTINGS_SQL = """
DROP POLICY IF EXISTS user_settings_owner ON user_settings;
ALTER TABLE user_settings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE user_settings DISABLE ROW LEVEL SECURITY;
"""


def _role_sql(template: str) -> str:
    return template.format(role=sql.Identifier(settings.DATABASE_APP_USER).as_string())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunSQL(CREATE_SETTINGS_SQL, DROP_SETTINGS_SQL),
        migrations.RunSQL(AUDIT_USERS_SQL, DROP_AUDIT_USERS_SQL),
        migrations.RunSQL(_role_sql(AUDIT_APPEND_ONLY_SQL), _role_sql(AUDIT_APPEND_ONLY_REVERSE_SQL)),
        migrations.RunSQL(RLS_ACCOUNTS_SQL, DROP_RLS_ACCOUNTS_SQL),
        migrations.RunSQL(RLS_USER_SETTINGS_SQL, DROP_RLS_USER_SETTINGS_SQL),
    ]
