"""Finance beyond the schema: balances kept by the database, RLS and owners for the new tables.

SQL generated once by core.sqlgen and frozen here (the balance triggers are hand-written).
"""

from django.db import migrations

RLS_FINANCE_CATEGORIES_SQL = """
ALTER TABLE finance_categories ENABLE ROW LEVEL SECURITY;
ALTER TABLE finance_categories FORCE ROW LEVEL SECURITY;
CREATE POLICY finance_categories_owner ON finance_categories USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FINANCE_CATEGORIES_SQL = """
DROP POLICY IF EXISTS finance_categories_owner ON finance_categories;
ALTER TABLE finance_categories NO FORCE ROW LEVEL SECURITY;
ALTER TABLE finance_categories DISABLE ROW LEVEL SECURITY;
"""

FINANCE_CATEGORIES_FILL_USER_ID_SQL = """
CREATE FUNCTION finance_categories_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'finance_categories.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_categories_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON finance_categories
    FOR EACH ROW EXECUTE FUNCTION finance_categories_fill_user_id();
"""
DROP_FINANCE_CATEGORIES_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS finance_categories_fill_user_id ON finance_categories;
DROP FUNCTION IF EXISTS finance_categories_fill_user_id();
"""

RLS_EXCHANGE_RATES_SQL = """
ALTER TABLE exchange_rates ENABLE ROW LEVEL SECURITY;
ALTER TABLE exchange_rates FORCE ROW LEVEL SECURITY;
CREATE POLICY exchange_rates_owner ON exchange_rates USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_EXCHANGE_RATES_SQL = """
DROP POLICY IF EXISTS exchange_rates_owner ON exchange_rates;
ALTER TABLE exchange_rates NO FORCE ROW LEVEL SECURITY;
ALTER TABLE exchange_rates DISABLE ROW LEVEL SECURITY;
"""

EXCHANGE_RATES_FILL_USER_ID_SQL = """
CREATE FUNCTION exchange_rates_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'exchange_rates.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER exchange_rates_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON exchange_rates
    FOR EACH ROW EXECUTE FUNCTION exchange_rates_fill_user_id();
"""
DROP_EXCHANGE_RATES_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS exchange_rates_fill_user_id ON exchange_rates;
DROP FUNCTION IF EXISTS exchange_rates_fill_user_id();
"""

RLS_FINANCE_IMPORTS_SQL = """
ALTER TABLE finance_imports ENABLE ROW LEVEL SECURITY;
ALTER TABLE finance_imports FORCE ROW LEVEL SECURITY;
CREATE POLICY finance_imports_owner ON finance_imports USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FINANCE_IMPORTS_SQL = """
DROP POLICY IF EXISTS finance_imports_owner ON finance_imports;
ALTER TABLE finance_imports NO FORCE ROW LEVEL SECURITY;
ALTER TABLE finance_imports DISABLE ROW LEVEL SECURITY;
"""

FINANCE_IMPORTS_FILL_USER_ID_SQL = """
CREATE FUNCTION finance_imports_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'finance_imports.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_imports_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON finance_imports
    FOR EACH ROW EXECUTE FUNCTION finance_imports_fill_user_id();
"""
DROP_FINANCE_IMPORTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS finance_imports_fill_user_id ON finance_imports;
DROP FUNCTION IF EXISTS finance_imports_fill_user_id();
"""

RLS_FINANCE_IMPORT_MAPPINGS_SQL = """
ALTER TABLE finance_import_mappings ENABLE ROW LEVEL SECURITY;
ALTER TABLE finance_import_mappings FORCE ROW LEVEL SECURITY;
CREATE POLICY finance_import_mappings_owner ON finance_import_mappings USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FINANCE_IMPORT_MAPPINGS_SQL = """
DROP POLICY IF EXISTS finance_import_mappings_owner ON finance_import_mappings;
ALTER TABLE finance_import_mappings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE finance_import_mappings DISABLE ROW LEVEL SECURITY;
"""

FINANCE_IMPORT_MAPPINGS_FILL_USER_ID_SQL = """
CREATE FUNCTION finance_import_mappings_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'finance_import_mappings.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_import_mappings_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON finance_import_mappings
    FOR EACH ROW EXECUTE FUNCTION finance_import_mappings_fill_user_id();
