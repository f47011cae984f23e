"""Pages of /finance/. Thin: form → one service → redirect or render; reads through selectors.

Every page runs inside the request's tenant transaction (core.tenancy.TenantMiddleware), and every
object is looked up among the person's own rows, so another person's id answers 404.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections import OrderedDict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from core.params import query_page
from core.rowhtml import kept_fragment, page_of
from storage.uploads import LimitedUploadHandler, declared_length

from . import conf, forms, imports, selectors, services
from . import rows as list_rows
from .amortization import DebtState, payoff, schedule, term_months
from .errors import FinanceError, MappingMismatch
from .models import (
    Budget,
    Category,
    Debt,
    ExchangeRate,
    FinanceAlert,
    FinancialAccount,
    ImportBatch,
    ImportMapping,
    Investment,
    RecurringPayment,
    Transaction,
    TransactionType,
)
from .money import format_input, format_plain
from .templatetags.finance import money

FORM_OVERHEAD_BYTES = 64 * 1024
_NAV_KEPT = 64
_NAV: OrderedDict = OrderedDict()  # (URL configuration, script prefix, language, path) → finance/_nav.html, rendered


def _nav_html(request) -> str:
    """finance/_nav.html for this page, rendered once per URL configuration, script prefix, language
    and path (eight links, their names and the current one are the same for everyone)."""
    return kept_fragment(_NAV, request, lambda: render_to_string("finance/_nav.html", {"request": request}), kept=_NAV_KEPT)


def _profile(request):
    """The person's profile: read in the request's own tenant transaction (one query); created with
    its default categories on the first visit."""
    return selectors.profile_of(request.user) or services.profile_for(request.user, language=get_language() or "en")


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _accounts(request, *, active_only=False):
    return selectors.accounts_of(request.user, active_only=active_only)


def _service(form, call):
    """Run a service; a refusal becomes the form's message (nothing was saved: one transaction)."""
    try:
        return call()
    except FinanceError as exc:
        form.add_error(None, exc.message)
        return None


def _today():
    return timezone.localdate()


# --- overview and profile ------------------------------------------------------------------------------


@login_required
def overview(request):
    rows = selectors.overview_of(request.user)
    if rows is None:  # the first visit: the profile and its default categories
        _profile(request)
        rows = selectors.overview_of(request.user)
    profile, accounts = rows["profile"], rows["accounts"]
    return render(request, "finance/overview.html", {
        "finance_nav": _nav_html(request), "profile": profile, "accounts": accounts, "worth": selectors.net_worth(profile, accounts),
        "budgets": selectors.budgets_progress(rows["budgets"], profile), "alerts": rows["alerts"],
        "upcoming": selectors.recurring_of(request.user).filter(is_active=True)[:5],
        "recent": rows["recent"],
    })


@login_required
def profile_edit(request):
    profile = _profile(request)
    initial = {"currency": profile.currency, "monthly_income": profile.monthly_income, "savings_goal": profile.savings_goal}
    form = forms.ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _service(form, lambda: services.profile_update(profile, currency=data["currency"], monthly_income=data["monthly_income"],
                                                           savings_goal=data["savings_goal"])):
            messages.success(request, _("Your finance profile was saved."))
            return redirect("finance:overview")
    return render(request, "finance/form.html", {"form": form, "title": _("Finance profile"), "back": "finance:overview"}, status=_status(form))


@require_POST
@login_required
def alert_dismiss(request, pk):
    alert = selectors.get_owned(FinanceAlert, request.user, pk)
    alert.dismissed = True
    alert.save(update_fields=["dismissed"])
    return redirect(request.POST.get("next") if str(request.POST.get("next", "")).startswith("/finance/") else "finance:overview")


# --- accounts -------------------------------------------------------------------------------------------


@login_required
def account_new(request):
    profile = _profile(request)
    form = forms.AccountForm(request.POST or None, initial={"currency": profile.currency, "is_active": True})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.account_create(profile, name=d["name"], type=d["type"], currency=d["currency"],
                                                           opening_balance=d["opening_balance"] or Decimal(0),
                                                           credit_limit=d["credit_limit"], is_active=d["is_active"])):
            messages.success(request, _("The account was created."))
            return redirect("finance:overview")
    return render(request, "finance/form.html", {"form": form, "title": _("New account"), "back": "finance:overview"}, status=_status(form))


