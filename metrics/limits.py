"""Enforcing the plan's monthly limits before a turn: the check when a message is posted, and the
reservation taken right before the provider call (which counts the turns in flight).

Both refuse with ``LimitExceeded`` and mark the month's row ``exceeded_limit`` when what is really
used is at the limit. Months and limits come from ``metrics.plans``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
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


# The columns ``usage_check_before_turn`` reads of the month's row (a caller reading it along with
# its own rows selects these, in this order).
CHECK_COLUMNS = ("total_messages", "total_tokens", "exceeded_limit", "limit_messages", "limit_tokens")


def usage_check_before_turn(*, user: User, in_context: bool = False, month_row: tuple[dict, dict | None] | None = None) -> None:
    """Raise ``LimitExceeded`` when this month's messages or tokens are used up.

    When refusing, the month's row is marked ``exceeded_limit`` (with the limits that applied).
    That write happens in its own (sub)transaction, closed *before* the exception is raised, so it
    persists: committed at once in autocommit mode, and kept by the caller's transaction when the
    caller catches the exception (as a view that shows the message does). ``in_context``: the
    caller's transaction already acts for ``user`` (a request of theirs, ``TenantMiddleware``): the
    read and the mark run in it, with no savepoint and no read of the context (three round trips).
    ``month_row``: (``month_row_params``, the month's ``CHECK_COLUMNS`` as a dict or None when it
    has no row), as the caller read them in that transaction along with its own reads.

    Deliberately not ``@transaction.atomic``: raising inside the atomic block would roll the flag back.
    """
    limit_messages, limit_tokens = limits_for(user)
    if limit_messages is None and limit_tokens is None:
        return
    year, month = utc_month()
    refusal: LimitExceeded | None = None
    with nullcontext() if in_context else tenant(user.id):
        if month_row is not None and (month_row[0]["year"], month_row[0]["month"]) == (year, month):
            row = month_row[1]
        else:  # not read by the caller (or read for the month before: it has just ended)
            row = MonthlyUsage.objects.filter(user=user, year=year, month=month).values(*CHECK_COLUMNS).first()
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


def month_row_params(user: User) -> dict | None:
    """Which month's row ``usage_check_before_turn`` reads ({"user_id", "year", "month"}), or None
    when the plan has no limit (it reads nothing)."""
    limit_messages, limit_tokens = limits_for(user)
    if limit_messages is None and limit_tokens is None:
        return None
    year, month = utc_month()
    return {"user_id": user.id, "year": year, "month": month}


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

# The month's totals, its row locked; the row is created when missing (the caller rolls it back:
# nothing persists). One statement in the common case: the CTEs share one snapshot, so when a
# concurrent first log of the month (the trigger's INSERT) commits while our INSERT waits for it,
# neither CTE returns its row; ``_MONTH_ROW_LOCK_SQL``, a statement of its own with a new snapshot,
# then locks it.
_MONTH_ROW_RESERVE_SQL = """
WITH created AS (
    INSERT INTO monthly_usage (id, user_id, year, month, created_at)
    VALUES (gen_random_uuid(), %(user_id)s, %(year)s, %(month)s, now())
    ON CONFLICT (user_id, year, month) DO NOTHING
    RETURNING total_messages, total_tokens
), locked AS (
    SELECT total_messages, total_tokens FROM monthly_usage
     WHERE user_id = %(user_id)s AND year = %(year)s AND month = %(month)s
       FOR UPDATE
)
SELECT total_messages, total_tokens FROM created
 UNION ALL
SELECT total_messages, total_tokens FROM locked
"""
_MONTH_ROW_LOCK_SQL = """
SELECT total_messages, total_tokens FROM monthly_usage
 WHERE user_id = %(user_id)s AND year = %(year)s AND month = %(month)s
   FOR UPDATE
"""

# In one round trip, atomically: drop the expired turns in flight, count them and their tokens,
# and add ours when used + in flight stay below both limits ("" for an unlimited one).
# KEYS[1]: the set; ARGV: now, member, its expiry, the key's ttl, used messages, message limit,
# used tokens, token limit. Returns {added (0/1), turns in flight, their tokens} (before ours).
_RESERVE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local tokens = 0
for _, member in ipairs(members) do
  tokens = tokens + (tonumber(string.match(member, ':(%d+)$')) or 0)
end
local flying = #members
local fits = true
if ARGV[6] ~= '' and tonumber(ARGV[5]) + flying >= tonumber(ARGV[6]) then fits = false end
if fits and ARGV[8] ~= '' and tonumber(ARGV[7]) + tokens >= tonumber(ARGV[8]) then fits = false end
if fits then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return {1, flying, tokens}
end
return {0, flying, tokens}
"""
# Replace a member by another (a new token estimate) unless it has gone (expired or released):
# KEYS[1]: the set; ARGV: old member, new member, its expiry, the key's ttl. Returns 1 if replaced.
_REPLACE_LUA = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""
_scripts: dict[str, object] = {}


def _run_script(client, source: str, keys: list, args: list):
    """Run a Lua script by its digest (EVALSHA; redis-py loads it again when the server lost it)."""
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = client.register_script(source)
    return script(keys=keys, args=args, client=client)


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


def _add_if_within(client, key: str, member: str, *, used: tuple[int, int], limits: tuple[int | None, int | None]) -> tuple[bool, int, int]:
    """(added, turns in flight, their tokens): ``member`` is added when used + in flight stay below both limits."""
    ttl = reservation_ttl()
    now = time.time()
    args = [now, member, now + ttl, ttl, used[0], "" if limits[0] is None else limits[0],
            used[1], "" if limits[1] is None else limits[1]]
    added, flying, flying_tokens = _run_script(client, _RESERVE_LUA, [key], args)
    return bool(added), int(flying), int(flying_tokens)


