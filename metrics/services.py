"""Metering: the limit check before a turn, the usage log after it, and the alerts it raises.

The chat service calls ``usage_check_before_turn`` before any provider call and
``usage_record_turn`` once per assistant turn (successful, failed or cancelled). Inserting a usage
log fires a trigger that rolls it up into ``users``, ``agents`` and ``monthly_usage``
(migration 0002), so the counters here are read, never added to. Months are UTC months, as in the
trigger.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import SubscriptionTier, User, UserSettings
from agents.registry import get_model
from core.tenancy import tenant

from .models import AlertType, MonthlyUsage, UsageAlert, UsageLog

logger = logging.getLogger(__name__)

KIND_MESSAGES = "messages"
KIND_TOKENS = "tokens"
ALERT_TYPE_TO_KIND = {AlertType.MESSAGES: KIND_MESSAGES, AlertType.TOKENS: KIND_TOKENS}

# How long a sent alert email is remembered, so a redelivered task does not send it twice.
ALERT_EMAIL_SENT_TTL = 45 * 24 * 3600


# --- months -----------------------------------------------------------------------------------------


def utc_month(moment: dt.datetime | None = None) -> tuple[int, int]:
    """(year, month) of ``moment`` (default: now) in UTC, the calendar the rollup trigger uses."""
    moment = (moment or timezone.now()).astimezone(dt.timezone.utc)
    return moment.year, moment.month


def month_start(year: int, month: int) -> dt.datetime:
    """The first instant of a UTC month."""
    return dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def limit_resets_on(year: int, month: int) -> dt.date:
    """The day a month's limits reset: the first day of the next UTC month."""
    return dt.date(*next_month(year, month), 1)


# --- limits -----------------------------------------------------------------------------------------


def limits_for(user: User) -> tuple[int | None, int | None]:
    """Monthly (messages, tokens) limits of the user's plan; ``None`` means unlimited."""
    limits = settings.TIER_LIMITS.get(user.subscription_tier) or {}
    return limits.get("messages"), limits.get("tokens")


def _reached(used: int, limit: int | None, percent: int = 100) -> bool:
    """Whether ``used`` is at least ``percent`` % of ``limit`` (integer arithmetic: no rounding)."""
    return limit is not None and used * 100 >= percent * limit


class LimitExceeded(Exception):
    """The monthly limit is used up: the turn must not reach a provider.

    ``user_message`` is rendered when read, in the language active then (the request's).
    """

    def __init__(self, *, kind: str, used: int, limit: int, tier: str, year: int, month: int):
        self.kind = kind
        self.used = used
        self.limit = limit
        self.tier = tier
        self.resets_on = limit_resets_on(year, month)
        super().__init__(f"monthly {kind} limit reached: {used} of {limit}")

    @property
    def user_message(self) -> str:
        values = {
            "limit": formats.number_format(self.limit, force_grouping=True),
            "plan": _plan_label(self.tier),
            "date": formats.date_format(self.resets_on, "MONTH_DAY_FORMAT"),
        }
        if self.kind == KIND_TOKENS:
            return _(
                "You have used all %(limit)s tokens of your %(plan)s plan this month. "
                "The limit resets on %(date)s."
            ) % values
        return _(
            "You have used all %(limit)s messages of your %(plan)s plan this month. "
            "The limit resets on %(date)s."
        ) % values


def _plan_label(tier: str) -> str:
    return str(SubscriptionTier(tier).label) if tier in SubscriptionTier.values else tier


# --- before a turn ----------------------------------------------------------------------------------


