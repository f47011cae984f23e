"""Sign-up, email verification and invitations: what the visitor sees and what the database holds."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, InvitationStatus, User, UserSettings, VerificationToken
from core.tenancy import tenant

pytestmark = pytest.mark.django_db

GOOD = {"name": "Nora New", "email": "nora@example.com", "password1": "a-long-Passphrase-77", "password2": "a-long-Passphrase-77"}


def _signup(client, **overrides):
    return client.post("/accounts/signup/", {**GOOD, **overrides})


def _link(message) -> str:
    return re.search(r"https?://[^\s]+", message.body).group(0)


def test_signup_requires_verification_before_login(client):
    response = _signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="nora@example.com")
    assert user.name == "Nora New"
    assert not EmailAddress.objects.get(user=user).verified
    with tenant(user.id):
        assert UserSettings.objects.filter(user=user).exists()
    assert len(mail.outbox) == 1
    assert VerificationToken.objects.filter(identifier="nora@example.com").count() == 1
    # Not signed in until the address is verified.
    assert client.get("/").status_code == 302
    login = client.post("/accounts/login/", {"login": "nora@example.com", "password": GOOD["password1"]})
    assert login.status_code == 302 and "confirm-email" in login["Location"]


def _path(link: str) -> str:
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


def _form_action(page) -> str:
    """Where the page's confirmation form posts, as a browser would read it."""
    html = page.content.decode()
    form = re.search(r'<form[^>]*method="post"[^>]*action="(/accounts/confirm-email/[^"]+)"', html)
    assert form, "the confirmation page has no form"
    return form.group(1)


def test_verification_link_works_once(client):
    _signup(client)
    path = _path(_link(mail.outbox[0]))
    confirm_page = client.get(path)
    assert confirm_page.status_code == 200
    assert b"nora@example.com" in confirm_page.content
    response = client.post(_form_action(confirm_page))
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="nora@example.com").verified
    assert not VerificationToken.objects.exists()
    # The same link again: refused, and says what to do next.
    again = client.get(path)
    assert b"expired or was already used" in again.content
    assert b"/accounts/login/" in again.content
    assert client.post(path).status_code == 404


def test_the_emailed_link_works_when_a_second_passes_while_it_is_written(client, monkeypatch):
    """allauth signs the key again on every read; the link and the recorded key must be one signing."""
    from django.core import signing

    seconds = iter(range(1_900_000_000, 1_900_001_000))
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: next(seconds)))
    _signup(client)
    path = _path(_link(mail.outbox[0]))
    monkeypatch.undo()
    page = client.get(path)
    assert b"expired or was already used" not in page.content
    assert client.post(_form_action(page)).status_code == 302
    assert EmailAddress.objects.get(email="nora@example.com").verified


