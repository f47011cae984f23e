"""Reads of the finance domain, scoped to the person (RLS is the second wall).

Totals are converted to the profile currency in PostgreSQL with the latest rate on or before each
transaction's date; a transaction with no such rate is counted as missing (the total is marked
incomplete), never converted at 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.http import Http404

from core.search import folded_contains, folded_like_sql, like_pattern

from .dates import period_bounds
from .models import (
    AccountType,
    Budget,
    Category,
    Debt,
    ExchangeRate,
    FinanceAlert,
    FinancialAccount,
    FinancialProfile,
    ImportBatch,
    Investment,
    RecurringPayment,
    Transaction,
    TransactionType,
)
from .money import round_money

LIABILITIES = (AccountType.CREDIT_CARD, AccountType.LOAN)
MONEY = DecimalField(max_digits=30, decimal_places=10)


def get_owned(model, user, pk):
    """One of the person's rows, or 404 (another person's id answers exactly like a missing one)."""
    row = model.objects.filter(pk=pk, user=user).first()
    if row is None:
        raise Http404
    return row


def profile_of(user) -> FinancialProfile | None:
    return FinancialProfile.objects.filter(user=user).first()


@dataclass
class Total:
    """A sum in the profile currency; ``missing`` lists the currencies with no rate (incomplete)."""

    amount: Decimal
    currency: str
    missing: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        return not self.missing


def _rate_subquery(date_ref: str = "date", currency_ref: str = "currency"):
    return Subquery(
        ExchangeRate.objects.filter(
            financial_profile=OuterRef("financial_profile"), currency=OuterRef(currency_ref), date__lte=OuterRef(date_ref)
        ).order_by("-date").values("rate")[:1],
        output_field=MONEY,
    )


def with_converted(queryset, profile_currency: str):
    """Annotate ``converted`` (the amount in the profile currency, NULL when no rate) and ``signed``."""
    return queryset.annotate(
        rate=Case(When(currency=profile_currency, then=Value(Decimal(1), output_field=MONEY)), default=_rate_subquery(), output_field=MONEY),
    ).annotate(converted=ExpressionWrapper(F("amount") * F("rate"), output_field=MONEY))


def converted_total(queryset, profile_currency: str) -> Total:
    rows = (
        with_converted(queryset, profile_currency)
        .values("currency")
        .annotate(total=Sum("converted"), missing=Count("id", filter=Q(rate__isnull=True)))
    )
    total, missing = Decimal(0), set()
    for row in rows:
        total += row["total"] or 0
        if row["missing"]:
            missing.add(row["currency"])
    return Total(round_money(total, profile_currency), profile_currency, missing)


# --- accounts and net worth -------------------------------------------------------------------------


def accounts_of(user, *, active_only: bool = False):
    qs = FinancialAccount.objects.filter(user=user).order_by("-is_active", "name")
    return qs.filter(is_active=True) if active_only else qs


def latest_rates(profile: FinancialProfile, on: dt.date) -> dict[str, Decimal]:
    """Each currency's latest rate on or before ``on``. One query."""
    rows = (
        ExchangeRate.objects.filter(financial_profile=profile, date__lte=on)
        .order_by("currency", "-date").distinct("currency").values_list("currency", "rate")
    )
    return dict(rows)


def net_worth(profile: FinancialProfile, accounts: list[FinancialAccount], *, on: dt.date | None = None) -> dict:
    """Assets − liabilities in the profile currency. A balance below zero is owed (a card or a loan is
    spent from, so its balance goes negative), above zero is held; an account in a currency with no
    rate is left out and the figure marked incomplete. Transfers move money between two of these
    balances, so they never change the total."""
    on = on or dt.date.today()
    rates = latest_rates(profile, on) if any(a.currency != profile.currency for a in accounts) else {}
    assets, liabilities, missing = Decimal(0), Decimal(0), set()
    for account in accounts:
        if account.currency == profile.currency:
            value = account.balance
        elif account.currency in rates:
            value = account.balance * rates[account.currency]
        else:
            missing.add(account.currency)
            continue
        if value < 0:
            liabilities -= value
        else:
            assets += value
    total = assets - liabilities
    c = profile.currency
    return {"assets": round_money(assets, c), "liabilities": round_money(liabilities, c), "total": round_money(total, c),
            "currency": c, "missing": sorted(missing), "complete": not missing}