def usage_check_before_turn(*, user: User) -> None:
    """Raise ``LimitExceeded`` when this month's messages or tokens are used up.

    When refusing, the month's row is marked ``exceeded_limit`` (with the limits that applied).
    That write happens in its own (sub)transaction, closed *before* the exception is raised, so it
    persists: committed at once in autocommit mode, and kept by the caller's transaction when the
    caller catches the exception (as a view that shows the message does).

    Deliberately not ``@transaction.atomic``: raising inside the atomic block would roll the flag back.
    """
    limit_messages, limit_tokens = limits_for(user)
    if limit_messages is None and limit_tokens is None:
        return
    year, month = utc_month()
    refusal: LimitExceeded | None = None
    with tenant(user.id):
        row = (
            MonthlyUsage.objects.filter(user=user, year=year, month=month)
            .values("total_messages", "total_tokens", "exceeded_limit", "limit_messages", "limit_tokens")
            .first()
        )
        used_messages = row["total_messages"] if row else 0
        used_tokens = row["total_tokens"] if row else 0
        if _reached(used_messages, limit_messages):
            refusal = LimitExceeded(kind=KIND_MESSAGES, used=used_messages, limit=limit_messages, tier=user.subscription_tier, year=year, month=month)
        elif _reached(used_tokens, limit_tokens):
            refusal = LimitExceeded(kind=KIND_TOKENS, used=used_tokens, limit=limit_tokens, tier=user.subscription_tier, year=year, month=month)
        already_marked = row is not None and row["exceeded_limit"] and (row["limit_messages"], row["limit_tokens"]) == (limit_messages, limit_tokens)
        if refusal is not None and not already_marked:
            _mark_exceeded(user=user, year=year, month=month, limit_messages=limit_messages, limit_tokens=limit_tokens)
    if refusal is not None:
        raise refusal


def _mark_exceeded(*, user: User, year: int, month: int, limit_messages: int | None, limit_tokens: int | None) -> None:
    """Upsert the month's row with its limits and the flag (the row may not exist yet)."""
    MonthlyUsage.objects.bulk_create(
        [MonthlyUsage(user=user, year=year, month=month, limit_messages=limit_messages, limit_tokens=limit_tokens, exceeded_limit=True)],
        update_conflicts=True,
        unique_fields=["user", "year", "month"],
        update_fields=["limit_messages", "limit_tokens", "exceeded_limit"],
    )


# --- reserving a turn -------------------------------------------------------------------------------
#
# Checking ``used < limit`` and calling the model later is a race: twenty streams opened at once at
# 299 of 300 messages all see 299. So the check before the provider call *reserves* the turn:
#
# - The turns in flight are members of a Redis sorted set per user, scored by when they expire;
#   each member carries the turn's estimated prompt tokens. A crashed process's turns expire
#   (``reservation_ttl``); a live stream renews its own as it goes.
# - Reservations of one user are serialised by a row lock on the month's ``monthly_usage`` row,
#   taken in a savepoint that is rolled back at once (rolling back to a savepoint releases the locks
#   taken after it, even inside a caller's long transaction, such as the no-JavaScript request).
#   Under the lock: used (committed) + in flight < limit, then add ours.
# - A turn is released right after its usage log is written. The rollup trigger has then updated
#   (and locked) the same month's row; a reservation that follows waits for that transaction and
#   sees the new total. So there is no moment where a turn is neither in flight nor in the total.

INFLIGHT_KEY = "metering:in-flight:{}"
# A stream renews its reservation at most this often (chats.streaming does, as events arrive).
RESERVATION_RENEW_SECONDS = 30

# The month's row, created when missing (inside the rolled-back savepoint: nothing persists), then
# locked. A concurrent first log of the month (the trigger's INSERT) makes the INSERT wait for it.
_MONTH_ROW_ENSURE_SQL = """
INSERT INTO monthly_usage (id, user_id, year, month, created_at)
VALUES (gen_random_uuid(), %(user_id)s, %(year)s, %(month)s, now())
ON CONFLICT (user_id, year, month) DO NOTHING
"""
_MONTH_ROW_LOCK_SQL = """
SELECT total_messages, total_tokens FROM monthly_usage
 WHERE user_id = %(user_id)s AND year = %(year)s AND month = %(month)s
   FOR UPDATE
"""


def reservation_ttl() -> int:
    """Seconds a reservation lives without renewal: longer than any wait for a provider's next bytes."""
    return int(max(120, 3 * settings.LLM_TIMEOUT_SECONDS + RESERVATION_RENEW_SECONDS))


@dataclass(frozen=True)
class Reservation:
    """One turn in flight, counted against the month's limits until released."""

    user_id: str
    member: str  # "<id>:<estimated prompt tokens>"

    @property
    def tokens(self) -> int:
        return int(self.member.rpartition(":")[2])


def _redis():
    return cache._cache.get_client(write=True)  # the redis-py client behind Django's cache


