import re

import pytest
from django.core import mail

from accounts.models import AuditLog, Invitation, InvitationStatus

pytestmark = pytest.mark.django_db


def test_admin_invites_someone(staff_client, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/account/invitations/", {"email": "New.Person@Example.com"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.email == "new.person@example.com"
    assert invitation.invited_by == staff
    assert invitation.status == InvitationStatus.PENDING
    assert len(mail.outbox) == 1
    link = re.search(r"http\S+", mail.outbox[0].body).group(0)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation.token != token and len(invitation.token) == 64  # a digest, not the secret
    assert AuditLog.objects.filter(action="invitation.create", target_id=invitation.id, admin=staff).exists()
    page = staff_client.get("/account/invitations/")
    assert "new.person@example.com" in page.content.decode()


def test_inviting_an_existing_user_or_bad_email_is_refused(staff_client, owner):
    for email in ("owner@example.com", "nope", ""):
        response = staff_client.post("/account/invitations/", {"email": email})
        assert response.status_code == 400
        assert b"errorlist" in response.content
    assert not Invitation.objects.exists()
    assert len(mail.outbox) == 0


def test_revoke_an_invitation(staff_client, staff, client):
    from accounts import services

    issued = services.invitation_create(invited_by=staff, email="x@example.com")
    response = staff_client.post(f"/account/invitations/{issued.invitation.id}/revoke/")
    assert response.status_code == 302
    assert Invitation.objects.get().status == InvitationStatus.REVOKED
    assert "revoked" in client.get(issued.path).content.decode()
    assert AuditLog.objects.filter(action="invitation.revoke").exists()


def test_invitations_are_hidden_from_non_admins(owner_client, staff):
    from accounts import services

    issued = services.invitation_create(invited_by=staff, email="x@example.com")
    assert owner_client.get("/account/invitations/").status_code == 404
    assert owner_client.post("/account/invitations/", {"email": "y@example.com"}).status_code == 404
    assert owner_client.post(f"/account/invitations/{issued.invitation.id}/revoke/").status_code == 404
    assert Invitation.objects.get().status == InvitationStatus.PENDING
    assert "Invitations" not in owner_client.get("/").content.decode()