"""
DROP_FINANCE_IMPORT_MAPPINGS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS finance_import_mappings_fill_user_id ON finance_import_mappings;
DROP FUNCTION IF EXISTS finance_import_mappings_fill_user_id();
"""

RLS_FINANCE_ALERTS_SQL = """
ALTER TABLE finance_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE finance_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY finance_alerts_owner ON finance_alerts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FINANCE_ALERTS_SQL = """
DROP POLICY IF EXISTS finance_alerts_owner ON finance_alerts;
ALTER TABLE finance_alerts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE finance_alerts DISABLE ROW LEVEL SECURITY;
"""

FINANCE_ALERTS_FILL_USER_ID_SQL = """
CREATE FUNCTION finance_alerts_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'finance_alerts.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_alerts_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON finance_alerts
    FOR EACH ROW EXECUTE FUNCTION finance_alerts_fill_user_id();
"""
DROP_FINANCE_ALERTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS finance_alerts_fill_user_id ON finance_alerts;
DROP FUNCTION IF EXISTS finance_alerts_fill_user_id();
"""

BUDGETS_ACCOUNT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION budgets_account_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM financial_accounts r WHERE r.id = NEW.account_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'budgets.account_id must name a financial_accounts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER budgets_account_id_same_owner BEFORE INSERT OR UPDATE OF account_id, user_id ON budgets
    FOR EACH ROW EXECUTE FUNCTION budgets_account_id_same_owner();
"""
DROP_BUDGETS_ACCOUNT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS budgets_account_id_same_owner ON budgets;
DROP FUNCTION IF EXISTS budgets_account_id_same_owner();
"""

FINANCE_IMPORTS_ACCOUNT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION finance_imports_account_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM financial_accounts r WHERE r.id = NEW.account_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'finance_imports.account_id must name a financial_accounts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_imports_account_id_same_owner BEFORE INSERT OR UPDATE OF account_id, user_id ON finance_imports
    FOR EACH ROW EXECUTE FUNCTION finance_imports_account_id_same_owner();
"""
DROP_FINANCE_IMPORTS_ACCOUNT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS finance_imports_account_id_same_owner ON finance_imports;
DROP FUNCTION IF EXISTS finance_imports_account_id_same_owner();
"""

FINANCE_IMPORT_MAPPINGS_ACCOUNT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION finance_import_mappings_account_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM financial_accounts r WHERE r.id = NEW.account_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'finance_import_mappings.account_id must name a financial_accounts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_import_mappings_account_id_same_owner BEFORE INSERT OR UPDATE OF account_id, user_id ON finance_import_mappings
    FOR EACH ROW EXECUTE FUNCTION finance_import_mappings_account_id_same_owner();
"""
DROP_FINANCE_IMPORT_MAPPINGS_ACCOUNT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS finance_import_mappings_account_id_same_owner ON finance_import_mappings;
DROP FUNCTION IF EXISTS finance_import_mappings_account_id_same_owner();
"""

