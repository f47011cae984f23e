import pytest

from accounts.models import AuditLog, User
from core.tenancy import tenant

pytestmark = pytest.mark.django_db


def test_role_and_tier_changes_are_audited_with_their_actor(owner, staff):
    with tenant(staff.id):
        User.objects.filter(pk=owner.pk).update(role="SUPPORT", subscription_tier="PRO")
    role = AuditLog.objects.get(action="user.role_change")
    tier = AuditLog.objects.get(action="user.tier_change")
    assert role.admin_id == staff.id and role.target_id == owner.id
    assert role.details["from"] == "USER" and role.details["to"] == "SUPPORT"
    assert tier.details["from"] == "FREE" and tier.details["to"] == "PRO"


def test_other_updates_are_not_audited(owner):
    owner.name = "Renamed"
    owner.save()
    assert not AuditLog.objects.filter(action__startswith="user.").exists()


def test_staff_rights_follow_the_role(owner):
    assert not owner.is_staff and not owner.has_perm("accounts.view_user")
    owner.role = "SUPPORT"
    assert owner.is_staff and owner.has_perm("accounts.view_auditlog") and not owner.has_perm("accounts.view_user")
    assert not owner.has_perm("accounts.change_user")
    assert owner.has_perm("support.change_supportticket")
    owner.role = "ADMIN"
    assert owner.has_perm("accounts.change_user") and not owner.is_superuser
    assert not owner.has_perm("health.view_healthprofile")
    owner.role = "SUPER_ADMIN"
    assert owner.is_superuser


def test_database_refuses_invalid_role_and_email(owner):
    from django.db import IntegrityError, transaction

    for field, value in (("role", "GOD"), ("subscription_tier", "PLATINUM"), ("email", "Bad@Example.com"), ("email", "x@y")):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=owner.pk).update(**{field: value})
