"""What the base layout needs on every page: the site's name, the theme and the app navigation.

The navigation is data: ``NAVIGATION`` lists the groups and their pages. A domain whose pages land
adds one ``NavItem`` line to its group; a group with no page the user may see is not shown, so the
sidebar never links to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

THEME_COOKIE = "theme"
THEMES = ("system", "light", "dark")


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
    """The groups the sidebar shows to ``user``, each with its visible items and the current one."""
    groups = []
    for group in NAVIGATION:
        items = [
            {
                "label": item.label,
                "url": reverse(item.url_name),
                "current": any(view_name == a or (a.endswith(":") and view_name.startswith(a)) for a in item.active),
            }
            for item in group.items
            if not item.requires or getattr(user, item.requires, False)
        ]
        if items:
            groups.append({"key": group.key, "label": group.label, "items": items})
    return groups


def theme_from(request) -> str:
    value = request.COOKIES.get(THEME_COOKIE, "")
    return value if value in THEMES else "system"


def navigation(request):
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {
        "SITE_NAME": "cjhirashi-agents",
        "INVITE_ONLY": settings.INVITE_ONLY,
        "THEME": theme_from(request),
        "THEMES": [("system", _("System")), ("light", _("Light")), ("dark", _("Dark"))],
        "nav_groups": nav_groups(user, view_name) if signed_in else [],
    }