def _in_flight(client, key: str) -> tuple[int, int]:
    """(turns, estimated tokens) reserved and not expired; expired ones are dropped."""
    pipe = client.pipeline(transaction=True)
    pipe.zremrangebyscore(key, "-inf", time.time())
    pipe.zrange(key, 0, -1)
    _dropped, members = pipe.execute()
    tokens = 0
    for member in members:
        tokens += int((member.decode() if isinstance(member, bytes) else member).rpartition(":")[2] or 0)
    return len(members), tokens


def _add(client, key: str, member: str) -> None:
    ttl = reservation_ttl()
    pipe = client.pipeline(transaction=True)
    pipe.zadd(key, {member: time.time() + ttl})
    pipe.expire(key, ttl)
    pipe.execute()


def usage_reserve_turn(*, user: User, tokens: int = 0) -> Reservation | None:
    """Reserve one turn against this month's limits, or raise ``LimitExceeded``.

    A turn may start when the messages used plus the turns in flight are below the message limit,
    and the tokens used plus those the turns in flight hold are below the token limit (a turn's
    real tokens are known only at its end). ``tokens`` is this turn's estimated prompt. ``None``
    (nothing to release) on an unlimited plan. Release with ``usage_release_turn`` once the turn's
    usage log is written, or when the turn ends without one.

    Deliberately not ``@transaction.atomic``: the refusal's ``exceeded_limit`` mark must persist.
    """
    limit_messages, limit_tokens = limits_for(user)
    if limit_messages is None and limit_tokens is None:
        return None
    year, month = utc_month()
    params = {"user_id": user.id, "year": year, "month": month}
    key = INFLIGHT_KEY.format(user.id)
    client = _redis()
    refusal: LimitExceeded | None = None
    mark = False
    member = f"{uuid.uuid4()}:{max(int(tokens), 0)}"
    with tenant(user.id):
        with transaction.atomic():  # a savepoint, rolled back below: the lock lasts only this block
            with connection.cursor() as cursor:
                cursor.execute(_MONTH_ROW_ENSURE_SQL, params)
                cursor.execute(_MONTH_ROW_LOCK_SQL, params)
                used_messages, used_tokens = cursor.fetchone()
            flying, flying_tokens = _in_flight(client, key)
            if _reached(used_messages + flying, limit_messages):
                refusal = LimitExceeded(kind=KIND_MESSAGES, used=used_messages + flying, limit=limit_messages, tier=user.subscription_tier, year=year, month=month)
                mark = _reached(used_messages, limit_messages)
            elif _reached(used_tokens + flying_tokens, limit_tokens):
                refusal = LimitExceeded(kind=KIND_TOKENS, used=used_tokens + flying_tokens, limit=limit_tokens, tier=user.subscription_tier, year=year, month=month)
                mark = _reached(used_tokens, limit_tokens)
            else:
                _add(client, key, member)
            transaction.set_rollback(True)
        if mark:
            # Only what is really used marks the month: turns in flight may still fail to count.
            _mark_exceeded(user=user, year=year, month=month, limit_messages=limit_messages, limit_tokens=limit_tokens)
    if refusal is not None:
        raise refusal
    return Reservation(user_id=str(user.id), member=member)


def usage_renew_reservation(reservation: Reservation | None, *, tokens: int | None = None) -> Reservation | None:
    """Keep a turn in flight from expiring; with ``tokens``, hold that estimate instead (the new
    member is added before the old one goes, so the turn is never uncounted)."""
    if reservation is None:
        return None
    client = _redis()
    key = INFLIGHT_KEY.format(reservation.user_id)
    if tokens is None or int(tokens) == reservation.tokens:
        ttl = reservation_ttl()
        client.zadd(key, {reservation.member: time.time() + ttl}, xx=True)
        client.expire(key, ttl)
        return reservation
    renewed = Reservation(user_id=reservation.user_id, member=f"{reservation.member.rpartition(':')[0]}:{max(int(tokens), 0)}")
    if client.zscore(key, reservation.member) is None:
        return reservation  # expired or released meanwhile: do not bring it back
    _add(client, key, renewed.member)
    client.zrem(key, reservation.member)
    return renewed


def usage_release_turn(reservation: Reservation | None) -> None:
    """The turn is over (its usage log written, or it never reached the model): stop counting it."""
    if reservation is not None:
        _redis().zrem(INFLIGHT_KEY.format(reservation.user_id), reservation.member)


