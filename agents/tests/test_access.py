"""Who may use an agent: public/private and grants, managed by admins; audit rows from the trigger."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services as account_services
from accounts.models import AuditLog
from agents import services
from agents.models import UserAgentPermission
from testutils import factories
from testutils.testing import make_user, messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(owner):
    return factories.agent(owner, name="Team helper")


def test_access_page(agent, other, staff, staff_client):
    services.agent_grant(actor=staff, agent=agent, email=other.email)
    page = staff_client.get(f"/agents/{agent.slug}/access/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Access to Team helper" in html
    assert "other@example.com" in html and "Oscar Other" in html
    assert f'action="/agents/{agent.slug}/access/revoke/{other.id}/"' in html
    assert "Make public" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_admin_makes_an_agent_public_and_private(agent, other, staff, staff_client, other_client):
    assert other_client.get(f"/agents/{agent.slug}/").status_code == 404

    response = staff_client.post(f"/agents/{agent.slug}/access/visibility/", {"public": "1"})
    assert response.status_code == 302 and response["Location"] == f"/agents/{agent.slug}/access/"
    agent.refresh_from_db()
    assert agent.is_public
    assert other_client.get(f"/agents/{agent.slug}/").status_code == 200
    assert AuditLog.objects.filter(action="agent.make_public", target_id=agent.id, admin=staff).exists()

    staff_client.post(f"/agents/{agent.slug}/access/visibility/", {"public": "0"})
    agent.refresh_from_db()
    assert not agent.is_public
    assert other_client.get(f"/agents/{agent.slug}/").status_code == 404
    assert AuditLog.objects.filter(action="agent.make_private", target_id=agent.id, admin=staff).exists()


def test_visibility_needs_a_valid_choice(agent, staff_client):
    response = staff_client.post(f"/agents/{agent.slug}/access/visibility/", {"public": "maybe"}, follow=True)
    assert "Choose public or private." in messages_of(response)
    agent.refresh_from_db()
    assert not agent.is_public


def test_admin_grants_and_revokes_by_email(agent, other, staff, staff_client, other_client):
    response = staff_client.post(f"/agents/{agent.slug}/access/", {"email": " Other@Example.com "})
    assert response.status_code == 302
    grant = UserAgentPermission.objects.get(agent=agent)
    assert (grant.user, grant.granted_by) == (other, staff)
    assert AuditLog.objects.filter(
        action="agent.grant", target_id=agent.id, admin=staff, details__user_id=str(other.id)
    ).count() == 1
    assert other_client.get(f"/agents/{agent.slug}/").status_code == 200

    # Granting again does not duplicate the grant (nor its audit row).
    assert staff_client.post(f"/agents/{agent.slug}/access/", {"email": other.email}).status_code == 302
    assert UserAgentPermission.objects.filter(agent=agent).count() == 1
    assert AuditLog.objects.filter(action="agent.grant", target_id=agent.id).count() == 1

    response = staff_client.post(f"/agents/{agent.slug}/access/revoke/{other.id}/")
    assert response.status_code == 302
    assert not UserAgentPermission.objects.filter(agent=agent).exists()
    assert AuditLog.objects.filter(
        action="agent.revoke", target_id=agent.id, admin=staff, details__user_id=str(other.id)
    ).count() == 1
    assert other_client.get(f"/agents/{agent.slug}/").status_code == 404
    # Revoking what is no longer granted is a 404, not a second audit row.
    assert staff_client.post(f"/agents/{agent.slug}/access/revoke/{other.id}/").status_code == 404
    assert AuditLog.objects.filter(action="agent.revoke").count() == 1


def test_granting_a_public_agent_is_fine(agent, other, staff, staff_client):
    services.agent_set_public(actor=staff, agent=agent, public=True)
    assert staff_client.post(f"/agents/{agent.slug}/access/", {"email": other.email}).status_code == 302
    assert UserAgentPermission.objects.filter(agent=agent, user=other).exists()


@pytest.mark.parametrize(
    "email,message",
    [
        ("nobody@example.com", "No account uses this email address."),
        ("not-an-email", "Enter a valid email address."),
        ("", "This field is required."),
    ],
)
def test_grant_errors(agent, staff_client, email, message):
    response = staff_client.post(f"/agents/{agent.slug}/access/", {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not UserAgentPermission.objects.exists()


def test_a_deleted_account_cannot_be_granted(agent, staff, staff_client):
    gone = make_user("gone@example.com")
    account_services.user_soft_delete(user=gone)
    response = staff_client.post(f"/agents/{agent.slug}/access/", {"email": "gone@example.com"})
    assert response.status_code == 400
    assert "This account was deleted." in response.content.decode()
    assert not UserAgentPermission.objects.exists()


def test_non_admins_get_404_on_access_pages(agent, owner, other, staff, owner_client, other_client):
    services.agent_grant(actor=staff, agent=agent, email=other.email)
    for client in (owner_client, other_client):  # the creator is not an admin either
        assert client.get(f"/agents/{agent.slug}/access/").status_code == 404
        assert client.post(f"/agents/{agent.slug}/access/", {"email": owner.email}).status_code == 404
        assert client.post(f"/agents/{agent.slug}/access/visibility/", {"public": "1"}).status_code == 404
        assert client.post(f"/agents/{agent.slug}/access/revoke/{other.id}/").status_code == 404
    agent.refresh_from_db()
    assert not agent.is_public
    assert list(UserAgentPermission.objects.values_list("user", flat=True)) == [other.id]


def test_access_pages_need_login(agent, client):
    response = client.get(f"/agents/{agent.slug}/access/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_access_services_are_for_admins_only(agent, owner, other):
    with pytest.raises(PermissionDenied):
        services.agent_set_public(actor=owner, agent=agent, public=True)
    with pytest.raises(PermissionDenied):
        services.agent_grant(actor=owner, agent=agent, email=other.email)
    with pytest.raises(PermissionDenied):
        services.agent_revoke(actor=owner, agent=agent, user=other)
    with pytest.raises(ValidationError) as caught:
        services.agent_grant(actor=make_user(role="SUPER_ADMIN"), agent=agent, email="nobody@example.com")
    assert caught.value.message_dict == {"email": ["No account uses this email address."]}


def test_revoke_outside_a_request_still_names_the_admin(agent, other, staff):
    services.agent_grant(actor=staff, agent=agent, email=other.email)
    assert services.agent_revoke(actor=staff, agent=agent, user=other) is True
    assert AuditLog.objects.filter(action="agent.revoke", target_id=agent.id, admin=staff).count() == 1
    assert services.agent_revoke(actor=staff, agent=agent, user=other) is False
