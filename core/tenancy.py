"""Row-level security context: who the current transaction acts for.

Every tenant table has a policy comparing its owner column with ``app.user_id``. The value is set
with ``set_config(..., true)``: transaction-local, so a pooled connection never carries it into the
next request. ``TenantMiddleware`` sets it for each request (template rendering included);
streaming responses, Celery tasks and commands use ``tenant(user_id)``; cross-tenant work uses
``bypass(reason)``, which writes an ``audit_logs`` row. Health tables ignore the bypass flag.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from typing import Iterator

from django.db import connections, transaction

logger = logging.getLogger(__name__)

# Every tenant table and its owner column (RLS policy column). Health tables are owner-only:
# their policies ignore the bypass flag, so no staff tool reaches them.
TENANT_TABLES: dict[str, str] = {
    **{t: "user_id" for t in (
        "accounts", "user_settings", "chat_sessions", "conversations", "messages", "artifacts",
        "rag_documents", "rag_settings", "mcp_integrations", "mcp_sync_logs", "storage_folders",
        "storage_files", "storage_quotas", "file_shares", "health_profiles", "medical_conditions",
        "medications", "medication_logs", "allergies", "medical_appointments", "health_measurements",
        "financial_profiles", "financial_accounts", "transactions", "budgets", "debts", "debt_payments",
        "investments", "recurring_payments", "usage_logs", "monthly_usage", "usage_alerts",
        "support_tickets", "support_messages",
    )},
    "file_access_logs": "owner_id",
}
OWNER_ONLY_TABLES = frozenset({
    "health_profiles", "medical_conditions", "medications", "medication_logs", "allergies",
    "medical_appointments", "health_measurements",
})

USER_SETTING = "app.user_id"
EXEMPT_PATHS = frozenset({"/healthz"})  # no tenant data, and must answer when the database does not
BYPASS_SETTING = "app.bypass"

_SET_SQL = "SELECT set_config('app.user_id', %s, true), set_config('app.bypass', %s, true)"
_GET_SQL = "SELECT coalesce(current_setting('app.user_id', true), ''), coalesce(current_setting('app.bypass', true), '')"


def _apply(user_id: str, bypass_flag: str, using: str = "default") -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(_SET_SQL, [user_id, bypass_flag])


def current_context(using: str = "default") -> tuple[str, str]:
    """(user id or '', 'on' or '') as the database sees them in this transaction."""
    with connections[using].cursor() as cursor:
        cursor.execute(_GET_SQL)
        return tuple(cursor.fetchone())  # type: ignore[return-value]


def set_context(user_id: uuid.UUID | str | None, using: str = "default") -> None:
    """Set the tenant for the current transaction (must be inside one)."""
    if connections[using].get_autocommit():
        raise RuntimeError("set_context() needs an open transaction; use tenant() instead")
    _apply(str(user_id) if user_id else "", "", using)


@contextmanager
def tenant(user_id: uuid.UUID | str | None, using: str = "default") -> Iterator[None]:
    """Run the block in a transaction (or savepoint) acting for ``user_id``.

    On normal exit the previous context is restored, so nesting works; on an exception the
    (sub)transaction rolls back, which restores it too. A fresh transaction starts with no
    context, so the outermost block needs no read and no restore; a nested block for the tenant
    already in force changes nothing.
    """
    wanted = (str(user_id) if user_id else "", "")
    outermost = not connections[using].in_atomic_block
    with transaction.atomic(using=using):
        previous = ("", "") if outermost else current_context(using)
        if previous != wanted:
            _apply(*wanted, using=using)
        yield
        if not outermost and previous != wanted:
            _apply(*previous, using=using)


@contextmanager
def bypass(reason: str, *, actor_id: uuid.UUID | str | None = None, using: str = "default") -> Iterator[None]:
    """Cross-tenant access for staff tools, rollups and operator commands; always audited.

    Health tables stay unreachable: their policies do not look at the bypass flag.
    """
    if not reason or not reason.strip():
        raise ValueError("bypass() needs a reason")
    with transaction.atomic(using=using):
        previous = current_context(using)
        actor = str(actor_id) if actor_id else previous[0]
        _record_bypass(reason, actor or None, using)
        _apply(actor, "on", using)
        yield
        _apply(*previous, using=using)


def enable_bypass(reason: str, *, actor_id: uuid.UUID | str | None, using: str = "default") -> None:
    """Turn the bypass on for the rest of the current transaction (recorded like ``bypass``)."""
    if connections[using].get_autocommit():
        raise RuntimeError("enable_bypass() needs an open transaction")
    _record_bypass(reason, str(actor_id) if actor_id else None, using)
    _apply(str(actor_id) if actor_id else current_context(using)[0], "on", using)


def _record_bypass(reason: str, actor: str | None, using: str) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_logs (id, admin_id, action, target_type, details, timestamp) "
            "VALUES (gen_random_uuid(), %s, 'rls.bypass', 'database', jsonb_build_object('reason', %s::text), now())",
            [actor, reason[:500]],
        )
    logger.info("RLS bypass by %s: %s", actor or "system", reason)


class TenantMiddleware:
    """Opens the request's transaction and sets its tenant, so views and templates are covered.

    Runs after authentication. A response of 500 or more rolls the transaction back, as an
    exception inside the view would. Staff using the admin act through an audited bypass.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in EXEMPT_PATHS:
            return self.get_response(request)
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        connection = connections["default"]
        # Outermost (always, when serving): the context dies with the transaction. Nested (a test's
        # transaction): restore the caller's context afterwards so it does not leak.
        nested = connection.in_atomic_block
        with transaction.atomic():
            previous = current_context() if nested else None
            set_context(user_id)
            if user_id and user.is_staff and request.path.startswith(_admin_prefix()):
                enable_bypass(f"admin {request.method} {request.path}", actor_id=user_id)
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif previous is not None:
                _apply(*previous)
        return response


def _admin_prefix() -> str:
    from django.urls import reverse

    return reverse("admin:index")
