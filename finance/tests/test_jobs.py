"""The recurring-payments job (catch-up, once under two concurrent runs), budget alerts once per
period with their email, and the missing-rate rule."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connections

from core.tenancy import tenant
from finance import budget_alerts, recurring, selectors, services, tasks
from finance.models import FinanceAlert, RecurringPayment, Transaction
from testutils.testing import make_user

from .helpers import account, balance, expense, profile

D = Decimal


@pytest.mark.django_db
def test_catch_up_creates_each_missed_occurrence_once_with_the_month_end_rule():
    owner = make_user("rec@example.com")
    p = profile(owner)
    acc = account(p)
    rec = services.recurring_save(p, name="Rent", amount=D("900"), frequency="MONTHLY", category="Housing",
                                  start_date=dt.date(2024, 1, 31), end_date=None, auto_debit=True, account=acc)
    assert recurring.run_due(dt.date(2024, 5, 1)) == 4
    assert recurring.run_due(dt.date(2024, 5, 1)) == 0
    with tenant(owner.id):
        dates = sorted(Transaction.objects.filter(recurring_payment=rec).values_list("date", flat=True))
        rec.refresh_from_db()
    assert dates == [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2024, 3, 31), dt.date(2024, 4, 30)]
    assert rec.next_due_date == dt.date(2024, 5, 31)
    assert balance(acc) == D("-3600.00")


@pytest.mark.django_db
@pytest.mark.parametrize("weeks_behind", [10, 400])
def test_catching_up_a_weekly_debit_runs_the_same_queries_however_far_behind(weeks_behind, django_assert_max_num_queries):
    owner = make_user(f"weekly{weeks_behind}@example.com")
    p = profile(owner)
    acc = account(p)
    rec = services.recurring_save(p, name="Cleaner", amount=D("2.50"), frequency="WEEKLY", category="Home",
                                  start_date=dt.date(2015, 1, 5), end_date=None, auto_debit=True, account=acc)
    today = dt.date(2015, 1, 5) + dt.timedelta(weeks=weeks_behind - 1)
    with django_assert_max_num_queries(16):  # one at a time, 10 weeks took 54 queries: four per occurrence
        assert recurring.run_due(today) == weeks_behind
    with tenant(owner.id):
        dates = list(Transaction.objects.filter(recurring_payment=rec).order_by("date").values_list("date", flat=True))
        rec.refresh_from_db()
    assert dates == [dt.date(2015, 1, 5) + dt.timedelta(weeks=n) for n in range(weeks_behind)]
    assert rec.next_due_date == today + dt.timedelta(weeks=1)
    assert balance(acc) == D("-2.50") * weeks_behind
    assert recurring.run_due(today) == 0  # nothing twice


@pytest.mark.django_db
def test_reminders_without_auto_debit_are_alerts_emailed_once():
    owner = make_user("remind@example.com")
    p = profile(owner)
    rec = services.recurring_save(p, name="Gym", amount=D("30"), frequency="WEEKLY", category="", start_date=dt.date(2024, 1, 1),
                                  end_date=dt.date(2024, 1, 20), auto_debit=False, account=None)
    alerts: list = []
    assert recurring.run_due(dt.date(2024, 2, 1), alerts=alerts) == 3
    for user_id, alert_id in alerts:
        tasks.send_alert_email(str(user_id), str(alert_id))
        tasks.send_alert_email(str(user_id), str(alert_id))  # a redelivered task sends nothing
    assert len(mail.outbox) == 3 and "Gym" in mail.outbox[0].subject
    with tenant(owner.id):
        rec.refresh_from_db()
        assert FinanceAlert.objects.filter(recurring_payment=rec).count() == 3
    assert not rec.is_active  # past its end date


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_create_no_duplicates():
    owner = make_user("race@example.com")
    p = profile(owner)
    acc = account(p)
    recs = [services.recurring_save(p, name=f"Sub {i}", amount=D("5"), frequency="WEEKLY", category="", start_date=dt.date(2024, 1, 1),
                                    end_date=None, auto_debit=True, account=acc) for i in range(10)]
    today = dt.date(2024, 3, 31)  # 13 occurrences each
    start = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            start.wait()
            results.append(recurring.run_due(today))
        except Exception as exc:  # pragma: no cover
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(results) == 130
    with tenant(owner.id):
        assert Transaction.objects.filter(recurring_payment__in=recs).count() == 130
        assert set(RecurringPayment.objects.values_list("next_due_date", flat=True)) == {dt.date(2024, 4, 1)}
    assert balance(acc) == D("-650.00")


@pytest.mark.django_db
def test_budget_thresholds_alert_once_per_period_and_transfers_do_not_count():
    owner = make_user("budget@example.com")
    p = profile(owner)
    acc = account(p, opening=D("1000"))
    savings = account(p, "Savings", type="SAVINGS")
    today = dt.date.today()
    first = today.replace(day=1)
    budget = services.budget_save(p, name="Food", category="Food", amount=D("100"), period="MONTHLY", start_date=first, end_date=None,
                                  alert_threshold=80)
    services.transfer_create(p, from_account=acc, to_account=savings, date=today, amount=D("500"), description="Save")
    assert budget_alerts.check_user(owner.id) == []
    expense(p, acc, "85")
    assert len(budget_alerts.check_user(owner.id)) == 1  # 80 %
    assert budget_alerts.check_user(owner.id) == []  # already raised this period
    with tenant(owner.id):
        assert list(FinanceAlert.objects.filter(budget=budget).values_list("threshold", flat=True)) == [80]
    expense(p, acc, "20")
    budget_alerts.check_user(owner.id)
    budget_alerts.check_user(owner.id)
    with tenant(owner.id):
        assert sorted(FinanceAlert.objects.filter(budget=budget).values_list("threshold", flat=True)) == [80, 100]
    # The next period alerts afresh.
    next_period = (first + dt.timedelta(days=32)).replace(day=1)
    expense(p, acc, "90", day=next_period)
    budget_alerts.check_user(owner.id, today=next_period)
    with tenant(owner.id):
        assert FinanceAlert.objects.filter(budget=budget, period_start=next_period).count() == 1


@pytest.mark.django_db
def test_budget_alert_email_on_commit(django_capture_on_commit_callbacks):
    owner = make_user("mail@example.com")
    p = profile(owner)
    acc = account(p)
    services.budget_save(p, name="Fun", category="Leisure", amount=D("10"), period="MONTHLY", start_date=dt.date.today().replace(day=1),
                         end_date=None, alert_threshold=50)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        expense(p, acc, "6", category="Leisure")
    assert len(mail.outbox) == 1
    assert "Fun" in mail.outbox[0].subject and "50" in mail.outbox[0].subject


@pytest.mark.django_db
def test_rollover_carries_the_unspent_amount():
    owner = make_user("roll@example.com")
    p = profile(owner)
    acc = account(p)
    budget = services.budget_save(p, name="Food", category="Food", amount=D("100"), period="MONTHLY", start_date=dt.date(2024, 1, 1),
                                  end_date=None, alert_threshold=90, rollover=True)
    expense(p, acc, "60", day=dt.date(2024, 1, 10))
    expense(p, acc, "30", day=dt.date(2024, 2, 10))
    with tenant(owner.id):
        progress = selectors.budget_progress(budget, p, today=dt.date(2024, 2, 15))
    assert progress["carried"] == D("40") and progress["available"] == D("140") and progress["spent"] == D("30")


@pytest.mark.django_db
def test_a_missing_rate_marks_the_total_incomplete():
    owner = make_user("rates@example.com")
    p = profile(owner)
    usd, eur = account(p), account(p, "Euro", currency="EUR")
    day = dt.date(2024, 3, 10)
    expense(p, usd, "10", day=day)
    expense(p, eur, "10", day=day)
    with tenant(owner.id):
        total = selectors.converted_total(Transaction.objects.filter(user=owner), "USD")
    assert not total.complete and total.missing == {"EUR"} and total.amount == D("10.00")
    services.rate_set(p, currency="EUR", date=dt.date(2024, 3, 1), rate=D("1.10"))
    services.rate_set(p, currency="EUR", date=dt.date(2024, 3, 20), rate=D("2"))  # after the date: not used
    with tenant(owner.id):
        total = selectors.converted_total(Transaction.objects.filter(user=owner), "USD")
        worth = selectors.net_worth(p, list(selectors.accounts_of(owner)), on=dt.date(2024, 3, 10))
    assert total.complete and total.amount == D("21.00")
    assert worth["total"] == D("-21.00") and worth["complete"]
