"""Enforcing the plan's monthly limits before a turn: the check when a message is posted, and the
reservation taken right before the provider call (which counts the turns in flight).

Both refuse with ``LimitExceeded`` and mark the month's row ``exceeded_limit`` when what is really
used is at the limit. Months and limits come from ``metrics.plans``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from accounts.models import User
from core.tenancy import tenant

from .errors import LimitExceeded
from .models import KIND_MESSAGES, KIND_TOKENS, MonthlyUsage
from .plans import limits_for, reached, utc_month

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
        if reached(used_messages, limit_messages):
            refusal = LimitExceeded(kind=KIND_MESSAGES, used=used_messages, limit=limit_messages, tier=user.subscription_tier, year=year, month=month)
        elif reached(used_tokens, limit_tokens):
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
            if reached(used_messages + flying, limit_messages):
                refusal = LimitExceeded(kind=KIND_MESSAGES, used=used_messages + flying, limit=limit_messages, tier=user.subscription_tier, year=year, month=month)
                mark = reached(used_messages, limit_messages)
            elif reached(used_tokens + flying_tokens, limit_tokens):
                refusal = LimitExceeded(kind=KIND_TOKENS, used=used_tokens + flying_tokens, limit=limit_tokens, tier=user.subscription_tier, year=year, month=month)
                mark = reached(used_tokens, limit_tokens)
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
