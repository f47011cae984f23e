"""Every page the app serves, walked from the URL configuration (so a new page is covered unasked).

- Parameterless GET pages (the lists, settings, forms) answer bad query parameters — NUL bytes,
  control characters, absurd or negative page numbers, long unicode — without a 500, for a user and
  for staff.
- Every object URL answers an unknown id with 404, for GET and POST: nobody can tell a missing object
  from another user's (the per-app tests check real objects of another user; this catches a new URL
  whose view forgets to scope).
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Served by allauth and the Django admin, which have sweeps of their own (accounts/, core admin tests).
_SKIP_PREFIXES = ("admin/", "accounts/", "static/", "media/")
# Not pages: a health probe and POST-only actions with no object in the URL.
_NOT_PAGES = {"healthz", "account/sessions/others/revoke/", "account/verify/resend/", "account/language/"}

BAD_PARAMS = [
    {"q": "\x00"},
    {"q": "abc\x00def", "page": "2"},
    {"q": "\x01\x1f<mark>x</mark>"},
    {"q": "ñandú " * 300},
    {"page": "99999999999999999999"},
    {"page": "-1"},
    {"page": "0"},
    {"page": "1e9"},
    {"page": "\x00"},
    {"collection": "\x00"},
    {"category": "\x00"},
    {"category": "NOT_A_CATEGORY"},
    {"month": "\x00"},
    {"month": "9999-99"},
    {"month": "-1"},
    {"ids": "\x00,not-a-uuid"},
    {"state": "\x00"},
    {"q": "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")},
]


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _routes():
    return [r for r in _walk(get_resolver().url_patterns) if not r.startswith(_SKIP_PREFIXES)]


def _list_routes():
    return sorted(r for r in _routes() if "<" not in r and r not in _NOT_PAGES)


def _object_routes():
    return sorted(r for r in _routes() if "<" in r)


def test_the_sweep_sees_the_apps_pages():
    lists = _list_routes()
    for expected in ("", "chat/", "agents/", "documents/", "usage/", "account/sessions/"):
        assert expected in lists
    assert any(r.startswith("documents/<uuid:") for r in _object_routes())


@pytest.mark.parametrize("route", _list_routes())
@pytest.mark.parametrize("persona", ["owner_client", "staff_client"])
def test_list_pages_survive_bad_parameters(route, persona, request):
    client = request.getfixturevalue(persona)
    for params in BAD_PARAMS:
        response = client.get("/" + route, params)
        assert response.status_code < 500, f"/{route} {params!r} → {response.status_code}"
        assert response.status_code in (200, 302, 400, 403, 404, 405), f"/{route} {params!r} → {response.status_code}"


def _fill(route: str) -> str:
    import re

    def value(match):
        kind = match.group(1)
        if kind == "uuid":
            return str(uuid.uuid4())
        if kind == "slug":
            return "no-such-thing-" + uuid.uuid4().hex[:8]
        return "x" + uuid.uuid4().hex[:8]

    return "/" + re.sub(r"<(?:(\w+):)?\w+>", value, route)


@pytest.mark.parametrize("route", _object_routes())
def test_unknown_objects_are_404_for_get_and_post(route, owner_client, client):
    path = _fill(route)
    # An invitation link is opened signed out (signed in, it just says so and goes home).
    visitor = client if route.startswith("account/invite/") else owner_client
    for method in ("get", "post"):
        response = getattr(visitor, method)(path)
        # 410 is the invitation page's honest "this link is not valid"; 405 a POST-only action's GET.
        assert response.status_code in (404, 405, 410), f"{method.upper()} {path} → {response.status_code}"
