"""Health: owners filled from the profile; owner-only row-level security (no staff bypass)."""

from django.db import migrations

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
RLS_HEALTH_PROFILES_SQL = """
ALTER TABLE health_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE health_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY health_profiles_owner ON health_profiles USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""
DROP_RLS_HEALTH_PROFILES_SQL = """
DROP POLICY IF EXISTS health_profiles_owner ON health_profiles;
ALTER TABLE health_profiles NO FORCE ROW LEVEL SECURITY;
ALTER TABLE health_profiles DISABLE ROW LEVEL SECURITY;
"""
RLS_MEDICAL_CONDITIONS_SQL = """
ALTER TABLE medical_conditions ENABLE ROW LEVEL SECURITY;
ALTER TABLE medical_conditions FORCE ROW LEVEL SECURITY;
CREATE POLICY medical_conditions_owner ON medical_conditions USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""
DROP_RLS_MEDICAL_CONDITIONS_SQL = """
DROP POLICY IF EXISTS medical_conditions_owner ON medical_conditions;
ALTER TABLE medical_conditions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE medical_conditions DISABLE ROW LEVEL SECURITY;
"""
RLS_MEDICATIONS_SQL = """
ALTER TABLE medications ENABLE ROW LEVEL SECURITY;
ALTER TABLE medications FORCE ROW LEVEL SECURITY;
CREATE POLICY medications_owner ON medications USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""
DROP_RLS_MEDICATIONS_SQL = """
DROP POLICY IF EXISTS medications_owner ON medications;
ALTER TABLE medications NO FORCE ROW LEVEL SECURITY;
ALTER TABLE medications DISABLE ROW LEVEL SECURITY;
"""
RLS_ALLERGIES_SQL = """
ALTER TABLE allergies ENABLE ROW LEVEL SECURITY;
ALTER TABLE allergies FORCE ROW LEVEL SECURITY;
CREATE POLICY allergies_owner ON allergies USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""
DROP_RLS_ALLERGIES_SQL = """
DROP POLICY IF EXISTS allergies_owner ON allergies;
ALTER TABLE allergies NO FORCE ROW LEVEL SECURITY;
ALTER TABLE allergies DISABLE ROW LEVEL SECURITY;
"""
RLS_MEDICAL_APPOINTMENTS_SQL = """
ALTER TABLE medical_appointments ENABLE ROW LEVEL SECURITY;
ALTER TABLE medical_appointments FORCE ROW LEVEL SECURITY;
CREATE POLICY medical_appointments_owner ON medical_appointments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""
DROP_RLS_MEDICAL_APPOINTMENTS_SQL = """
DROP POLICY IF EXISTS medical_appointments_owner ON medical_appointments;
ALTER TABLE medical_appointments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE medical_appointments DISABLE ROW LEVEL SECURITY;
"""
RLS_HEALTH_MEASUREMENTS_SQL = """
ALTER TABLE health_measurements ENABLE ROW LEVEL SECURITY;
ALTER TABLE health_measurements FORCE ROW LEVEL SECURITY;
CREATE POLICY health_measurements_owner ON health_measurements USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""
DROP_RLS_HEALTH_MEASUREMENTS_SQL = """
DROP POLICY IF EXISTS health_measurements_owner ON health_measurements;
ALTER TABLE health_measurements NO FORCE ROW LEVEL SECURITY;
ALTER TABLE health_measurements DISABLE ROW LEVEL SECURITY;
"""
RLS_MEDICATION_LOGS_SQL = """
ALTER TABLE medication_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE medication_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY medication_logs_owner ON medication_logs USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid) WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid);
"""
DROP_RLS_MEDICATION_LOGS_SQL = """
DROP POLICY IF EXISTS medication_logs_owner ON medication_logs;
ALTER TABLE medication_logs NO FORCE ROW LEVEL SECURITY;
ALTER TABLE medication_logs DISABLE ROW LEVEL SECURITY;
"""
MEDICAL_CONDITIONS_FILL_USER_ID_SQL = """
CREATE FUNCTION medical_conditions_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM health_profiles p WHERE p.id = NEW.health_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'medical_conditions.health_profile_id does not name a visible health_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER medical_conditions_fill_user_id BEFORE INSERT OR UPDATE OF health_profile_id, user_id ON medical_conditions
    FOR EACH ROW EXECUTE FUNCTION medical_conditions_fill_user_id();
"""
DROP_MEDICAL_CONDITIONS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS medical_conditions_fill_user_id ON medical_conditions;
DROP FUNCTION IF EXISTS medical_conditions_fill_user_id();
"""
MEDICATIONS_FILL_USER_ID_SQL = """
CREATE FUNCTION medications_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM health_profiles p WHERE p.id = NEW.health_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'medications.health_profile_id does not name a visible health_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER medications_fill_user_id BEFORE INSERT OR UPDATE OF health_profile_id, user_id ON medications
    FOR EACH ROW EXECUTE FUNCTION medications_fill_user_id();
