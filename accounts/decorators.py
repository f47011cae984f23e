"""View decorators for the rules in ``accounts.permissions``."""

from __future__ import annotations

from functools import wraps

from django.http import Http404

from .permissions import is_admin


def admin_required(view):
    """Admins only; anyone else gets a 404, so the page's existence is not revealed.

    Put it under ``login_required`` so a signed-out visitor is still sent to sign in first.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
