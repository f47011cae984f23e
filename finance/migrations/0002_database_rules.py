"""Finance: owners filled from the profile, accounts referenced within one owner, RLS."""

from django.db import migrations

# Generated once by core.sqlgen / core.operations and frozen here: a published migration's SQL never changes.
RLS_FINANCIAL_PROFILES_SQL = """
ALTER TABLE financial_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE financial_profiles FORCE ROW LEVEL SECURITY;
CREATE POLICY financial_profiles_owner ON financial_profiles USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FINANCIAL_PROFILES_SQL = """
DROP POLICY IF EXISTS financial_profiles_owner ON financial_profiles;
ALTER TABLE financial_profiles NO FORCE ROW LEVEL SECURITY;
ALTER TABLE financial_profiles DISABLE ROW LEVEL SECURITY;
"""
RLS_FINANCIAL_ACCOUNTS_SQL = """
ALTER TABLE financial_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE financial_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY financial_accounts_owner ON financial_accounts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_FINANCIAL_ACCOUNTS_SQL = """
DROP POLICY IF EXISTS financial_accounts_owner ON financial_accounts;
ALTER TABLE financial_accounts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE financial_accounts DISABLE ROW LEVEL SECURITY;
"""
RLS_TRANSACTIONS_SQL = """
ALTER TABLE transactions ENABLE ROW LEVEL SECURITY;
ALTER TABLE transactions FORCE ROW LEVEL SECURITY;
CREATE POLICY transactions_owner ON transactions USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_TRANSACTIONS_SQL = """
DROP POLICY IF EXISTS transactions_owner ON transactions;
ALTER TABLE transactions NO FORCE ROW LEVEL SECURITY;
ALTER TABLE transactions DISABLE ROW LEVEL SECURITY;
"""
RLS_BUDGETS_SQL = """
ALTER TABLE budgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE budgets FORCE ROW LEVEL SECURITY;
CREATE POLICY budgets_owner ON budgets USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_BUDGETS_SQL = """
DROP POLICY IF EXISTS budgets_owner ON budgets;
ALTER TABLE budgets NO FORCE ROW LEVEL SECURITY;
ALTER TABLE budgets DISABLE ROW LEVEL SECURITY;
"""
RLS_DEBTS_SQL = """
ALTER TABLE debts ENABLE ROW LEVEL SECURITY;
ALTER TABLE debts FORCE ROW LEVEL SECURITY;
CREATE POLICY debts_owner ON debts USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_DEBTS_SQL = """
DROP POLICY IF EXISTS debts_owner ON debts;
ALTER TABLE debts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE debts DISABLE ROW LEVEL SECURITY;
"""
RLS_INVESTMENTS_SQL = """
ALTER TABLE investments ENABLE ROW LEVEL SECURITY;
ALTER TABLE investments FORCE ROW LEVEL SECURITY;
CREATE POLICY investments_owner ON investments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_INVESTMENTS_SQL = """
DROP POLICY IF EXISTS investments_owner ON investments;
ALTER TABLE investments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE investments DISABLE ROW LEVEL SECURITY;
"""
RLS_RECURRING_PAYMENTS_SQL = """
ALTER TABLE recurring_payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE recurring_payments FORCE ROW LEVEL SECURITY;
CREATE POLICY recurring_payments_owner ON recurring_payments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_RECURRING_PAYMENTS_SQL = """
DROP POLICY IF EXISTS recurring_payments_owner ON recurring_payments;
ALTER TABLE recurring_payments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE recurring_payments DISABLE ROW LEVEL SECURITY;
"""
RLS_DEBT_PAYMENTS_SQL = """
ALTER TABLE debt_payments ENABLE ROW LEVEL SECURITY;
ALTER TABLE debt_payments FORCE ROW LEVEL SECURITY;
CREATE POLICY debt_payments_owner ON debt_payments USING (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on') WITH CHECK (user_id = nullif(current_setting('app.user_id', true), '')::uuid OR current_setting('app.bypass', true) = 'on');
"""
DROP_RLS_DEBT_PAYMENTS_SQL = """
DROP POLICY IF EXISTS debt_payments_owner ON debt_payments;
ALTER TABLE debt_payments NO FORCE ROW LEVEL SECURITY;
ALTER TABLE debt_payments DISABLE ROW LEVEL SECURITY;
"""
FINANCIAL_ACCOUNTS_FILL_USER_ID_SQL = """
CREATE FUNCTION financial_accounts_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'financial_accounts.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER financial_accounts_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON financial_accounts
    FOR EACH ROW EXECUTE FUNCTION financial_accounts_fill_user_id();
"""
DROP_FINANCIAL_ACCOUNTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS financial_accounts_fill_user_id ON financial_accounts;
DROP FUNCTION IF EXISTS financial_accounts_fill_user_id();
"""
TRANSACTIONS_FILL_USER_ID_SQL = """
CREATE FUNCTION transactions_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'transactions.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_fill_user_id();
"""
DROP_TRANSACTIONS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS transactions_fill_user_id ON transactions;
DROP FUNCTION IF EXISTS transactions_fill_user_id();
"""
BUDGETS_FILL_USER_ID_SQL = """
CREATE FUNCTION budgets_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'budgets.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER budgets_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON budgets
    FOR EACH ROW EXECUTE FUNCTION budgets_fill_user_id();
"""
DROP_BUDGETS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS budgets_fill_user_id ON budgets;
DROP FUNCTION IF EXISTS budgets_fill_user_id();
"""
DEBTS_FILL_USER_ID_SQL = """
CREATE FUNCTION debts_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'debts.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER debts_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON debts
    FOR EACH ROW EXECUTE FUNCTION debts_fill_user_id();
"""
DROP_DEBTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS debts_fill_user_id ON debts;
DROP FUNCTION IF EXISTS debts_fill_user_id();
"""
INVESTMENTS_FILL_USER_ID_SQL = """
CREATE FUNCTION investments_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'investments.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER investments_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON investments
    FOR EACH ROW EXECUTE FUNCTION investments_fill_user_id();
"""
DROP_INVESTMENTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS investments_fill_user_id ON investments;
DROP FUNCTION IF EXISTS investments_fill_user_id();
"""
RECURRING_PAYMENTS_FILL_USER_ID_SQL = """
CREATE FUNCTION recurring_payments_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM financial_profiles p WHERE p.id = NEW.financial_profile_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'recurring_payments.financial_profile_id does not name a visible financial_profiles row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER recurring_payments_fill_user_id BEFORE INSERT OR UPDATE OF financial_profile_id, user_id ON recurring_payments
    FOR EACH ROW EXECUTE FUNCTION recurring_payments_fill_user_id();
"""
DROP_RECURRING_PAYMENTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS recurring_payments_fill_user_id ON recurring_payments;
DROP FUNCTION IF EXISTS recurring_payments_fill_user_id();
"""
DEBT_PAYMENTS_FILL_USER_ID_SQL = """
CREATE FUNCTION debt_payments_fill_user_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT p.user_id INTO NEW.user_id FROM debts p WHERE p.id = NEW.debt_id;
    IF NEW.user_id IS NULL THEN
        RAISE EXCEPTION 'debt_payments.debt_id does not name a visible debts row'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER debt_payments_fill_user_id BEFORE INSERT OR UPDATE OF debt_id, user_id ON debt_payments
    FOR EACH ROW EXECUTE FUNCTION debt_payments_fill_user_id();
"""
DROP_DEBT_PAYMENTS_FILL_USER_ID_SQL = """
DROP TRIGGER IF EXISTS debt_payments_fill_user_id ON debt_payments;
DROP FUNCTION IF EXISTS debt_payments_fill_user_id();
"""
TRANSACTIONS_ACCOUNT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION transactions_account_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM financial_accounts r WHERE r.id = NEW.account_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'transactions.account_id must name a financial_accounts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_account_id_same_owner BEFORE INSERT OR UPDATE OF account_id, user_id ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_account_id_same_owner();
"""
DROP_TRANSACTIONS_ACCOUNT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS transactions_account_id_same_owner ON transactions;
DROP FUNCTION IF EXISTS transactions_account_id_same_owner();
"""
TRANSACTIONS_FROM_ACCOUNT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION transactions_from_account_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.from_account_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM financial_accounts r WHERE r.id = NEW.from_account_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'transactions.from_account_id must name a financial_accounts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_from_account_id_same_owner BEFORE INSERT OR UPDATE OF from_account_id, user_id ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_from_account_id_same_owner();
"""
DROP_TRANSACTIONS_FROM_ACCOUNT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS transactions_from_account_id_same_owner ON transactions;
DROP FUNCTION IF EXISTS transactions_from_account_id_same_owner();
"""
TRANSACTIONS_TO_ACCOUNT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION transactions_to_account_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.to_account_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM financial_accounts r WHERE r.id = NEW.to_account_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'transactions.to_account_id must name a financial_accounts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER transactions_to_account_id_same_owner BEFORE INSERT OR UPDATE OF to_account_id, user_id ON transactions
    FOR EACH ROW EXECUTE FUNCTION transactions_to_account_id_same_owner();
"""
DROP_TRANSACTIONS_TO_ACCOUNT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS transactions_to_account_id_same_owner ON transactions;
DROP FUNCTION IF EXISTS transactions_to_account_id_same_owner();
"""
RECURRING_PAYMENTS_ACCOUNT_ID_SAME_OWNER_SQL = """
CREATE FUNCTION recurring_payments_account_id_same_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.account_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM financial_accounts r WHERE r.id = NEW.account_id AND r.user_id = NEW.user_id
    ) THEN
        RAISE EXCEPTION 'recurring_payments.account_id must name a financial_accounts row of the same owner'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER recurring_payments_account_id_same_owner BEFORE INSERT OR UPDATE OF account_id, user_id ON recurring_payments
    FOR EACH ROW EXECUTE FUNCTION recurring_payments_account_id_same_owner();
