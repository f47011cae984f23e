"""Writes of the finance domain. Each service is one database transaction, run for the user.

Balances are never written here: the database keeps them from the transactions (migration 0004).
Every amount is checked against its currency (finance.money) before it reaches a row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.tenancy import tenant

from . import tasks
from .amortization import schedule, term_months
from .dates import occurrence_after
from .errors import FinanceError
from .models import (
    AccountType,
    Budget,
    Category,
    Debt,
    DebtPayment,
    ExchangeRate,
    FinancialAccount,
    FinancialProfile,
    Investment,
    RecurringPayment,
    Transaction,
    TransactionType,
)
from .money import CURRENCIES, check_amount, round_money

# The default categories: (English, Spanish) and their subcategories.
DEFAULT_CATEGORIES: list[tuple[tuple[str, str], list[tuple[str, str]]]] = [
    (("Housing", "Vivienda"), [("Rent", "Alquiler"), ("Utilities", "Servicios"), ("Maintenance", "Mantenimiento")]),
    (("Food", "Comida"), [("Groceries", "Supermercado"), ("Restaurants", "Restaurantes")]),
    (("Transport", "Transporte"), [("Fuel", "Combustible"), ("Public transport", "Transporte público")]),
    (("Health", "Salud"), [("Pharmacy", "Farmacia"), ("Insurance", "Seguro")]),
    (("Leisure", "Ocio"), [("Subscriptions", "Suscripciones"), ("Travel", "Viajes")]),
    (("Shopping", "Compras"), [("Clothing", "Ropa"), ("Electronics", "Electrónica")]),
    (("Income", "Ingresos"), [("Salary", "Salario"), ("Interest", "Intereses")]),
    (("Other", "Otros"), []),
]
LIABILITY_TYPES = frozenset({AccountType.CREDIT_CARD, AccountType.LOAN})


def _check_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise FinanceError(_("%(code)s is not a currency we know.") % {"code": code})
    return code


# --- profile and categories -------------------------------------------------------------------------


def profile_for(user, *, language: str = "en") -> FinancialProfile:
    """The person's profile, created with the default categories in their language on first use."""
    with tenant(user.pk):
        profile = FinancialProfile.objects.filter(user=user).first()
        if profile is not None:
            return profile
        try:
            with transaction.atomic():
                profile = FinancialProfile.objects.create(user=user)
                categories_seed(profile, language=language)
        except IntegrityError:  # another request created it first
            profile = FinancialProfile.objects.get(user=user)
        return profile


def categories_seed(profile: FinancialProfile, *, language: str = "en") -> None:
    spanish = (language or "en").startswith("es")
    for names, children in DEFAULT_CATEGORIES:
        parent = Category.objects.create(financial_profile=profile, user_id=profile.user_id, name=names[spanish])
        Category.objects.bulk_create(
            [Category(financial_profile=profile, user_id=profile.user_id, parent=parent, name=child[spanish]) for child in children]
        )


def profile_update(profile: FinancialProfile, *, currency: str, monthly_income: Decimal | None, savings_goal: Decimal | None) -> FinancialProfile:
    _check_currency(currency)
    profile.currency = currency
    profile.monthly_income = None if monthly_income is None else check_amount(monthly_income, currency=currency, allow_zero=True)
    profile.savings_goal = None if savings_goal is None else check_amount(savings_goal, currency=currency, allow_zero=True)
    with tenant(profile.user_id):
        profile.save(update_fields=["currency", "monthly_income", "savings_goal"])
    return profile


def category_save(profile: FinancialProfile, *, name: str, parent: Category | None = None, category: Category | None = None) -> Category:
    """Create or rename a category; a rename carries over to the transactions and budgets using it."""
    name = name.strip()
    if not name:
        raise FinanceError(_("Give the category a name."))
    with tenant(profile.user_id):
        try:
            with transaction.atomic():
                if category is None:
                    return Category.objects.create(financial_profile=profile, user_id=profile.user_id, parent=parent, name=name)
                old = category.name
                category.name = name
                category.save(update_fields=["name"])
                if category.parent_id is None:
                    Transaction.objects.filter(financial_profile=profile, category=old).update(category=name)
                    Budget.objects.filter(financial_profile=profile, category=old).update(category=name)
                    RecurringPayment.objects.filter(financial_profile=profile, category=old).update(category=name)
                else:
                    Transaction.objects.filter(financial_profile=profile, category=category.parent.name, subcategory=old).update(subcategory=name)
                return category
        except IntegrityError:
            raise FinanceError(_("There is already a category with that name here.")) from None


