"""Sign-up, email verification and invitations: what the visitor sees and what the database holds."""

import re
from datetime import timedelta

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


def test_verification_link_works_once(client):
    _signup(client)
    link = _link(mail.outbox[0])
    path = link.split("://", 1)[1].split("/", 1)[1]
    confirm_page = client.get("/" + path)
    assert confirm_page.status_code == 200
    assert b"nora@example.com" in confirm_page.content
    response = client.post("/" + path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="nora@example.com").verified
    assert not VerificationToken.objects.exists()
    # The same link again: refused, and says so.
    again = client.get("/" + path)
    assert b"expired or is invalid" in again.content or b"invalid" in again.content.lower()


def test_duplicate_email_is_refused_with_a_clear_error(client, owner):
    response = _signup(client, email="OWNER@example.com")
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email="owner@example.com").count() == 1
    assert len(mail.outbox) == 0


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
