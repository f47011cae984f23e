import pytest

from accounts.models import Account, AuditLog, User
from core.tenancy import tenant
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db


def test_staff_use_the_admin_through_an_audited_bypass(staff_client, staff, owner):
    with tenant(owner.id):
        Account.objects.create(user=owner, provider="github", provider_account_id="77", access_token="gho_supersecret")
    page = staff_client.get(f"/admin/accounts/user/{owner.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "owner@example.com" in html and "github" in html  # tenant rows visible to staff...
    assert "gho_supersecret" not in html and "enc:v1" not in html  # ...tokens never, not even ciphertext
    assert AuditLog.objects.filter(action="rls.bypass", admin=staff, details__reason__icontains="/admin/").exists()


def test_admin_lists_do_not_leak_tokens(staff_client, owner):
    with tenant(owner.id):
        Account.objects.create(user=owner, provider="github", provider_account_id="77", access_token="gho_supersecret")
    html = staff_client.get("/admin/accounts/account/").content.decode()
    assert "77" in html and "gho_supersecret" not in html and "enc:v1" not in html


def test_regular_users_cannot_enter_the_admin(owner_client):
    response = owner_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_support_sees_no_full_user_record_and_cannot_change_one(owner):
    # Issue 16: SUPPORT sees of a user only what a ticket shows (email, name, plan).
    support = client_for(make_user("support@example.com", role="SUPPORT"))
    assert support.get("/admin/accounts/user/").status_code == 403
    assert support.get(f"/admin/accounts/user/{owner.id}/change/").status_code == 403
    response = support.post(f"/admin/accounts/user/{owner.id}/change/", {"email": owner.email, "role": "ADMIN"})
    assert response.status_code == 403
    owner.refresh_from_db()
    assert owner.role == "USER"


def test_admin_role_change_is_audited_with_the_staff_actor(staff_client, staff, owner):
    from accounts.models import UserSettings

    with tenant(owner.id):
        user_settings = UserSettings.objects.get(user=owner)
    response = staff_client.post(
        f"/admin/accounts/user/{owner.id}/change/",
        {
            "email": owner.email, "name": owner.name, "role": "SUPPORT", "subscription_tier": "PRO",
            "settings-TOTAL_FORMS": "1", "settings-INITIAL_FORMS": "1", "settings-MIN_NUM_FORMS": "0",
            "settings-MAX_NUM_FORMS": "1", "settings-0-id": str(user_settings.id), "settings-0-user": str(owner.id),
            "settings-0-default_model": "offline", "settings-0-temperature": "0.7", "settings-0-max_tokens": "1024",
            "settings-0-rag_enabled": "on", "settings-0-language": "",
            "linked_accounts-TOTAL_FORMS": "0", "linked_accounts-INITIAL_FORMS": "0",
            "linked_accounts-MIN_NUM_FORMS": "0", "linked_accounts-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    owner.refresh_from_db()
    assert (owner.role, owner.subscription_tier) == ("SUPPORT", "PRO")
    assert AuditLog.objects.filter(action="user.role_change", admin=staff, target_id=owner.id).exists()
    assert AuditLog.objects.filter(action="user.tier_change", admin=staff, target_id=owner.id).exists()


def test_admins_cannot_promote_to_admin_roles(staff_client, owner):
    page = staff_client.get(f"/admin/accounts/user/{owner.id}/change/").content.decode()
    assert 'value="SUPER_ADMIN"' not in page and 'value="ADMIN"' not in page


def test_soft_delete_action(staff_client, owner):
    response = staff_client.post("/admin/accounts/user/", {"action": "soft_delete", "_selected_action": [str(owner.id)]})
    assert response.status_code == 302
    assert User.objects.get(pk=owner.pk).deleted_at is not None
