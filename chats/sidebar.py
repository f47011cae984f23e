"""What the conversation sidebar shows: the grouped list (``chats.selectors.conversation_sidebar``)
and the page state it needs. Used by the ``{% chat_sidebar %}`` tag on the chat pages and by the
view that returns the list alone for ``static/js/sidebar.js``."""

from __future__ import annotations

import uuid
from functools import lru_cache

from django.middleware.csrf import get_token
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

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
    groups = selectors.conversation_sidebar(user=request.user, query=query)
    return {
        "sidebar_groups": groups,
        "sidebar_list_html": sidebar_list_html(request, groups, current=current_id, back=back, query=query),
        "sidebar_query": query,
        "sidebar_current": current_id,
        "sidebar_next": back,
        "sidebar_search_action": back.split("?", 1)[0],
        "sidebar_new_chat_url": new_chat_url or reverse("agents:catalog"),
        "sidebar_list_url": reverse("chats:sidebar"),
        "sidebar_search_param": SEARCH_PARAM,
    }


# The list is up to SIDEBAR_LIMIT items on every chat page: written in Python with escaping (as
# ``chats.rendering.message_item``), each item's addresses from one reverse() per name and page,
# where the template with its {% url %}, {% csrf_token %} and {% blocktranslate %} per item was a
# fifth of the 500-message page's time. The markup is the one static/js/sidebar.js and the tests read.
_SENTINEL = "00000000-0000-4000-8000-0000000000cc"
_URL_NAMES = ("chats:detail", "chats:rename", "chats:delete", "chats:pin")


@lru_cache(maxsize=64)
def _url_pieces(name: str, prefix: str, urlconf: str, language: str) -> tuple[str, str] | None:
    url = reverse(name, args=[_SENTINEL])
    head, found, tail = url.partition(_SENTINEL)
    return (head, tail) if found and _SENTINEL not in tail else None


@lru_cache(maxsize=64)
def _texts(language: str) -> dict:
    return {
        "untitled": gettext("Untitled conversation"),
        "options": gettext("Options for “%(title)s”"),
        "pin": escape(gettext("Pin")),
        "unpin": escape(gettext("Unpin")),
        "rename": escape(gettext("Rename")),
        "delete": escape(gettext("Delete")),
    }


def _urls(cid: str, key: tuple) -> list[str]:
    urls = []
    for name in _URL_NAMES:
        pieces = _url_pieces(name, *key)
        urls.append(reverse(name, args=[cid]) if pieces is None else f"{pieces[0]}{cid}{pieces[1]}")
    return urls


def sidebar_list_html(request, groups, *, current: str, back: str, query: str) -> SafeString:
    """``chats/_sidebar_list.html``'s content: the groups of ``conversation_sidebar`` (or the empty
    note), each conversation with its link and its menu (pin form, rename, delete)."""
    from django.conf import settings  # noqa: PLC0415

    language = get_language() or ""
    texts = _texts(language)
    if not groups:
        if query:
            note = gettext("No conversation title contains “%(query)s”.") % {"query": escape(query)}
        else:
            note = escape(gettext("No conversations yet."))
        return mark_safe(f'<p class="convo-empty muted">{note}</p>')  # noqa: S308 - escaped above
    key = (get_script_prefix(), str(get_urlconf() or settings.ROOT_URLCONF), language)
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(get_token(request))}">'
    next_input = f'<input type="hidden" name="next" value="{escape(back)}">'
    parts = []
    for group in groups:
        group_key = escape(group.key)
        parts.append(f'<section class="convo-group" data-group="{group_key}" aria-labelledby="convo-group-{group_key}">\n'
                     f'<h3 class="convo-group-title" id="convo-group-{group_key}">{escape(group.label)}</h3>\n'
                     '<ul class="convo-items">\n')
        for conversation in group.conversations:
            cid = str(conversation.id)
            detail, rename, delete, pin = _urls(cid, key)
            is_current = cid == current
            classes = "convo-item" + (" current" if is_current else "") + ("" if conversation.title else " untitled")
            title = escape(conversation.title or texts["untitled"])
            pinned = conversation.pinned_at is not None
            aria_current = ' aria-current="page"' if is_current else ""
            pinned_flag, pin_value = ("1", "0") if pinned else ("0", "1")
            options = texts["options"] % {"title": title}
            parts.append(
                f'<li class="{classes}" data-conversation="{cid}" data-pinned="{pinned_flag}" '
                f'data-rename-url="{rename}" data-delete-url="{delete}">\n'
                f'<a class="convo-link" href="{detail}#latest"{aria_current}>\n'
                f'<span class="convo-title" data-title>{title}</span>\n'
                f'<span class="convo-agent">{escape(conversation.agent.display_name)}</span>\n</a>\n'
                f'<details class="convo-menu">\n'
                f'<summary class="convo-menu-button" aria-label="{options}"><span aria-hidden="true">⋯</span></summary>\n'
                f'<div class="convo-menu-panel">\n'
                f'<form method="post" action="{pin}" data-action="pin">\n{csrf}{next_input}\n'
                f'<input type="hidden" name="pinned" value="{pin_value}">\n'
                f'<button type="submit" class="convo-menu-item">{texts["unpin"] if pinned else texts["pin"]}</button>\n</form>\n'
                f'<a class="convo-menu-item" href="{rename}" data-action="rename">{texts["rename"]}</a>\n'
                f'<a class="convo-menu-item danger" href="{delete}" data-action="delete">{texts["delete"]}</a>\n'
                f'</div>\n</details>\n</li>\n'
            )
        parts.append("</ul>\n</section>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped above
