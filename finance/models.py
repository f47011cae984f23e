"""Personal finance (ERD domain 9): accounts, transactions, budgets, debts, investments,
recurring payments. Every child row carries its owner, filled from the financial profile."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core import fields
from core.crypto import EncryptedTextField
from core.models import CreatedAtModel, UUIDModel

EMPTY_JSON = models.Value({}, models.JSONField())
EMPTY_LIST = models.Value([], models.JSONField())


def money(verbose_name, **kwargs):
    """Three decimals in the column so every ISO 4217 minor unit fits (KWD has 3); the services round
    each amount to its own currency's exponent (finance.money) before it is stored."""
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=3, **kwargs)


class FinancialProfile(UUIDModel, CreatedAtModel):
    user = fields.OneToOneField(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="financial_profile")
    currency = models.CharField(_("currency"), max_length=3, default="USD", db_default="USD")
    financial_goals = models.JSONField(_("goals"), default=dict, db_default=EMPTY_JSON, blank=True)
    ai_analysis = models.JSONField(_("AI analysis"), default=dict, db_default=EMPTY_JSON, blank=True)
    # Beyond the ERD: the profile page's two figures (money in the profile currency).
    monthly_income = money(_("monthly income"), null=True, blank=True)
    savings_goal = money(_("savings goal"), null=True, blank=True)

    class Meta:
        db_table = "financial_profiles"
        verbose_name = _("financial profile")
        verbose_name_plural = _("financial profiles")
        constraints = [models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="financial_profiles_currency_iso")]

    def __str__(self) -> str:
        return f"finances of {self.user_id} ({self.currency})"


class FinanceChild(UUIDModel, CreatedAtModel):
    class Meta:
        abstract = True


class AccountType(models.TextChoices):
    CHECKING = "CHECKING", _("Checking")
    SAVINGS = "SAVINGS", _("Savings")
    CREDIT_CARD = "CREDIT_CARD", _("Credit card")
    CASH = "CASH", _("Cash")
    INVESTMENT = "INVESTMENT", _("Investment")
    LOAN = "LOAN", _("Loan")
    OTHER = "OTHER", _("Other")


