"""Audit rows for grants and revocations of agents."""

from django.db import migrations

AUDIT_GRANTS_SQL = """
CREATE FUNCTION user_agent_permissions_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_logs (id, admin_id, action, target_id, target_type, details, timestamp)
        VALUES (gen_random_uuid(), coalesce(NEW.granted_by, (SELECT u.id FROM users u WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid)), 'agent.grant', NEW.agent_id, 'agent',
                jsonb_build_object('user_id', NEW.user_id), now());
        RETURN NEW;
    END IF;
    INSERT INTO audit_logs (id, admin_id, action, target_id, target_type, details, timestamp)
    VALUES (gen_random_uuid(), (SELECT u.id FROM users u WHERE u.id = nullif(current_setting('app.user_id', true), '')::uuid), 'agent.revoke', OLD.agent_id, 'agent',
            jsonb_build_object('user_id', OLD.user_id), now());
    RETURN OLD;
END
$$;
CREATE TRIGGER user_agent_permissions_audit AFTER INSERT OR DELETE ON user_agent_permissions
    FOR EACH ROW EXECUTE FUNCTION user_agent_permissions_audit();
"""
DROP_AUDIT_GRANTS_SQL = """
DROP TRIGGER IF EXISTS user_agent_permissions_audit ON user_agent_permissions;
DROP FUNCTION IF EXISTS user_agent_permissions_audit();
"""


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(AUDIT_GRANTS_SQL, DROP_AUDIT_GRANTS_SQL),
    ]
