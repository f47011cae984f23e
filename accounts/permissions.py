"""Who may do what outside the Django admin (whose rights are ``accounts.roles``)."""

from __future__ import annotations


def is_admin(user) -> bool:
    """Whether ``user`` is a signed-in, active admin: the rule of every admin-only page and service
    (invitations, who may use an agent)."""
    return bool(user.is_authenticated and user.is_admin)