class FinancialAccount(FinanceChild):
    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="accounts")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    name = models.CharField(_("name"), max_length=120)
    type = models.CharField(_("type"), max_length=12, choices=AccountType.choices)
    # Kept by the database (finance migration 0004): opening balance plus the account's transactions.
    # A direct write of this column is ignored by a trigger, so a stale save never clobbers it.
    balance = money(_("balance"), default=0, db_default=0)
    currency = models.CharField(_("currency"), max_length=3, default="USD", db_default="USD")
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    credit_limit = money(_("credit limit"), null=True, blank=True)
    opening_balance = money(_("opening balance"), default=0, db_default=0)  # beyond the ERD

    class Meta:
        db_table = "financial_accounts"
        verbose_name = _("financial account")
        verbose_name_plural = _("financial accounts")
        constraints = [
            models.CheckConstraint(condition=Q(type__in=AccountType.values), name="financial_accounts_type_valid"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="financial_accounts_currency_iso"),
            models.CheckConstraint(condition=Q(credit_limit__isnull=True) | Q(credit_limit__gte=0), name="financial_accounts_credit_limit_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class TransactionType(models.TextChoices):
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")
    TRANSFER = "transfer", _("Transfer")


class Transaction(FinanceChild):
    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="transactions", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    account = fields.ForeignKey(FinancialAccount, db_on_delete="SET NULL", null=True, blank=True, related_name="transactions")
    date = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=500)
    amount = money(_("amount"))
    type = models.CharField(_("type"), max_length=10, choices=TransactionType.choices)
    category = models.CharField(_("category"), max_length=60, blank=True, default="", db_default="")
    subcategory = models.CharField(_("subcategory"), max_length=60, blank=True, default="", db_default="")
    tags = models.JSONField(_("tags"), default=list, db_default=EMPTY_LIST, blank=True)
    from_account = fields.ForeignKey(FinancialAccount, db_on_delete="SET NULL", null=True, blank=True, related_name="transfers_out")
    to_account = fields.ForeignKey(FinancialAccount, db_on_delete="SET NULL", null=True, blank=True, related_name="transfers_in")
    is_recurring = models.BooleanField(_("recurring"), default=False, db_default=False)
    # Beyond the ERD. The amount's currency (the account's when written; kept if the account goes).
    currency = models.CharField(_("currency"), max_length=3, default="USD", db_default="USD")
    # A transfer is two rows (one per leg, each on its own account, both naming from/to) sharing
    # transfer_id; across currencies each leg holds its own amount and both hold the rate.
    transfer_id = models.UUIDField(_("transfer"), null=True, blank=True)
    exchange_rate = models.DecimalField(_("exchange rate"), max_digits=24, decimal_places=10, null=True, blank=True)
    import_batch = fields.ForeignKey("ImportBatch", db_on_delete="SET NULL", null=True, blank=True, related_name="transactions")
    external_id = models.CharField(_("bank id"), max_length=255, blank=True, default="", db_default="")
    recurring_payment = fields.ForeignKey("RecurringPayment", db_on_delete="SET NULL", null=True, blank=True, related_name="occurrences")

    class Meta:
        db_table = "transactions"
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        constraints = [
            models.CheckConstraint(condition=Q(type__in=TransactionType.values), name="transactions_type_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transactions_amount_positive"),
            models.CheckConstraint(
                condition=~Q(type="transfer") | ~Q(from_account=F("to_account")), name="transactions_transfer_between_two_accounts"
            ),
            models.CheckConstraint(
                condition=~Q(type="transfer") | Q(account__isnull=True) | Q(account=F("from_account")) | Q(account=F("to_account")),
                name="transactions_transfer_leg_on_its_account",
            ),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="transactions_currency_iso"),
            models.CheckConstraint(condition=Q(exchange_rate__isnull=True) | Q(exchange_rate__gt=0), name="transactions_exchange_rate_positive"),
            # One transaction per occurrence of a recurring payment, whatever runs the job.
            models.UniqueConstraint(fields=["recurring_payment", "date"], condition=Q(recurring_payment__isnull=False), name="transactions_one_per_occurrence"),
        ]
        indexes = [
            models.Index(F("financial_profile"), F("date").desc(), name="idx_transactions_profile_date"),
            models.Index(fields=["user", "-date"], name="idx_transactions_user_date"),
            models.Index(fields=["account", "-date"], name="idx_transactions_account_date"),
            models.Index(fields=["transfer_id"], condition=Q(transfer_id__isnull=False), name="idx_transactions_transfer"),
            models.Index(fields=["import_batch"], condition=Q(import_batch__isnull=False), name="idx_transactions_import"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.description} {self.amount}"


class Period(models.TextChoices):
    WEEKLY = "WEEKLY", _("Weekly")
    MONTHLY = "MONTHLY", _("Monthly")
    QUARTERLY = "QUARTERLY", _("Quarterly")
    YEARLY = "YEARLY", _("Yearly")


class Budget(FinanceChild):
    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="budgets")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    name = models.CharField(_("name"), max_length=120)
    category = models.CharField(_("category"), max_length=60)
    amount = money(_("amount"))
    period = models.CharField(_("period"), max_length=10, choices=Period.choices, default=Period.MONTHLY, db_default=Period.MONTHLY)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    alert_threshold = models.IntegerField(_("alert at (%)"), default=80, db_default=80)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    # Beyond the ERD: an optional account the budget watches, and the rollover option.
    account = fields.ForeignKey(FinancialAccount, db_on_delete="SET NULL", null=True, blank=True, related_name="budgets")
    rollover = models.BooleanField(_("roll over the unspent amount"), default=False, db_default=False)

    class Meta:
        db_table = "budgets"
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="budgets_amount_positive"),
            models.CheckConstraint(condition=Q(alert_threshold__gte=1) & Q(alert_threshold__lte=100), name="budgets_alert_threshold_range"),
            models.CheckConstraint(condition=Q(period__in=Period.values), name="budgets_period_valid"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="budgets_dates_ordered"),
        ]


class DebtType(models.TextChoices):
    CREDIT_CARD = "CREDIT_CARD", _("Credit card")
    MORTGAGE = "MORTGAGE", _("Mortgage")
    AUTO = "AUTO", _("Car loan")
    STUDENT = "STUDENT", _("Student loan")
    PERSONAL = "PERSONAL", _("Personal loan")
    OTHER = "OTHER", _("Other")