TRANSACTIONS_IMPORT_BATCH_ID_SAME_OWNER_SQL = """
CREATE FUNCTION transactions_import_batch_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.import_batch_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM finance_imports r WHERE r.id = NEW.import_batch_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'transactions.import_batch_id must name a finance_imports row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_import_batch_id_same_owner BEFORE INSERT OR UPDATE OF import_batch_id, user_id ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_import_batch_id_same_owner();
"""
DROP_TRANSACTIONS_IMPORT_BATCH_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS transactions_import_batch_id_same_owner ON transactions;
DROP FUNCTION IF EXISTS transactions_import_batch_id_same_owner();
"""

TRANSACTIONS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION transactions_recurring_payment_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.recurring_payment_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM recurring_payments r WHERE r.id = NEW.recurring_payment_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'transactions.recurring_payment_id must name a recurring_payments row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_recurring_payment_id_same_owner BEFORE INSERT OR UPDATE OF recurring_payment_id, user_id ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_recurring_payment_id_same_owner();
"""
DROP_TRANSACTIONS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS transactions_recurring_payment_id_same_owner ON transactions;
DROP FUNCTION IF EXISTS transactions_recurring_payment_id_same_owner();
"""

FINANCE_CATEGORIES_PARENT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION finance_categories_parent_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM finance_categories r WHERE r.id = NEW.parent_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'finance_categories.parent_id must name a finance_categories row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_categories_parent_id_same_owner BEFORE INSERT OR UPDATE OF parent_id, user_id ON finance_categories
    FOR EACH ROW EXECUTE FUNCTION finance_categories_parent_id_same_owner();
"""
DROP_FINANCE_CATEGORIES_PARENT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS finance_categories_parent_id_same_owner ON finance_categories;
DROP FUNCTION IF EXISTS finance_categories_parent_id_same_owner();
"""

FINANCE_ALERTS_BUDGET_ID_SAME_OWNER_SQL = """
CREATE FUNCTION finance_alerts_budget_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.budget_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM budgets r WHERE r.id = NEW.budget_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'finance_alerts.budget_id must name a budgets row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_alerts_budget_id_same_owner BEFORE INSERT OR UPDATE OF budget_id, user_id ON finance_alerts
    FOR EACH ROW EXECUTE FUNCTION finance_alerts_budget_id_same_owner();
"""
DROP_FINANCE_ALERTS_BUDGET_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS finance_alerts_budget_id_same_owner ON finance_alerts;
DROP FUNCTION IF EXISTS finance_alerts_budget_id_same_owner();
"""

FINANCE_ALERTS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION finance_alerts_recurring_payment_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.recurring_payment_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM recurring_payments r WHERE r.id = NEW.recurring_payment_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'finance_alerts.recurring_payment_id must name a recurring_payments row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER finance_alerts_recurring_payment_id_same_owner BEFORE INSERT OR UPDATE OF recurring_payment_id, user_id ON finance_alerts
    FOR EACH ROW EXECUTE FUNCTION finance_alerts_recurring_payment_id_same_owner();
"""
DROP_FINANCE_ALERTS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS finance_alerts_recurring_payment_id_same_owner ON finance_alerts;
DROP FUNCTION IF EXISTS finance_alerts_recurring_payment_id_same_owner();
"""