def run_statements(statements: list[str]) -> list[list[tuple]]:
    """Each statement's rows ([] for one that returns none): the statements (parameters bound,
    ``connection.ops.compose_sql``) are sent in one round trip and run in order in the transaction
    in force, each seeing what the ones before it did."""
    results = []
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(statements))
        while True:
            results.append(cursor.fetchall() if cursor.description is not None else [])
            if not cursor.nextset():
                return results


def _lock_month_row(params: dict, reads: list[str] = ()) -> tuple[tuple[int, int], list[list[tuple]]]:
    """The month's (messages, tokens) used, its row locked (created when missing) in the transaction
    in force; and the rows of ``reads``, run first in the same round trip."""
    *read, rows = run_statements([*reads, connection.ops.compose_sql(_MONTH_ROW_RESERVE_SQL, params)])
    if not rows:  # created meanwhile by a transaction our statement's snapshot predates
        with connection.cursor() as cursor:
            cursor.execute(_MONTH_ROW_LOCK_SQL, params)
            rows = [cursor.fetchone()]
    return rows[0], read


def usage_reserve_turn(*, user: User, tokens: int | Callable[..., int] = 0, reads: list[str] = ()) -> Reservation | None:
    """Reserve one turn against this month's limits, or raise ``LimitExceeded``.

    A turn may start when the messages used plus the turns in flight are below the message limit,
    and the tokens used plus those the turns in flight hold are below the token limit (a turn's
    real tokens are known only at its end). ``tokens`` is this turn's estimated prompt, or a
    function that gives it, called first in the reservation's transaction and context (before the
    lock): the turn's own reads then share that transaction (three round trips fewer). ``reads``:
    the turn's own statements (parameters bound), sent with the lock in one round trip, before it;
    ``tokens`` is then called with their rows (``run_statements``), under the lock. ``None``
    (nothing to release) on an unlimited plan. Release with ``usage_release_turn`` once the turn's
    usage log is written, or when the turn ends without one.

    Outside a transaction (a runner thread) the reservation is a transaction of its own, rolled
    back (committed only to keep the refusal's mark): its lock ends with it. Inside one (the
    no-JavaScript request, a test) it is a savepoint rolled back at once, for the same reason.

    Deliberately not ``@transaction.atomic``: the refusal's ``exceeded_limit`` mark must persist.
    """
    limit_messages, limit_tokens = limits_for(user)
    if limit_messages is None and limit_tokens is None:
        if callable(tokens):
            with tenant(user.id):
                tokens(run_statements(list(reads))) if reads else tokens()
        return None
    year, month = utc_month()
    params = {"user_id": user.id, "year": year, "month": month}
    key = INFLIGHT_KEY.format(user.id)
    client = _redis()
    refusal: LimitExceeded | None = None
    mark = False
    outermost = not connection.in_atomic_block
    with tenant(user.id):
        if not reads:
            estimate = tokens() if callable(tokens) else tokens
        # Outermost: tenant()'s own transaction, ended below. Nested: a savepoint rolled back at once.
        with nullcontext() if outermost else transaction.atomic():
            (used_messages, used_tokens), read = _lock_month_row(params, reads)
            if reads:
                estimate = tokens(read) if callable(tokens) else tokens
            member = f"{uuid.uuid4()}:{max(int(estimate), 0)}"
            added, flying, flying_tokens = _add_if_within(
                client, key, member, used=(used_messages, used_tokens), limits=(limit_messages, limit_tokens))
            if added:
                pass
            elif reached(used_messages + flying, limit_messages):
                refusal = LimitExceeded(kind=KIND_MESSAGES, used=used_messages + flying, limit=limit_messages, tier=user.subscription_tier, year=year, month=month)
                mark = reached(used_messages, limit_messages)
            else:
                refusal = LimitExceeded(kind=KIND_TOKENS, used=used_tokens + flying_tokens, limit=limit_tokens, tier=user.subscription_tier, year=year, month=month)
                mark = reached(used_tokens, limit_tokens)
            if not outermost or not mark:
                transaction.set_rollback(True)  # the lock ends here, and the row created for it goes
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
    ttl = reservation_ttl()
    if tokens is None or int(tokens) == reservation.tokens:
        pipe = client.pipeline(transaction=True)
        pipe.zadd(key, {reservation.member: time.time() + ttl}, xx=True)
        pipe.expire(key, ttl)
        pipe.execute()
        return reservation
    renewed = Reservation(user_id=reservation.user_id, member=f"{reservation.member.rpartition(':')[0]}:{max(int(tokens), 0)}")
    if not _run_script(client, _REPLACE_LUA, [key], [reservation.member, renewed.member, time.time() + ttl, ttl]):
        return reservation  # expired or released meanwhile: do not bring it back
    return renewed


def usage_release_turn(reservation: Reservation | None) -> None:
    """The turn is over (its usage log written, or it never reached the model): stop counting it."""
    if reservation is not None:
        _redis().zrem(INFLIGHT_KEY.format(reservation.user_id), reservation.member)


def usage_release_in(pipe, reservation: Reservation | None) -> None:
    """``usage_release_turn`` as a command of the caller's Redis transaction (one that publishes the
    turn's end too: one round trip)."""
    if reservation is not None:
        pipe.zrem(INFLIGHT_KEY.format(reservation.user_id), reservation.member)


def usage_turns_in_flight(*, user: User) -> int:
    """How many of the user's turns hold a reservation now (for tests and operators)."""
    return _in_flight(_redis(), INFLIGHT_KEY.format(user.id))[0]
