"""Finance: owners filled from the profile, accounts referenced within one owner, RLS."""

from django.db import migrations

from core.operations import EnableRLS
from core.sqlgen import owner_from_parent, same_owner

PROFILE_CHILDREN = ["financial_accounts", "transactions", "budgets", "debts", "investments", "recurring_payments"]
OWNER_TRIGGERS = [owner_from_parent(table, "financial_profile_id", "financial_profiles") for table in PROFILE_CHILDREN]
DEBT_PAYMENT_OWNER = owner_from_parent("debt_payments", "debt_id", "debts")
ACCOUNT_REFERENCES = [
    same_owner("transactions", column, "financial_accounts") for column in ("account_id", "from_account_id", "to_account_id")
] + [same_owner("recurring_payments", "account_id", "financial_accounts")]
FINANCE_TABLES = ["financial_profiles", *PROFILE_CHILDREN, "debt_payments"]


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        *[EnableRLS(table) for table in FINANCE_TABLES],
        *[migrations.RunSQL(*sql) for sql in OWNER_TRIGGERS],
        migrations.RunSQL(*DEBT_PAYMENT_OWNER),
        *[migrations.RunSQL(*sql) for sql in ACCOUNT_REFERENCES],
    ]