def category_delete(category: Category) -> None:
    """Removes the category from the list; transactions keep their text."""
    with tenant(category.user_id):
        category.delete()


# --- accounts -----------------------------------------------------------------------------------------


def account_create(profile: FinancialProfile, *, name: str, type: str, currency: str, opening_balance: Decimal = Decimal(0),
                   credit_limit: Decimal | None = None, is_active: bool = True) -> FinancialAccount:
    _check_currency(currency)
    opening = check_amount(Decimal(opening_balance), currency=currency, allow_zero=True, allow_negative=True)
    limit = None if credit_limit is None else check_amount(credit_limit, currency=currency, allow_zero=True)
    with tenant(profile.user_id):
        return FinancialAccount.objects.create(
            financial_profile=profile, user_id=profile.user_id, name=name.strip(), type=type, currency=currency,
            opening_balance=opening, credit_limit=limit, is_active=is_active,
        )


def account_update(account: FinancialAccount, *, name: str, type: str, opening_balance: Decimal, credit_limit: Decimal | None,
                   is_active: bool) -> FinancialAccount:
    """The currency is fixed once the account exists (its transactions are in it)."""
    account.name = name.strip()
    account.type = type
    account.opening_balance = check_amount(Decimal(opening_balance), currency=account.currency, allow_zero=True, allow_negative=True)
    account.credit_limit = None if credit_limit is None else check_amount(credit_limit, currency=account.currency, allow_zero=True)
    account.is_active = is_active
    with tenant(account.user_id):
        account.save(update_fields=["name", "type", "opening_balance", "credit_limit", "is_active"])
        account.refresh_from_db(fields=["balance"])
    return account


def account_delete(account: FinancialAccount) -> None:
    """Its transactions stay, unlinked (the ERD's SET NULL)."""
    with tenant(account.user_id):
        account.delete()


# --- transactions ---------------------------------------------------------------------------------------


