"""Defaults that keep a running instance from telling strangers more than it should (issue 05).

The client address behind a proxy, security headers on static files, DEBUG off for `make run`,
the app's own error pages, and gunicorn's control socket inside the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from testutils.testing import make_user

pytestmark = pytest.mark.django_db


def _failed_login(client, email, ip, *, proxy="10.0.0.1"):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": "wrong-password-1"},
        HTTP_X_FORWARDED_FOR=ip,
        REMOTE_ADDR=proxy,
    )


def test_behind_a_proxy_each_visitor_has_its_own_login_limit(client, settings):
    """10 failed logins a minute from one visitor must not lock out everybody behind the proxy."""
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(10):
        _failed_login(client, f"nobody{n}@example.com", "203.0.113.7")
    blocked = _failed_login(client, "nobody-else@example.com", "203.0.113.7")
    assert "Too many failed login attempts" in blocked.content.decode()

    user = make_user("carol@example.com")
    other_visitor = type(client)()
    response = other_visitor.post(
        "/accounts/login/",
        {"login": user.email, "password": "correct-horse-battery-9"},
        HTTP_X_FORWARDED_FOR="198.51.100.23",
        REMOTE_ADDR="10.0.0.1",
    )
    assert response.status_code == 302 and response["Location"] == "/"
    # The session row records the visitor's address too, from the same reader.
    from accounts.models import AuthSession

    assert str(AuthSession.objects.get(user=user).ip_address) == "198.51.100.23"


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(10):
        _failed_login(client, f"nobody{n}@example.com", f"203.0.113.{n}")  # forged, changing
    blocked = _failed_login(client, "nobody-else@example.com", "198.51.100.99")
    assert "Too many failed login attempts" in blocked.content.decode()


@pytest.mark.parametrize("forwarded", ["not-an-ip", "", "1.2.3.4, ", "\x00"])
def test_malformed_forwarded_addresses_never_500(client, settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 2
    response = client.get("/accounts/login/", HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 200


def test_static_files_carry_the_security_headers(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "default-src" in response["Content-Security-Policy"]


@pytest.mark.parametrize(("language", "text"), [("en", "Page not found"), ("es", "Página no encontrada")])
def test_unknown_url_gets_the_apps_own_translated_404(client, language, text):
    client.cookies["django_language"] = language
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert text in body
    assert "URLconf" not in body and "urlpatterns" not in body.lower()


def test_csrf_failure_is_the_apps_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "a@example.com", "password": "x"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def _settings_value(name: str, **env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ENV"}}
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); from django.conf import settings; print(settings.{name})"],
        cwd=settings.BASE_DIR, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_serves_without_debug_and_make_dev_with_it():
    assert _settings_value("DEBUG", DJANGO_ENV="development") == "False"
    assert _settings_value("DEBUG", DJANGO_ENV="development", DEBUG="1") == "True"
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    assert "dev: setup\n\tDEBUG=1 $(PY) -m config.devserver run" in makefile


def test_gunicorn_control_socket_lives_in_this_checkout():
    from config import embedded

    config = {}
    exec((settings.BASE_DIR / "config/gunicorn.py").read_text(), config)
    socket = config["control_socket"]
    assert socket == str(embedded.gunicorn_control_socket())
    import tempfile

    # Under var/ of this checkout, or (a path too long for a socket) a short per-checkout digest path.
    assert socket.startswith(str(embedded.VAR_DIR)) or socket.startswith(f"{tempfile.gettempdir()}/cjh-")
    assert not socket.startswith(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"))
    assert len(socket) <= 107  # AF_UNIX limit
