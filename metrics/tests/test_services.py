"""Metering: the limit check before a turn, the usage log after it, alerts and their emails."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone, translation

from accounts.models import UserSettings
from core.tenancy import tenant
from metrics.errors import LimitExceeded
from metrics.limits import usage_check_before_turn
from metrics.models import MonthlyUsage, UsageAlert, UsageLog
from metrics.plans import limits_for, utc_month
from metrics.services import usage_record_turn
from testutils import factories
from testutils.testing import make_user

UTC = dt.timezone.utc


@pytest.fixture
def small_limits(settings):
    """Limits small enough to cross thresholds in a few turns (10 messages, 1,000 tokens on FREE)."""
    settings.TIER_LIMITS = {
        "FREE": {"messages": 10, "tokens": 1_000},
        "PRO": {"messages": 100, "tokens": 100_000},
        "ENTERPRISE": {"messages": None, "tokens": None},
    }
    return settings.TIER_LIMITS


def _month_row(user, year=None, month=None):
    year, month = (year, month) if year else utc_month()
    with tenant(user.id):
        return MonthlyUsage.objects.filter(user=user, year=year, month=month).first()


def _set_month_usage(user, *, messages=0, tokens=0):
    year, month = utc_month()
    with tenant(user.id):
        MonthlyUsage.objects.update_or_create(
            user=user, year=year, month=month, defaults={"total_messages": messages, "total_tokens": tokens}
        )


def _turn(user, conversation, *, tokens=(10, 10), model="offline", success=True, timestamp=None):
    return usage_record_turn(
        user=user, agent=conversation.agent, conversation=conversation, model=model,
        tokens_input=tokens[0], tokens_output=tokens[1], duration_ms=120, success=success, timestamp=timestamp,
    )


def _alerts(user):
    with tenant(user.id):
        return sorted(UsageAlert.objects.filter(user=user).values_list("year", "month", "type", "threshold"))


def _next_month_name():
    year, month = utc_month()
    return calendar.month_name[1 if month == 12 else month + 1]


# --- limits -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_limits_follow_the_plan(settings):
    assert limits_for(make_user(tier="FREE")) == (300, 300_000)
    assert limits_for(make_user(tier="PRO")) == (5_000, 5_000_000)


# --- the check before a turn --------------------------------------------------------------------


@pytest.mark.django_db
def test_check_passes_without_usage_and_writes_nothing(owner):
    usage_check_before_turn(user=owner)
    assert _month_row(owner) is None


@pytest.mark.django_db
def test_check_passes_just_under_the_limits(owner):
    _set_month_usage(owner, messages=299, tokens=299_999)
    usage_check_before_turn(user=owner)
    assert _month_row(owner).exceeded_limit is False


@pytest.mark.django_db
def test_check_refuses_at_the_message_limit_and_marks_the_month(owner):
    _set_month_usage(owner, messages=300, tokens=10)
    with pytest.raises(LimitExceeded) as caught:
        usage_check_before_turn(user=owner)
    assert caught.value.kind == "messages"
    message = caught.value.message
    assert message.startswith("You have used all 300 messages of your Free plan this month. The limit resets on ")
    assert _next_month_name() in message and " 1." in message
    row = _month_row(owner)
    assert (row.exceeded_limit, row.limit_messages, row.limit_tokens) == (True, 300, 300_000)


@pytest.mark.django_db
def test_check_refuses_at_the_token_limit(owner):
    _set_month_usage(owner, messages=3, tokens=300_000)
    with pytest.raises(LimitExceeded) as caught:
        usage_check_before_turn(user=owner)
    assert caught.value.kind == "tokens"
    assert caught.value.message.startswith("You have used all 300,000 tokens of your Free plan this month.")
    assert _month_row(owner).exceeded_limit is True


@pytest.mark.django_db
def test_the_plan_decides_the_limit(owner):
    pro = make_user("pro@example.com", tier="PRO")
    for user in (owner, pro):
        _set_month_usage(user, messages=300)
    with pytest.raises(LimitExceeded):
        usage_check_before_turn(user=owner)
    usage_check_before_turn(user=pro)  # 300 of 5,000
    assert _month_row(pro).exceeded_limit is False


@pytest.mark.django_db
def test_limit_with_no_row_yet_creates_it(owner, settings):
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 0, "tokens": 1000}}
    with pytest.raises(LimitExceeded):
        usage_check_before_turn(user=owner)
    row = _month_row(owner)
    assert (row.total_messages, row.exceeded_limit, row.limit_messages) == (0, True, 0)


@pytest.mark.django_db
def test_refusal_message_speaks_the_active_language(owner):
    _set_month_usage(owner, messages=300)
    with pytest.raises(LimitExceeded) as caught:
        usage_check_before_turn(user=owner)
    with translation.override("es"):
        message = caught.value.message
    assert "300" in message and " de " in message  # the date: "1 de <month>", Django's Spanish format


@pytest.mark.django_db
def test_the_flag_survives_a_caller_that_catches_the_refusal_in_its_transaction(owner):
    _set_month_usage(owner, messages=300)
    with transaction.atomic():  # a request's transaction, as TenantMiddleware opens it
        try:
            usage_check_before_turn(user=owner)
        except LimitExceeded:
            pass
    assert _month_row(owner).exceeded_limit is True


@pytest.mark.django_db(transaction=True)
def test_the_flag_is_committed_even_though_the_turn_is_refused():
    user = make_user("committed@example.com")
    _set_month_usage(user, messages=300)
    with pytest.raises(LimitExceeded):
        usage_check_before_turn(user=user)
    # A fresh connection sees it: it was committed, not left in an open transaction.
    connections.close_all()
    assert _month_row(user).exceeded_limit is True


# --- recording a turn ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_record_turn_writes_the_log_with_the_registry_cost(owner):
    conversation = factories.make("conversations", owner)
    log = _turn(owner, conversation, tokens=(1000, 2000), model="gpt-4o-mini")
    with tenant(owner.id):
        stored = UsageLog.objects.get(pk=log.pk)
    assert (stored.tokens_input, stored.tokens_output, stored.total_tokens) == (1000, 2000, 3000)
    # gpt-4o-mini: $0.15 / $0.60 per million tokens
    assert (stored.cost_input, stored.cost_output, stored.total_cost) == (Decimal("0.000150"), Decimal("0.001200"), Decimal("0.001350"))
    assert (stored.model, stored.duration, stored.success, stored.conversation_id) == ("gpt-4o-mini", 120, True, conversation.id)
    row = _month_row(owner)
    assert (row.total_messages, row.total_tokens, row.total_cost) == (1, 3000, Decimal("0.001350"))
    assert (row.limit_messages, row.limit_tokens, row.exceeded_limit) == (300, 300_000, False)


@pytest.mark.django_db
def test_unknown_model_costs_nothing_and_failed_turns_are_recorded(owner):
    conversation = factories.make("conversations", owner)
    log = _turn(owner, conversation, tokens=(50, 0), model="no-such-model", success=False)
    with tenant(owner.id):
        stored = UsageLog.objects.get(pk=log.pk)
    assert (stored.success, stored.total_cost, stored.total_tokens) == (False, Decimal("0"), 50)
    assert _month_row(owner).total_messages == 1  # a failed turn still counts


@pytest.mark.django_db
def test_negative_counts_are_refused(owner):
    conversation = factories.make("conversations", owner)
    with pytest.raises(ValueError):
        _turn(owner, conversation, tokens=(-1, 5))


@pytest.mark.django_db
def test_each_threshold_fires_once_with_one_email(owner, small_limits, django_capture_on_commit_callbacks):
    conversation = factories.make("conversations", owner)
    year, month = utc_month()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(7):
            _turn(owner, conversation)
    assert _alerts(owner) == [] and mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        _turn(owner, conversation)  # 8 of 10: 80 %
    assert _alerts(owner) == [(year, month, "MESSAGES", 80)]
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["owner@example.com"]
    assert email.subject == "[cjhirashi-agents] You have used 80 % of your monthly messages"
    assert "(8 of 10)" in email.body and "Free plan" in email.body
    assert "http://127.0.0.1:8000/usage/" in email.body

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(12):  # through 90 % and 100 %, and well past them
            _turn(owner, conversation)
    assert _alerts(owner) == [(year, month, "MESSAGES", 80), (year, month, "MESSAGES", 90), (year, month, "MESSAGES", 100)]
    assert [re.search(r"used (\d+) %", m.subject)[1] for m in mail.outbox] == ["80", "90", "100"]
    assert "New messages are paused until the limit resets on" in mail.outbox[2].body
    row = _month_row(owner)
    assert (row.total_messages, row.exceeded_limit) == (20, True)


@pytest.mark.django_db
def test_token_thresholds_fire_too(owner, small_limits, django_capture_on_commit_callbacks):
    conversation = factories.make("conversations", owner)
    with django_capture_on_commit_callbacks(execute=True):
        _turn(owner, conversation, tokens=(400, 450))  # 850 of 1,000 tokens: 80 %
        _turn(owner, conversation, tokens=(100, 100))  # 1,050: 90 % and 100 % at once
    assert [a[2:] for a in _alerts(owner)] == [("TOKENS", 80), ("TOKENS", 90), ("TOKENS", 100)]
    assert len(mail.outbox) == 3
    assert "tokens" in mail.outbox[0].subject
    assert _month_row(owner).exceeded_limit is True


@pytest.mark.django_db
def test_a_new_month_fires_again(owner, small_limits, django_capture_on_commit_callbacks):
    conversation = factories.make("conversations", owner)
    january = dt.datetime(2026, 1, 20, 12, tzinfo=UTC)
    february = dt.datetime(2026, 2, 3, 12, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(8):
            _turn(owner, conversation, timestamp=january)
        for _ in range(8):
            _turn(owner, conversation, timestamp=february)
    assert _alerts(owner) == [(2026, 1, "MESSAGES", 80), (2026, 2, "MESSAGES", 80)]
    assert len(mail.outbox) == 2
    assert "January 2026" in mail.outbox[0].body and "February 2026" in mail.outbox[1].body


@pytest.mark.django_db
def test_the_plan_decides_when_alerts_fire(owner, small_limits, django_capture_on_commit_callbacks):
    pro = make_user("pro@example.com", tier="PRO")
    conversations = {u: factories.make("conversations", u) for u in (owner, pro)}
    with django_capture_on_commit_callbacks(execute=True):
        for user, conversation in conversations.items():
            for _ in range(9):
                _turn(user, conversation)
    assert [a[2:] for a in _alerts(owner)] == [("MESSAGES", 80), ("MESSAGES", 90)]
    assert _alerts(pro) == []  # 9 of 100
    assert [m.to for m in mail.outbox] == [["owner@example.com"]] * 2


@pytest.mark.django_db
def test_a_rolled_back_turn_sends_no_email(owner, small_limits, django_capture_on_commit_callbacks):
    conversation = factories.make("conversations", owner)
    for _ in range(7):
        _turn(owner, conversation)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                _turn(owner, conversation)
                raise RuntimeError("the chat service failed after recording")
    assert _alerts(owner) == [] and mail.outbox == []


@pytest.mark.django_db
def test_alert_email_is_in_the_users_language(owner, small_limits, django_capture_on_commit_callbacks):
    with tenant(owner.id):
        UserSettings.objects.filter(user=owner).update(language="es")
    conversation = factories.make("conversations", owner)
    timestamp = dt.datetime(2026, 3, 10, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(8):
            _turn(owner, conversation, timestamp=timestamp)
    assert len(mail.outbox) == 1
    assert "marzo de 2026" in mail.outbox[0].body  # Django's Spanish month format
    assert translation.get_language() == "en"  # the caller's language is left alone


@pytest.mark.django_db
def test_a_redelivered_alert_task_does_not_send_twice(owner, small_limits, django_capture_on_commit_callbacks):
    from metrics.tasks import send_usage_alert_email

    conversation = factories.make("conversations", owner)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(8):
            _turn(owner, conversation)
    with tenant(owner.id):
        alert = UsageAlert.objects.get(user=owner)
    assert send_usage_alert_email.delay(str(owner.id), str(alert.id)).get() is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_alert_task_for_another_users_alert_sends_nothing(owner, other):
    alert = factories.make("usage_alerts", owner)
    from metrics.tasks import send_usage_alert_email

    assert send_usage_alert_email.delay(str(other.id), str(alert.id)).get() is False
    assert mail.outbox == []


# --- concurrency --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_turns_across_the_threshold_create_one_alert(settings):
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 100, "tokens": 10_000_000}}
    user = make_user("concurrent@example.com")
    conversation = factories.make("conversations", user)
    now = timezone.now()
    with tenant(user.id):  # 76 of 100: eight more turns cross 80 %, not 90 %
        UsageLog.objects.bulk_create([
            UsageLog(user=user, agent=conversation.agent, conversation=conversation, model="offline",
                     tokens_input=1, tokens_output=1, total_tokens=2, timestamp=now)
            for _ in range(76)
        ])
    start = threading.Barrier(8)
    errors: list[Exception] = []

    def record(_index):
        try:
            start.wait()
            _turn(user, conversation)
        except Exception as exc:  # re-raised in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=record, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert [a[2:] for a in _alerts(user)] == [("MESSAGES", 80)]
    assert len(mail.outbox) == 1
    assert _month_row(user).total_messages == 84


# --- reservations -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_turns_in_flight_hold_their_prompt_tokens_against_the_token_limit(owner, small_limits):
    from metrics.limits import usage_release_turn, usage_reserve_turn, usage_turns_in_flight

    agent = factories.agent(owner)
    usage_record_turn(user=owner, agent=agent, conversation=None, model="offline", tokens_input=150, tokens_output=50, duration_ms=5, success=True)
    held = usage_reserve_turn(user=owner, tokens=800)  # 200 used + 800 held: all 1,000
    assert usage_turns_in_flight(user=owner) == 1
    with pytest.raises(LimitExceeded) as refused:
        usage_reserve_turn(user=owner, tokens=5)
    assert refused.value.kind == "tokens" and refused.value.limit == 1_000
    assert not _month_row(owner).exceeded_limit  # held tokens are not used ones: the month is not marked
    usage_release_turn(held)
    assert usage_reserve_turn(user=owner, tokens=5) is not None


@pytest.mark.django_db
def test_an_unlimited_plan_reserves_nothing(small_limits):
    from metrics.limits import usage_reserve_turn, usage_turns_in_flight

    boss = make_user("boss@example.com", tier="ENTERPRISE")
    assert usage_reserve_turn(user=boss, tokens=10) is None
    assert usage_turns_in_flight(user=boss) == 0
