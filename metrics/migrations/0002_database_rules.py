"""Metrics: every usage log rolls up into users, agents and monthly_usage; RLS.

Row-level, as the app writes one log per turn: each update adds to the locked row's current
value, and a month's first log upserts with ON CONFLICT, so concurrent inserts never lose a count.
"""

from django.db import migrations

MERGE_AGENT_USAGE_SQL = """
CREATE FUNCTION monthly_usage_merge(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(k, jsonb_build_object(
               'messages', coalesce((a -> k ->> 'messages')::bigint, 0) + coalesce((b -> k ->> 'messages')::bigint, 0),
               'tokens', coalesce((a -> k ->> 'tokens')::bigint, 0) + coalesce((b -> k ->> 'tokens')::bigint, 0),
               'cost', coalesce((a -> k ->> 'cost')::numeric, 0) + coalesce((b -> k ->> 'cost')::numeric, 0))), '{}'::jsonb)
      FROM (SELECT jsonb_object_keys(a) AS k UNION SELECT jsonb_object_keys(b)) keys;
$$;
"""
DROP_MERGE_AGENT_USAGE_SQL = "DROP FUNCTION IF EXISTS monthly_usage_merge(jsonb, jsonb);"

ROLLUP_SQL = """
CREATE FUNCTION usage_logs_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    y int := extract(year FROM NEW.timestamp AT TIME ZONE 'UTC');
    mo int := extract(month FROM NEW.timestamp AT TIME ZONE 'UTC');
    agent_key text := NEW.agent_id::text;
BEGIN
    UPDATE users SET total_messages = total_messages + 1, total_tokens_used = total_tokens_used + NEW.total_tokens
     WHERE id = NEW.user_id;
    UPDATE agents SET total_uses = total_uses + 1 WHERE id = NEW.agent_id;
    UPDATE monthly_usage m
       SET total_messages = m.total_messages + 1,
           total_tokens = m.total_tokens + NEW.total_tokens,
           total_cost = m.total_cost + NEW.total_cost,
           agent_usage = jsonb_set(m.agent_usage, ARRAY[agent_key], jsonb_build_object(
               'messages', coalesce((m.agent_usage -> agent_key ->> 'messages')::bigint, 0) + 1,
               'tokens', coalesce((m.agent_usage -> agent_key ->> 'tokens')::bigint, 0) + NEW.total_tokens,
               'cost', coalesce((m.agent_usage -> agent_key ->> 'cost')::numeric, 0) + NEW.total_cost))
     WHERE m.user_id = NEW.user_id AND m.year = y AND m.month = mo;
    IF NOT FOUND THEN
        -- The month's first log; a concurrent first log for the same month merges in ON CONFLICT.
        INSERT INTO monthly_usage AS m (id, user_id, year, month, total_messages, total_tokens, total_cost, agent_usage, created_at)
        VALUES (gen_random_uuid(), NEW.user_id, y, mo, 1, NEW.total_tokens, NEW.total_cost,
                jsonb_build_object(agent_key, jsonb_build_object('messages', 1, 'tokens', NEW.total_tokens, 'cost', NEW.total_cost)),
                now())
        ON CONFLICT (user_id, year, month) DO UPDATE
           SET total_messages = m.total_messages + 1,
               total_tokens = m.total_tokens + EXCLUDED.total_tokens,
               total_cost = m.total_cost + EXCLUDED.total_cost,
               agent_usage = monthly_usage_merge(m.agent_usage, EXCLUDED.agent_usage);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER usage_logs_rollup AFTER INSERT ON usage_logs FOR EACH ROW EXECUTE FUNCTION usage_logs_rollup();
"""
DROP_ROLLUP_SQL = """
DROP TRIGGER IF EXISTS usage_logs_rollup ON usage_logs;
DROP FUNCTION IF EXISTS usage_logs_rollup();
"""

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
USAGE_LOGS_CONVERSATION_ID_SAME_OWNER_SQL = """
CREATE FUNCTION usage_logs_conversation_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.conversation_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM conversations r WHERE r.id = NEW.conversation_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'usage_logs.conversation_id must name a conversations row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER usage_logs_conversation_id_same_owner BEFORE INSERT OR UPDATE OF conversation_id, user_id ON usage_logs
    FOR EACH ROW EXECUTE FUNCTION usage_logs_conversation_id_same_owner();
"""
DROP_USAGE_LOGS_CONVERSATION_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS usage_logs_conversation_id_same_owner ON usage_logs;
DROP FUNCTION IF EXISTS usage_logs_conversation_id_same_owner();
"""
RLS_USAGE_LOGS_SQL = """
ALTER TABLE usage_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_logs_owner ON usage_logs USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_USAGE_LOGS_SQL = """
DROP POLICY IF EXISTS usage_logs_owner ON usage_logs;
ALTER TABLE usage_logs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE usage_logs DISABLE ROW LEVEL SECURITY;
"""
RLS_MONTHLY_USAGE_SQL = """
ALTER TABLE monthly_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE monthly_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY monthly_usage_owner ON monthly_usage USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_MONTHLY_USAGE_SQL = """
DROP POLICY IF EXISTS monthly_usage_owner ON monthly_usage;
ALTER TABLE monthly_usage NO FORCE ROW LEVEL SECURITY;
ALTER TABLE monthly_usage DISABLE ROW LEVEL SECURITY;
"""
RLS_USAGE_ALERTS_SQL = """
ALTER TABLE usage_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_alerts_owner ON usage_alerts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_USAGE_ALERTS_SQL = """
DROP POLICY IF EXISTS usage_alerts_owner ON usage_alerts;
ALTER TABLE usage_alerts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE usage_alerts DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial"), ("chats", "0002_database_rules"), ("agents", "0002_database_rules")]

    operations = [
        migrations.RunSQL(MERGE_AGENT_USAGE_SQL, DROP_MERGE_AGENT_USAGE_SQL),
        migrations.RunSQL(ROLLUP_SQL, DROP_ROLLUP_SQL),
        migrations.RunSQL(USAGE_LOGS_CONVERSATION_ID_SAME_OWNER_SQL, DROP_USAGE_LOGS_CONVERSATION_ID_SAME_OWNER_SQL),
        migrations.RunSQL(RLS_USAGE_LOGS_SQL, DROP_RLS_USAGE_LOGS_SQL),
        migrations.RunSQL(RLS_MONTHLY_USAGE_SQL, DROP_RLS_MONTHLY_USAGE_SQL),
        migrations.RunSQL(RLS_USAGE_ALERTS_SQL, DROP_RLS_USAGE_ALERTS_SQL),
    ]