class Debt(FinanceChild):
    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="debts")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    name = models.CharField(_("name"), max_length=120)
    type = models.CharField(_("type"), max_length=12, choices=DebtType.choices)
    principal = money(_("principal"))
    balance = money(_("balance"))
    interest_rate = models.DecimalField(_("interest rate (%)"), max_digits=6, decimal_places=3, default=0, db_default=0)
    monthly_payment = money(_("monthly payment"), default=0, db_default=0)
    start_date = models.DateField(_("start"), null=True, blank=True)
    maturity_date = models.DateField(_("maturity"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=[("ACTIVE", _("Active")), ("PAID_OFF", _("Paid off")), ("DEFAULTED", _("Defaulted"))], default="ACTIVE", db_default="ACTIVE")
    priority = models.IntegerField(_("priority"), default=0, db_default=0)
    account_number = EncryptedTextField(_("account number"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="USD", db_default="USD")  # beyond the ERD

    class Meta:
        db_table = "debts"
        verbose_name = _("debt")
        verbose_name_plural = _("debts")
        constraints = [
            models.CheckConstraint(condition=Q(principal__gte=0) & Q(balance__gte=0) & Q(monthly_payment__gte=0), name="debts_amounts_non_negative"),
            models.CheckConstraint(condition=Q(interest_rate__gte=0) & Q(interest_rate__lte=100), name="debts_interest_rate_range"),
        ]


class DebtPayment(FinanceChild):
    debt = fields.ForeignKey(Debt, db_on_delete="CASCADE", related_name="payments", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    date = models.DateField(_("date"))
    amount = money(_("amount"))
    principal_paid = money(_("principal paid"), default=0, db_default=0)
    interest_paid = money(_("interest paid"), default=0, db_default=0)

    class Meta:
        db_table = "debt_payments"
        verbose_name = _("debt payment")
        verbose_name_plural = _("debt payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(principal_paid__gte=0) & Q(interest_paid__gte=0), name="debt_payments_amounts_valid"),
            models.CheckConstraint(condition=Q(amount__gte=F("principal_paid") + F("interest_paid")), name="debt_payments_parts_within_amount"),
        ]
        indexes = [models.Index(fields=["debt", "-date"], name="idx_debt_payments_debt")]


class InvestmentType(models.TextChoices):
    STOCK = "STOCK", _("Stock")
    BOND = "BOND", _("Bond")
    ETF = "ETF", _("ETF")
    MUTUAL_FUND = "MUTUAL_FUND", _("Mutual fund")
    CRYPTO = "CRYPTO", _("Crypto")
    REAL_ESTATE = "REAL_ESTATE", _("Real estate")
    OTHER = "OTHER", _("Other")


class Investment(FinanceChild):
    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="investments")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    name = models.CharField(_("name"), max_length=120)
    type = models.CharField(_("type"), max_length=12, choices=InvestmentType.choices)
    symbol = models.CharField(_("symbol"), max_length=20, blank=True, default="", db_default="")
    quantity = models.DecimalField(_("quantity"), max_digits=20, decimal_places=8)
    purchase_price = models.DecimalField(_("purchase price"), max_digits=16, decimal_places=4)
    current_price = models.DecimalField(_("current price"), max_digits=16, decimal_places=4, null=True, blank=True)
    purchase_date = models.DateField(_("purchased"), null=True, blank=True)
    returns = money(_("returns"), null=True, blank=True)
    returns_percentage = models.DecimalField(_("returns (%)"), max_digits=9, decimal_places=3, null=True, blank=True)
    # Beyond the ERD: the prices' currency and the date of the current price.
    currency = models.CharField(_("currency"), max_length=3, default="USD", db_default="USD")
    price_date = models.DateField(_("price date"), null=True, blank=True)

    class Meta:
        db_table = "investments"
        verbose_name = _("investment")
        verbose_name_plural = _("investments")
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=0) & Q(purchase_price__gte=0), name="investments_amounts_non_negative")]


class RecurringPayment(FinanceChild):
    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="recurring_payments", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    name = models.CharField(_("name"), max_length=120)
    amount = money(_("amount"))
    frequency = models.CharField(_("frequency"), max_length=10, choices=[("WEEKLY", _("Weekly")), ("BIWEEKLY", _("Every two weeks")), ("MONTHLY", _("Monthly")), ("QUARTERLY", _("Quarterly")), ("YEARLY", _("Yearly"))], default="MONTHLY", db_default="MONTHLY")
    category = models.CharField(_("category"), max_length=60, blank=True, default="", db_default="")
    next_due_date = models.DateField(_("next due"))
    auto_debit = models.BooleanField(_("automatic debit"), default=False, db_default=False)
    account = fields.ForeignKey(FinancialAccount, db_on_delete="SET NULL", null=True, blank=True, related_name="recurring_payments")
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)

    class Meta:
        db_table = "recurring_payments"
        verbose_name = _("recurring payment")
        verbose_name_plural = _("recurring payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="recurring_payments_amount_positive"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")), name="recurring_payments_dates_ordered"),
        ]
        indexes = [models.Index(fields=["financial_profile", "next_due_date"], name="idx_recurring_payments_due")]


# --- beyond the ERD: categories, exchange rates, imports, alerts ---------------------------------------


