"""Integrations: sync-log owners, connect/disconnect audit, row-level security."""

from django.db import migrations

AUDIT_CONNECTIONS_SQL = """
CREATE FUNCTION mcp_integrations_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    verb text;
    row_ mcp_integrations%ROWTYPE;
BEGIN
    IF TG_OP = 'INSERT' THEN
        verb := CASE WHEN NEW.is_active THEN 'integration.connect' ELSE NULL END; row_ := NEW;
    ELSIF TG_OP = 'DELETE' THEN
        verb := 'integration.disconnect'; row_ := OLD;
    ELSIF NEW.is_active IS DISTINCT FROM OLD.is_active THEN
        verb := CASE WHEN NEW.is_active THEN 'integration.connect' ELSE 'integration.disconnect' END; row_ := NEW;
    END IF;
    IF verb IS NOT NULL THEN
        INSERT INTO audit_logs (id, admin_id, action, target_id, target_type, details, timestamp)
        VALUES (gen_random_uuid(), (SELECT u.id FROM users u WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid), verb, row_.id, 'integration',
                jsonb_build_object('provider', row_.provider, 'user_id', row_.user_id), now());
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER mcp_integrations_audit AFTER INSERT OR DELETE OR UPDATE OF is_active ON mcp_integrations
    FOR EACH ROW EXECUTE FUNCTION mcp_integrations_audit();
"""
DROP_AUDIT_CONNECTIONS_SQL = """
DROP TRIGGER IF EXISTS mcp_integrations_audit ON mcp_integrations;
DROP FUNCTION IF EXISTS mcp_integrations_audit();
"""

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
MCP_SYNC_LOGS_FILL_USER_ID_SQL = """
CREATE FUNCTION mcp_sync_logs_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM mcp_integrations p WHERE p.id = NEW.integration_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'mcp_sync_logs.integration_id does not name a visible mcp_integrations row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER mcp_sync_logs_fill_user_id BEFORE INSERT OR UPDATE OF integration_id, user_id ON mcp_sync_logs
    FOR EACH ROW EXECUTE FUNCTION mcp_sync_logs_fill_user_id();
"""
DROP_MCP_SYNC_LOGS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS mcp_sync_logs_fill_user_id ON mcp_sync_logs;
DROP FUNCTION IF EXISTS mcp_sync_logs_fill_user_id();
"""
RLS_MCP_INTEGRATIONS_SQL = """
ALTER TABLE mcp_integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE mcp_integrations FORCE ROW LEVEL SECURITY;
CREATE POLICY mcp_integrations_owner ON mcp_integrations USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_MCP_INTEGRATIONS_SQL = """
DROP POLICY IF EXISTS mcp_integrations_owner ON mcp_integrations;
ALTER TABLE mcp_integrations NO FORCE ROW LEVEL SECURITY;
ALTER TABLE mcp_integrations DISABLE ROW LEVEL SECURITY;
"""
RLS_MCP_SYNC_LOGS_SQL = """
ALTER TABLE mcp_sync_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE mcp_sync_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY mcp_sync_logs_owner ON mcp_sync_logs USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_MCP_SYNC_LOGS_SQL = """
DROP POLICY IF EXISTS mcp_sync_logs_owner ON mcp_sync_logs;
ALTER TABLE mcp_sync_logs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE mcp_sync_logs DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(MCP_SYNC_LOGS_FILL_USER_ID_SQL, DROP_MCP_SYNC_LOGS_FILL_USER_ID_SQL),
        migrations.RunSQL(AUDIT_CONNECTIONS_SQL, DROP_AUDIT_CONNECTIONS_SQL),
        migrations.RunSQL(RLS_MCP_INTEGRATIONS_SQL, DROP_RLS_MCP_INTEGRATIONS_SQL),
        migrations.RunSQL(RLS_MCP_SYNC_LOGS_SQL, DROP_RLS_MCP_SYNC_LOGS_SQL),
    ]
