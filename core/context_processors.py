"""What the base layout needs on every page: the site's name, the theme and the app navigation.

The navigation is data: ``NAVIGATION`` lists the groups and their pages. A domain whose pages land
adds one ``NavItem`` line to its group; a group with no page the user may see is not shown, so the
sidebar never links to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.template import Context
from django.template.loader import get_template
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

THEME_COOKIE = "theme"
THEMES = ("system", "light", "dark")
THEME_CHOICES = (("system", _("System")), ("light", _("Light")), ("dark", _("Dark")))


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    # The page is current when the view's name starts with one of these ("chats:" = any chat page).
    active: tuple[str, ...] = ()
    # A user attribute that must be true to see the item ("is_staff"); empty: every signed-in user.
    requires: str = ""


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    items: tuple[NavItem, ...]


NAVIGATION: tuple[NavGroup, ...] = (
    NavGroup("assistant", _("Assistant"), (
        NavItem(_("Chat"), "home", ("home", "chats:")),
        NavItem(_("Agents"), "agents:catalog", ("agents:",)),
        NavItem(_("Documents"), "rag:list", ("rag:",)),
        NavItem(_("Artifacts"), "artifacts:list", ("artifacts:",)),
    )),
    NavGroup("personal", _("Personal"), (
        NavItem(_("Files"), "storage:list", ("storage:",)),
        NavItem(_("Finance"), "finance:overview", ("finance:",)),
        NavItem(_("Health"), "health:overview", ("health:",)),
    )),
    NavGroup("account", _("Account"), (
        NavItem(_("Usage"), "metrics:usage", ("metrics:",)),
        NavItem(_("Settings"), "accounts:settings", ("accounts:settings",)),
        NavItem(_("Help"), "support:list", ("support:",)),
        NavItem(_("Invitations"), "accounts:invitations", ("accounts:invitations",), requires="is_admin"),
        NavItem(_("Admin"), "admin:index", ("admin:",), requires="is_staff"),
    )),
)


def nav_groups(user, view_name: str) -> list[dict]:
    """The groups the sidebar shows to ``user``, each with its visible items and the current one.

    Built once per (URL configuration, script prefix, page, which optional items the user sees)
    and shared by every request with that key (treat it as read-only): the sidebar is on every
    signed-in page. The labels stay lazy, so each request renders them in its own language.
    """
    return _nav_groups(*_url_key(), view_name, _visible_optional_items(user))


def sidebar_nav_html(user, view_name: str) -> str:
    """``partials/sidebar_nav.html`` rendered for this user and page in the active language.

    Rendered once per key and kept: the same few hundred bytes on every page otherwise cost a
    template pass with ten reverse() calls and twenty translations. The key holds the compiled
    template as the cached loader hands it out, so a template reload (runserver) renders afresh.
    """
    template = get_template(SIDEBAR_TEMPLATE).template
    return _sidebar_nav_html(template, get_language(), *_url_key(), view_name, _visible_optional_items(user))


def shell_urls() -> dict[str, str]:
    """The layout's own links (``SHELL_URL_NAMES``), reversed once per URL configuration and prefix."""
    return _shell_urls(*_url_key())


SIDEBAR_TEMPLATE = "partials/sidebar_nav.html"

# What base.html and its partials link to on every page: {{ shell_urls.<key> }}.
SHELL_URL_NAMES = {
    "home": "home",
    "login": "account_login",
    "signup": "account_signup",
    "sessions": "accounts:sessions",
    "mfa": "mfa_index",
    "logout": "account_logout",
    "set_language": "accounts:set_language",
    "theme_set": "theme_set",
}

# The user attributes optional items depend on, in a fixed order (part of the cache keys).
_OPTIONAL_ATTRS = tuple(sorted({item.requires for group in NAVIGATION for item in group.items if item.requires}))


def _visible_optional_items(user) -> tuple[bool, ...]:
    return tuple(bool(getattr(user, attr, False)) for attr in _OPTIONAL_ATTRS)


def _url_key() -> tuple:
    # What reverse() depends on: Django's cached resolver for the URL configuration in force and
    # the script prefix. With them in the key, override_settings(ROOT_URLCONF=...), a request's
    # own urlconf or clear_url_caches() give fresh URLs.
    return get_resolver(get_urlconf()), get_script_prefix()


@lru_cache(maxsize=512)
def _nav_groups(resolver, script_prefix: str, view_name: str, visible: tuple[bool, ...]) -> list[dict]:
    allowed = dict(zip(_OPTIONAL_ATTRS, visible))
    groups = []
    for group in NAVIGATION:
        items = [
            {
                "label": item.label,
                "url": reverse(item.url_name),
                "current": any(view_name == a or (a.endswith(":") and view_name.startswith(a)) for a in item.active),
            }
            for item in group.items
            if not item.requires or allowed[item.requires]
        ]
        if items:
            groups.append({"key": group.key, "label": group.label, "items": items})
    return groups


@lru_cache(maxsize=1024)
def _sidebar_nav_html(template, language, resolver, script_prefix: str, view_name: str, visible: tuple[bool, ...]) -> str:
    return template.render(Context({"nav_groups": _nav_groups(resolver, script_prefix, view_name, visible)}))


@lru_cache(maxsize=32)
def _shell_urls(resolver, script_prefix: str) -> dict[str, str]:
    return {key: reverse(name) for key, name in SHELL_URL_NAMES.items()}


def theme_from(request) -> str:
    value = request.COOKIES.get(THEME_COOKIE, "")
    return value if value in THEMES else "system"


def navigation(request):
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    url_key = _url_key()
    if signed_in:
        visible = _visible_optional_items(user)
        groups = _nav_groups(*url_key, view_name, visible)
        template = get_template(SIDEBAR_TEMPLATE).template
        sidebar = _sidebar_nav_html(template, get_language(), *url_key, view_name, visible)
    else:
        groups, sidebar = [], ""
    return {
        "SITE_NAME": "cjhirashi-agents",
        "INVITE_ONLY": settings.INVITE_ONLY,
        "THEME": theme_from(request),
        "THEMES": list(THEME_CHOICES),
        "nav_groups": groups,
        "sidebar_nav": sidebar,  # nav_groups as partials/sidebar_nav.html renders them (sidebar_nav_html)
        "shell_urls": _shell_urls(*url_key),
    }
