"""Per-person rate limits on the actions one person could use to starve the others.

``RATE_LIMITS`` (settings) names each limit ``"<count>/<seconds>"``: ``messages`` (chat questions),
``uploads`` (files and documents added), ``url_fetches`` (documents fetched from an address),
``share_downloads`` (downloads through one share link from one address). A limit is a fixed window
counted in Redis (one script per request: ``INCR``, the window's key expiring with it), keyed by the
signed-in person, or by the address for visitors. Past the limit the view answers 429 with ``Retry-After`` and
a translated message naming the limit and the wait; JSON callers get ``{"errors": [message]}``.

While Redis is down these limits fail open (core.cache): they protect capacity, not secrets; the
login and share-password throttles, which do, fail closed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.cache import REDIS_ERRORS

DEFAULT_LIMITS = {
    "messages": "30/60",
    "uploads": "60/600",
    "url_fetches": "20/600",
    "share_downloads": "60/600",
}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, spec: str) -> "Rate":
        count, _sep, seconds = str(spec).partition("/")
        return cls(int(count), int(seconds or 60))


def rate_for(name: str) -> Rate:
    limits = {**DEFAULT_LIMITS, **getattr(settings, "RATE_LIMITS", {})}
    return Rate.parse(limits[name])


def _subject(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return "visitor"  # views open to visitors pass ``key`` (their address, from accounts.sessions.client_ip)


def hit(name: str, subject: str, *, now: float | None = None) -> int:
    """Count one action of ``subject`` against limit ``name``; seconds to wait (0: allowed)."""
    rate = rate_for(name)
    if rate.count <= 0:
        return 0
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    count = _count(cache.make_and_validate_key(f"rl:{name}:{subject}:{window}"), ttl=rate.seconds + 1)
    if count <= rate.count:
        return 0
    return max(1, math.ceil((window + 1) * rate.seconds - now))


# One round trip per counted request (it was three: Django's add, then incr's exists and incrby).
# The window's key expires with it; a key left without a ttl (none should be) gets one.
_COUNT_LUA = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
_count_script = None


def _count(key: str, *, ttl: int) -> int:
    """The window's count after this request; 0 (allowed) while Redis is down: these limits fail open."""
    global _count_script  # noqa: PLW0603 - registered once per process (the script object keeps its digest)
    circuit = getattr(cache, "circuit", None)
    if circuit is not None and circuit.is_open():
        return 0
    client = cache._cache.get_client(write=True)  # the redis-py client behind Django's cache
    try:
        if _count_script is None:
            _count_script = client.register_script(_COUNT_LUA)
        return int(_count_script(keys=[key], args=[ttl], client=client))
    except REDIS_ERRORS as exc:
        if circuit is not None:
            circuit.trip(exc)
        return 0


def limit_message(name: str, wait: int) -> str:
    rate = rate_for(name)
    what = {
        "messages": ngettext("%(count)d message", "%(count)d messages", rate.count),
        "uploads": ngettext("%(count)d upload", "%(count)d uploads", rate.count),
        "url_fetches": ngettext("%(count)d address fetched", "%(count)d addresses fetched", rate.count),
        "share_downloads": ngettext("%(count)d download", "%(count)d downloads", rate.count),
    }[name] % {"count": rate.count}
    minutes = max(1, round(rate.seconds / 60))
    period = ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    wait_text = ngettext("%(n)d second", "%(n)d seconds", wait) % {"n": wait}
    return _("Slow down: at most %(what)s every %(period)s. Try again in %(wait)s.") % {
        "what": what, "period": period, "wait": wait_text}


def refused(request, name: str, wait: int):
    message = limit_message(name, wait)
    wants_json = "application/json" in request.headers.get("Accept", "") or request.headers.get("X-Requested-With") == "fetch"
    if wants_json:
        response = JsonResponse({"errors": [message], "files": []}, status=429)
    else:
        response = render(request, "errors/429.html", {"message": message}, status=429)
    response["Retry-After"] = str(wait)
    return response


def rate_limited(name: str, *, methods: tuple[str, ...] = ("POST",), key=None):
    """Decorate a view: each request with one of ``methods`` counts against limit ``name``.
    ``key(request, *args, **kwargs)`` adds to the subject (a visitor's address and the share link)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                subject = _subject(request) + (f":{key(request, *args, **kwargs)}" if key else "")
                wait = hit(name, subject)
                if wait:
                    return refused(request, name, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
