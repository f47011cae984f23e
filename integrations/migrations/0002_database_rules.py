"""Integrations: sync-log owners, connect/disconnect audit, row-level security."""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import AUDIT_ACTOR, owner_from_parent

SYNC_LOG_OWNER = owner_from_parent("mcp_sync_logs", "integration_id", "mcp_integrations")

AUDIT_CONNECTIONS_SQL = f"""
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
        VALUES (gen_random_uuid(), {AUDIT_ACTOR}, verb, row_.id, 'integration',
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


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(*SYNC_LOG_OWNER),
        migrations.RunSQL(AUDIT_CONNECTIONS_SQL, DROP_AUDIT_CONNECTIONS_SQL),
        EnableRLS("mcp_integrations"),
        EnableRLS("mcp_sync_logs"),
    ]
