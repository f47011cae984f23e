from django.contrib import admin

from core.admin import MaskedEncryptedFieldsMixin

from .models import Budget, Debt, DebtPayment, FinancialAccount, FinancialProfile, Investment, RecurringPayment, Transaction


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


@admin.register(Transaction)
class TransactionAdmin(OwnedAdmin):
    list_display = ["date", "description", "amount", "type", "category", "user"]
    list_filter = ["type", "category", "is_recurring"]
    search_fields = ["user__email", "description", "category"]
    autocomplete_fields = ["financial_profile", "account", "from_account", "to_account"]
    date_hierarchy = "date"


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
