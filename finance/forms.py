"""Forms of the finance pages. Amounts are typed in the person's language (finance.money.parse_amount)
and checked against the currency they are in; every refusal is a translated message on its field."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .errors import FinanceError, MoneyError
from .imports import DATE_FORMATS, DECIMAL_FORMATS
from .models import AccountType, DebtType, InvestmentType, Period, TransactionType
from .money import CURRENCY_CHOICES, check_amount, parse_amount, parse_rate

FREQUENCIES = [("WEEKLY", _("Weekly")), ("BIWEEKLY", _("Every two weeks")), ("MONTHLY", _("Monthly")),
               ("QUARTERLY", _("Quarterly")), ("YEARLY", _("Yearly"))]
BUDGET_PERIODS = [(Period.WEEKLY, Period.WEEKLY.label), (Period.MONTHLY, Period.MONTHLY.label), (Period.YEARLY, Period.YEARLY.label)]


def money_field(label, *, required=True, help_text=""):
    return forms.CharField(label=label, required=required, max_length=40, help_text=help_text,
                           widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))


def date_field(label, *, required=True):
    return forms.DateField(label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class MoneyFormMixin:
    """Parse the money fields named in ``money_fields`` against ``currency_for(name)``."""

    money_fields: dict[str, dict] = {}

    def currency_for(self, name: str) -> str | None:
        return None

    def _parse_money(self, name: str):
        raw = self.cleaned_data.get(name)
        options = self.money_fields[name]
        if raw in (None, ""):
            return None
        try:
            return parse_amount(raw, currency=self.currency_for(name), language=get_language(), **options)
        except MoneyError as exc:
            self.add_error(name, exc.message)
            return None

    def clean(self):
        data = super().clean()
        for name in self.money_fields:
            if name in data and not self.has_error(name):
                data[name] = self._parse_money(name)
        return data


class ProfileForm(MoneyFormMixin, forms.Form):
    money_fields = {"monthly_income": {"allow_zero": True}, "savings_goal": {"allow_zero": True}}
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES,
                                 help_text=_("Totals, budgets and reports are shown in this currency."))
    monthly_income = money_field(_("Monthly income"), required=False)
    savings_goal = money_field(_("Savings goal"), required=False)

    def currency_for(self, name):
        return self.cleaned_data.get("currency")


class AccountForm(MoneyFormMixin, forms.Form):
    money_fields = {"opening_balance": {"allow_zero": True, "allow_negative": True}, "credit_limit": {"allow_zero": True}}
    name = forms.CharField(label=_("Name"), max_length=120)
    type = forms.ChoiceField(label=_("Type"), choices=AccountType.choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    opening_balance = money_field(_("Opening balance"), required=False,
                                  help_text=_("What the account held before the first transaction you record. Negative for a debt."))
    credit_limit = money_field(_("Credit limit"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        if account is not None:
            self.fields["currency"].disabled = True
            self.fields["currency"].help_text = _("The currency cannot change once the account exists.")

    def currency_for(self, name):
        return self.account.currency if self.account else self.cleaned_data.get("currency")


class TransactionForm(MoneyFormMixin, forms.Form):
    money_fields = {"amount": {}}
    type = forms.ChoiceField(label=_("Type"), choices=[(TransactionType.EXPENSE, TransactionType.EXPENSE.label),
                                                        (TransactionType.INCOME, TransactionType.INCOME.label)])
    account = forms.ModelChoiceField(label=_("Account"), queryset=None, empty_label=None)
    date = date_field(_("Date"))
    amount = money_field(_("Amount"))
    description = forms.CharField(label=_("Description"), max_length=500)
    category = forms.ChoiceField(label=_("Category"), required=False)
    subcategory = forms.CharField(label=_("Subcategory"), required=False, max_length=60)
    tags = forms.CharField(label=_("Tags"), required=False, max_length=400, help_text=_("Separated by commas."))

    def __init__(self, *args, accounts=None, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        self.fields["category"].choices = [("", "—")] + [(c, c) for c in categories]

    def currency_for(self, name):
        account = self.cleaned_data.get("account")
        return account.currency if account else None

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]


class TransferForm(MoneyFormMixin, forms.Form):
    money_fields = {"amount": {}, "to_amount": {}}
    from_account = forms.ModelChoiceField(label=_("From"), queryset=None, empty_label=None)
    to_account = forms.ModelChoiceField(label=_("To"), queryset=None, empty_label=None)
    date = date_field(_("Date"))
    amount = money_field(_("Amount sent"))
    to_amount = money_field(_("Amount received"), required=False,
                            help_text=_("Only when the accounts use different currencies."))
    description = forms.CharField(label=_("Description"), max_length=500)

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_account"].queryset = accounts
        self.fields["to_account"].queryset = accounts
        self.fields["from_account"].error_messages["invalid_choice"] = _("Choose one of your accounts.")
        self.fields["to_account"].error_messages["invalid_choice"] = _("Choose one of your accounts.")

    def currency_for(self, name):
        account = self.cleaned_data.get("to_account" if name == "to_amount" else "from_account")
        return account.currency if account else None

    def clean(self):
        data = super().clean()
        a, b = data.get("from_account"), data.get("to_account")
        if a and b and a.pk == b.pk:
            self.add_error("to_account", _("A transfer needs two different accounts."))
        return data


class TransactionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    account = forms.ModelChoiceField(label=_("Account"), queryset=None, required=False, empty_label=_("All accounts"))
    category = forms.ChoiceField(label=_("Category"), required=False)
    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types"))] + list(TransactionType.choices))
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    amount_min = forms.CharField(label=_("Minimum amount"), required=False, max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    amount_max = forms.CharField(label=_("Maximum amount"), required=False, max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args, accounts=None, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        self.fields["category"].choices = [("", _("All categories"))] + [(c, c) for c in categories]

    def _amount(self, name):
        raw = self.cleaned_data.get(name)
        if not raw:
            return None
        try:
            return parse_amount(raw, language=get_language(), allow_zero=True)
        except MoneyError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_amount_min(self):
        return self._amount("amount_min")

    def clean_amount_max(self):
        return self._amount("amount_max")


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    parent = forms.ModelChoiceField(label=_("Under"), queryset=None, required=False, empty_label=_("(top level)"))

    def __init__(self, *args, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents


class RateForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    date = date_field(_("Date"))
    rate = forms.CharField(label=_("Rate"), max_length=40, help_text=_("What one unit of that currency is worth in your profile currency."))

    def clean_rate(self):
        try:
            return parse_rate(self.cleaned_data["rate"], language=get_language())
        except MoneyError as exc:
            raise forms.ValidationError(exc.message) from None


class BudgetForm(MoneyFormMixin, forms.Form):
    money_fields = {"amount": {}}
    name = forms.CharField(label=_("Name"), max_length=120)
    category = forms.ChoiceField(label=_("Category"))
    account = forms.ModelChoiceField(label=_("Account"), queryset=None, required=False, empty_label=_("All accounts"))
    amount = money_field(_("Amount"))
    period = forms.ChoiceField(label=_("Period"), choices=BUDGET_PERIODS, initial=Period.MONTHLY)
    start_date = date_field(_("Start"))
    end_date = date_field(_("End"), required=False)
    alert_threshold = forms.IntegerField(label=_("Alert at (%)"), initial=80, error_messages={
        "min_value": _("The alert threshold is a percentage between 1 and 100."),
        "max_value": _("The alert threshold is a percentage between 1 and 100.")}, min_value=1, max_value=100)
    rollover = forms.BooleanField(label=_("Carry the unspent (or overspent) amount into the next period"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, accounts=None, categories=(), profile_currency="USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.profile_currency = profile_currency
        self.fields["account"].queryset = accounts
        self.fields["category"].choices = [(c, c) for c in categories]

    def currency_for(self, name):
        account = self.cleaned_data.get("account")
        return account.currency if account else self.profile_currency

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", _("The end date comes before the start."))
        return data


class DebtForm(MoneyFormMixin, forms.Form):
    money_fields = {"principal": {}, "balance": {"allow_zero": True}, "monthly_payment": {"allow_zero": True}}
    name = forms.CharField(label=_("Name"), max_length=120)
    type = forms.ChoiceField(label=_("Type"), choices=DebtType.choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    principal = money_field(_("Principal"))
    balance = money_field(_("Balance today"), required=False, help_text=_("Empty: the principal."))
    interest_rate = forms.DecimalField(label=_("Annual interest rate (%)"), min_value=0, max_value=100, max_digits=6, decimal_places=3,
                                       localize=True, error_messages={
                                           "max_value": _("The annual interest rate is a percentage between 0 and 100."),
                                           "min_value": _("The annual interest rate is a percentage between 0 and 100.")})
    monthly_payment = money_field(_("Monthly payment"), required=False,
                                  help_text=_("Empty or 0: computed from the term (start to maturity)."))
    start_date = date_field(_("Start"))
    maturity_date = date_field(_("Maturity"), required=False)
    priority = forms.IntegerField(label=_("Priority"), initial=0, min_value=0, max_value=100)
    account_number = forms.CharField(label=_("Account number"), required=False, max_length=64,
                                     help_text=_("Stored encrypted; staff see it masked."))

    def currency_for(self, name):
        return self.cleaned_data.get("currency")

    def clean(self):
        data = super().clean()
        start, maturity = data.get("start_date"), data.get("maturity_date")
        if start and maturity and maturity <= start:
            self.add_error("maturity_date", _("The maturity date must come after the start date."))
        return data


class DebtPaymentForm(MoneyFormMixin, forms.Form):
    money_fields = {"amount": {}}
    date = date_field(_("Date"))
    amount = money_field(_("Amount"))

    def __init__(self, *args, currency="USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["date"].initial = dt.date.today

    def currency_for(self, name):
        return self.currency


class InvestmentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    type = forms.ChoiceField(label=_("Type"), choices=InvestmentType.choices)
    symbol = forms.CharField(label=_("Symbol"), required=False, max_length=20)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=20, decimal_places=8, localize=True)
    purchase_price = forms.DecimalField(label=_("Purchase price"), max_digits=16, decimal_places=4, min_value=0, localize=True)
    purchase_date = date_field(_("Purchase date"), required=False)
    current_price = forms.DecimalField(label=_("Current price"), required=False, max_digits=16, decimal_places=4, min_value=0, localize=True)
    price_date = date_field(_("Price date"), required=False)


class RecurringForm(MoneyFormMixin, forms.Form):
    money_fields = {"amount": {}}
    name = forms.CharField(label=_("Name"), max_length=120)
    amount = money_field(_("Amount"))
    frequency = forms.ChoiceField(label=_("Frequency"), choices=FREQUENCIES, initial="MONTHLY")
    category = forms.ChoiceField(label=_("Category"), required=False)
    start_date = date_field(_("First payment"))
    end_date = date_field(_("Last payment"), required=False)
    auto_debit = forms.BooleanField(label=_("Debit automatically"), required=False,
                                    help_text=_("On each due date the payment is recorded on the account; otherwise you get a reminder."))
    account = forms.ModelChoiceField(label=_("Account"), queryset=None, required=False, empty_label="—")
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, accounts=None, categories=(), profile_currency="USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.profile_currency = profile_currency
        self.fields["account"].queryset = accounts
        self.fields["category"].choices = [("", "—")] + [(c, c) for c in categories]

    def currency_for(self, name):
        account = self.cleaned_data.get("account")
        return account.currency if account else self.profile_currency

    def clean(self):
        data = super().clean()
        if data.get("auto_debit") and not data.get("account"):
            self.add_error("account", _("Choose the account to debit automatically."))
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", _("The end date comes before the start."))
        return data


class ImportForm(forms.Form):
    account = forms.ModelChoiceField(label=_("Account"), queryset=None, empty_label=None)
    source = forms.ChoiceField(label=_("Format"), choices=[("CSV", "CSV"), ("OFX", "OFX / QFX")], initial="CSV")
    file = forms.FileField(label=_("File"))
    delimiter = forms.ChoiceField(label=_("Separator"), required=False, choices=[(",", _("Comma")), (";", _("Semicolon")), ("\t", _("Tab"))])
    date_format = forms.ChoiceField(label=_("Date format"), required=False, choices=[(k, v) for k, v in DATE_FORMATS.items()])
    decimal = forms.ChoiceField(label=_("Decimal separator"), required=False, choices=[(k, v) for k, v in DECIMAL_FORMATS.items()])
    date = forms.CharField(label=_("Date column"), required=False, max_length=100, initial="Date")
    description = forms.CharField(label=_("Description column"), required=False, max_length=100, initial="Description")
    amount = forms.CharField(label=_("Amount column"), required=False, max_length=100, initial="Amount",
                             help_text=_("Signed: negative is money out. Or leave it empty and name the debit and credit columns."))
    debit = forms.CharField(label=_("Debit column"), required=False, max_length=100)
    credit = forms.CharField(label=_("Credit column"), required=False, max_length=100)
    category = forms.CharField(label=_("Category column"), required=False, max_length=100)

    MAPPING_KEYS = ("delimiter", "date_format", "decimal", "date", "description", "amount", "debit", "credit", "category")

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts

    def clean(self):
        data = super().clean()
        if data.get("source") == "CSV":
            if not data.get("date"):
                self.add_error("date", _("Name the column that holds the date."))
            if not data.get("description"):
                self.add_error("description", _("Name the column that holds the description."))
            if not data.get("amount") and not (data.get("debit") or data.get("credit")):
                self.add_error("amount", _("Name the amount column, or the debit and credit columns."))
        return data

    def mapping(self) -> dict:
        return {key: self.cleaned_data.get(key) or "" for key in self.MAPPING_KEYS}


class RatesFileForm(forms.Form):
    file = forms.FileField(label=_("Rates file (CSV)"), help_text=_("One line per rate: currency,date,rate — for example EUR,2024-05-31,1.0850."))


class PricesForm(forms.Form):
    file = forms.FileField(label=_("Prices file (CSV)"), help_text=_("One line per holding: symbol,price,date — for example VWCE,112.40,2024-05-31."))


class PayoffForm(forms.Form):
    extra = forms.CharField(label=_("Extra each month"), required=False, max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args, currency="USD", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_extra(self):
        raw = self.cleaned_data.get("extra")
        if not raw:
            return None
        try:
            return parse_amount(raw, currency=self.currency, language=get_language(), allow_zero=True)
        except MoneyError as exc:
            raise forms.ValidationError(exc.message) from None


def apply_service_error(form, exc: FinanceError) -> None:
    form.add_error(None, exc.message)


__all__ = ["apply_service_error", "check_amount"]
