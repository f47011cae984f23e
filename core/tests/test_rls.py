"""Row-level security on a real tenant table (user_settings), as the runtime role."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import UserSettings
from core.tenancy import bypass, current_context, tenant

pytestmark = pytest.mark.django_db


def test_each_user_gets_settings_created_with_them(owner, other):
    with tenant(owner.id):
        assert UserSettings.objects.filter(user=owner).count() == 1
    with tenant(other.id):
        assert UserSettings.objects.filter(user=other).count() == 1


def test_other_user_sees_none_of_the_owners_rows_through_the_orm(owner, other):
    with tenant(other.id):
        assert not UserSettings.objects.filter(user=owner).exists()
        assert list(UserSettings.objects.values_list("user_id", flat=True)) == [other.id]


def test_other_user_sees_none_of_the_owners_rows_through_raw_sql(owner, other):
    with tenant(other.id), connection.cursor() as cursor:
        cursor.execute("SELECT user_id FROM user_settings")
        assert [row[0] for row in cursor.fetchall()] == [other.id]
        cursor.execute("SELECT count(*) FROM user_settings WHERE user_id = %s", [owner.id])
        assert cursor.fetchone()[0] == 0


def test_no_context_sees_nothing(owner, other):
    assert current_context() == ("", "")
    assert UserSettings.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM user_settings")
        assert cursor.fetchone()[0] == 0


def test_other_user_cannot_update_or_delete_the_owners_rows(owner, other):
    with tenant(other.id):
        assert UserSettings.objects.filter(user=owner).update(max_tokens=7) == 0
        assert UserSettings.objects.filter(user=owner).delete()[0] == 0
    with tenant(owner.id):
        assert UserSettings.objects.get(user=owner).max_tokens != 7


def test_other_user_cannot_insert_a_row_with_the_owners_id(owner, other):
    with tenant(owner.id):
        UserSettings.objects.filter(user=owner).delete()
    with pytest.raises(DatabaseError, match="row-level security"), tenant(other.id):
        UserSettings.objects.create(user=owner)


def test_other_user_cannot_move_their_row_to_the_owner(owner, other):
    with tenant(owner.id):
        UserSettings.objects.filter(user=owner).delete()
    with pytest.raises(DatabaseError, match="row-level security"), tenant(other.id):
        UserSettings.objects.filter(user=other).update(user=owner)


def test_tenant_context_is_transaction_local_and_nests(owner, other):
    with tenant(owner.id):
        with tenant(other.id):
            assert current_context()[0] == str(other.id)
        assert current_context()[0] == str(owner.id)
    assert current_context() == ("", "")


@pytest.mark.django_db(transaction=True)
def test_context_does_not_survive_the_transaction(owner):
    # A real transaction (not a test savepoint): the setting dies with it.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.user_id', %s, true)", [str(owner.id)])
    assert current_context() == ("", "")


def test_bypass_sees_everyone_and_is_audited(owner, other, staff):
    from accounts.models import AuditLog

    with tenant(staff.id), bypass("support ticket #12 investigation"):
        assert UserSettings.objects.filter(user__in=[owner, other]).count() == 2
    entry = AuditLog.objects.get(action="rls.bypass")
    assert entry.admin_id == staff.id
    assert entry.details == {"reason": "support ticket #12 investigation"}


def test_bypass_needs_a_reason():
    with pytest.raises(ValueError):
        with bypass(" "):
            pass


def test_unknown_tenant_sees_nothing(owner):
    with tenant(uuid.uuid4()):
        assert UserSettings.objects.count() == 0