class Category(FinanceChild):
    """A person's categories (a top level and its subcategories), seeded in their language."""

    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="categories")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    parent = fields.ForeignKey("self", db_on_delete="CASCADE", null=True, blank=True, related_name="children")
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        db_table = "finance_categories"
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["financial_profile", "parent", "name"], nulls_distinct=False, name="finance_categories_unique_name"),
        ]
        indexes = [models.Index(fields=["user"], name="idx_finance_categories_user")]

    def __str__(self) -> str:
        return self.name


class ExchangeRate(FinanceChild):
    """1 unit of ``currency`` is worth ``rate`` units of the profile currency on ``date``."""

    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="exchange_rates")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    date = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=24, decimal_places=10)

    class Meta:
        db_table = "exchange_rates"
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(fields=["financial_profile", "currency", "date"], name="exchange_rates_one_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rates_rate_positive"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="exchange_rates_currency_iso"),
        ]
        indexes = [models.Index(fields=["user", "currency", "-date"], name="idx_exchange_rates_user")]

    def __str__(self) -> str:
        return f"{self.currency} {self.date} {self.rate}"


class ImportBatch(FinanceChild):
    """One CSV/OFX import: its parsed rows wait here (PREVIEW) until the person confirms."""

    class Status(models.TextChoices):
        PREVIEW = "PREVIEW", _("Waiting for confirmation")
        DONE = "DONE", _("Imported")
        UNDONE = "UNDONE", _("Undone")

    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="imports")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    account = fields.ForeignKey(FinancialAccount, db_on_delete="CASCADE", related_name="imports")
    source = models.CharField(_("format"), max_length=4)
    filename = models.CharField(_("file"), max_length=255)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PREVIEW, db_default=Status.PREVIEW)
    rows = models.JSONField(_("rows"), default=list, db_default=EMPTY_LIST, blank=True)
    imported_count = models.IntegerField(_("imported"), default=0, db_default=0)
    duplicate_count = models.IntegerField(_("duplicates"), default=0, db_default=0)

    class Meta:
        db_table = "finance_imports"
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [models.CheckConstraint(condition=Q(status__in=["PREVIEW", "DONE", "UNDONE"]), name="finance_imports_status_valid")]
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_finance_imports_user")]

    def __str__(self) -> str:
        return self.filename


class ImportMapping(FinanceChild):
    """The CSV column mapping and formats last used for an account."""

    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="import_mappings")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    account = fields.OneToOneField(FinancialAccount, db_on_delete="CASCADE", related_name="import_mapping")
    mapping = models.JSONField(_("mapping"), default=dict, db_default=EMPTY_JSON)

    class Meta:
        db_table = "finance_import_mappings"
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        indexes = [models.Index(fields=["user"], name="idx_finance_mappings_user")]


class FinanceAlert(FinanceChild):
    """A budget threshold reached in one period, or a recurring payment due: shown as a banner on the
    finance pages and emailed once (the unique constraints make each exactly once)."""

    class Kind(models.TextChoices):
        BUDGET = "BUDGET", _("Budget")
        DUE = "DUE", _("Payment due")

    financial_profile = fields.ForeignKey(FinancialProfile, db_on_delete="CASCADE", related_name="alerts")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    budget = fields.ForeignKey(Budget, db_on_delete="CASCADE", null=True, blank=True, related_name="alerts")
    recurring_payment = fields.ForeignKey(RecurringPayment, db_on_delete="CASCADE", null=True, blank=True, related_name="alerts")
    period_start = models.DateField(_("period"))
    threshold = models.IntegerField(_("threshold (%)"), default=0, db_default=0)
    dismissed = models.BooleanField(_("dismissed"), default=False, db_default=False)

    class Meta:
        db_table = "finance_alerts"
        verbose_name = _("finance alert")
        verbose_name_plural = _("finance alerts")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["BUDGET", "DUE"]), name="finance_alerts_kind_valid"),
            models.CheckConstraint(
                condition=(Q(kind="BUDGET") & Q(budget__isnull=False) & Q(recurring_payment__isnull=True))
                | (Q(kind="DUE") & Q(recurring_payment__isnull=False) & Q(budget__isnull=True)),
                name="finance_alerts_one_subject",
            ),
            models.UniqueConstraint(fields=["budget", "period_start", "threshold"], condition=Q(budget__isnull=False), name="finance_alerts_budget_once"),
            models.UniqueConstraint(fields=["recurring_payment", "period_start"], condition=Q(recurring_payment__isnull=False), name="finance_alerts_due_once"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_finance_alerts_user")]
