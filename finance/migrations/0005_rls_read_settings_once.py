"""Row-level security reads the tenant settings once per statement, not once per row (issue 15).

Each policy of this app compared every row with ``current_setting(...)``, a function call per row.
The same expressions wrapped in scalar subqueries are InitPlans: evaluated once, then a parameter.
Same rows visible, same deny by default (no context: NULL matches nothing); the bypass works as before.
The reverse restores the old text exactly.
"""

from django.db import migrations

# Generated once by core.sqlgen (rls_once / alter_policy) and frozen here: a published migration's SQL never changes.
RLS_ONCE_SQL = """
ALTER POLICY financial_profiles_owner ON financial_profiles USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY financial_accounts_owner ON financial_accounts USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY transactions_owner ON transactions USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY budgets_owner ON budgets USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY debts_owner ON debts USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY investments_owner ON investments USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY recurring_payments_owner ON recurring_payments USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY debt_payments_owner ON debt_payments USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY finance_categories_owner ON finance_categories USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY exchange_rates_owner ON exchange_rates USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY finance_imports_owner ON finance_imports USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY finance_import_mappings_owner ON finance_import_mappings USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
ALTER POLICY finance_alerts_owner ON finance_alerts USING (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on') WITH CHECK (user_id = (SELECT nullif(current_setting('app.user_id', true), '')::uuid) OR (SELECT current_setting('app.bypass', true)) = 'on');
"""
DROP_RLS_ONCE_SQL = """
ALTER POLICY financial_profiles_owner ON financial_profiles USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY financial_accounts_owner ON financial_accounts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY transactions_owner ON transactions USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY budgets_owner ON budgets USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY debts_owner ON debts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY investments_owner ON investments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY recurring_payments_owner ON recurring_payments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY debt_payments_owner ON debt_payments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY finance_categories_owner ON finance_categories USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY exchange_rates_owner ON exchange_rates USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY finance_imports_owner ON finance_imports USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY finance_import_mappings_owner ON finance_import_mappings USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
ALTER POLICY finance_alerts_owner ON finance_alerts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""


class Migration(migrations.Migration):
    dependencies = [("finance", "0004_balances_and_rules")]

    operations = [migrations.RunSQL(RLS_ONCE_SQL, DROP_RLS_ONCE_SQL)]
