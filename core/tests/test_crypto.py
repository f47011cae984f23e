"""AES-256-GCM fields: round trip, nothing in clear, bound to table/column/row, key rotation."""

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from accounts.models import Account
from core import crypto
from core.tenancy import tenant

pytestmark = pytest.mark.django_db

SECRET = "ya29.a0-secret-access-token"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _raw(table, column, row_id):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [row_id])
        return cursor.fetchone()[0]


@pytest.fixture
def linked(owner):
    with tenant(owner.id):
        return Account.objects.create(
            user=owner, provider="github", provider_account_id="42", access_token=SECRET, refresh_token="refresh-1"
        )


def test_round_trip(owner, linked):
    with tenant(owner.id):
        fresh = Account.objects.get(pk=linked.pk)
        assert fresh.access_token == SECRET
        assert fresh.refresh_token == "refresh-1"


def test_raw_column_holds_no_plaintext(owner, linked):
    with tenant(owner.id):
        raw = _raw("accounts", "access_token", linked.pk)
    assert SECRET not in raw
    assert raw.startswith("enc:v1:")
    assert crypto.text_key_id(raw) == crypto.keyring().primary_id


def test_same_plaintext_encrypts_differently_each_time(owner, linked):
    with tenant(owner.id):
        first = _raw("accounts", "access_token", linked.pk)
        linked.save()
        second = _raw("accounts", "access_token", linked.pk)
    assert first != second


def test_ciphertext_copied_to_another_row_fails_to_decrypt(owner, linked):
    with tenant(owner.id):
        victim = Account.objects.create(user=owner, provider="google", provider_account_id="7", access_token="mine")
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE accounts SET access_token = (SELECT access_token FROM accounts WHERE id = %s) WHERE id = %s",
                [linked.pk, victim.pk],
            )
        with pytest.raises(crypto.DecryptionError):
            _ = Account.objects.get(pk=victim.pk).access_token


def test_ciphertext_copied_to_another_column_fails_to_decrypt(owner, linked):
    with tenant(owner.id):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE accounts SET refresh_token = access_token WHERE id = %s", [linked.pk])
        with pytest.raises(crypto.DecryptionError):
            _ = Account.objects.get(pk=linked.pk).refresh_token


def test_encrypted_field_refuses_plain_filters_and_updates(owner, linked):
    with pytest.raises(ValueError, match="encrypted"), tenant(owner.id):
        list(Account.objects.filter(access_token=SECRET))
    with pytest.raises(ValueError, match="encrypted"), tenant(owner.id):
        Account.objects.filter(pk=linked.pk).update(access_token="x")


def test_json_envelope_round_trip_and_binding():
    field = crypto.EncryptedJSONField()
    aad = crypto.associated_data("health_profiles", "insurance_info", "row-1")
    envelope = crypto.encrypt_json({"policy": "A-123", "provider": "Acme"}, aad)
    assert "A-123" not in str(envelope)
    assert crypto.decrypt_json(envelope, aad) == {"policy": "A-123", "provider": "Acme"}
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_json(envelope, crypto.associated_data("health_profiles", "insurance_info", "row-2"))
    assert field.key_id(envelope) == crypto.keyring().primary_id


def test_keyring_refuses_malformed_configuration():
    for bad in ["", "nokey", "k1:not-base64!!", f"k1:{base64.b64encode(b'short').decode()}", f"a:{_key()},a:{_key()}"]:
        with pytest.raises(ImproperlyConfigured):
            crypto.KeyRing.parse(bad)


def test_rotation_moves_every_row_to_the_new_key_and_old_rows_still_read(settings, owner, other, linked):
    old_spec = settings.FIELD_ENCRYPTION_KEYS
    with tenant(other.id):
        other_account = Account.objects.create(user=other, provider="google", provider_account_id="9", access_token="theirs")
    settings.FIELD_ENCRYPTION_KEYS = f"new:{_key()},{old_spec}"
    # Before rotation, rows under the old key still read.
    with tenant(owner.id):
        assert Account.objects.get(pk=linked.pk).access_token == SECRET
    call_command("rotate_encryption_keys", batch_size=1, stdout=open(os.devnull, "w"))
    with tenant(owner.id):
        assert crypto.text_key_id(_raw("accounts", "access_token", linked.pk)) == "new"
        assert crypto.text_key_id(_raw("accounts", "refresh_token", linked.pk)) == "new"
        assert Account.objects.get(pk=linked.pk).access_token == SECRET
    with tenant(other.id):
        assert crypto.text_key_id(_raw("accounts", "access_token", other_account.pk)) == "new"
        assert Account.objects.get(pk=other_account.pk).access_token == "theirs"
    # With the old key removed, everything still decrypts: nothing was left behind.
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS.split(",")[0]
    with tenant(owner.id):
        assert Account.objects.get(pk=linked.pk).refresh_token == "refresh-1"


def test_rotation_is_resumable(settings, owner):
    with tenant(owner.id):
        rows = [
            Account.objects.create(user=owner, provider="github", provider_account_id=str(i), access_token=f"t{i}")
            for i in range(5)
        ]
    settings.FIELD_ENCRYPTION_KEYS = f"new:{_key()},{settings.FIELD_ENCRYPTION_KEYS}"
    from core.management.commands.rotate_encryption_keys import rotate_model

    # An interrupted run: rewrite only part of the rows by hand, then run the command.
    with tenant(owner.id):
        for row in rows[:2]:
            Account.objects.filter(pk=row.pk).update(access_token=Account._meta.get_field("access_token").seal(row, row.access_token))
    assert rotate_model(Account, batch_size=2, owner_id=owner.id) == 3
    assert rotate_model(Account, batch_size=2, owner_id=owner.id) == 0
    with tenant(owner.id):
        assert sorted(a.access_token for a in Account.objects.all()) == [f"t{i}" for i in range(5)]