# --- transactions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransactionFilters:
    q: str = ""
    account: object = None
    category: str = ""
    type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None


def transactions_of(user, filters: TransactionFilters):
    """The list, newest first; a transfer shows as its outgoing leg (the other leg is the same move)."""
    qs = (
        Transaction.objects.filter(user=user)
        .exclude(Q(type=TransactionType.TRANSFER) & ~Q(account_id=F("from_account_id")) & Q(from_account__isnull=False))
        .select_related("account", "to_account", "from_account")
        .order_by("-date", "-created_at", "-id")
    )
    if filters.q:
        qs = folded_contains(qs, filters.q, "description", "category", "tags")
    if filters.account:
        qs = qs.filter(Q(account_id=filters.account) | Q(to_account_id=filters.account) | Q(from_account_id=filters.account))
    if filters.category:
        qs = qs.filter(Q(category=filters.category) | Q(subcategory=filters.category))
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.date_from:
        qs = qs.filter(date__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(date__lte=filters.date_to)
    if filters.amount_min is not None:
        qs = qs.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        qs = qs.filter(amount__lte=filters.amount_max)
    return qs


# The list page's reads written out (the ORM's compile and 100 model instances cost more than
# PostgreSQL's work): the same conditions, in the same order, as ``transactions_of`` writes.
_LIST_WHERE = (
    "t.user_id = %(user)s AND NOT (t.type = 'transfer' AND NOT (t.account_id = (t.from_account_id)) AND t.from_account_id IS NOT NULL)"
)
_LIST_FILTERS = (  # (the filter's field, its SQL)
    ("q", folded_like_sql(("t.description", "t.category", "t.tags"), "q")),
    ("account", "(t.account_id = %(account)s OR t.to_account_id = %(account)s OR t.from_account_id = %(account)s)"),
    ("category", "(t.category = %(category)s OR t.subcategory = %(category)s)"),
    ("type", "t.type = %(type)s"),
    ("date_from", "t.date >= %(date_from)s"),
    ("date_to", "t.date <= %(date_to)s"),
    ("amount_min", "t.amount >= %(amount_min)s"),
    ("amount_max", "t.amount <= %(amount_max)s"),
)
# One statement: how many rows match, and one page of them (the requested page, or the last one
# when it is past the end, as Paginator.get_page answers). The columns are those of ``ListRow``.
TRANSACTION_PAGE_SQL = """
WITH matched AS (SELECT count(*) AS n FROM transactions t WHERE {where})
SELECT matched.n, page.* FROM matched LEFT JOIN LATERAL (
    SELECT t.id, t.date, t.description, t.tags::text, t.import_batch_id, t.type, t.category, t.subcategory, t.amount, t.currency,
           t.exchange_rate, t.account_id, a.name, t.from_account_id, fa.name, t.to_account_id, ta.name
    FROM transactions t
    LEFT JOIN financial_accounts a ON a.id = t.account_id
    LEFT JOIN financial_accounts fa ON fa.id = t.from_account_id
    LEFT JOIN financial_accounts ta ON ta.id = t.to_account_id
    WHERE {where}
    ORDER BY t.date DESC, t.created_at DESC, t.id DESC
    LIMIT %(size)s OFFSET (SELECT (least(%(page)s, greatest(1, ceil(n::numeric / %(size)s)::int)) - 1) * %(size)s FROM matched)
) page ON true
"""


def transaction_page(user, filters: TransactionFilters, number: int, size: int) -> tuple[int, int, list[tuple]]:
    """(how many rows match, the page shown, its rows as tuples) of ``transactions_of``: one query.
    ``number`` is a page number from 1 (past the end means the last page)."""
    from django.db import connection

    params = {"user": user.pk, "page": max(1, int(number)), "size": size}
    where = [_LIST_WHERE]
    for name, sql in _LIST_FILTERS:
        value = getattr(filters, name)
        if value is None or value == "":
            continue
        params[name] = like_pattern(value) if name == "q" else value
        where.append(sql)
    with connection.cursor() as cursor:
        cursor.execute(TRANSACTION_PAGE_SQL.format(where=" AND ".join(where)), params)
        return _page_from(cursor.fetchall(), params["page"], size)


def _page_from(rows, number: int, size: int) -> tuple[int, int, list[tuple]]:
    total = rows[0][0]
    return total, min(number, max(1, -(-total // size))), [row[1:] for row in rows if row[1] is not None]


def unfiltered_list(user, number: int, size: int):
    """``(list_context(user), transaction_page(user, TransactionFilters(), number, size))`` in one round trip."""
    from django.db import connection

    params = {"user": user.pk, "page": max(1, int(number)), "size": size}
    with connection.cursor() as cursor:
        cursor.execute(LIST_CONTEXT_SQL + ";\n" + TRANSACTION_PAGE_SQL.format(where=_LIST_WHERE), params)
        context = _context_from(cursor.fetchone())
        cursor.nextset()
        return context, _page_from(cursor.fetchall(), params["page"], size)


# The list page's profile, its top-level category names and its accounts (id, name; the filter's
# order), in one query.
LIST_CONTEXT_SQL = """
SELECT p.id,
    ARRAY(SELECT c.name FROM finance_categories c WHERE c.financial_profile_id = p.id AND c.parent_id IS NULL ORDER BY c.name ASC),
    ARRAY(SELECT ARRAY[a.id::text, a.name] FROM financial_accounts a WHERE a.user_id = %(user)s ORDER BY a.is_active DESC, a.name ASC)
FROM financial_profiles p WHERE p.user_id = %(user)s
LIMIT 1
"""


def list_context(user) -> tuple[object, list[str], list[tuple[str, str]]] | None:
    """(the profile's id, its category names, the accounts' (id, name)), or None without a profile."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(LIST_CONTEXT_SQL, {"user": user.pk})
        return _context_from(cursor.fetchone())


def _context_from(row):
    if row is None:
        return None
    return row[0], list(row[1]), [tuple(pair) for pair in row[2]]


def categories_of(profile: FinancialProfile) -> list[Category]:
    """Top-level categories with ``children`` prefetched (two queries)."""
    return list(Category.objects.filter(financial_profile=profile, parent__isnull=True).prefetch_related("children").order_by("name"))


def category_names(profile: FinancialProfile) -> list[str]:
    return list(Category.objects.filter(financial_profile=profile, parent__isnull=True).order_by("name").values_list("name", flat=True))


# --- budgets --------------------------------------------------------------------------------------------


def budget_progress(budget: Budget, profile: FinancialProfile, *, today: dt.date | None = None) -> dict:
    """This period's spending against the amount (plus the previous period's rest with rollover).
    Only expenses count: income and transfers never do."""
    return budgets_progress([budget], profile, today=today)[0]


def budgets_progress(budgets, profile: FinancialProfile, *, today: dt.date | None = None) -> list[dict]:
    """``budget_progress`` of each budget, all in one query: conditional sums over the profile's
    expenses (a budget on an account sums that account's amounts; one on the whole profile sums
    them converted to the profile currency and lists the currencies with no rate)."""
    from django.contrib.postgres.aggregates import ArrayAgg

    budgets = list(budgets)
    if not budgets:
        return []
    today = today or dt.date.today()
    plans, sums, earliest = [], {}, None
    for i, budget in enumerate(budgets):
        start, end = period_bounds(budget.period, budget.start_date, max(today, budget.start_date))
        previous = None
        if budget.rollover and start > budget.start_date:
            previous = (period_bounds(budget.period, budget.start_date, start - dt.timedelta(days=1))[0], start)
        rows = Q(category=budget.category) & (Q(account_id=budget.account_id) if budget.account_id else Q())
        value = "amount" if budget.account_id else "converted"
        sums[f"spent{i}"] = Sum(value, filter=rows & Q(date__gte=start, date__lt=end))
        if not budget.account_id:
            sums[f"missing{i}"] = ArrayAgg("currency", distinct=True, filter=rows & Q(date__gte=start, date__lt=end, rate__isnull=True))
        if previous:
            sums[f"previous{i}"] = Sum(value, filter=rows & Q(date__gte=previous[0], date__lt=previous[1]))
        first = previous[0] if previous else start
        earliest = first if earliest is None else min(earliest, first)
        plans.append((budget, start, end, previous))
    expenses = Transaction.objects.filter(financial_profile=profile, type=TransactionType.EXPENSE, date__gte=earliest,
                                          category__in={b.category for b in budgets})
    totals = with_converted(expenses, profile.currency).aggregate(**sums)
    out = []
    for i, (budget, start, end, previous) in enumerate(plans):
        currency = budget.account.currency if budget.account_id else profile.currency
        spent = round_money(totals[f"spent{i}"] or Decimal(0), currency)
        missing = sorted(totals.get(f"missing{i}") or [])
        available = budget.amount
        carried = Decimal(0)
        if previous:
            carried = budget.amount - round_money(totals[f"previous{i}"] or Decimal(0), currency)
            available += carried
        percent = int(spent * 100 / available) if available > 0 else 100
        out.append({
            "budget": budget, "start": start, "end": end - dt.timedelta(days=1), "spent": spent, "available": available,
            "carried": carried, "remaining": available - spent, "percent": percent, "bar": max(0, min(percent, 100)),
            "currency": currency, "complete": not missing, "missing": missing,
        })
    return out


def budgets_of(user):
    return Budget.objects.filter(user=user).select_related("account").order_by("-is_active", "name")


# --- alerts -----------------------------------------------------------------------------------------------


def alerts_banner(user) -> list[FinanceAlert]:
    return list(
        FinanceAlert.objects.filter(user=user, dismissed=False).select_related("budget", "recurring_payment").order_by("-created_at")[:5]
    )


# --- the overview: its reads written out, in one round trip -------------------------------------------


def _columns(model, alias: str, table: str):
    """(the SELECT list of ``model``'s concrete columns from ``table``, their attnames, the ORM's
    converters by position): what the ORM would read and how it would build the instance."""
    from django.db import connections

    connection = connections[alias]
    fields = model._meta.concrete_fields
    converters = [(i, connection.ops.get_db_converters(f.get_col(table)) + f.get_db_converters(connection)) for i, f in enumerate(fields)]
    return (", ".join(f"{table}.{connection.ops.quote_name(f.column)}" for f in fields), [f.attname for f in fields],
            [(i, found) for i, found in converters if found])


def _instances(model, plan, rows, alias: str, offset: int = 0) -> list:
    from django.db import connections

    connection = connections[alias]
    _sql, names, converters = plan
    out = []
    for row in rows:
        values = list(row[offset:offset + len(names)])
        for index, found in converters:
            for converter in found:
                values[index] = converter(values[index], None, connection)
        out.append(model.from_db(alias, names, values))
    return out


_OVERVIEW_PLANS: dict = {}


def _overview_plans(alias: str) -> dict:
    plans = _OVERVIEW_PLANS.get(alias)
    if plans is None:
        plans = _OVERVIEW_PLANS[alias] = {
            "profile": _columns(FinancialProfile, alias, "p"), "account": _columns(FinancialAccount, alias, "a"),
            "budget": _columns(Budget, alias, "b"), "alert": _columns(FinanceAlert, alias, "f"),
            "recurring": _columns(RecurringPayment, alias, "r"), "transaction": _columns(Transaction, alias, "t"),
        }
        c = {name: plan[0] for name, plan in plans.items()}
        plans["sql"] = ";\n".join([
            f"SELECT {c['profile']} FROM financial_profiles p WHERE p.user_id = %(user)s ORDER BY p.id LIMIT 1",
            f"SELECT {c['account']} FROM financial_accounts a WHERE a.user_id = %(user)s ORDER BY a.is_active DESC, a.name ASC",
            f"SELECT {c['budget']} FROM budgets b WHERE b.user_id = %(user)s AND b.is_active ORDER BY b.is_active DESC, b.name ASC LIMIT 6",
            f"SELECT {c['alert']}, {c['budget']}, {c['recurring']} FROM finance_alerts f"
            " LEFT JOIN budgets b ON b.id = f.budget_id LEFT JOIN recurring_payments r ON r.id = f.recurring_payment_id"
            " WHERE f.user_id = %(user)s AND NOT f.dismissed ORDER BY f.created_at DESC LIMIT 5",
            f"SELECT {c['transaction']} FROM transactions t WHERE {_LIST_WHERE} ORDER BY t.date DESC, t.created_at DESC, t.id DESC LIMIT 8",
        ])
    return plans


def overview_of(user) -> dict | None:
    """The overview's rows in one round trip, as the ORM would build them: ``profile``,
    ``accounts`` (``accounts_of``), ``budgets`` (the first six active ones of ``budgets_of``, each
    with its account), ``alerts`` (``alerts_banner``) and ``recent`` (the first eight of
    ``transactions_of``); None when the person has no profile yet."""
    from django.db import connection

    alias = connection.alias
    plans = _overview_plans(alias)
    results = []
    with connection.cursor() as cursor:
        cursor.execute(plans["sql"], {"user": user.pk})
        results.append(cursor.fetchall())
        while cursor.nextset():
            results.append(cursor.fetchall())
    profile_rows, account_rows, budget_rows, alert_rows, recent_rows = results
    if not profile_rows:
        return None
    accounts = _instances(FinancialAccount, plans["account"], account_rows, alias)
    by_id = {a.pk: a for a in accounts}
    budgets = _instances(Budget, plans["budget"], budget_rows, alias)
    for budget in budgets:
        budget.account = by_id.get(budget.account_id) if budget.account_id else None
    alerts = _instances(FinanceAlert, plans["alert"], alert_rows, alias)
    alert_width, budget_width = len(plans["alert"][1]), len(plans["budget"][1])
    for alert, row in zip(alerts, alert_rows):
        alert.budget = _instances(Budget, plans["budget"], [row], alias, alert_width)[0] if alert.budget_id else None
        alert.recurring_payment = (_instances(RecurringPayment, plans["recurring"], [row], alias, alert_width + budget_width)[0]
                                   if alert.recurring_payment_id else None)
    return {"profile": _instances(FinancialProfile, plans["profile"], profile_rows, alias)[0], "accounts": accounts, "budgets": budgets,
            "alerts": alerts, "recent": _instances(Transaction, plans["transaction"], recent_rows, alias)}


# --- the rest ------------------------------------------------------------------------------------------------


def debts_of(user):
    return Debt.objects.filter(user=user).order_by("status", "-priority", "name")


def investments_of(user):
    return Investment.objects.filter(user=user).order_by("type", "name")


def recurring_of(user):
    return RecurringPayment.objects.filter(user=user).select_related("account").order_by("-is_active", "next_due_date")


def last_import(user) -> ImportBatch | None:
    return ImportBatch.objects.filter(user=user, status=ImportBatch.Status.DONE).select_related("account").order_by("-created_at").first()


# --- reports -------------------------------------------------------------------------------------------------


def monthly_income_expense(profile: FinancialProfile, *, start: dt.date, end: dt.date) -> list[dict]:
    """Per month: income and expense in the profile currency, and whether a rate was missing."""
    qs = with_converted(
        Transaction.objects.filter(financial_profile=profile, type__in=[TransactionType.INCOME, TransactionType.EXPENSE], date__gte=start, date__lte=end),
        profile.currency,
    )
    rows = (
        qs.annotate(month=TruncMonth("date")).values("month", "type")
        .annotate(total=Sum("converted"), missing=Count("id", filter=Q(rate__isnull=True))).order_by("month")
    )
    months: dict = {}
    for row in rows:
        entry = months.setdefault(row["month"], {"month": row["month"], "income": Decimal(0), "expense": Decimal(0), "complete": True})
        entry[row["type"]] = round_money(row["total"] or 0, profile.currency)
        if row["missing"]:
            entry["complete"] = False
    for entry in months.values():
        entry["net"] = entry["income"] - entry["expense"]
    return list(months.values())


def spending_by_category(profile: FinancialProfile, *, start: dt.date, end: dt.date) -> tuple[list[dict], bool]:
    qs = with_converted(
        Transaction.objects.filter(financial_profile=profile, type=TransactionType.EXPENSE, date__gte=start, date__lte=end), profile.currency,
    )
    rows = qs.values("category").annotate(total=Sum("converted"), missing=Count("id", filter=Q(rate__isnull=True))).order_by("-total")
    out = [{"category": row["category"], "total": round_money(row["total"] or 0, profile.currency)} for row in rows]
    return out, not any(row["missing"] for row in rows)


def balance_delta_expression():
    """What a row adds to its account's balance (the same rule as the database trigger)."""
    return Case(
        When(type=TransactionType.INCOME, then=F("amount")),
        When(type=TransactionType.EXPENSE, then=-F("amount")),
        When(Q(type=TransactionType.TRANSFER) & Q(account_id=F("to_account_id")), then=F("amount")),
        When(Q(type=TransactionType.TRANSFER) & Q(account_id=F("from_account_id")), then=-F("amount")),
        default=Value(Decimal(0)), output_field=MONEY,
    )


def _month_end(year: int, month: int) -> dt.date:
    y, m = divmod(year * 12 + month, 12)
    return dt.date(y, m + 1, 1) - dt.timedelta(days=1)


def net_worth_over_time(profile: FinancialProfile, accounts: list[FinancialAccount], *, months: int = 12,
                        today: dt.date | None = None) -> list[dict]:
    """Net worth at each of the last ``months`` month ends (today for the current month): today's
    balances less what each account's transactions changed after that day. Two queries."""
    today = today or dt.date.today()
    ends = []
    for k in range(months - 1, -1, -1):
        y, m = divmod(today.year * 12 + today.month - 1 - k, 12)
        ends.append(min(today, _month_end(y, m + 1)))
    deltas = (
        Transaction.objects.filter(financial_profile=profile, account__isnull=False, date__gt=ends[0])
        .annotate(month=TruncMonth("date")).values("account_id", "month")
        .annotate(delta=Sum(balance_delta_expression())).order_by()
    )
    by_month: dict = {}
    future: dict = {}
    for row in deltas:
        if row["month"] > today.replace(day=1):
            future[row["account_id"]] = future.get(row["account_id"], Decimal(0)) + row["delta"]
        else:
            by_month.setdefault(row["month"], {})[row["account_id"]] = row["delta"]
    points = []
    for end in ends:
        after: dict = dict(future)
        for month, per_account in by_month.items():
            if month > end:
                for account_id, delta in per_account.items():
                    after[account_id] = after.get(account_id, Decimal(0)) + delta
        snapshot = [
            FinancialAccount(pk=a.pk, type=a.type, currency=a.currency, balance=a.balance - after.get(a.pk, Decimal(0))) for a in accounts
        ]
        worth = net_worth(profile, snapshot, on=end)
        points.append({"date": end, "total": worth["total"], "complete": worth["complete"]})
    return points
