"""Row-level security reads the tenant settings once per statement, not once per row (issue 15).

Each policy of this app compared every row with ``current_setting(...)``, a function call per row.
The same expressions wrapped in scalar subqueries are InitPlans: evaluated once, then a parameter.
Same rows visible, same deny by default (no context: NULL matches nothing); the bypass works as before.
The reverse restores the old text exactly.
"""

from django.db import migrations

# Generated once by core.sqlgen (rls_once / alter_policy) and frozen here: a published migration's SQL never changes.
RLS_ONCE_SQL = """
ALTER POLICY usage_logs_owner ON usage_logs USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY monthly_usage_owner ON monthly_usage USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY usage_alerts_owner ON usage_alerts USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
"""
DROP_RLS_ONCE_SQL = """
ALTER POLICY usage_logs_owner ON usage_logs USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY monthly_usage_owner ON monthly_usage USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY usage_alerts_owner ON usage_alerts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""


class Migration(migrations.Migration):
    dependencies = [("metrics", "0002_database_rules")]

    operations = [migrations.RunSQL(RLS_ONCE_SQL, DROP_RLS_ONCE_SQL)]