@login_required
def account_edit(request, pk):
    account = selectors.get_owned(FinancialAccount, request.user, pk)
    initial = {"name": account.name, "type": account.type, "currency": account.currency, "is_active": account.is_active,
               "opening_balance": format_input(account.opening_balance, account.currency),
               "credit_limit": format_input(account.credit_limit, account.currency) if account.credit_limit is not None else ""}
    form = forms.AccountForm(request.POST or None, initial=initial, account=account)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.account_update(account, name=d["name"], type=d["type"], opening_balance=d["opening_balance"] or Decimal(0),
                                                           credit_limit=d["credit_limit"], is_active=d["is_active"])):
            messages.success(request, _("Your changes were saved."))
            return redirect("finance:overview")
    return render(request, "finance/form.html", {"form": form, "title": _("Edit account"), "back": "finance:overview",
                                                 "delete_url": "finance:account_delete", "object": account}, status=_status(form))


@require_POST
@login_required
def account_delete(request, pk):
    account = selectors.get_owned(FinancialAccount, request.user, pk)
    services.account_delete(account)
    messages.success(request, _("The account was deleted; its transactions are kept without an account."))
    return redirect("finance:overview")


# --- transactions ---------------------------------------------------------------------------------------------


@login_required
def transaction_list(request):
    size = conf.transactions_page_size()
    found_page = None
    if any(key != "page" for key in request.GET):  # filters: the form checks them before the rows are read
        context = selectors.list_context(request.user)
    else:  # the list as it is: the profile's names and the page in one round trip
        context, found_page = selectors.unfiltered_list(request.user, query_page(request), size)
    if context is None:  # the first visit: the profile and its default categories
        _profile(request)
        context = selectors.list_context(request.user)
    _profile_id, names, account_names = context
    accounts = _accounts(request)  # read only to draw a fresh form or check a chosen account
    form = forms.TransactionFilterForm(request.GET or None, accounts=accounts, categories=names)
    filters = selectors.TransactionFilters()
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        filters = selectors.TransactionFilters(q=d["q"].replace("\x00", ""), account=d["account"].pk if d["account"] else None,
                                               category=d["category"], type=d["type"], date_from=d["date_from"], date_to=d["date_to"],
                                               amount_min=d["amount_min"], amount_max=d["amount_max"])
    if found_page is None or filters != selectors.TransactionFilters():
        found_page = selectors.transaction_page(request.user, filters, query_page(request), size)
    total, number, found = found_page
    page = page_of(total, number, found, size)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "finance/transactions.html", {
        "finance_nav": _nav_html(request), "form": form, "form_html": _filter_form_html(form, account_names, names), "page": page, "rows": list_rows.transaction_rows(found),
        "query": query.urlencode(), "filtered": filters != selectors.TransactionFilters(),
    }, status=_status(form))


_FILTER_FORMS: OrderedDict = OrderedDict()  # (language, accounts, categories) → the unbound filter form, rendered
_FILTER_FORMS_KEPT = 256


def _filter_form_html(form, accounts, categories) -> str:
    """The fields of the unbound filter form, rendered once per language, account list ((id, name)
    pairs) and category list (eight widgets cost more than a page of rows); a bound form is drawn afresh."""
    if form.is_bound:
        return ""
    key = (get_language(), tuple(accounts), tuple(categories))
    html = _FILTER_FORMS.get(key)
    if html is None:
        html = mark_safe(render_to_string("partials/form_fields.html", {"form": form}))  # noqa: S308 (Django's own rendering)
        _FILTER_FORMS[key] = html
        while len(_FILTER_FORMS) > _FILTER_FORMS_KEPT:
            _FILTER_FORMS.popitem(last=False)
    else:
        _FILTER_FORMS.move_to_end(key)
    return html


def _transaction_form(request, profile, row=None):
    accounts = _accounts(request, active_only=row is None)
    initial = {"date": _today(), "type": TransactionType.EXPENSE}
    if row is not None:
        initial = {"type": row.type, "account": row.account_id, "date": row.date, "amount": format_input(row.amount, row.currency),
                   "description": row.description, "category": row.category, "subcategory": row.subcategory, "tags": ", ".join(row.tags)}
    return forms.TransactionForm(request.POST or None, initial=initial, accounts=accounts, categories=selectors.category_names(profile))


