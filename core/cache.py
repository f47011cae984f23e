"""The cache when Redis is down: it fails open, fast, and says so.

Django's ``RedisCache`` raises ``redis.ConnectionError`` from every call while Redis is unreachable,
and redis-py retries each command with a backoff first (seconds per call): a page that reads the cache
would wait, then fail with a 500. ``ResilientRedisCache`` instead

- answers as if the key were absent: ``get`` gives the default, ``get_many`` nothing, ``add``
  ``False`` (nothing was added: a lock taken with ``add`` reads as held by someone else), ``set``,
  ``delete`` and ``touch`` do nothing, ``incr`` raises ``ValueError`` as for a missing key;
- after a failure, skips Redis for ``DOWN_SECONDS`` (a circuit breaker), so a down Redis costs one
  connection attempt per few seconds per process, not one per call;
- tells callers that must not fail open (login throttling fails closed, see
  ``accounts.adapters``) through ``redis_available()``.

Code that talks to Redis directly (chat event streams, in-flight turn reservations) catches
``REDIS_ERRORS`` itself.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import wraps

import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger("core.cache")

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
DOWN_SECONDS = 5.0


class _Circuit:
    def __init__(self):
        self._lock = threading.Lock()
        self.down_until = 0.0
        self._logged_at = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self.down_until

    def trip(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self.down_until = now + DOWN_SECONDS
            if now - self._logged_at > 60:  # one line a minute, not one per call
                self._logged_at = now
                logger.error("Redis is unreachable (%s); the cache answers empty until it is back", exc)

    def close(self) -> None:
        self.down_until = 0.0


def _failing_open(fallback):
    """Wrap a cache method: on a Redis connection error (or while the circuit is open) return
    ``fallback(*args, **kwargs)`` instead of raising."""

    def decorate(method):
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            if self.circuit.is_open():
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except REDIS_ERRORS as exc:
                self.circuit.trip(exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _missing(*args, **kwargs):
    raise ValueError("Key not found (Redis is unreachable)")


class KeptClientRedisCacheClient(RedisCacheClient):
    """Django's client with one ``redis.Redis`` per connection pool, kept.

    Django builds a new ``redis.Redis`` for every cache call, and redis-py fills about 170 response
    callbacks into each (65 µs): six times in a chat turn. A ``redis.Redis`` holds no per-call
    state (its connections are the pool's, taken and given back per command), so one serves every
    call; a race between two threads at the first call builds two, and one is kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient
        self.circuit = _Circuit()

    get = _failing_open(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _failing_open(lambda keys, version=None: {})(RedisCache.get_many)
    has_key = _failing_open(lambda key, version=None: False)(RedisCache.has_key)
    add = _failing_open(lambda *a, **k: False)(RedisCache.add)
    set = _failing_open(lambda *a, **k: None)(RedisCache.set)
    set_many = _failing_open(lambda data, *a, **k: list(data))(RedisCache.set_many)
    touch = _failing_open(lambda *a, **k: False)(RedisCache.touch)
    delete = _failing_open(lambda *a, **k: False)(RedisCache.delete)
    delete_many = _failing_open(lambda *a, **k: None)(RedisCache.delete_many)
    incr = _failing_open(_missing)(RedisCache.incr)
    clear = _failing_open(lambda *a, **k: False)(RedisCache.clear)

    def available(self) -> bool:
        """Whether Redis answers now (a ping unless a recent failure says it does not)."""
        if self.circuit.is_open():
            return False
        try:
            self._cache.get_client(write=True).ping()
        except REDIS_ERRORS as exc:
            self.circuit.trip(exc)
            return False
        return True


def redis_available() -> bool:
    checker = getattr(cache, "available", None)
    return checker() if checker else True