"""
DROP_MEDICATIONS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS medications_fill_user_id ON medications;
DROP FUNCTION IF EXISTS medications_fill_user_id();
"""
ALLERGIES_FILL_USER_ID_SQL = """
CREATE FUNCTION allergies_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM health_profiles p WHERE p.id = NEW.health_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'allergies.health_profile_id does not name a visible health_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER allergies_fill_user_id BEFORE INSERT OR UPDATE OF health_profile_id, user_id ON allergies
    FOR EACH ROW EXECUTE FUNCTION allergies_fill_user_id();
"""
DROP_ALLERGIES_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS allergies_fill_user_id ON allergies;
DROP FUNCTION IF EXISTS allergies_fill_user_id();
"""
MEDICAL_APPOINTMENTS_FILL_USER_ID_SQL = """
CREATE FUNCTION medical_appointments_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM health_profiles p WHERE p.id = NEW.health_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'medical_appointments.health_profile_id does not name a visible health_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER medical_appointments_fill_user_id BEFORE INSERT OR UPDATE OF health_profile_id, user_id ON medical_appointments
    FOR EACH ROW EXECUTE FUNCTION medical_appointments_fill_user_id();
"""
DROP_MEDICAL_APPOINTMENTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS medical_appointments_fill_user_id ON medical_appointments;
DROP FUNCTION IF EXISTS medical_appointments_fill_user_id();
"""
HEALTH_MEASUREMENTS_FILL_USER_ID_SQL = """
CREATE FUNCTION health_measurements_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM health_profiles p WHERE p.id = NEW.health_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'health_measurements.health_profile_id does not name a visible health_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER health_measurements_fill_user_id BEFORE INSERT OR UPDATE OF health_profile_id, user_id ON health_measurements
    FOR EACH ROW EXECUTE FUNCTION health_measurements_fill_user_id();
"""
DROP_HEALTH_MEASUREMENTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS health_measurements_fill_user_id ON health_measurements;
DROP FUNCTION IF EXISTS health_measurements_fill_user_id();
"""
MEDICATION_LOGS_FILL_USER_ID_SQL = """
CREATE FUNCTION medication_logs_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM medications p WHERE p.id = NEW.medication_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'medication_logs.medication_id does not name a visible medications row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER medication_logs_fill_user_id BEFORE INSERT OR UPDATE OF medication_id, user_id ON medication_logs
    FOR EACH ROW EXECUTE FUNCTION medication_logs_fill_user_id();
"""
DROP_MEDICATION_LOGS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS medication_logs_fill_user_id ON medication_logs;
DROP FUNCTION IF EXISTS medication_logs_fill_user_id();
"""


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(RLS_HEALTH_PROFILES_SQL, DROP_RLS_HEALTH_PROFILES_SQL),
        migrations.RunSQL(RLS_MEDICAL_CONDITIONS_SQL, DROP_RLS_MEDICAL_CONDITIONS_SQL),
        migrations.RunSQL(RLS_MEDICATIONS_SQL, DROP_RLS_MEDICATIONS_SQL),
        migrations.RunSQL(RLS_ALLERGIES_SQL, DROP_RLS_ALLERGIES_SQL),
        migrations.RunSQL(RLS_MEDICAL_APPOINTMENTS_SQL, DROP_RLS_MEDICAL_APPOINTMENTS_SQL),
        migrations.RunSQL(RLS_HEALTH_MEASUREMENTS_SQL, DROP_RLS_HEALTH_MEASUREMENTS_SQL),
        migrations.RunSQL(RLS_MEDICATION_LOGS_SQL, DROP_RLS_MEDICATION_LOGS_SQL),
        migrations.RunSQL(MEDICAL_CONDITIONS_FILL_USER_ID_SQL, DROP_MEDICAL_CONDITIONS_FILL_USER_ID_SQL),
        migrations.RunSQL(MEDICATIONS_FILL_USER_ID_SQL, DROP_MEDICATIONS_FILL_USER_ID_SQL),
        migrations.RunSQL(ALLERGIES_FILL_USER_ID_SQL, DROP_ALLERGIES_FILL_USER_ID_SQL),
        migrations.RunSQL(MEDICAL_APPOINTMENTS_FILL_USER_ID_SQL, DROP_MEDICAL_APPOINTMENTS_FILL_USER_ID_SQL),
        migrations.RunSQL(HEALTH_MEASUREMENTS_FILL_USER_ID_SQL, DROP_HEALTH_MEASUREMENTS_FILL_USER_ID_SQL),
        migrations.RunSQL(MEDICATION_LOGS_FILL_USER_ID_SQL, DROP_MEDICATION_LOGS_FILL_USER_ID_SQL),
    ]
