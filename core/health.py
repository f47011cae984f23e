"""Liveness and dependency status for load balancers and operators."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_redis() -> str:
    client = cache._cache.get_client(write=True)  # the real redis-py client behind Django's cache
    client.ping()
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """200 when PostgreSQL and Redis answer, 503 naming what does not."""
    status: dict[str, str] = {}
    for name, check in (("database", _check_database), ("redis", _check_redis)):
        started = time.monotonic()
        try:
            status[name] = check()
        except Exception as exc:  # any failure of a dependency is reported, never raised
            status[name] = f"error: {type(exc).__name__}"
        status[f"{name}_ms"] = f"{(time.monotonic() - started) * 1000:.1f}"
    healthy = all(status[name] == "ok" for name in ("database", "redis"))
    return JsonResponse({"status": "ok" if healthy else "unavailable", **status}, status=200 if healthy else 503)
