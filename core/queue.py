"""Enqueue a Celery task after commit without ever failing the request that asked for it.

With the broker (Redis) down, ``task.delay`` inside ``transaction.on_commit`` raises after the
row is committed: the person gets a 500 for work that was saved. ``enqueue_on_commit`` sends once,
without the publish retries (a down broker would hold the request for their back-off), and on a
broker error logs it and returns: the row keeps the state that says "still to do" (a document
"Queued"), and the sweep that owns that state sends it again once the broker is back
(``rag.requeue_queued_documents``). Nothing is lost; the sweep and the task are idempotent.
"""

from __future__ import annotations

import logging

import redis
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger("core.queue")

BROKER_ERRORS = (OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionError, OSError)


def send(task, *args, **options) -> bool:
    """Send ``task(*args)`` now; False (logged) when the broker cannot take it."""
    try:
        task.apply_async(args=list(args), retry=False, **options)
    except BROKER_ERRORS as exc:
        logger.error("could not enqueue %s%s: the broker is unreachable (%s); its sweep will send it again",
                     task.name, tuple(args), exc)
        return False
    return True


def enqueue_on_commit(task, *args, **options) -> None:
    def deliver() -> None:
        try:
            send(task, *args, **options)
        except Exception:  # not a broker error: a bug, logged with its traceback, still never the request's failure
            logger.exception("enqueueing %s failed", task.name)

    deliver.__qualname__ = f"enqueue_on_commit({task.name})"  # Django's robust on_commit logs by it
    transaction.on_commit(deliver)
