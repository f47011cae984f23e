"""Login: password, TOTP second factor, rate limits, deleted accounts, session rows."""


import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.db import connection

from accounts import services
from accounts.models import AuthSession
from accounts.sessions import token_digest
from testutils.testing import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password}, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")


def _current_code(secret: str) -> str:
    counter = list(yield_hotp_counters_from_time())[1]
    return format_hotp_value(hotp_value(secret, counter))


def test_login_records_the_session_row(client, owner):
    response = _login(client, owner.email)
    assert response.status_code == 302 and response["Location"] == "/"
    key = client.cookies["sessionid"].value
    row = AuthSession.objects.get(session_token=token_digest(key))
    assert row.user_id == owner.id
    assert row.ip_address == "127.0.0.1"
    assert "Firefox" in row.user_agent
    # The cookie value itself is never stored.
    assert not AuthSession.objects.filter(session_token=key).exists()


def test_wrong_password_shows_an_error_and_signs_nobody_in(client, owner):
    response = _login(client, owner.email, "wrong-password-1")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get("/").status_code == 302


@pytest.fixture
def totp_secret(owner):
    secret = generate_totp_secret()
    TOTP.activate(owner, secret)
    return secret


def test_totp_secret_is_encrypted_at_rest(owner, totp_secret):
    with connection.cursor() as cursor:
        cursor.execute("SELECT data::text FROM mfa_authenticator WHERE user_id = %s", [owner.id])
        raw = cursor.fetchone()[0]
    assert totp_secret not in raw
    assert "enc:v1:" in raw


def test_login_with_totp_needs_the_code(client, owner, totp_secret):
    response = _login(client, owner.email)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/").status_code == 302  # not in yet
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000" if _current_code(totp_secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "Incorrect code" in wrong.content.decode()
    assert client.get("/").status_code == 302
    right = client.post("/accounts/2fa/authenticate/", {"code": _current_code(totp_secret)})
    assert right.status_code == 302
    assert client.get("/").status_code == 200


def test_totp_activation_through_the_pages(client, owner):
    _login(client, owner.email)
    # Turning on 2FA asks for the password again first.
    first = client.get("/accounts/2fa/totp/activate/")
    assert first.status_code == 302 and first["Location"].startswith("/accounts/reauthenticate/")
    assert client.post(first["Location"], {"password": PASSWORD}).status_code == 302
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert b"data:image/svg+xml" in page.content  # the QR code, allowed by our CSP (img-src data:)
    bad = client.post("/accounts/2fa/totp/activate/", {"code": "12345"})
    assert bad.status_code == 200 and b"errorlist" in bad.content
    assert not Authenticator.objects.filter(user=owner).exists()
    good = client.post("/accounts/2fa/totp/activate/", {"code": _current_code(secret)})
    assert good.status_code == 302
    assert Authenticator.objects.filter(user=owner, type="totp").exists()
    assert Authenticator.objects.filter(user=owner, type="recovery_codes").exists()


def test_recovery_code_signs_in_once(client, owner, totp_secret):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(owner).get_unused_codes()
    _login(client, owner.email)
    assert client.post("/accounts/2fa/authenticate/", {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    again = type(client)()
    _login(again, owner.email)
    reused = again.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert "Incorrect code" in reused.content.decode()


def test_login_is_rate_limited_after_repeated_failures(client, owner):
    for _ in range(5):
        assert _login(client, owner.email, "wrong-password-1").status_code == 200
    blocked = _login(client, owner.email)  # even the right password is refused for now
    assert "Too many failed login attempts" in blocked.content.decode()
    assert client.get("/").status_code == 302


def test_deleted_account_cannot_sign_in(client, owner):
    services.user_soft_delete(user=owner)
    response = _login(client, owner.email)
    assert response.status_code == 302 and response["Location"] == "/accounts/inactive/"
    assert "was deleted" in client.get(response["Location"]).content.decode()
    assert client.get("/").status_code == 302


def test_social_providers_show_only_when_configured(client, settings):
    assert b"GitHub" not in client.get("/accounts/login/").content
