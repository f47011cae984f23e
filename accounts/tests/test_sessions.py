"""The Sessions page: list your browsers, sign out one, or all the others."""

import pytest
from django.test import Client

from accounts.models import AuditLog, AuthSession
from accounts.sessions import token_digest
from testutils.testing import PASSWORD

pytestmark = pytest.mark.django_db

PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"


def _browser(user, ua):
    client = Client(HTTP_USER_AGENT=ua)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def _row(client):
    return AuthSession.objects.get(session_token=token_digest(client.cookies["sessionid"].value))


def test_sessions_page_lists_my_devices_only(owner, other):
    desktop = _browser(owner, DESKTOP_UA)
    _browser(owner, PHONE_UA)
    _browser(other, DESKTOP_UA)
    page = desktop.get("/account/sessions/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Chrome · Windows" in html and "Safari · iPhone" in html
    assert html.count("/revoke/") == 3  # two rows + "sign out all other sessions"
    assert "This browser" in html


def test_sign_out_another_session(owner):
    desktop = _browser(owner, DESKTOP_UA)
    phone = _browser(owner, PHONE_UA)
    phone_row = _row(phone)
    response = desktop.post(f"/account/sessions/{phone_row.id}/revoke/")
    assert response.status_code == 302
    assert not AuthSession.objects.filter(pk=phone_row.pk).exists()
    assert phone.get("/").status_code == 302  # that browser is signed out
    assert desktop.get("/").status_code == 200  # this one is not
    assert AuditLog.objects.filter(action="session.revoke", target_id=phone_row.id, admin=owner).exists()


def test_sign_out_all_other_sessions(owner):
    desktop = _browser(owner, DESKTOP_UA)
    others = [_browser(owner, PHONE_UA) for _ in range(3)]
    response = desktop.post("/account/sessions/others/revoke/")
    assert response.status_code == 302
    assert AuthSession.objects.filter(user=owner).count() == 1
    assert all(c.get("/").status_code == 302 for c in others)
    assert desktop.get("/").status_code == 200
    assert AuditLog.objects.get(action="session.revoke_others").details == {"count": 3}


def test_outsider_cannot_revoke_my_session(owner, other):
    mine = _browser(owner, DESKTOP_UA)
    outsider = _browser(other, DESKTOP_UA)
    response = outsider.post(f"/account/sessions/{_row(mine).id}/revoke/")
    assert response.status_code == 404
    assert mine.get("/").status_code == 200


def test_revoke_needs_post_and_csrf(owner):
    desktop = _browser(owner, DESKTOP_UA)
    row = _row(desktop)
    assert desktop.get(f"/account/sessions/{row.id}/revoke/").status_code == 405
    strict = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=DESKTOP_UA)
    strict.cookies = desktop.cookies
    assert strict.post(f"/account/sessions/{row.id}/revoke/").status_code == 403
    assert AuthSession.objects.filter(pk=row.pk).exists()


def test_signing_out_this_session(owner):
    desktop = _browser(owner, DESKTOP_UA)
    response = desktop.post(f"/account/sessions/{_row(desktop).id}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert desktop.get("/").status_code == 302


def test_logout_deletes_the_session_row(owner):
    desktop = _browser(owner, DESKTOP_UA)
    row = _row(desktop)
    desktop.post("/accounts/logout/")
    assert not AuthSession.objects.filter(pk=row.pk).exists()


def test_expired_sessions_are_cleared(owner):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    desktop = _browser(owner, DESKTOP_UA)
    AuthSession.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert desktop.get("/").status_code == 302
    call_command("clearsessions")
    assert not AuthSession.objects.exists()
