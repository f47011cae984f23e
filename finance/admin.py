"""Finance in the admin: every page runs through the audited bypass (core.tenancy.TenantMiddleware
writes an audit_logs row naming the model, object and view); debt account numbers are masked.
Balances are kept by the database, so they are read-only here (a direct write would be ignored)."""

from django.contrib import admin

from core.admin import MaskedEncryptedFieldsMixin, ReadOnlyAdmin

from .models import (
    Budget,
    Category,
    Debt,
    DebtPayment,
    ExchangeRate,
    FinanceAlert,
    FinancialAccount,
    FinancialProfile,
    ImportBatch,
    ImportMapping,
    Investment,
    RecurringPayment,
    Transaction,
)


class OwnedAdmin(admin.ModelAdmin):
    """Finance rows: the owner is derived from the profile, never typed."""

    search_fields = ["user__email", "name"]
    list_select_related = ["user"]
    readonly_fields = ["user", "created_at"]
    autocomplete_fields = ["financial_profile"]


@admin.register(FinancialProfile)
class FinancialProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "currency", "created_at"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(FinancialAccount)
class FinancialAccountAdmin(OwnedAdmin):
    list_display = ["name", "type", "balance", "currency", "is_active", "user"]
    list_filter = ["type", "is_active", "currency"]
    readonly_fields = ["user", "balance", "created_at"]


@admin.register(Transaction)
class TransactionAdmin(OwnedAdmin):
    list_display = ["date", "description", "amount", "type", "category", "user"]
    list_filter = ["type", "category", "is_recurring"]
    search_fields = ["user__email", "description", "category"]
    autocomplete_fields = ["financial_profile", "account", "from_account", "to_account"]
    date_hierarchy = "date"
    readonly_fields = ["user", "transfer_id", "exchange_rate", "import_batch", "external_id", "recurring_payment", "created_at"]


@admin.register(Budget)
class BudgetAdmin(OwnedAdmin):
    list_display = ["name", "category", "amount", "period", "is_active", "user"]
    list_filter = ["period", "is_active"]


class DebtPaymentInline(admin.TabularInline):
    model = DebtPayment
    extra = 0
    fields = ["date", "amount", "principal_paid", "interest_paid"]


@admin.register(Debt)
class DebtAdmin(MaskedEncryptedFieldsMixin, OwnedAdmin):
    list_display = ["name", "type", "balance", "interest_rate", "status", "encrypted_values", "user"]
    list_filter = ["type", "status"]
    readonly_fields = ["user", "encrypted_values", "created_at"]
    inlines = [DebtPaymentInline]


@admin.register(Investment)
class InvestmentAdmin(OwnedAdmin):
    list_display = ["name", "type", "symbol", "quantity", "current_price", "returns_percentage", "user"]
    list_filter = ["type"]
    readonly_fields = ["user", "returns", "returns_percentage", "created_at"]  # computed from the prices
    search_fields = ["user__email", "name", "symbol"]


@admin.register(RecurringPayment)
class RecurringPaymentAdmin(OwnedAdmin):
    list_display = ["name", "amount", "frequency", "next_due_date", "is_active", "user"]
    list_filter = ["frequency", "is_active", "auto_debit"]
    autocomplete_fields = ["financial_profile", "account"]


@admin.register(DebtPayment)
class DebtPaymentAdmin(admin.ModelAdmin):
    list_display = ["date", "debt", "amount", "principal_paid", "interest_paid", "user"]
    search_fields = ["user__email", "debt__name"]
    autocomplete_fields = ["debt"]
    readonly_fields = ["user", "created_at"]
    list_select_related = ["debt", "user"]
    date_hierarchy = "date"


# Beyond the ERD: written by the app only (a rename carries over to transactions, imports hold their
# rows until confirmed, alerts are raised once), so staff read them.


@admin.register(Category)
class CategoryAdmin(ReadOnlyAdmin):
    list_display = ["name", "parent", "user"]
    search_fields = ["user__email", "name"]
    list_select_related = ["user", "parent"]
    fields = ["user", "parent", "name", "created_at"]
    readonly_fields = fields


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ["currency", "date", "rate", "user"]
    list_filter = ["currency"]
    search_fields = ["user__email", "currency"]
    list_select_related = ["user"]
    fields = ["user", "currency", "date", "rate", "created_at"]
    readonly_fields = fields


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["filename", "source", "status", "imported_count", "duplicate_count", "user", "created_at"]
    list_filter = ["source", "status"]
    search_fields = ["user__email", "filename"]
    list_select_related = ["user"]
    fields = ["user", "account", "source", "filename", "status", "imported_count", "duplicate_count", "created_at"]  # not the rows
    readonly_fields = fields


@admin.register(ImportMapping)
class ImportMappingAdmin(ReadOnlyAdmin):
    list_display = ["account", "user"]
    search_fields = ["user__email"]
    list_select_related = ["user", "account"]
    fields = ["user", "account", "mapping", "created_at"]
    readonly_fields = fields


@admin.register(FinanceAlert)
class FinanceAlertAdmin(ReadOnlyAdmin):
    list_display = ["kind", "budget", "recurring_payment", "period_start", "threshold", "dismissed", "user"]
    list_filter = ["kind", "dismissed"]
    search_fields = ["user__email"]
    list_select_related = ["user", "budget", "recurring_payment"]
    fields = ["user", "kind", "budget", "recurring_payment", "period_start", "threshold", "dismissed", "created_at"]
    readonly_fields = fields