def usage_turns_in_flight(*, user: User) -> int:
    """How many of the user's turns hold a reservation now (for tests and operators)."""
    return _in_flight(_redis(), INFLIGHT_KEY.format(user.id))[0]


# --- after a turn -----------------------------------------------------------------------------------

# The trigger has just updated (and locked) this row in the same transaction, so the totals
# returned include this turn and every turn committed before it.
_MONTH_LIMITS_SQL = """
UPDATE monthly_usage
   SET limit_messages = %(limit_messages)s,
       limit_tokens = %(limit_tokens)s,
       exceeded_limit = exceeded_limit
                        OR coalesce(total_messages >= %(limit_messages)s, false)
                        OR coalesce(total_tokens >= %(limit_tokens)s, false)
 WHERE user_id = %(user_id)s AND year = %(year)s AND month = %(month)s
RETURNING total_messages, total_tokens
"""

# Exactly once per (user, type, threshold, year, month), whatever the concurrency: the unique
# constraint decides, and RETURNING names only the rows this statement created.
_ALERTS_INSERT_SQL = """
INSERT INTO usage_alerts (id, user_id, type, threshold, triggered, year, month, created_at)
VALUES {values}
ON CONFLICT (user_id, type, threshold, year, month) DO NOTHING
RETURNING id
"""
_ALERT_VALUES_SQL = "(gen_random_uuid(), %s, %s, %s, true, %s, %s, now())"


def usage_record_turn(
    *,
    user: User,
    agent,
    conversation,
    model: str,
    tokens_input: int,
    tokens_output: int,
    duration_ms: int,
    success: bool,
    timestamp: dt.datetime | None = None,
) -> UsageLog:
    """Record one assistant turn and raise the month's alerts it reaches.

    Cost comes from the model registry (an unknown model costs 0). Each alert row created here is
    emailed once, after the transaction commits.
    """
    if min(tokens_input, tokens_output, duration_ms) < 0:
        raise ValueError("token counts and duration must not be negative")
    timestamp = timestamp or timezone.now()
    info = get_model(model)
    cost_input, cost_output = info.cost(tokens_input, tokens_output) if info else (Decimal(0), Decimal(0))
    year, month = utc_month(timestamp)
    limit_messages, limit_tokens = limits_for(user)
    with tenant(user.id):
        log = UsageLog.objects.create(
            user=user,
            agent=agent,
            conversation=conversation,
            model=model,
            tokens_input=tokens_input,
            tokens_output=tokens_output,
            total_tokens=tokens_input + tokens_output,
            cost_input=cost_input,
            cost_output=cost_output,
            total_cost=cost_input + cost_output,
            duration=duration_ms,
            success=success,
            timestamp=timestamp,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                _MONTH_LIMITS_SQL,
                {"limit_messages": limit_messages, "limit_tokens": limit_tokens, "user_id": user.id, "year": year, "month": month},
            )
            totals = cursor.fetchone() or (0, 0)
        reached = [
            (alert_type, threshold)
            for alert_type, used, limit in ((AlertType.MESSAGES, totals[0], limit_messages), (AlertType.TOKENS, totals[1], limit_tokens))
            for threshold in settings.USAGE_ALERT_THRESHOLDS
            if _reached(used, limit, threshold)
        ]
        for alert_id in _alerts_create(user_id=user.id, year=year, month=month, reached=reached):
            # Registered inside the (sub)transaction: if it rolls back, no email.
            transaction.on_commit(partial(_enqueue_alert_email, user.id, alert_id), robust=True)
    return log


def _alerts_create(*, user_id: uuid.UUID, year: int, month: int, reached: list[tuple[str, int]]) -> list[uuid.UUID]:
    """Insert the alerts not recorded yet; the ids of those this call created."""
    if not reached:
        return []
    params: list = []
    for alert_type, threshold in reached:
        params += [user_id, str(alert_type), threshold, year, month]
    sql = _ALERTS_INSERT_SQL.format(values=", ".join([_ALERT_VALUES_SQL] * len(reached)))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _enqueue_alert_email(user_id: uuid.UUID, alert_id: uuid.UUID) -> None:
    from .tasks import send_usage_alert_email  # tasks imports this module

    send_usage_alert_email.delay(str(user_id), str(alert_id))