def test_pressing_confirm_in_the_signup_browser_signs_in(client):
    """The form on the confirmation page posts the e-mailed key (allauth re-signs a new one each render)."""
    _signup(client)
    path = _path(_link(mail.outbox[0]))
    page = client.get(path)
    assert _form_action(page) == path
    response = client.post(_form_action(page), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"
    assert response.wsgi_request.user.email == "nora@example.com"
    assert EmailAddress.objects.get(email="nora@example.com").verified


@pytest.mark.parametrize("language", ["en", "es"])
def test_confirming_from_another_browser_asks_to_sign_in(client, language):
    _signup(client)
    other_browser = type(client)()
    other_browser.cookies["django_language"] = language
    path = _path(_link(mail.outbox[0]))
    page = other_browser.get(path)
    response = other_browser.post(_form_action(page), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert not response.wsgi_request.user.is_authenticated
    expected = "Sign in with your password" if language == "en" else "Inicia sesión con tu contraseña"
    assert expected in response.content.decode()
    assert EmailAddress.objects.get(email="nora@example.com").verified


def test_a_key_signed_by_allauth_but_never_mailed_is_refused(client):
    import time
    from unittest import mock

    from allauth.account.models import EmailConfirmationHMAC

    _signup(client)
    address = EmailAddress.objects.get(email="nora@example.com")
    later = time.time() + 5  # a signature of another second than the mailed one
    with mock.patch("django.core.signing.time.time", return_value=later):
        forged = EmailConfirmationHMAC(address).key  # validly signed, never recorded
    assert forged not in mail.outbox[0].body
    assert b"expired or was already used" in client.get(f"/accounts/confirm-email/{forged}/").content
    assert client.post(f"/accounts/confirm-email/{forged}/").status_code == 404
    assert not EmailAddress.objects.get(email="nora@example.com").verified


def test_verify_page_says_where_the_link_went_and_resends_it(client, settings):
    settings.ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN = 0
    response = _signup(client, email="Nora@Example.com")
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "nora@example.com" in body.lower() and "Resend the email" in body
    first_link = _link(mail.outbox[0])
    resent = client.post("/account/verify/resend/", follow=True)
    assert resent.status_code == 200
    assert len(mail.outbox) == 2 and mail.outbox[1].to == mail.outbox[0].to
    # Both links work once each: the first one still confirms.
    page = client.get(_path(first_link))
    assert client.post(_form_action(page)).status_code == 302
    assert EmailAddress.objects.get(email__iexact="nora@example.com").verified


def test_resend_is_rate_limited(client):
    _signup(client)
    assert len(mail.outbox) == 1
    response = client.post("/account/verify/resend/", follow=True)
    assert "Wait a few minutes" in response.content.decode()
    assert len(mail.outbox) == 1  # within allauth's cooldown: nothing sent


def test_resend_per_ip_limit(client, settings):
    settings.ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN = 0
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "resend_verification": "2/h/ip"}
    _signup(client)
    for _ in range(4):
        client.post("/account/verify/resend/")
    assert len(mail.outbox) == 3  # the sign-up mail and two resends


def test_resend_without_a_pending_signup_sends_nothing(client):
    response = client.post("/account/verify/resend/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert len(mail.outbox) == 0
    assert client.get("/account/verify/resend/").status_code == 405


def test_existing_email_at_signup_reveals_nothing(client, owner):
    """The visitor sees the usual "check your email" page; the owner of the address gets a mail."""
    fresh = type(client)()
    fresh_response = _signup(fresh, email="someone-new@example.com")
    mail.outbox.clear()
    response = _signup(client, email="OWNER@example.com")
    assert response.status_code == fresh_response.status_code == 302
    assert response["Location"] == fresh_response["Location"]
    assert "already exists" not in client.get(response["Location"]).content.decode()
    assert User.objects.filter(email="owner@example.com").count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["owner@example.com"]
    owner.refresh_from_db()
    assert owner.check_password("correct-horse-battery-9")  # nothing about the account changed


@pytest.mark.parametrize("email", ["not-an-email", "o'brien@example.com", "a@b", ""])
def test_malformed_email_is_refused(client, email):
    response = _signup(client, email=email)
    assert response.status_code == 200
    assert b"errorlist" in response.content
    assert not User.objects.filter(email="nora@example.com").exists()


def test_password_mismatch_and_weak_password_are_refused(client):
    assert b"errorlist" in _signup(client, password2="different-Passphrase-1").content
    assert b"errorlist" in _signup(client, password1="12345", password2="12345").content
    assert not User.objects.filter(email="nora@example.com").exists()


# --- invitations ------------------------------------------------------------------------------


@pytest.fixture
def invite_only(settings):
    settings.INVITE_ONLY = True


def test_invite_only_closes_signup_without_an_invitation(client, invite_only):
    page = client.get("/accounts/signup/")
    assert b"invitation only" in page.content
    _signup(client)
    assert not User.objects.filter(email="nora@example.com").exists()


def test_signup_with_an_invitation(client, invite_only, staff):
    issued = services.invitation_create(invited_by=staff, email="Nora@Example.com")
    stored = Invitation.objects.get()
    assert stored.token != issued.token  # only a digest is stored
    opened = client.get(issued.path)
    assert opened.status_code == 302 and opened["Location"] == "/accounts/signup/"
    response = _signup(client)
    assert response.status_code == 302
    user = User.objects.get(email="nora@example.com")
    assert EmailAddress.objects.get(user=user).verified  # the link proved the address
    stored.refresh_from_db()
    assert stored.status == InvitationStatus.ACCEPTED
    assert client.get("/").status_code == 200  # signed in straight away


def test_invitation_is_single_use(client, invite_only, staff):
    issued = services.invitation_create(invited_by=staff, email="nora@example.com")
    client.get(issued.path)
    _signup(client)
    stranger = type(client)()
    response = stranger.get(issued.path)
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_expired_invitation_is_refused(client, invite_only, staff):
    issued = services.invitation_create(invited_by=staff, email="nora@example.com")
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(issued.path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    _signup(client)
    assert not User.objects.filter(email="nora@example.com").exists()


def test_invitation_expiring_between_link_and_signup_writes_nothing(client, invite_only, staff):
    issued = services.invitation_create(invited_by=staff, email="nora@example.com")
    client.get(issued.path)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = _signup(client)
    assert response.status_code == 200
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="nora@example.com").exists()


def test_invitation_with_a_wrong_token_is_not_valid(client, staff):
    issued = services.invitation_create(invited_by=staff, email="nora@example.com")
    response = client.get(issued.path.replace(issued.token, issued.token[:-2] + "xx"))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_invitation_for_another_address(client, invite_only, staff):
    issued = services.invitation_create(invited_by=staff, email="someone@example.com")
    client.get(issued.path)
    response = _signup(client, email="nora@example.com")
    assert "someone@example.com" in response.content.decode()
    assert not User.objects.filter(email="nora@example.com").exists()