@login_required
def transaction_new(request):
    profile = _profile(request)
    form = _transaction_form(request, profile)
    if not form.fields["account"].queryset.exists():
        messages.info(request, _("Create an account first."))
        return redirect("finance:account_new")
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.transaction_create(profile, account=d["account"], type=d["type"], date=d["date"], amount=d["amount"],
                                                               description=d["description"], category=d["category"],
                                                               subcategory=d["subcategory"], tags=d["tags"])):
            messages.success(request, _("The transaction was saved."))
            return redirect("finance:transactions")
    return render(request, "finance/form.html", {"form": form, "title": _("New transaction"), "back": "finance:transactions"}, status=_status(form))


@login_required
def transaction_edit(request, pk):
    row = selectors.get_owned(Transaction, request.user, pk)
    if row.type == TransactionType.TRANSFER:
        return transfer_edit(request, row)
    profile = _profile(request)
    form = _transaction_form(request, profile, row)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.transaction_update(row, account=d["account"], type=d["type"], date=d["date"], amount=d["amount"],
                                                               description=d["description"], category=d["category"],
                                                               subcategory=d["subcategory"], tags=d["tags"])):
            messages.success(request, _("Your changes were saved."))
            return redirect("finance:transactions")
    return render(request, "finance/form.html", {"form": form, "title": _("Edit transaction"), "back": "finance:transactions",
                                                 "delete_url": "finance:transaction_delete", "object": row}, status=_status(form))


@require_POST
@login_required
def transaction_delete(request, pk):
    row = selectors.get_owned(Transaction, request.user, pk)
    services.transaction_delete(row)
    messages.success(request, _("The transaction was deleted."))
    return redirect("finance:transactions")


def _transfer_form(request, row=None):
    accounts = _accounts(request, active_only=row is None)
    initial = {"date": _today()}
    if row is not None:
        legs = {leg.account_id: leg for leg in Transaction.objects.filter(user=request.user, transfer_id=row.transfer_id)}
        out, into = legs.get(row.from_account_id), legs.get(row.to_account_id)
        initial = {"from_account": row.from_account_id, "to_account": row.to_account_id, "date": row.date, "description": row.description,
                   "amount": format_input(out.amount, out.currency) if out else "",
                   "to_amount": format_input(into.amount, into.currency) if into and out and into.currency != out.currency else ""}
    return forms.TransferForm(request.POST or None, initial=initial, accounts=accounts)


def _transfer_kwargs(d):
    return dict(from_account=d["from_account"], to_account=d["to_account"], date=d["date"], amount=d["amount"],
                to_amount=d["to_amount"], description=d["description"])


@login_required
def transfer_new(request):
    profile = _profile(request)
    form = _transfer_form(request)
    if request.method == "POST" and form.is_valid():
        if _service(form, lambda: services.transfer_create(profile, **_transfer_kwargs(form.cleaned_data))):
            messages.success(request, _("The transfer was saved."))
            return redirect("finance:transactions")
    return render(request, "finance/form.html", {"form": form, "title": _("New transfer"), "back": "finance:transactions",
                                                 "intro": _("A transfer moves money between two of your accounts: it is neither income nor expense.")},
                  status=_status(form))


def transfer_edit(request, row):
    form = _transfer_form(request, row)
    if row.from_account_id is None or row.to_account_id is None:
        form = None  # one of its accounts was deleted: it can only be deleted
    if form is not None and request.method == "POST" and form.is_valid():
        if _service(form, lambda: services.transfer_update(row, **_transfer_kwargs(form.cleaned_data))):
            messages.success(request, _("Your changes were saved."))
            return redirect("finance:transactions")
    return render(request, "finance/form.html", {"form": form, "title": _("Edit transfer"), "back": "finance:transactions",
                                                 "delete_url": "finance:transaction_delete", "object": row,
                                                 "intro": None if form else _("One of this transfer's accounts was deleted; you can only delete it.")},
                  status=_status(form) if form else 200)


# --- categories and rates --------------------------------------------------------------------------------------


@login_required
def category_list(request):
    profile = _profile(request)
    parents = Category.objects.filter(financial_profile=profile, parent__isnull=True)
    form = forms.CategoryForm(request.POST or None, parents=parents)
    if request.method == "POST" and form.is_valid():
        if _service(form, lambda: services.category_save(profile, name=form.cleaned_data["name"], parent=form.cleaned_data["parent"])):
            messages.success(request, _("The category was added."))
            return redirect("finance:categories")
    return render(request, "finance/categories.html", {"form": form, "categories": selectors.categories_of(profile)}, status=_status(form))


