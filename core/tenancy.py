"""Row-level security context: who the current transaction acts for.

Every tenant table has a policy comparing its owner column with ``app.user_id``. The value is set
with ``set_config(..., true)``: transaction-local, so a pooled connection never carries it into the
next request. ``TenantMiddleware`` sets it for each request (template rendering included);
streaming responses, Celery tasks and commands use ``tenant(user_id)``; cross-tenant work uses
``bypass(reason)``, which writes an ``audit_logs`` row. Health tables ignore the bypass flag.
"""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from django.db import connections, transaction
from psycopg.pq import TransactionStatus

from .db import base as db_base
from .text import strip_control_chars

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
_IDLE = TransactionStatus.IDLE
_GET_SQL = "SELECT coalesce(current_setting('app.user_id', true), ''), coalesce(current_setting('app.bypass', true), '')"


# A transaction's context, when nothing was sent in it yet, goes with its first statement (and
# the BEGIN that psycopg would have sent on its own): one round trip for all three, where there
# were three (core.db.base.TenantCursor). Its values are written in: a user id or '', 'on' or ''.
_SET_LITERAL_SQL = "SELECT set_config('app.user_id', '{user}', true), set_config('app.bypass', '{flag}', true)"
_FLAGS = frozenset({"", "on"})


def _literal_user(user_id: str) -> str | None:
    """``user_id`` as it may be written into SQL (a UUID's canonical text, or ''), else None."""
    if not user_id:
        return ""
    try:
        return str(uuid.UUID(user_id))
    except ValueError:
        return None


def _apply(user_id: str, bypass_flag: str, using: str = "default") -> None:
    wrapper = connections[using]
    wrapper.ensure_connection()
    raw = wrapper.connection
    literal = _literal_user(user_id)
    if (not raw.autocommit and raw.pgconn.transaction_status == _IDLE and literal is not None
            and bypass_flag in _FLAGS):
        # Django's atomic() turned autocommit off and nothing was sent yet: the context waits for
        # the transaction's first statement. Every later statement, the COMMIT or ROLLBACK,
        # savepoints and Django's view of the transaction are as before.
        db_base.set_prefix(raw, _SET_LITERAL_SQL.format(user=literal, flag=bypass_flag))
        return
    with wrapper.cursor() as cursor:
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


def enable_bypass(
    reason: str,
    *,
    actor_id: uuid.UUID | str | None,
    target_type: str = "",
    target_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
    using: str = "default",
) -> None:
    """Turn the bypass on for the rest of the current transaction (recorded like ``bypass``).

    ``target_type``/``target_id``/``details`` say what is opened (the admin passes the model, the
    object and the view or action), so the audit log tells whose data a staff member read.
    """
    if connections[using].get_autocommit():
        raise RuntimeError("enable_bypass() needs an open transaction")
    _record_bypass(
        reason, str(actor_id) if actor_id else None, using,
        target_type=target_type, target_id=target_id, details=details,
    )
    _apply(str(actor_id) if actor_id else current_context(using)[0], "on", using)


_RECORD_SQL = (
    "INSERT INTO audit_logs (id, admin_id, action, target_type, target_id, details, timestamp) "
    "VALUES (gen_random_uuid(), %s, 'rls.bypass', %s, %s, %s::jsonb, now())"
)


def _as_uuid(value: uuid.UUID | str | None) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value else None
    except ValueError:
        return None


def _clean(value: Any) -> Any:
    """JSON-safe and storable: no NUL or other control characters (a URL may carry them), bounded."""
    if isinstance(value, str):
        return strip_control_chars(value)[:500]
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value[:100]]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return value


def _record_bypass(
    reason: str,
    actor: str | None,
    using: str,
    *,
    target_type: str = "",
    target_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    reason = _clean(reason)
    payload = _clean({**(details or {}), "reason": reason})
    with connections[using].cursor() as cursor:
        cursor.execute(
            _RECORD_SQL,
            [actor, _clean(target_type or "database")[:100], _as_uuid(target_id), json.dumps(payload)],
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
                target = admin_target(request)
                enable_bypass(
                    f"admin {request.method} {request.path}", actor_id=user_id,
                    target_type=target.pop("target_type", ""), target_id=target.pop("target_id", None),
                    details=target,
                )
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
            elif previous is not None:
                _apply(*previous)
        return response


def _admin_prefix() -> str:
    from django.urls import reverse

    return reverse("admin:index")


def admin_target(request) -> dict[str, Any]:
    """What an admin request opens: model (table), object id, view, and the action run on which rows.

    Resolved here, before the view runs, because the bypass must be on before its first query.
    Returns ``target_type``/``target_id`` (the audit row's columns) and the details to store.
    """
    from django.apps import apps
    from django.urls import Resolver404, resolve

    details: dict[str, Any] = {"method": request.method}
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return {**details, "view": "not_found"}
    model_admin = getattr(match.func, "model_admin", None)
    url_name = match.url_name or ""
    model = getattr(model_admin, "model", None)
    if model is not None:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        details["view"] = url_name.removeprefix(prefix) if url_name.startswith(prefix) else url_name
    else:
        details["view"] = url_name
        if url_name == "autocomplete":  # the model whose field asks: ?app_label=&model_name=
            try:
                model = apps.get_model(request.GET.get("app_label", ""), request.GET.get("model_name", ""))
            except (LookupError, ValueError):
                model = None
        elif url_name == "app_list":
            details["app_label"] = match.kwargs.get("app_label", "")
    if model is not None:
        details["model"] = model._meta.label_lower
    object_id = match.kwargs.get("object_id")
    if object_id is not None:
        details["object_id"] = object_id
    if request.method == "POST" and details["view"] == "changelist":
        # An action form is a small url-encoded body; the admin's changelist is never an upload.
        details["action"] = request.POST.get("action", "")
        details["selected"] = request.POST.getlist("_selected_action")
    selected = details.get("selected") or []
    return {
        **details,
        "target_type": model._meta.db_table if model is not None else "admin",
        "target_id": object_id if object_id is not None else (selected[0] if len(selected) == 1 else None),
    }