# --- balances: kept by the database ---------------------------------------------------------------
# What one transaction row adds to its account's balance: income +, expense -, a transfer leg -
# on the account it leaves (from_account_id) and + on the one it reaches (to_account_id).
# Statement-level AFTER triggers with transition tables apply one aggregated UPDATE per account per
# statement (a 10,000-row insert updates each account once); the accounts are locked in id order so
# two statements touching the same accounts never deadlock, and the row lock makes it exact.
BALANCE_FUNCTIONS_SQL = """
CREATE FUNCTION transactions_balance_delta(t text, amount numeric, account uuid, from_account uuid, to_account uuid)
RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE t
        WHEN 'income' THEN amount
        WHEN 'expense' THEN -amount
        WHEN 'transfer' THEN CASE WHEN account = to_account THEN amount WHEN account = from_account THEN -amount ELSE 0 END
        ELSE 0 END
$$;
CREATE FUNCTION financial_accounts_apply(deltas jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM financial_accounts a
      WHERE a.id IN (SELECT (e.key)::uuid FROM jsonb_each_text(deltas) e) ORDER BY a.id FOR UPDATE;
    UPDATE financial_accounts a SET balance = a.balance + (e.value)::numeric
      FROM jsonb_each_text(deltas) e WHERE a.id = (e.key)::uuid;
END
$$;
CREATE FUNCTION transactions_balance_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas jsonb;
BEGIN
    SELECT jsonb_object_agg(account_id, delta) INTO deltas FROM (
        SELECT account_id, sum(transactions_balance_delta(type, amount, account_id, from_account_id, to_account_id)) AS delta
          FROM new_rows WHERE account_id IS NOT NULL GROUP BY account_id) d WHERE delta <> 0;
    IF deltas IS NOT NULL THEN PERFORM financial_accounts_apply(deltas); END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION transactions_balance_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas jsonb;
BEGIN
    SELECT jsonb_object_agg(account_id, delta) INTO deltas FROM (
        SELECT account_id, -sum(transactions_balance_delta(type, amount, account_id, from_account_id, to_account_id)) AS delta
          FROM old_rows WHERE account_id IS NOT NULL GROUP BY account_id) d WHERE delta <> 0;
    IF deltas IS NOT NULL THEN PERFORM financial_accounts_apply(deltas); END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION transactions_balance_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE deltas jsonb;
BEGIN
    SELECT jsonb_object_agg(account_id, delta) INTO deltas FROM (
        SELECT account_id, sum(delta) AS delta FROM (
            SELECT account_id, transactions_balance_delta(type, amount, account_id, from_account_id, to_account_id) AS delta
              FROM new_rows WHERE account_id IS NOT NULL
            UNION ALL
            SELECT account_id, -transactions_balance_delta(type, amount, account_id, from_account_id, to_account_id)
              FROM old_rows WHERE account_id IS NOT NULL) parts
         GROUP BY account_id) d WHERE delta <> 0;
    IF deltas IS NOT NULL THEN PERFORM financial_accounts_apply(deltas); END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER transactions_balance_insert AFTER INSERT ON transactions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION transactions_balance_after_insert();
CREATE TRIGGER transactions_balance_update AFTER UPDATE ON transactions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION transactions_balance_after_update();
CREATE TRIGGER transactions_balance_delete AFTER DELETE ON transactions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION transactions_balance_after_delete();
"""
DROP_BALANCE_FUNCTIONS_SQL = """
DROP TRIGGER IF EXISTS transactions_balance_insert ON transactions;
DROP TRIGGER IF EXISTS transactions_balance_update ON transactions;
DROP TRIGGER IF EXISTS transactions_balance_delete ON transactions;
DROP FUNCTION IF EXISTS transactions_balance_after_insert();
DROP FUNCTION IF EXISTS transactions_balance_after_update();
DROP FUNCTION IF EXISTS transactions_balance_after_delete();
DROP FUNCTION IF EXISTS financial_accounts_apply(jsonb);
DROP FUNCTION IF EXISTS transactions_balance_delta(text, numeric, uuid, uuid, uuid);
"""
# Nobody writes balance but the triggers above: a new account starts at its opening balance, and an
# UPDATE issued directly (pg_trigger_depth() = 1: the ORM, the admin, a stale save, raw SQL) keeps the
# stored balance, moved only by a change of the opening balance. The balance triggers' own UPDATE
# runs one level deeper and goes through.
BALANCE_GUARD_SQL = """
CREATE FUNCTION financial_accounts_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.balance := NEW.opening_balance;
    ELSIF pg_trigger_depth() = 1 THEN
        NEW.balance := OLD.balance + (NEW.opening_balance - OLD.opening_balance);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER financial_accounts_balance_guard BEFORE INSERT OR UPDATE ON financial_accounts
    FOR EACH ROW EXECUTE FUNCTION financial_accounts_balance_guard();
"""
DROP_BALANCE_GUARD_SQL = """
DROP TRIGGER IF EXISTS financial_accounts_balance_guard ON financial_accounts;
DROP FUNCTION IF EXISTS financial_accounts_balance_guard();
"""
# Balances of accounts that exist already (opening balance 0 so far) from their transactions.
BALANCE_BACKFILL_SQL = """
UPDATE financial_accounts a SET opening_balance = a.balance - coalesce((
    SELECT sum(transactions_balance_delta(t.type, t.amount, t.account_id, t.from_account_id, t.to_account_id))
      FROM transactions t WHERE t.account_id = a.id), 0);
"""
BACKFILL_SQL = "SELECT set_config('app.bypass', 'on', true);" + BALANCE_BACKFILL_SQL + "SELECT set_config('app.bypass', '', true);"