"""
DROP_RECURRING_PAYMENTS_ACCOUNT_ID_SAME_OWNER_SQL = """
DROP TRIGGER IF EXISTS recurring_payments_account_id_same_owner ON recurring_payments;
DROP FUNCTION IF EXISTS recurring_payments_account_id_same_owner();
"""


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial"), ("accounts", "0002_database_rules")]

    operations = [
        migrations.RunSQL(RLS_FINANCIAL_PROFILES_SQL, DROP_RLS_FINANCIAL_PROFILES_SQL),
        migrations.RunSQL(RLS_FINANCIAL_ACCOUNTS_SQL, DROP_RLS_FINANCIAL_ACCOUNTS_SQL),
        migrations.RunSQL(RLS_TRANSACTIONS_SQL, DROP_RLS_TRANSACTIONS_SQL),
        migrations.RunSQL(RLS_BUDGETS_SQL, DROP_RLS_BUDGETS_SQL),
        migrations.RunSQL(RLS_DEBTS_SQL, DROP_RLS_DEBTS_SQL),
        migrations.RunSQL(RLS_INVESTMENTS_SQL, DROP_RLS_INVESTMENTS_SQL),
        migrations.RunSQL(RLS_RECURRING_PAYMENTS_SQL, DROP_RLS_RECURRING_PAYMENTS_SQL),
        migrations.RunSQL(RLS_DEBT_PAYMENTS_SQL, DROP_RLS_DEBT_PAYMENTS_SQL),
        migrations.RunSQL(FINANCIAL_ACCOUNTS_FILL_USER_ID_SQL, DROP_FINANCIAL_ACCOUNTS_FILL_USER_ID_SQL),
        migrations.RunSQL(TRANSACTIONS_FILL_USER_ID_SQL, DROP_TRANSACTIONS_FILL_USER_ID_SQL),
        migrations.RunSQL(BUDGETS_FILL_USER_ID_SQL, DROP_BUDGETS_FILL_USER_ID_SQL),
        migrations.RunSQL(DEBTS_FILL_USER_ID_SQL, DROP_DEBTS_FILL_USER_ID_SQL),
        migrations.RunSQL(INVESTMENTS_FILL_USER_ID_SQL, DROP_INVESTMENTS_FILL_USER_ID_SQL),
        migrations.RunSQL(RECURRING_PAYMENTS_FILL_USER_ID_SQL, DROP_RECURRING_PAYMENTS_FILL_USER_ID_SQL),
        migrations.RunSQL(DEBT_PAYMENTS_FILL_USER_ID_SQL, DROP_DEBT_PAYMENTS_FILL_USER_ID_SQL),
        migrations.RunSQL(TRANSACTIONS_ACCOUNT_ID_SAME_OWNER_SQL, DROP_TRANSACTIONS_ACCOUNT_ID_SAME_OWNER_SQL),
        migrations.RunSQL(TRANSACTIONS_FROM_ACCOUNT_ID_SAME_OWNER_SQL, DROP_TRANSACTIONS_FROM_ACCOUNT_ID_SAME_OWNER_SQL),
        migrations.RunSQL(TRANSACTIONS_TO_ACCOUNT_ID_SAME_OWNER_SQL, DROP_TRANSACTIONS_TO_ACCOUNT_ID_SAME_OWNER_SQL),
        migrations.RunSQL(RECURRING_PAYMENTS_ACCOUNT_ID_SAME_OWNER_SQL, DROP_RECURRING_PAYMENTS_ACCOUNT_ID_SAME_OWNER_SQL),
    ]