@login_required
def category_edit(request, pk):
    profile = _profile(request)
    category = selectors.get_owned(Category, request.user, pk)
    form = forms.CategoryForm(request.POST or None, initial={"name": category.name, "parent": category.parent_id},
                              parents=Category.objects.filter(financial_profile=profile, parent__isnull=True).exclude(pk=category.pk))
    form.fields["parent"].disabled = True
    if request.method == "POST" and form.is_valid():
        if _service(form, lambda: services.category_save(profile, name=form.cleaned_data["name"], category=category)):
            messages.success(request, _("The category was renamed; its transactions and budgets follow."))
            return redirect("finance:categories")
    return render(request, "finance/form.html", {"form": form, "title": _("Rename category"), "back": "finance:categories",
                                                 "delete_url": "finance:category_delete", "object": category}, status=_status(form))


@require_POST
@login_required
def category_delete(request, pk):
    services.category_delete(selectors.get_owned(Category, request.user, pk))
    messages.success(request, _("The category was removed from the list; transactions keep their text."))
    return redirect("finance:categories")


@login_required
def rate_list(request):
    profile = _profile(request)
    form = forms.RateForm(request.POST or None, initial={"date": _today()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.rate_set(profile, currency=d["currency"], date=d["date"], rate=d["rate"])):
            messages.success(request, _("The rate was saved."))
            return redirect("finance:rates")
    rates = ExchangeRate.objects.filter(user=request.user).order_by("currency", "-date")[:500]
    return render(request, "finance/rates.html", {"form": form, "rates": rates, "profile": profile, "file_form": forms.RatesFileForm()},
                  status=_status(form))


@require_POST
@login_required
def rates_upload(request):
    profile = _profile(request)
    form = forms.RatesFileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV file of rates."))
        return redirect("finance:rates")
    try:
        count = services.rates_import(profile, imports.parse_rates(imports.decode_text(imports.read_upload(form.cleaned_data["file"]))))
    except FinanceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)s rates saved.") % {"n": count})
    return redirect("finance:rates")


@require_POST
@login_required
def rate_delete(request, pk):
    services.rate_delete(selectors.get_owned(ExchangeRate, request.user, pk))
    messages.success(request, _("The rate was deleted."))
    return redirect("finance:rates")


# --- budgets ------------------------------------------------------------------------------------------------------


@login_required
def budget_list(request):
    profile = _profile(request)
    budgets = selectors.budgets_progress(selectors.budgets_of(request.user), profile)
    return render(request, "finance/budgets.html", {"budgets": budgets, "profile": profile, "alerts": selectors.alerts_banner(request.user)})


def _budget_form(request, profile, budget=None):
    initial = {"start_date": _today().replace(day=1), "alert_threshold": 80, "is_active": True, "period": "MONTHLY"}
    if budget is not None:
        initial = {"name": budget.name, "category": budget.category, "account": budget.account_id, "period": budget.period,
                   "amount": format_input(budget.amount, budget.account.currency if budget.account_id else profile.currency),
                   "start_date": budget.start_date, "end_date": budget.end_date, "alert_threshold": budget.alert_threshold,
                   "rollover": budget.rollover, "is_active": budget.is_active}
    return forms.BudgetForm(request.POST or None, initial=initial, accounts=_accounts(request), categories=selectors.category_names(profile),
                            profile_currency=profile.currency)


def _budget_save(request, profile, budget=None):
    form = _budget_form(request, profile, budget)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.budget_save(profile, name=d["name"], category=d["category"], amount=d["amount"], period=d["period"],
                                                        start_date=d["start_date"], end_date=d["end_date"], alert_threshold=d["alert_threshold"],
                                                        account=d["account"], rollover=d["rollover"], is_active=d["is_active"], budget=budget)):
            messages.success(request, _("The budget was saved."))
            return redirect("finance:budgets")
    return render(request, "finance/form.html", {"form": form, "title": _("Edit budget") if budget else _("New budget"), "back": "finance:budgets",
                                                 "delete_url": "finance:budget_delete" if budget else None, "object": budget}, status=_status(form))


