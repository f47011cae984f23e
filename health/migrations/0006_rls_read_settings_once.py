"""Row-level security reads the tenant settings once per statement, not once per row (issue 15).

Each policy of this app compared every row with ``current_setting(...)``, a function call per row.
The same expressions wrapped in scalar subqueries are InitPlans: evaluated once, then a parameter.
Same rows visible, same deny by default (no context: NULL matches nothing); health policies still ignore the bypass.
The reverse restores the old text exactly.
"""

from django.db import migrations

# Generated once by core.sqlgen (rls_once / alter_policy) and frozen here: a published migration's SQL never changes.
RLS_ONCE_SQL = """
ALTER POLICY health_profiles_owner ON health_profiles USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
ALTER POLICY medical_conditions_owner ON medical_conditions USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
ALTER POLICY medications_owner ON medications USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
ALTER POLICY allergies_owner ON allergies USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
ALTER POLICY medical_appointments_owner ON medical_appointments USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
ALTER POLICY health_measurements_owner ON health_measurements USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
ALTER POLICY medication_logs_owner ON medication_logs USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
ALTER POLICY health_reminder_outbox_owner ON health_reminder_outbox USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid)) WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid));
"""
DROP_RLS_ONCE_SQL = """
ALTER POLICY health_profiles_owner ON health_profiles USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
ALTER POLICY medical_conditions_owner ON medical_conditions USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
ALTER POLICY medications_owner ON medications USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
ALTER POLICY allergies_owner ON allergies USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
ALTER POLICY medical_appointments_owner ON medical_appointments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
ALTER POLICY health_measurements_owner ON health_measurements USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
ALTER POLICY medication_logs_owner ON medication_logs USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
ALTER POLICY health_reminder_outbox_owner ON health_reminder_outbox USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""


class Migration(migrations.Migration):
    dependencies = [("health", "0005_health_reminder_outbox")]

    operations = [migrations.RunSQL(RLS_ONCE_SQL, DROP_RLS_ONCE_SQL)]
