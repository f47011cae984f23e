"""Staff security in the admin: the login goes through allauth (rate limit, second factor), staff
need TOTP where required, and identity fields cannot be used to take an account over."""

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.socialaccount.models import SocialAccount
from django.core import mail

from accounts.models import AuditLog, User
from testutils.testing import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db


def _code(secret: str) -> str:
    counter = list(yield_hotp_counters_from_time())[1]
    return format_hotp_value(hotp_value(secret, counter))


def _login(client, email, password=PASSWORD, url="/accounts/login/"):
    return client.post(url, {"login": email, "username": email, "password": password})


def _locked_out(client) -> None:
    """No admin page and no app page answers this client."""
    for url in ("/admin/", "/admin/accounts/user/", "/", "/account/settings/", "/accounts/2fa/", "/accounts/2fa/recovery-codes/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"], (url, response["Location"])


@pytest.fixture
def root(db):
    return make_user("root@example.com", role="SUPER_ADMIN", name="Rita Root")


@pytest.fixture
def root_client(root):
    return client_for(root)


@pytest.fixture
def staff_totp(staff):
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    return secret


# --- item 1: the admin login ----------------------------------------------------------------------


def test_admin_login_page_is_the_account_login(client):
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "%2Fadmin%2Faccounts%2Fuser%2F" in response["Location"]
    # The admin's own redirect ends up there too.
    first = client.get("/admin/")
    assert client.get(first["Location"])["Location"].startswith("/accounts/login/")