@login_required
def budget_new(request):
    return _budget_save(request, _profile(request))


@login_required
def budget_edit(request, pk):
    return _budget_save(request, _profile(request), selectors.get_owned(Budget, request.user, pk))


@require_POST
@login_required
def budget_delete(request, pk):
    services.budget_delete(selectors.get_owned(Budget, request.user, pk))
    messages.success(request, _("The budget was deleted."))
    return redirect("finance:budgets")


# --- debts ---------------------------------------------------------------------------------------------------------


def _plan(debt: Debt, *, principal, start):
    """(rows, error message)."""
    if start is None:
        return [], _("Add a start date to see the plan.")
    try:
        return schedule(principal=principal, annual_rate=debt.interest_rate, start=start, currency=debt.currency,
                        monthly_payment=debt.monthly_payment, months=term_months(start, debt.maturity_date)), None
    except FinanceError as exc:
        return [], exc.message


@login_required
def debt_list(request):
    profile = _profile(request)
    debts = list(selectors.debts_of(request.user))
    form = forms.PayoffForm(request.GET or None, currency=profile.currency)
    extra = form.cleaned_data.get("extra") if form.is_bound and form.is_valid() else None
    active = [d for d in debts if d.status == "ACTIVE" and d.balance > 0]
    plans = None
    same_currency = all(d.currency == profile.currency for d in active)
    if active and same_currency:
        states = [DebtState(d.pk, d.balance, d.interest_rate, d.monthly_payment) for d in active]
        names = {d.pk: d.name for d in active}
        plans = []
        for strategy, label in (("avalanche", _("Avalanche (highest rate first)")), ("snowball", _("Snowball (smallest balance first)"))):
            result = payoff(states, extra=extra or Decimal(0), strategy=strategy, currency=profile.currency)
            plans.append({"label": label, "result": result, "order": [names[k] for k in result.order]})
    return render(request, "finance/debts.html", {"debts": debts, "form": form, "plans": plans, "profile": profile,
                                                  "same_currency": same_currency}, status=_status(form))


@login_required
def debt_detail(request, pk):
    debt = selectors.get_owned(Debt, request.user, pk)
    rows, error = _plan(debt, principal=debt.principal, start=debt.start_date)
    remaining, remaining_error = ([], None)
    if debt.balance > 0 and debt.status == "ACTIVE":
        today = _today()
        if debt.monthly_payment or debt.maturity_date:
            months_left = term_months(today, debt.maturity_date) if debt.maturity_date else None
            if not debt.monthly_payment and (months_left or 0) <= 0:
                remaining_error = _("The maturity date has passed.")
            else:
                try:
                    remaining = schedule(principal=debt.balance, annual_rate=debt.interest_rate, start=today, currency=debt.currency,
                                         monthly_payment=debt.monthly_payment, months=months_left)
                except FinanceError as exc:
                    remaining_error = exc.message
    chart = {"labels": [r.date.isoformat() for r in rows], "balance": [format_plain(r.balance, debt.currency) for r in rows],
             "interest": [format_plain(r.interest, debt.currency) for r in rows]}
    payments = debt.payments.order_by("-date", "-created_at")[:100]
    return render(request, "finance/debt_detail.html", {
        "debt": debt, "rows": rows, "error": error, "remaining": remaining, "remaining_error": remaining_error, "chart": chart,
        "payments": payments, "payment_form": forms.DebtPaymentForm(currency=debt.currency),
        "total_interest": sum((r.interest for r in rows), Decimal(0)),
    })


@login_required
def debt_schedule_csv(request, pk):
    debt = selectors.get_owned(Debt, request.user, pk)
    rows, error = _plan(debt, principal=debt.principal, start=debt.start_date)
    if error:
        messages.error(request, error)
        return redirect("finance:debt_detail", pk=debt.pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["n", "date", "payment", "interest", "principal", "balance"])
    c = debt.currency
    for r in rows:
        writer.writerow([r.n, r.date.isoformat(), format_plain(r.payment, c), format_plain(r.interest, c), format_plain(r.principal, c),
                         format_plain(r.balance, c)])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="schedule-{debt.pk}.csv"'
    return response


