"""``{% account_menu %}``: the sidebar's account menu from a copy kept per language, theme and URL prefix.

The menu (language and theme forms, Sessions, two-factor, sign out) is the same markup on every
signed-in page but for four values: the person's name and e-mail, the CSRF token and the page to
come back to. Rendering ``partials/account_menu.html`` each time was the largest part of the
layout's template pass, so it is rendered once per key with marked holes, and each request fills
the holes with its own values, escaped as the template would. The result is byte-for-byte what the
template renders (core/tests/test_shell_cost.py compares them).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django import template
from django.template import Context
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from core.context_processors import THEME_CHOICES, _shell_urls, _url_key

register = template.Library()

ACCOUNT_MENU_TEMPLATE = "partials/account_menu.html"

# Private-use characters: escaping leaves them alone, and no translation or URL contains them.
_HOLE = "\ue000{}\ue001"
_HOLES = re.compile("\ue000(name|email|csrf|next)\ue001")


class _HoleUser:
    """What the template reads of ``user``; the name hole stands for ``get_short_name|default:email``."""

    email = _HOLE.format("email")

    def get_short_name(self) -> str:
        return _HOLE.format("name")


class _HoleRequest:
    def get_full_path(self) -> str:
        return _HOLE.format("next")


@register.simple_tag(takes_context=True)
def account_menu(context) -> SafeString:
    request, user = context.get("request"), context.get("user")
    csrf_token = str(context.get("csrf_token") or "")
    compiled = get_template(ACCOUNT_MENU_TEMPLATE).template
    if request is None or user is None or not csrf_token or csrf_token == "NOTPROVIDED":
        return compiled.render(context)  # nothing to fill the holes with: the template as it is
    kept = _kept_menu(compiled, get_language(), context.get("THEME"), *_url_key())
    values = {
        "name": escape(user.get_short_name() or user.email),
        "email": escape(user.email),
        "csrf": escape(csrf_token),
        "next": escape(request.get_full_path()),
    }
    return mark_safe(_HOLES.sub(lambda match: values[match.group(1)], kept))


@lru_cache(maxsize=256)
def _kept_menu(compiled, language, theme, resolver, script_prefix) -> str:
    # The compiled template (a new object after a template reload), the active language, the
    # theme (which radio is checked) and what reverse() depends on are the key.
    return compiled.render(Context({
        "user": _HoleUser(),
        "request": _HoleRequest(),
        "csrf_token": _HOLE.format("csrf"),
        "THEME": theme,
        "THEMES": list(THEME_CHOICES),
        "shell_urls": _shell_urls(resolver, script_prefix),
    }))