def test_staff_with_totp_cannot_get_in_with_the_password_alone(client, staff, staff_totp):
    # The admin's login form no longer checks a password: nothing is signed in.
    posted = _login(client, staff.email, url="/admin/login/?next=/admin/")
    assert posted.status_code == 302 and posted["Location"].startswith("/accounts/login/")
    _locked_out(client)
    # The account login asks for the code before anything else.
    response = _login(client, staff.email, url="/accounts/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    _locked_out(client)
    done = client.post("/accounts/2fa/authenticate/", {"code": _code(staff_totp)})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_login_is_rate_limited(client, staff):
    # Fifteen wrong passwords at the admin's address authenticate nothing (it checks no password),
    # nor does the right one afterwards...
    for _ in range(15):
        _login(client, staff.email, "wrong-password-1", url="/admin/login/")
    _login(client, staff.email, url="/admin/login/")
    assert client.get("/admin/").status_code == 302
    # ...and at the login it leads to, the sixth attempt in the window is refused, right password or not.
    login_url = client.get("/admin/login/?next=/admin/")["Location"]
    for _ in range(5):
        assert _login(client, staff.email, "wrong-password-1", url=login_url).status_code == 200
    blocked = _login(client, staff.email, url=login_url)
    assert blocked.status_code == 200
    assert "Too many failed login attempts" in blocked.content.decode()
    assert client.get("/admin/").status_code == 302


def test_staff_without_totp_are_sent_to_set_it_up_when_required(settings, staff_client, staff, owner_client):
    settings.STAFF_REQUIRE_MFA = True
    for url in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{staff.pk}/change/"):
        response = staff_client.get(url)
        assert response.status_code == 302 and response["Location"] == "/accounts/2fa/totp/activate/", url
    page = staff_client.get("/admin/", follow=True)
    assert "Staff accounts need two-factor authentication" in page.content.decode()
    assert owner_client.get("/").status_code == 200  # people who are not staff are not asked
    assert staff_client.post("/admin/logout/").status_code == 200  # leaving is always possible
    staff_client.force_login(staff, backend="allauth.account.auth_backends.AuthenticationBackend")
    TOTP.activate(staff, generate_totp_secret())
    assert staff_client.get("/admin/").status_code == 200


def test_staff_totp_is_not_required_when_the_setting_is_off(settings, staff_client):
    settings.STAFF_REQUIRE_MFA = False
    assert staff_client.get("/admin/").status_code == 200


def test_staff_totp_is_required_by_default_in_production_only():
    from core.tests.test_settings_modes import PRODUCTION_ENV, _manage

    script = "from django.conf import settings; print('MFA', settings.STAFF_REQUIRE_MFA)"
    production = _manage("shell", "-c", script, **PRODUCTION_ENV, STAFF_REQUIRE_MFA="")
    assert "MFA True" in production.stdout, production.stderr
    turned_off = _manage("shell", "-c", script, **PRODUCTION_ENV, STAFF_REQUIRE_MFA="false")
    assert "MFA False" in turned_off.stdout, turned_off.stderr
    development = _manage("shell", "-c", script, DJANGO_ENV="development", STAFF_REQUIRE_MFA="")
    assert "MFA False" in development.stdout, development.stderr


# --- item 2: identity fields ---------------------------------------------------------------------


def _change_post(user, **overrides):
    from accounts.models import UserSettings
    from core.tenancy import tenant

    with tenant(user.id):
        user_settings = UserSettings.objects.get(user=user)
    data = {
        "email": user.email, "name": user.name, "role": user.role, "subscription_tier": user.subscription_tier,
        "settings-TOTAL_FORMS": "1", "settings-INITIAL_FORMS": "1", "settings-MIN_NUM_FORMS": "0",
        "settings-MAX_NUM_FORMS": "1", "settings-0-id": str(user_settings.id), "settings-0-user": str(user.id),
        "settings-0-default_model": "offline", "settings-0-temperature": "0.7", "settings-0-max_tokens": "1024",
        "settings-0-rag_enabled": "on", "settings-0-language": "",
        "linked_accounts-TOTAL_FORMS": "0", "linked_accounts-INITIAL_FORMS": "0",
        "linked_accounts-MIN_NUM_FORMS": "0", "linked_accounts-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def _inputs(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html))


def test_admin_cannot_change_a_super_admin_at_all(staff_client, root):
    page = staff_client.get(f"/admin/accounts/user/{root.pk}/change/")
    assert page.status_code == 200
    assert not {"email", "name", "role", "password"} & _inputs(page.content.decode())  # a view-only page
    response = staff_client.post(f"/admin/accounts/user/{root.pk}/change/", _change_post(root, email="attacker@example.com"))
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.com"
    assert not EmailAddress.objects.filter(email="attacker@example.com").exists()


def test_admin_cannot_change_the_email_of_a_user_or_take_over_by_password_reset(client, staff_client, owner):
    page = staff_client.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    assert "email" not in _inputs(page) and "password" not in _inputs(page)
    assert {"name", "subscription_tier"} <= _inputs(page)  # the rest stays editable
    response = staff_client.post(
        f"/admin/accounts/user/{owner.pk}/change/", _change_post(owner, email="attacker@example.com", name="Renamed")
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.email, owner.name) == ("owner@example.com", "Renamed")
    assert not EmailAddress.objects.filter(email="attacker@example.com").exists()
    mail.outbox.clear()
    client.post("/accounts/password/reset/", {"email": "attacker@example.com"})
    # allauth may tell the address no account uses it; it never sends it a reset link.
    assert not [m for m in mail.outbox if "attacker@example.com" in m.to and "/accounts/password/reset/key/" in m.body]
    assert not [m for m in mail.outbox if "attacker@example.com" in m.to and owner.email in m.body]


def test_admin_cannot_edit_add_verify_or_delete_email_addresses(staff_client, owner):
    address = EmailAddress.objects.get(user=owner)
    base = "/admin/account/emailaddress/"
    listing = staff_client.get(base)
    assert listing.status_code == 200
    assert "make_verified" not in listing.content.decode()
    page = staff_client.get(f"{base}{address.pk}/change/")
    assert page.status_code == 200 and not {"email", "verified", "primary", "user"} & _inputs(page.content.decode())
    assert staff_client.post(f"{base}{address.pk}/change/", {"user": owner.pk, "email": "attacker@example.com", "verified": "on", "primary": "on"}).status_code == 403
    assert staff_client.get(f"{base}add/").status_code == 403
    assert staff_client.post(f"{base}add/", {"user": owner.pk, "email": "attacker@example.com"}).status_code == 403
    assert staff_client.post(f"{base}{address.pk}/delete/", {"post": "yes"}).status_code == 403
    staff_client.post(base, {"action": "make_verified", "_selected_action": [address.pk]})
    assert list(EmailAddress.objects.filter(user=owner).values_list("email", flat=True)) == ["owner@example.com"]


def test_admin_cannot_unlink_social_accounts_or_reset_second_factors(staff_client, owner):
    social = SocialAccount.objects.create(user=owner, provider="github", uid="4242")
    TOTP.activate(owner, generate_totp_secret())
    totp = Authenticator.objects.get(user=owner, type="totp")
    for base, pk in (("/admin/socialaccount/socialaccount/", social.pk), ("/admin/mfa/authenticator/", totp.pk)):
        page = staff_client.get(f"{base}{pk}/change/")
        assert page.status_code == 200 and "user" not in _inputs(page.content.decode())
        assert staff_client.post(f"{base}{pk}/change/", {"user": owner.pk, "uid": "1"}).status_code == 403
        assert staff_client.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 403
        staff_client.post(base, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"})
    assert SocialAccount.objects.filter(pk=social.pk, uid="4242").exists()
    assert Authenticator.objects.filter(pk=totp.pk).exists()
    assert "enc:v1" not in staff_client.get(f"/admin/mfa/authenticator/{totp.pk}/change/").content.decode()
    # Social apps and tokens (secrets) are not in the admin at all.
    assert staff_client.get("/admin/socialaccount/socialapp/").status_code == 404
    assert staff_client.get("/admin/socialaccount/socialtoken/").status_code == 404


def test_super_admin_changes_an_email_through_verification(root_client, root, owner):
    mail.outbox.clear()
    response = root_client.post(f"/admin/accounts/user/{owner.pk}/change/", _change_post(owner, email="New.Owner@Example.com"))
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"  # unchanged until the new address is confirmed
    new = EmailAddress.objects.get(user=owner, email="new.owner@example.com")
    assert (new.verified, new.primary) == (False, False)
    sent = [m for m in mail.outbox if m.to == ["new.owner@example.com"]]
    assert len(sent) == 1 and "/accounts/confirm-email/" in sent[0].body
    assert AuditLog.objects.filter(action="user.email_change_requested", admin=root, target_id=owner.pk).exists()
    follow = root_client.get(response["Location"])
    assert "A confirmation link was sent to new.owner@example.com" in follow.content.decode()


def test_super_admin_cannot_use_an_address_of_another_account(root_client, owner, other):
    response = root_client.post(f"/admin/accounts/user/{owner.pk}/change/", _change_post(owner, email=other.email))
    assert response.status_code == 200
    assert "Another account already uses this address." in response.content.decode()
    assert not EmailAddress.objects.filter(user=owner, email=other.email).exists()


def test_super_admin_cannot_change_the_identity_of_another_super_admin(root_client, root):
    peer = make_user("peer@example.com", role="SUPER_ADMIN")
    page = root_client.get(f"/admin/accounts/user/{peer.pk}/change/").content.decode()
    assert "email" not in _inputs(page)
    root_client.post(f"/admin/accounts/user/{peer.pk}/change/", _change_post(peer, email="elsewhere@example.com"))
    assert not EmailAddress.objects.filter(email="elsewhere@example.com").exists()
    peer.refresh_from_db()
    assert peer.email == "peer@example.com"
    address = EmailAddress.objects.get(user=peer)
    assert root_client.post(f"/admin/account/emailaddress/{address.pk}/delete/", {"post": "yes"}).status_code == 403
    add = root_client.post("/admin/account/emailaddress/add/", {"user": peer.pk, "email": "elsewhere@example.com"})
    assert add.status_code == 200 and not EmailAddress.objects.filter(email="elsewhere@example.com").exists()


def test_super_admin_adds_an_address_unverified_and_resets_a_lost_second_factor(root_client, root, owner):
    mail.outbox.clear()
    added = root_client.post("/admin/account/emailaddress/add/", {"user": owner.pk, "email": "second@example.com"})
    assert added.status_code == 302
    assert EmailAddress.objects.get(email="second@example.com").verified is False
    assert [m.to for m in mail.outbox] == [["second@example.com"]]
    TOTP.activate(owner, generate_totp_secret())
    totp = Authenticator.objects.get(user=owner, type="totp")
    assert root_client.post(f"/admin/mfa/authenticator/{totp.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Authenticator.objects.filter(pk=totp.pk).exists()
    assert AuditLog.objects.filter(action="user.mfa_reset", admin=root, target_id=owner.pk).exists()


def test_admin_cannot_soft_delete_or_restore_peers_and_superiors(staff_client, root):
    peer = make_user("peer-admin@example.com", role="ADMIN")
    staff_client.post("/admin/accounts/user/", {"action": "soft_delete", "_selected_action": [str(root.pk), str(peer.pk)]})
    assert User.objects.filter(pk__in=[root.pk, peer.pk], deleted_at__isnull=True).count() == 2
