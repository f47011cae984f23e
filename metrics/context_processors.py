"""The usage banner on every page: one query, and only when a template actually shows it."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from core.tenancy import EXEMPT_PATHS

from .selectors import usage_banner_for


def usage_banner(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path in EXEMPT_PATHS:
        return {}
    # Lazy: pages that do not render the banner (admin, partials) cost no query; the template
    # reads it several times but the query runs once.
    return {"usage_banner": SimpleLazyObject(lambda: usage_banner_for(user))}