GENERATED = [
    (RLS_FINANCE_CATEGORIES_SQL, DROP_RLS_FINANCE_CATEGORIES_SQL),
    (FINANCE_CATEGORIES_FILL_USER_ID_SQL, DROP_FINANCE_CATEGORIES_FILL_USER_ID_SQL),
    (RLS_EXCHANGE_RATES_SQL, DROP_RLS_EXCHANGE_RATES_SQL),
    (EXCHANGE_RATES_FILL_USER_ID_SQL, DROP_EXCHANGE_RATES_FILL_USER_ID_SQL),
    (RLS_FINANCE_IMPORTS_SQL, DROP_RLS_FINANCE_IMPORTS_SQL),
    (FINANCE_IMPORTS_FILL_USER_ID_SQL, DROP_FINANCE_IMPORTS_FILL_USER_ID_SQL),
    (RLS_FINANCE_IMPORT_MAPPINGS_SQL, DROP_RLS_FINANCE_IMPORT_MAPPINGS_SQL),
    (FINANCE_IMPORT_MAPPINGS_FILL_USER_ID_SQL, DROP_FINANCE_IMPORT_MAPPINGS_FILL_USER_ID_SQL),
    (RLS_FINANCE_ALERTS_SQL, DROP_RLS_FINANCE_ALERTS_SQL),
    (FINANCE_ALERTS_FILL_USER_ID_SQL, DROP_FINANCE_ALERTS_FILL_USER_ID_SQL),
    (BUDGETS_ACCOUNT_ID_SAME_OWNER_SQL, DROP_BUDGETS_ACCOUNT_ID_SAME_OWNER_SQL),
    (FINANCE_IMPORTS_ACCOUNT_ID_SAME_OWNER_SQL, DROP_FINANCE_IMPORTS_ACCOUNT_ID_SAME_OWNER_SQL),
    (FINANCE_IMPORT_MAPPINGS_ACCOUNT_ID_SAME_OWNER_SQL, DROP_FINANCE_IMPORT_MAPPINGS_ACCOUNT_ID_SAME_OWNER_SQL),
    (TRANSACTIONS_IMPORT_BATCH_ID_SAME_OWNER_SQL, DROP_TRANSACTIONS_IMPORT_BATCH_ID_SAME_OWNER_SQL),
    (TRANSACTIONS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL, DROP_TRANSACTIONS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL),
    (FINANCE_CATEGORIES_PARENT_ID_SAME_OWNER_SQL, DROP_FINANCE_CATEGORIES_PARENT_ID_SAME_OWNER_SQL),
    (FINANCE_ALERTS_BUDGET_ID_SAME_OWNER_SQL, DROP_FINANCE_ALERTS_BUDGET_ID_SAME_OWNER_SQL),
    (FINANCE_ALERTS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL, DROP_FINANCE_ALERTS_RECURRING_PAYMENT_ID_SAME_OWNER_SQL),
]


class Migration(migrations.Migration):
    dependencies = [("finance", "0003_features")]

    operations = [
        *[migrations.RunSQL(sql, reverse) for sql, reverse in GENERATED],
        migrations.RunSQL(BALANCE_FUNCTIONS_SQL, DROP_BALANCE_FUNCTIONS_SQL),
        migrations.RunSQL(BACKFILL_SQL, migrations.RunSQL.noop),
        migrations.RunSQL(BALANCE_GUARD_SQL, DROP_BALANCE_GUARD_SQL),
    ]
