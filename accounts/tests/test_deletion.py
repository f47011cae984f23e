"""Account deletion: soft delete now, purge after the grace period."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Account, AuditLog, AuthSession, User, UserSettings
from core.tenancy import tenant
from testutils.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_delete_page_needs_the_password_and_the_confirmation(owner_client, owner):
    for data in ({"password": "wrong-password", "confirm": "on"}, {"password": PASSWORD}, {}):
        response = owner_client.post("/account/delete/", data)
        assert response.status_code == 400
        assert b"errorlist" in response.content
    owner.refresh_from_db()
    assert owner.deleted_at is None


def test_delete_signs_out_everywhere_and_refuses_login(owner_client, owner, client):
    response = owner_client.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.deleted_at is not None
    assert not AuthSession.objects.filter(user=owner).exists()
    assert owner_client.get("/").status_code == 302
    login = client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert login["Location"] == "/accounts/inactive/"
    assert AuditLog.objects.filter(action="user.soft_delete", target_id=owner.id).exists()


def test_purge_erases_accounts_past_the_grace_period_only(owner, other, settings):
    settings.ACCOUNT_DELETION_GRACE_DAYS = 30
    with tenant(owner.id):
        Account.objects.create(user=owner, provider="github", provider_account_id="1", access_token="t")
    User.objects.filter(pk=owner.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    User.objects.filter(pk=other.pk).update(deleted_at=timezone.now() - timedelta(days=29))

    dry = StringIO()
    call_command("purge_deleted_accounts", "--dry-run", stdout=dry)
    assert "would purge 1" in dry.getvalue()
    assert User.objects.filter(pk=owner.pk).exists()

    out = StringIO()
    call_command("purge_deleted_accounts", stdout=out)
    assert "purged 1" in out.getvalue()
    assert not User.objects.filter(pk=owner.pk).exists()
    assert User.objects.filter(pk=other.pk).exists()
    with tenant(owner.id):
        assert not Account.objects.exists()
        assert not UserSettings.objects.exists()
    assert AuditLog.objects.filter(action="user.purge", target_id=owner.id).exists()


def test_restore_during_grace_period(owner, staff, client):
    from accounts import services

    services.user_soft_delete(user=owner)
    services.user_restore(user=owner, actor=staff)
    login = client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert login["Location"] == "/"