# --- alert email ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AlertFacts:
    email: str
    name: str
    tier: str
    kind: str
    threshold: int
    used: int
    limit: int | None
    year: int
    month: int
    language: str


def _alert_facts(*, user_id: uuid.UUID | str, alert_id: uuid.UUID | str) -> _AlertFacts | None:
    with tenant(user_id):
        alert = UsageAlert.objects.select_related("user").filter(pk=alert_id, user_id=user_id).first()
        if alert is None or not alert.user.is_active:
            return None
        usage = (
            MonthlyUsage.objects.filter(user_id=user_id, year=alert.year, month=alert.month)
            .values("total_messages", "total_tokens", "limit_messages", "limit_tokens")
            .first()
        ) or {}
        language = UserSettings.objects.filter(user_id=user_id).values_list("language", flat=True).first()
    user = alert.user
    kind = ALERT_TYPE_TO_KIND[alert.type]
    limit_messages, limit_tokens = limits_for(user)
    # The limits the month was metered against, else the plan's (the row may predate them).
    if kind == KIND_MESSAGES:
        used, limit = usage.get("total_messages", 0), usage.get("limit_messages")
        limit = limit_messages if limit is None else limit
    else:
        used, limit = usage.get("total_tokens", 0), usage.get("limit_tokens")
        limit = limit_tokens if limit is None else limit
    return _AlertFacts(
        email=user.email,
        name=user.get_short_name(),
        tier=user.subscription_tier,
        kind=kind,
        threshold=alert.threshold,
        used=used,
        limit=limit,
        year=alert.year,
        month=alert.month,
        language=language or "en",
    )


def _alert_email(facts: _AlertFacts) -> tuple[str, str]:
    """(subject, plain-text body) in the active language."""
    number = partial(formats.number_format, force_grouping=True)
    values = {
        "percent": facts.threshold,
        "plan": _plan_label(facts.tier),
        "period": formats.date_format(dt.date(facts.year, facts.month, 1), "YEAR_MONTH_FORMAT"),
        "used": number(facts.used),
        "limit": number(facts.limit) if facts.limit is not None else "—",
        "date": formats.date_format(limit_resets_on(facts.year, facts.month), "MONTH_DAY_FORMAT"),
    }
    if facts.kind == KIND_TOKENS:
        subject = _("You have used %(percent)s %% of your monthly tokens") % values
        summary = _("You have used %(percent)s %% of the tokens included in your %(plan)s plan for %(period)s (%(used)s of %(limit)s).") % values
    else:
        subject = _("You have used %(percent)s %% of your monthly messages") % values
        summary = _("You have used %(percent)s %% of the messages included in your %(plan)s plan for %(period)s (%(used)s of %(limit)s).") % values
    if facts.threshold >= 100:
        consequence = _("New messages are paused until the limit resets on %(date)s.") % values
    else:
        consequence = _("When you reach 100 %%, new messages are paused until the limit resets on %(date)s.") % values
    url = settings.SITE_URL.rstrip("/") + reverse("metrics:usage")
    lines = [
        _("Hello %(name)s,") % {"name": facts.name} if facts.name else _("Hello,"),
        "",
        summary,
        consequence,
        "",
        _("See your usage: %(url)s") % {"url": url},
    ]
    return settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, "\n".join(lines) + "\n"


def usage_alert_notify(*, user_id: uuid.UUID | str, alert_id: uuid.UUID | str) -> bool:
    """Email the user about one alert, in their language. Returns whether an email went out.

    At most once per alert: the alert table has no "sent" column, so a cache key taken before
    sending makes a redelivered task a no-op. The key is released if sending fails.
    """
    facts = _alert_facts(user_id=user_id, alert_id=alert_id)
    if facts is None:
        return False
    sent_key = f"metrics:usage-alert-email:{alert_id}"
    if not cache.add(sent_key, 1, timeout=ALERT_EMAIL_SENT_TTL):
        logger.info("usage alert %s: email already sent", alert_id)
        return False
    try:
        with translation.override(facts.language):
            subject, body = _alert_email(facts)
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[facts.email])
    except Exception:
        cache.delete(sent_key)
        raise
    return True