def _clean_tags(tags: list[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        tag = tag.strip()[:40]
        if tag and tag not in seen:
            seen.append(tag)
    return seen[:20]


def _enqueue_budget_check(user_id) -> None:
    tasks.check_budgets.delay(str(user_id))


def _budget_check_on_commit(user_id) -> None:
    """Budgets are checked for thresholds once the writing transaction has committed."""
    transaction.on_commit(partial(_enqueue_budget_check, user_id), robust=True)


def transaction_create(profile: FinancialProfile, *, account: FinancialAccount, type: str, date: dt.date, amount: Decimal,
                       description: str, category: str = "", subcategory: str = "", tags: list[str] | None = None,
                       **extra) -> Transaction:
    """An income or an expense on one account (transfers: ``transfer_create``)."""
    if type not in (TransactionType.INCOME, TransactionType.EXPENSE):
        raise FinanceError(_("Record a transfer with the transfer form."))
    amount = check_amount(Decimal(amount), currency=account.currency)
    with tenant(profile.user_id):
        row = Transaction.objects.create(
            financial_profile=profile, user_id=profile.user_id, account=account, currency=account.currency, type=type,
            date=date, amount=amount, description=description.strip()[:500], category=category, subcategory=subcategory,
            tags=_clean_tags(tags or []), **extra,
        )
        _budget_check_on_commit(profile.user_id)
        return row


def transaction_update(row: Transaction, *, account: FinancialAccount, type: str, date: dt.date, amount: Decimal, description: str,
                       category: str = "", subcategory: str = "", tags: list[str] | None = None) -> Transaction:
    """Editing moves the amount between accounts through the same trigger (old row out, new row in)."""
    if row.type == TransactionType.TRANSFER or type == TransactionType.TRANSFER:
        raise FinanceError(_("Edit a transfer with the transfer form."))
    row.account = account
    row.currency = account.currency
    row.type = type
    row.date = date
    row.amount = check_amount(Decimal(amount), currency=account.currency)
    row.description = description.strip()[:500]
    row.category, row.subcategory, row.tags = category, subcategory, _clean_tags(tags or [])
    with tenant(row.user_id):
        row.save(update_fields=["account", "currency", "type", "date", "amount", "description", "category", "subcategory", "tags"])
        _budget_check_on_commit(row.user_id)
    return row


def transaction_delete(row: Transaction) -> None:
    """A transfer goes with both legs."""
    with tenant(row.user_id):
        if row.transfer_id:
            Transaction.objects.filter(user_id=row.user_id, transfer_id=row.transfer_id).delete()
        else:
            row.delete()


def transfer_create(profile: FinancialProfile, *, from_account: FinancialAccount, to_account: FinancialAccount, date: dt.date,
                    amount: Decimal, description: str, to_amount: Decimal | None = None, tags: list[str] | None = None,
                    transfer_id: uuid.UUID | None = None) -> tuple[Transaction, Transaction]:
    """Two legs in one transaction: out of ``from_account`` in its currency, into ``to_account`` in
    its own. Across currencies the arriving amount is required and the rate (to / from) is stored
    on both legs. A transfer is never income or expense, so budgets and reports ignore it."""
    if from_account.pk == to_account.pk:
        raise FinanceError(_("A transfer needs two different accounts."))
    if from_account.user_id != profile.user_id or to_account.user_id != profile.user_id:
        raise FinanceError(_("Choose one of your accounts."))
    amount = check_amount(Decimal(amount), currency=from_account.currency)
    if from_account.currency == to_account.currency:
        if to_amount is not None and Decimal(to_amount) != amount:
            raise FinanceError(_("Both accounts use %(code)s: the amount arriving is the amount sent.") % {"code": from_account.currency})
        arriving, rate = amount, None
    else:
        if to_amount is None:
            raise FinanceError(
                _("The accounts use different currencies: enter the amount that arrives in %(code)s.") % {"code": to_account.currency}
            )
        arriving = check_amount(Decimal(to_amount), currency=to_account.currency)
        rate = (arriving / amount).quantize(Decimal("0.0000000001"), rounding=ROUND_HALF_UP)
    link = transfer_id or uuid.uuid4()
    common = dict(
        financial_profile=profile, user_id=profile.user_id, type=TransactionType.TRANSFER, date=date,
        description=description.strip()[:500], tags=_clean_tags(tags or []), from_account=from_account, to_account=to_account,
        transfer_id=link, exchange_rate=rate, category="", subcategory="",
    )
    with tenant(profile.user_id):
        legs = Transaction.objects.bulk_create([
            Transaction(account=from_account, currency=from_account.currency, amount=amount, **common),
            Transaction(account=to_account, currency=to_account.currency, amount=arriving, **common),
        ])
    return legs[0], legs[1]


def transfer_update(row: Transaction, **kwargs) -> tuple[Transaction, Transaction]:
    """Replace both legs (same link id) in one transaction; balances follow through the trigger."""
    with tenant(row.user_id), transaction.atomic():
        link = row.transfer_id
        Transaction.objects.filter(user_id=row.user_id, transfer_id=link).delete()
        return transfer_create(row.financial_profile, transfer_id=link, **kwargs)


# --- exchange rates ---------------------------------------------------------------------------------------


def rate_set(profile: FinancialProfile, *, currency: str, date: dt.date, rate: Decimal) -> ExchangeRate:
    _check_currency(currency)
    if currency == profile.currency:
        raise FinanceError(_("%(code)s is your profile currency: it needs no rate.") % {"code": currency})
    rate = Decimal(rate)
    if not rate.is_finite() or rate <= 0 or rate >= Decimal("100000000000000"):
        raise FinanceError(_("Enter a rate greater than zero."))
    with tenant(profile.user_id):
        row, _created = ExchangeRate.objects.update_or_create(
            financial_profile=profile, currency=currency, date=date, defaults={"rate": rate, "user_id": profile.user_id},
        )
        return row


def rates_import(profile: FinancialProfile, rates: list[tuple[str, dt.date, Decimal]]) -> int:
    """Many rates at once (a rates CSV), each replacing the one of its currency and day; all or none."""
    with tenant(profile.user_id), transaction.atomic():
        for currency, day, rate in rates:
            rate_set(profile, currency=currency, date=day, rate=rate)
    return len(rates)


def rate_delete(rate: ExchangeRate) -> None:
    with tenant(rate.user_id):
        rate.delete()


# --- budgets ------------------------------------------------------------------------------------------------


def budget_save(profile: FinancialProfile, *, name: str, category: str, amount: Decimal, period: str, start_date: dt.date,
                end_date: dt.date | None, alert_threshold: int, account: FinancialAccount | None = None, rollover: bool = False,
                is_active: bool = True, budget: Budget | None = None) -> Budget:
    if not 1 <= int(alert_threshold) <= 100:
        raise FinanceError(_("The alert threshold is a percentage between 1 and 100."))
    if end_date and end_date < start_date:
        raise FinanceError(_("The end date comes before the start."))
    currency = account.currency if account else profile.currency
    values = dict(
        name=name.strip(), category=category, amount=check_amount(Decimal(amount), currency=currency), period=period,
        start_date=start_date, end_date=end_date, alert_threshold=int(alert_threshold), account=account, rollover=rollover,
        is_active=is_active,
    )
    with tenant(profile.user_id):
        if budget is None:
            budget = Budget.objects.create(financial_profile=profile, user_id=profile.user_id, **values)
        else:
            for key, value in values.items():
                setattr(budget, key, value)
            budget.save(update_fields=list(values))
        _budget_check_on_commit(profile.user_id)
        return budget


def budget_delete(budget: Budget) -> None:
    with tenant(budget.user_id):
        budget.delete()


# --- debts --------------------------------------------------------------------------------------------------


def debt_save(profile: FinancialProfile, *, name: str, type: str, currency: str, principal: Decimal, balance: Decimal | None,
              interest_rate: Decimal, monthly_payment: Decimal, start_date: dt.date | None, maturity_date: dt.date | None,
              priority: int = 0, account_number: str = "", debt: Debt | None = None) -> Debt:
    _check_currency(currency)
    principal = check_amount(Decimal(principal), currency=currency)
    balance = principal if balance is None else check_amount(Decimal(balance), currency=currency, allow_zero=True)
    payment = check_amount(Decimal(monthly_payment), currency=currency, allow_zero=True)
    rate = Decimal(interest_rate)
    if not rate.is_finite() or not 0 <= rate <= 100:
        raise FinanceError(_("The annual interest rate is a percentage between 0 and 100."))
    if rate != rate.quantize(Decimal("0.001")):
        raise FinanceError(_("The interest rate has at most 3 decimals."))
    if start_date and maturity_date and maturity_date <= start_date:
        raise FinanceError(_("The maturity date must come after the start date."))
    if start_date and (payment or maturity_date):  # the plan must be computable (refuses a payment below the interest)
        schedule(principal=principal, annual_rate=rate, start=start_date, currency=currency, monthly_payment=payment,
                 months=term_months(start_date, maturity_date))
    values = dict(
        name=name.strip(), type=type, currency=currency, principal=principal, balance=balance, interest_rate=rate,
        monthly_payment=payment, start_date=start_date, maturity_date=maturity_date, priority=priority,
        account_number=account_number or None, status="PAID_OFF" if balance == 0 else "ACTIVE",
    )
    with tenant(profile.user_id):
        if debt is None:
            return Debt.objects.create(financial_profile=profile, user_id=profile.user_id, **values)
        for key, value in values.items():
            setattr(debt, key, value)
        debt.save(update_fields=list(values))
        return debt


def debt_delete(debt: Debt) -> None:
    with tenant(debt.user_id):
        debt.delete()


def debt_payment_record(debt: Debt, *, date: dt.date, amount: Decimal) -> DebtPayment:
    """Interest accrued since the last payment (actual/365 on the balance, half-up) is paid first, the
    rest lowers the balance; a payment of more than is owed is refused. PAID_OFF at zero."""
    with tenant(debt.user_id), transaction.atomic():
        debt = Debt.objects.select_for_update().get(pk=debt.pk)
        if debt.status == "PAID_OFF" or debt.balance <= 0:
            raise FinanceError(_("This debt is already paid off."))
        amount = check_amount(Decimal(amount), currency=debt.currency)
        last = DebtPayment.objects.filter(debt=debt).order_by("-date").values_list("date", flat=True).first()
        since = last or debt.start_date or date
        if date < since:
            raise FinanceError(_("The payment date comes before the last payment or the start of the debt."))
        days = (date - since).days
        interest = round_money(debt.balance * debt.interest_rate / 100 * days / 365, debt.currency)
        owed = debt.balance + interest
        if amount > owed:
            raise FinanceError(_("That is more than you owe (%(owed)s).") % {"owed": owed})
        interest_paid = min(interest, amount)
        principal_paid = amount - interest_paid
        payment = DebtPayment.objects.create(
            debt=debt, user_id=debt.user_id, date=date, amount=amount, principal_paid=principal_paid, interest_paid=interest_paid,
        )
        debt.balance -= principal_paid
        if debt.balance <= 0:
            debt.balance, debt.status = Decimal(0), "PAID_OFF"
        debt.save(update_fields=["balance", "status"])
        return payment


# --- investments ---------------------------------------------------------------------------------------------


def _returns(investment: Investment) -> None:
    """returns = (current − purchase) · quantity and its percentage of the cost; NULL with no current price."""
    if investment.current_price is None:
        investment.returns = investment.returns_percentage = None
        return
    cost = investment.purchase_price * investment.quantity
    investment.returns = round_money((investment.current_price - investment.purchase_price) * investment.quantity, investment.currency)
    investment.returns_percentage = (
        ((investment.current_price - investment.purchase_price) * investment.quantity / cost * 100).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        if cost else None
    )


def _check_price(value: Decimal | None, label: str) -> Decimal | None:
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite() or value < 0 or value >= Decimal("1000000000000"):
        raise FinanceError(_("Enter a valid %(field)s.") % {"field": label})
    if value != value.quantize(Decimal("0.0001")):
        raise FinanceError(_("Prices have at most 4 decimals."))
    return value


def investment_save(profile: FinancialProfile, *, name: str, type: str, symbol: str, currency: str, quantity: Decimal,
                    purchase_price: Decimal, current_price: Decimal | None, purchase_date: dt.date | None, price_date: dt.date | None,
                    investment: Investment | None = None) -> Investment:
    _check_currency(currency)
    quantity = Decimal(quantity)
    if not quantity.is_finite() or quantity <= 0 or quantity >= Decimal("1000000000000") or quantity != quantity.quantize(Decimal("0.00000001")):
        raise FinanceError(_("Enter a quantity greater than zero with at most 8 decimals."))
    values = dict(
        name=name.strip(), type=type, symbol=symbol.strip().upper(), currency=currency, quantity=quantity,
        purchase_price=_check_price(purchase_price, _("purchase price")), current_price=_check_price(current_price, _("current price")),
        purchase_date=purchase_date, price_date=price_date if current_price is not None else None,
    )
    with tenant(profile.user_id):
        if investment is None:
            investment = Investment(financial_profile=profile, user_id=profile.user_id)
        for key, value in values.items():
            setattr(investment, key, value)
        _returns(investment)
        investment.save()
        return investment


def investment_delete(investment: Investment) -> None:
    with tenant(investment.user_id):
        investment.delete()


def investment_prices_set(profile: FinancialProfile, prices: list[tuple[str, Decimal, dt.date]]) -> int:
    """Current prices by symbol (from the prices CSV); returns how many holdings changed."""
    changed = 0
    with tenant(profile.user_id):
        holdings = {}
        for inv in Investment.objects.filter(financial_profile=profile).exclude(symbol=""):
            holdings.setdefault(inv.symbol, []).append(inv)
        for symbol, price, day in prices:
            for inv in holdings.get(symbol.upper(), []):
                inv.current_price, inv.price_date = _check_price(price, _("current price")), day
                _returns(inv)
                inv.save(update_fields=["current_price", "price_date", "returns", "returns_percentage"])
                changed += 1
    return changed


# --- recurring payments -------------------------------------------------------------------------------------


def recurring_save(profile: FinancialProfile, *, name: str, amount: Decimal, frequency: str, category: str, start_date: dt.date,
                   end_date: dt.date | None, auto_debit: bool, account: FinancialAccount | None, is_active: bool = True,
                   recurring: RecurringPayment | None = None) -> RecurringPayment:
    if auto_debit and account is None:
        raise FinanceError(_("Choose the account to debit automatically."))
    if end_date and end_date < start_date:
        raise FinanceError(_("The end date comes before the start."))
    currency = account.currency if account else profile.currency
    values = dict(
        name=name.strip(), amount=check_amount(Decimal(amount), currency=currency), frequency=frequency, category=category,
        start_date=start_date, end_date=end_date, auto_debit=auto_debit, account=account, is_active=is_active,
    )
    with tenant(profile.user_id):
        if recurring is None:
            recurring = RecurringPayment(financial_profile=profile, user_id=profile.user_id, next_due_date=start_date, **values)
        else:
            schedule_changed = (recurring.start_date, recurring.frequency) != (start_date, frequency)
            for key, value in values.items():
                setattr(recurring, key, value)
            if schedule_changed:  # the next occurrence of the new schedule not before today
                today = timezone.localdate()
                recurring.next_due_date = start_date if start_date >= today else occurrence_after(start_date, frequency, today - dt.timedelta(days=1))
        recurring.save()
        return recurring


def recurring_delete(recurring: RecurringPayment) -> None:
    with tenant(recurring.user_id):
        recurring.delete()

