"""One rule says who may edit an agent (``agents.selectors.agent_can_edit``): the pages, the
selector behind them and the services agree, for a creator whose account was deleted too."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from accounts import services as account_services
from agents import selectors, services
from testutils import factories
from testutils.testing import make_user

pytestmark = pytest.mark.django_db


def test_creator_and_admins_may_edit_others_may_not(owner, other, staff):
    agent = factories.agent(owner)
    assert selectors.agent_can_edit(user=owner, agent=agent) and selectors.agent_can_edit(user=staff, agent=agent)
    assert not selectors.agent_can_edit(user=other, agent=agent)
    assert selectors.agent_get_editable(user=owner, slug=agent.slug) == agent
    with pytest.raises(Http404):
        selectors.agent_get_editable(user=other, slug=agent.slug)


def test_a_deleted_creator_may_no_longer_edit_anywhere():
    gone = make_user("gone-creator@example.com")
    agent = factories.agent(gone)
    account_services.user_soft_delete(user=gone)
    gone.refresh_from_db()
    assert not selectors.agent_can_edit(user=gone, agent=agent)
    with pytest.raises(Http404):
        selectors.agent_get_editable(user=gone, slug=agent.slug)
    with pytest.raises(PermissionDenied):
        services.agent_deactivate(user=gone, agent=agent)


def test_admin_only_pages_are_404_for_everyone_else(owner, owner_client, staff_client, client):
    agent = factories.agent(owner)
    assert staff_client.get(f"/agents/{agent.slug}/access/").status_code == 200
    assert owner_client.get(f"/agents/{agent.slug}/access/").status_code == 404  # the creator is no admin
    assert staff_client.get(reverse("accounts:invitations")).status_code == 200
    assert owner_client.get(reverse("accounts:invitations")).status_code == 404
    assert client.get(f"/agents/{agent.slug}/access/").status_code == 302  # signed out: sign in first
