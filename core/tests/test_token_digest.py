"""One digest for stored secret tokens (core.crypto.token_digest): sessions, invitations, email verification."""

import pytest

from accounts import services
from accounts.models import AuthSession, Invitation, VerificationToken
from accounts.verification import verification_consume, verification_record
from core.crypto import token_digest
from testutils.testing import PASSWORD


def test_token_digest_is_the_hex_sha256_of_the_utf8_token():
    # Rows written before the helper existed hold exactly this: sha256(token).hexdigest().
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert token_digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert token_digest("ñ") == "024bb90888ca89a15a19e9bdd8c712bfb070465fce1ef25e43c170ea44fc5e5f"  # UTF-8 bytes


@pytest.mark.django_db
def test_each_token_table_keeps_the_digest_and_never_the_token(client, owner, staff):
    client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    key = client.cookies["sessionid"].value
    assert AuthSession.objects.filter(session_token=token_digest(key), user=owner).exists()

    issued = services.invitation_create(invited_by=staff, email="new.person@example.com")
    assert Invitation.objects.get(pk=issued.invitation.pk).token == token_digest(issued.token)
    assert services.invitation_check(invitation_id=issued.invitation.pk, token=issued.token).pk == issued.invitation.pk

    verification_record(email="new.person@example.com", key="signed-key")
    assert VerificationToken.objects.filter(token=token_digest("signed-key")).exists()
    assert not VerificationToken.objects.filter(token="signed-key").exists()
    assert verification_consume(key="signed-key")