def _debt_save(request, profile, debt=None):
    initial = {"currency": profile.currency, "start_date": _today(), "priority": 0, "interest_rate": 0}
    if debt is not None:
        c = debt.currency
        initial = {"name": debt.name, "type": debt.type, "currency": c, "principal": format_input(debt.principal, c),
                   "balance": format_input(debt.balance, c), "interest_rate": debt.interest_rate,
                   "monthly_payment": format_input(debt.monthly_payment, c) if debt.monthly_payment else "",
                   "start_date": debt.start_date, "maturity_date": debt.maturity_date, "priority": debt.priority,
                   "account_number": debt.account_number or ""}
    form = forms.DebtForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        saved = _service(form, lambda: services.debt_save(
            profile, name=d["name"], type=d["type"], currency=d["currency"], principal=d["principal"], balance=d["balance"],
            interest_rate=d["interest_rate"], monthly_payment=d["monthly_payment"] or Decimal(0), start_date=d["start_date"],
            maturity_date=d["maturity_date"], priority=d["priority"] or 0, account_number=d["account_number"], debt=debt))
        if saved:
            messages.success(request, _("The debt was saved."))
            return redirect("finance:debt_detail", pk=saved.pk)
    return render(request, "finance/form.html", {"form": form, "title": _("Edit debt") if debt else _("New debt"), "back": "finance:debts",
                                                 "delete_url": "finance:debt_delete" if debt else None, "object": debt}, status=_status(form))


@login_required
def debt_new(request):
    return _debt_save(request, _profile(request))


@login_required
def debt_edit(request, pk):
    return _debt_save(request, _profile(request), selectors.get_owned(Debt, request.user, pk))


@require_POST
@login_required
def debt_delete(request, pk):
    services.debt_delete(selectors.get_owned(Debt, request.user, pk))
    messages.success(request, _("The debt was deleted."))
    return redirect("finance:debts")


@require_POST
@login_required
def debt_payment_new(request, pk):
    debt = selectors.get_owned(Debt, request.user, pk)
    form = forms.DebtPaymentForm(request.POST, currency=debt.currency)
    if form.is_valid():
        payment = _service(form, lambda: services.debt_payment_record(debt, date=form.cleaned_data["date"], amount=form.cleaned_data["amount"]))
        if payment:
            messages.success(request, _("Payment recorded: %(interest)s interest, %(principal)s principal.") % {
                "interest": money(payment.interest_paid, debt.currency), "principal": money(payment.principal_paid, debt.currency)})
            return redirect("finance:debt_detail", pk=debt.pk)
    for error in form.errors.get("__all__", []) + [f"{form.fields[k].label}: {e}" for k, v in form.errors.items() if k != "__all__" for e in v]:
        messages.error(request, error)
    return redirect("finance:debt_detail", pk=debt.pk)


# --- investments -----------------------------------------------------------------------------------------------------


@login_required
def investment_list(request):
    profile = _profile(request)
    investments = list(selectors.investments_of(request.user))
    allocation: dict = {}
    for inv in investments:
        if inv.currency != profile.currency:
            continue
        value = inv.quantity * (inv.current_price if inv.current_price is not None else inv.purchase_price)
        allocation[inv.get_type_display()] = allocation.get(inv.get_type_display(), Decimal(0)) + value
    chart = {"labels": list(allocation), "values": [format_plain(v, profile.currency) for v in allocation.values()]}
    return render(request, "finance/investments.html", {
        "investments": investments, "allocation": allocation, "chart": chart, "profile": profile, "prices_form": forms.PricesForm(),
        "other_currency": any(inv.currency != profile.currency for inv in investments),
    })


def _investment_save(request, profile, investment=None):
    initial = {"currency": profile.currency}
    if investment is not None:
        initial = {k: getattr(investment, k) for k in ("name", "type", "symbol", "currency", "quantity", "purchase_price", "purchase_date",
                                                       "current_price", "price_date")}
    form = forms.InvestmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.investment_save(profile, investment=investment, **d)):
            messages.success(request, _("The investment was saved."))
            return redirect("finance:investments")
    return render(request, "finance/form.html", {"form": form, "title": _("Edit investment") if investment else _("New investment"),
                                                 "back": "finance:investments", "object": investment,
                                                 "delete_url": "finance:investment_delete" if investment else None}, status=_status(form))


@login_required
def investment_new(request):
    return _investment_save(request, _profile(request))


@login_required
def investment_edit(request, pk):
    return _investment_save(request, _profile(request), selectors.get_owned(Investment, request.user, pk))


