"""What each role may do. Staff rights follow the role, not per-user permission rows.

SUPER_ADMIN: everything. ADMIN: everything but health data (never in the admin anyway) and
identity records (allauth's e-mail addresses, social accounts and authenticators), which it may
only read. SUPPORT: reads the audit log and works support (tickets, help articles, canned
replies); of a user it sees only what a ticket shows (email, name, plan), never the user's full
record, conversations, documents, files, finance or integrations. USER: nothing in the admin.

Identity (e-mail, password, e-mail address rows, social accounts, second factors) is changed in the
admin only by a SUPER_ADMIN, and only on a user of a lower role: otherwise whoever can edit an
address can reset the password sent to it and take the account over.
"""

from __future__ import annotations

STAFF_ROLES = frozenset({"SUPER_ADMIN", "ADMIN", "SUPPORT"})
ADMIN_ROLES = frozenset({"SUPER_ADMIN", "ADMIN"})

# Higher outranks lower; staff act only on users they outrank.
RANK: dict[str, int] = {"USER": 0, "SUPPORT": 1, "ADMIN": 2, "SUPER_ADMIN": 3}

# app_label -> actions allowed to SUPPORT ("view", "add", "change", "delete")
_SUPPORT_RIGHTS: dict[str, frozenset[str]] = {
    "accounts": frozenset({"view"}),
    "support": frozenset({"view", "add", "change"}),
}
# Where SUPPORT's right covers only some models of an app: app_label -> those models.
_SUPPORT_MODELS: dict[str, frozenset[str]] = {
    "accounts": frozenset({"auditlog"}),
}
_NEVER = frozenset({"health"})
# allauth's apps: who can sign in as whom. ADMIN reads them; only SUPER_ADMIN writes.
IDENTITY_APPS = frozenset({"account", "socialaccount", "mfa"})


def _split(perm: str) -> tuple[str, str, str]:
    app_label, _, codename = perm.partition(".")
    action, _, model = codename.partition("_")
    return app_label, action, model


def allows(role: str, perm: str) -> bool:
    app_label, action, _model = _split(perm)
    if app_label in _NEVER:
        return False
    if role == "SUPER_ADMIN":
        return True
    if role == "ADMIN":
        return action == "view" if app_label in IDENTITY_APPS else True
    if role == "SUPPORT":
        models = _SUPPORT_MODELS.get(app_label)
        if models is not None and _model not in models:
            return False
        return action in _SUPPORT_RIGHTS.get(app_label, frozenset())
    return False


def allows_module(role: str, app_label: str) -> bool:
    if app_label in _NEVER:
        return False
    if role in ADMIN_ROLES:
        return True
    return role == "SUPPORT" and app_label in _SUPPORT_RIGHTS


def outranks(role: str, other_role: str) -> bool:
    """Whether ``role`` stands strictly above ``other_role`` (an unknown role ranks lowest)."""
    return RANK.get(role, -1) > RANK.get(other_role, -1)


def may_manage(actor, target) -> bool:
    """Whether staff ``actor`` may change, delete or restore ``target`` (a user) in the admin.

    Only users below them (a SUPER_ADMIN: any user), never themselves: one's own account is
    changed through the account pages, which ask for the password again.
    """
    if not actor.is_staff or actor.pk == target.pk:
        return False
    return bool(actor.is_superuser or outranks(actor.role, target.role))


def may_edit_identity(actor, target) -> bool:
    """E-mail, password, e-mail addresses, social accounts, second factors of ``target``."""
    return bool(actor.is_superuser and outranks(actor.role, target.role))
