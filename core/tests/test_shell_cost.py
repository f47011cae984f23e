"""What the app shell (base.html with its sidebar, account menu and usage banner) costs on every
signed-in page, and that the parts it keeps between requests still follow the user, the page, the
language and the URL prefix."""

import re

import pytest
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, resolve, set_script_prefix
from django.utils import translation
from django.utils.html import escape

from metrics.services import usage_record_turn
from testutils import factories
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db

_SHELL_ONLY = '{% extends "base.html" %}{% block title %}Shell{% endblock %}{% block content %}<p>Nothing else.</p>{% endblock %}'


@login_required
def _shell_only(request):
    from django.http import HttpResponse

    return HttpResponse(engines["django"].from_string(_SHELL_ONLY).render(request=request))


# The project's URLs plus a page that is nothing but the shell (@pytest.mark.urls below).
urlpatterns = [path("shell-only/", _shell_only), path("", include("config.urls"))]


def _queries(client, url) -> list[str]:
    client.get(url)  # first request of the client: session and caches settle
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    # Inside the test's own transaction the request's BEGIN/COMMIT are savepoints, and the tenancy
    # middleware reads the caller's context first and restores it last (tenancy.TenantMiddleware):
    # leave those out, a served request has none of them.
    queries = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert "current_setting" in queries[1] and "set_config" in queries[-1], queries
    return queries[:1] + queries[2:-1]


def _kind(sql: str) -> str:
    for needle, kind in (("auth_sessions", "session"), ('FROM "users"', "user"), ("set_config", "tenant"),
                         ("usage_alerts", "banner")):
        if needle in sql:
            return kind
    return sql[:80]


def _nav_links(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="sidebar-nav".*?</nav>', html, re.S).group(0)
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)


@pytest.mark.urls(__name__)
def test_the_shell_costs_three_queries_whoever_asks_and_whatever_the_banner_says(owner, settings):
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 10, "tokens": 1_000_000}}
    expected = ["session", "tenant", "banner"]  # the session's query brings its user (accounts.sessions)
    for user in (owner, make_user(role="ADMIN"), make_user(role="SUPPORT")):
        assert [_kind(sql) for sql in _queries(client_for(user), "/shell-only/")] == expected, user.role
    conversation = factories.make("conversations", owner)
    for _ in range(10):  # every alert of the month raised: 80, 90 and 100 %
        usage_record_turn(user=owner, agent=conversation.agent, conversation=conversation, model="offline",
                          tokens_input=5, tokens_output=5, duration_ms=10, success=True)
    client = client_for(owner)
    html = client.get("/shell-only/").content.decode()
    assert "You have used all of this month's messages (10 of 10)." in html
    assert [_kind(sql) for sql in _queries(client, "/shell-only/")] == expected
    client.cookies["django_language"] = "es"
    assert [_kind(sql) for sql in _queries(client, "/shell-only/")] == expected


def test_the_kept_sidebar_follows_the_user_the_page_and_the_language(owner):
    staff = make_user(role="SUPPORT")  # staff, not an administrator: the admin, not the invitations
    admin = make_user(role="ADMIN")
    owner_client, staff_client, admin_client = client_for(owner), client_for(staff), client_for(admin)
    for _round in range(2):  # the second round is served from what the first kept
        owner_links = _nav_links(owner_client.get("/agents/").content.decode())
        assert ("/admin/", "Admin") not in owner_links and ("/account/invitations/", "Invitations") not in owner_links
        staff_links = _nav_links(staff_client.get("/agents/").content.decode())
        assert ("/admin/", "Admin") in staff_links and ("/account/invitations/", "Invitations") not in staff_links
        admin_links = _nav_links(admin_client.get("/agents/").content.decode())
        assert ("/admin/", "Admin") in admin_links and ("/account/invitations/", "Invitations") in admin_links
        for url, current in (("/agents/", "/agents/"), ("/usage/", "/usage/"), ("/chat/", "/")):
            html = owner_client.get(url).content.decode()
            assert re.findall(r'<a href="([^"]+)" aria-current="page">', html) == [current], url
        spanish = owner_client.get("/agents/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
        assert ("/agents/", "Agentes") in _nav_links(spanish) and 'aria-label="Principal"' in spanish
        english = owner_client.get("/agents/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert ("/agents/", "Agents") in _nav_links(english) and 'aria-label="Main"' in english


def test_the_kept_links_follow_the_script_prefix(owner_client):
    # A deployment under a path (SCRIPT_NAME or FORCE_SCRIPT_NAME): the WSGI handler sets the
    # prefix for each request; Django's test client does not, so the test sets it as the handler would.
    for _round in range(2):
        set_script_prefix("/app/")
        try:
            html = owner_client.get("/agents/").content.decode()
        finally:
            set_script_prefix("/")
        assert ("/app/agents/", "Agents") in _nav_links(html)
        for needle in ('class="brand" href="/app/"', 'href="/app/account/sessions/"', 'action="/app/accounts/logout/"',
                       'action="/app/account/language/"', 'action="/app/theme/"'):
            assert needle in html, needle
        html = owner_client.get("/agents/").content.decode()
        assert ("/agents/", "Agents") in _nav_links(html)
        assert 'class="brand" href="/"' in html and 'action="/accounts/logout/"' in html
        assert 'href="/app/' not in html and 'action="/app/' not in html


def _menu_both_ways(user, path: str, theme: str = "") -> tuple[str, str]:
    """The account menu as the template renders it and as {% account_menu %} fills the kept copy,
    in one render (so one CSRF token)."""
    request = RequestFactory().get(path)
    request.user = user
    if theme:
        request.COOKIES["theme"] = theme
    request.resolver_match = resolve(request.path)
    both = engines["django"].from_string(
        '{% load shell %}<plain>{% include "partials/account_menu.html" %}</plain><kept>{% account_menu %}</kept>'
    ).render({}, request)
    plain, kept = re.fullmatch(r"<plain>(.*)</plain><kept>(.*)</kept>", both, re.S).groups()
    return plain, kept


def test_the_kept_account_menu_is_what_the_template_renders(owner):
    people = [
        owner,
        make_user("nobody@example.com"),  # no name: the menu shows the e-mail
        make_user("ann.o-neil+menu@example.com", name='<b>"Ann" & O\'Neil</b>'),
    ]
    for language in ("en", "es"):
        for theme in ("", "dark", "light", "system", "purple"):
            for user in people:
                for url in ("/agents/", '/documents/?q=a&b="c"<d>', "/usage/?month=2026-01"):
                    with translation.override(language):
                        plain, kept = _menu_both_ways(user, url, theme)
                    assert kept == plain, (language, theme, user.email, url)
                    assert escape(user.get_short_name() or user.email) in kept
                    assert f'value="{escape(RequestFactory().get(url).get_full_path())}"' in kept
    with translation.override("es"):
        assert "Cerrar sesión" in _menu_both_ways(owner, "/agents/")[1]
    assert "Sign out" in _menu_both_ways(owner, "/agents/")[1]