@require_POST
@login_required
def investment_delete(request, pk):
    services.investment_delete(selectors.get_owned(Investment, request.user, pk))
    messages.success(request, _("The investment was deleted."))
    return redirect("finance:investments")


@require_POST
@login_required
def investment_prices(request):
    profile = _profile(request)
    form = forms.PricesForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV file of prices."))
        return redirect("finance:investments")
    try:
        prices = imports.parse_prices(imports.decode_text(imports.read_upload(form.cleaned_data["file"])))
        changed = services.investment_prices_set(profile, prices)
    except FinanceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Prices updated for %(n)s holdings.") % {"n": changed})
    return redirect("finance:investments")


# --- recurring payments ----------------------------------------------------------------------------------------------


@login_required
def recurring_list(request):
    return render(request, "finance/recurring.html", {"items": selectors.recurring_of(request.user)})


def _recurring_save(request, profile, item=None):
    initial = {"start_date": _today(), "frequency": "MONTHLY", "is_active": True}
    if item is not None:
        initial = {k: getattr(item, k) for k in ("name", "frequency", "category", "start_date", "end_date", "auto_debit", "is_active")}
        initial.update(account=item.account_id, amount=format_input(item.amount, item.account.currency if item.account_id else profile.currency))
    form = forms.RecurringForm(request.POST or None, initial=initial, accounts=_accounts(request), categories=selectors.category_names(profile),
                               profile_currency=profile.currency)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _service(form, lambda: services.recurring_save(profile, recurring=item, **d)):
            messages.success(request, _("The recurring payment was saved."))
            return redirect("finance:recurring")
    return render(request, "finance/form.html", {"form": form, "title": _("Edit recurring payment") if item else _("New recurring payment"),
                                                 "back": "finance:recurring", "object": item,
                                                 "delete_url": "finance:recurring_delete" if item else None}, status=_status(form))


@login_required
def recurring_new(request):
    return _recurring_save(request, _profile(request))


@login_required
def recurring_edit(request, pk):
    return _recurring_save(request, _profile(request), selectors.get_owned(RecurringPayment, request.user, pk))


@require_POST
@login_required
def recurring_delete(request, pk):
    services.recurring_delete(selectors.get_owned(RecurringPayment, request.user, pk))
    messages.success(request, _("The recurring payment was deleted."))
    return redirect("finance:recurring")


# --- import and export -------------------------------------------------------------------------------------------------


def _import_form(request, data=None, files=None):
    accounts = _accounts(request, active_only=True)
    account_id = request.GET.get("account") or (data or {}).get("account")
    initial = {}
    try:
        account_id = uuid.UUID(str(account_id)) if account_id else None
    except ValueError:
        account_id = None  # a malformed ?account= is ignored, like a missing one
    mapping = ImportMapping.objects.filter(user=request.user, account_id=account_id).first() if account_id else None
    if mapping is None:
        mapping = ImportMapping.objects.filter(user=request.user).order_by("-created_at").first()
    if mapping:
        initial = dict(mapping.mapping)
    if account_id:
        initial["account"] = account_id
    return forms.ImportForm(data, files, initial=initial, accounts=accounts)


@csrf_exempt
@login_required
def import_start(request):
    """CSRF is checked after the size guard is in place (the middleware would read the whole body first)."""
    if request.method != "POST":
        return csrf_protect(_import_page)(request)
    limit = conf.import_max_bytes()
    if declared_length(request) > limit + FORM_OVERHEAD_BYTES:
        return _import_refused(request, limit)
    guard = LimitedUploadHandler(request, limit=limit + FORM_OVERHEAD_BYTES, file_limit=limit)
    request.upload_handlers.insert(0, guard)
    return csrf_protect(_import_post)(request, guard)


def _import_refused(request, limit):
    messages.error(request, _("The file is larger than %(limit)s. Nothing was imported.") % {"limit": filesizeformat(limit)})
    return redirect("finance:import")


def _import_page(request, form=None, status=200, sample=None):
    form = form or _import_form(request)
    if not form.fields["account"].queryset.exists():
        messages.info(request, _("Create an account first."))
        return redirect("finance:account_new")
    return render(request, "finance/import.html", {"form": form, "last": selectors.last_import(request.user), "sample": sample}, status=status)


