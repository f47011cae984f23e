"""What the conversation sidebar shows: the grouped list (``chats.selectors.conversation_sidebar``)
and the page state it needs. Used by the ``{% chat_sidebar %}`` tag on the chat pages and by the
view that returns the list alone for ``static/js/sidebar.js``."""

from __future__ import annotations

import uuid

from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.params import query_text

from . import selectors

SEARCH_PARAM = "sq"  # not "q": the list page's message search keeps its own parameter


def _current_id(value) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return ""


def _safe_path(request, value: str, default: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return default


def sidebar_context(request, *, current=None, new_chat_url: str | None = None) -> dict:
    """Context for ``chats/_sidebar.html`` / ``chats/_sidebar_list.html``. Without ``current``
    (the list fetched by sidebar.js) the open conversation and the page to come back to after a
    form without JavaScript come from the ``current`` and ``next`` query parameters."""
    query = query_text(request, SEARCH_PARAM, max_length=200)
    if current is None:
        current_id = _current_id(request.GET.get("current"))
        back = _safe_path(request, request.GET.get("next", ""), reverse("chats:list"))
    else:
        current_id = str(current.id) if current else ""
        # A page rendered for a POST (a refused message) is not one to come back to with a GET.
        page = reverse("chats:detail", args=[current.id]) if current else request.path
        back = request.get_full_path() if request.method == "GET" else page
    return {
        "sidebar_groups": selectors.conversation_sidebar(user=request.user, query=query),
        "sidebar_query": query,
        "sidebar_current": current_id,
        "sidebar_next": back,
        "sidebar_search_action": back.split("?", 1)[0],
        "sidebar_new_chat_url": new_chat_url or reverse("agents:catalog"),
        "sidebar_list_url": reverse("chats:sidebar"),
        "sidebar_search_param": SEARCH_PARAM,
    }
