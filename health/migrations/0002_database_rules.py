"""Health: owners filled from the profile; owner-only row-level security (no staff bypass)."""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import owner_from_parent

PROFILE_CHILDREN = ["medical_conditions", "medications", "allergies", "medical_appointments", "health_measurements"]
OWNER_TRIGGERS = [owner_from_parent(table, "health_profile_id", "health_profiles") for table in PROFILE_CHILDREN]
MEDICATION_LOG_OWNER = owner_from_parent("medication_logs", "medication_id", "medications")
HEALTH_TABLES = ["health_profiles", *PROFILE_CHILDREN, "medication_logs"]


class Migration(migrations.Migration):
    dependencies = [("health", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        *[EnableRLS(table, allow_bypass=False) for table in HEALTH_TABLES],
        *[migrations.RunSQL(*sql) for sql in OWNER_TRIGGERS],
        migrations.RunSQL(*MEDICATION_LOG_OWNER),
    ]
