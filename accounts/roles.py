"""What each role may do. Staff rights follow the role, not per-user permission rows.

SUPER_ADMIN: everything. ADMIN: everything but health data (never in the admin anyway).
SUPPORT: reads users and the audit log, works support tickets. USER: nothing in the admin.
"""

from __future__ import annotations

STAFF_ROLES = frozenset({"SUPER_ADMIN", "ADMIN", "SUPPORT"})
ADMIN_ROLES = frozenset({"SUPER_ADMIN", "ADMIN"})

# app_label -> actions allowed to SUPPORT ("view", "add", "change", "delete")
_SUPPORT_RIGHTS: dict[str, frozenset[str]] = {
    "accounts": frozenset({"view"}),
    "support": frozenset({"view", "add", "change"}),
}
_NEVER = frozenset({"health"})


def _split(perm: str) -> tuple[str, str, str]:
    app_label, _, codename = perm.partition(".")
    action, _, model = codename.partition("_")
    return app_label, action, model


def allows(role: str, perm: str) -> bool:
    app_label, action, _model = _split(perm)
    if app_label in _NEVER:
        return False
    if role == "SUPER_ADMIN" or role == "ADMIN":
        return True
    if role == "SUPPORT":
        return action in _SUPPORT_RIGHTS.get(app_label, frozenset())
    return False


def allows_module(role: str, app_label: str) -> bool:
    if app_label in _NEVER:
        return False
    if role in ADMIN_ROLES:
        return True
    return role == "SUPPORT" and app_label in _SUPPORT_RIGHTS