def _import_post(request, guard):
    files = request.FILES  # parsed through the guard
    if guard.exceeded:
        return _import_refused(request, conf.import_max_bytes())
    form = _import_form(request, request.POST, files)
    if not form.is_valid():
        return _import_page(request, form, status=400)
    profile = _profile(request)
    try:
        preview = imports.preview_create(profile, account=form.cleaned_data["account"], upload=form.cleaned_data["file"],
                                         source=form.cleaned_data["source"], mapping=form.mapping())
    except MappingMismatch as exc:
        form.add_error(None, exc.message)
        return _import_page(request, form, status=400, sample={"columns": exc.columns, "rows": exc.sample})
    except FinanceError as exc:
        form.add_error(None, exc.message)
        return _import_page(request, form, status=400)
    if preview.batch is None:
        return render(request, "finance/import_preview.html", {"preview": preview, "batch": None, "account": form.cleaned_data["account"],
                                                               "rows": preview.rows[: imports.PREVIEW_ROWS]}, status=400)
    return redirect("finance:import_preview", pk=preview.batch.pk)


@login_required
def import_preview(request, pk):
    batch = selectors.get_owned(ImportBatch, request.user, pk)
    if batch.status != ImportBatch.Status.PREVIEW:
        return redirect("finance:import")
    rows = batch.rows
    return render(request, "finance/import_preview.html", {
        "batch": batch, "account": batch.account, "rows": rows[: imports.PREVIEW_ROWS * 5], "total": len(rows),
        "duplicates": sum(1 for r in rows if r["duplicate"]), "new": sum(1 for r in rows if not r["duplicate"]),
        "duplicate_rows": [r for r in rows if r["duplicate"]][:50],
    })


@require_POST
@login_required
def import_confirm(request, pk):
    batch = selectors.get_owned(ImportBatch, request.user, pk)
    try:
        count = imports.import_confirm(batch)
    except FinanceError as exc:
        messages.error(request, exc.message)
        return redirect("finance:import")
    batch.refresh_from_db()
    messages.success(request, _("%(n)s transactions imported, %(d)s duplicates skipped.") % {"n": count, "d": batch.duplicate_count})
    return redirect(f"{reverse('finance:transactions')}?account={batch.account_id}")


@require_POST
@login_required
def import_discard(request, pk):
    imports.import_discard(selectors.get_owned(ImportBatch, request.user, pk))
    messages.info(request, _("Nothing was imported."))
    return redirect("finance:import")


@require_POST
@login_required
def import_undo(request, pk):
    batch = selectors.get_owned(ImportBatch, request.user, pk)
    try:
        count = imports.import_undo(batch)
    except FinanceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The import was undone: %(n)s transactions removed.") % {"n": count})
    return redirect("finance:import")


@login_required
def export(request):
    profile = _profile(request)
    response = HttpResponse(imports.export_zip(profile), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="finance-{_today().isoformat()}.zip"'
    return response


# --- reports -------------------------------------------------------------------------------------------------------------


@login_required
def reports(request):
    profile = _profile(request)
    today = _today()
    start = dt.date(today.year - 1, today.month, 1)
    months = selectors.monthly_income_expense(profile, start=start, end=today)
    categories, categories_complete = selectors.spending_by_category(profile, start=today.replace(day=1), end=today)
    accounts = list(_accounts(request))
    worth = selectors.net_worth_over_time(profile, accounts, today=today)
    budgets = selectors.budgets_progress(selectors.budgets_of(request.user).filter(is_active=True), profile)
    c = profile.currency
    chart = {
        "currency": c,
        "months": {"labels": [m["month"].strftime("%Y-%m") for m in months], "income": [format_plain(m["income"], c) for m in months],
                   "expense": [format_plain(m["expense"], c) for m in months]},
        "categories": {"labels": [r["category"] or _("(none)") for r in categories], "values": [format_plain(r["total"], c) for r in categories]},
        "worth": {"labels": [p["date"].isoformat() for p in worth], "values": [format_plain(p["total"], c) for p in worth]},
        "budgets": {"labels": [b["budget"].name for b in budgets], "values": [b["percent"] for b in budgets]},
    }
    return render(request, "finance/reports.html", {
        "profile": profile, "months": months, "categories": categories, "categories_complete": categories_complete,
        "worth": worth, "budgets": budgets, "chart": chart, "months_complete": all(m["complete"] for m in months),
    })

