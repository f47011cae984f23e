"""The base layout: navigation, language switch, security headers."""

import pytest

from accounts.models import UserSettings
from core.tenancy import tenant

pytestmark = pytest.mark.django_db


def test_navigation_links_only_to_pages_that_exist(owner_client):
    html = owner_client.get("/").content.decode()
    for href in ('href="/account/settings/"', 'href="/account/sessions/"', 'href="/accounts/2fa/"'):
        assert href in html
    assert "/admin/" not in html  # not staff


def test_staff_see_the_admin_link(staff_client):
    assert 'href="/admin/"' in staff_client.get("/").content.decode()


def test_pages_speak_spanish(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in html
    assert "Iniciar sesión" in html


def test_language_switch_is_remembered_for_signed_in_users(owner_client, owner):
    response = owner_client.post("/account/language/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    with tenant(owner.id):
        assert UserSettings.objects.get(user=owner).language == "es"
    assert "Bienvenido" in owner_client.get("/").content.decode()


def test_security_headers(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_every_form_has_a_csrf_token(owner_client):
    for url in ("/account/settings/", "/account/sessions/", "/account/delete/", "/"):
        html = owner_client.get(url).content.decode()
        assert html.count("<form") == html.count("csrfmiddlewaretoken"), url


def test_unknown_page_is_a_friendly_404(owner_client):
    response = owner_client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
