"""The Usage page names a demo agent still as seeded in the reader's language (as the chat does),
and an agent its owner renamed as they wrote it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from core.tenancy import tenant
from metrics.models import UsageLog
from testutils import factories

pytestmark = pytest.mark.django_db


def _log(user, conversation):
    with tenant(user.id):
        UsageLog.objects.create(user=user, agent=conversation.agent, conversation=conversation, model="offline",
                                tokens_input=10, tokens_output=20, total_tokens=30, total_cost=Decimal("0"),
                                success=True, timestamp=dt.datetime.now(dt.timezone.utc))


def test_a_seeded_agent_is_named_in_the_readers_language(owner, owner_client, staff):
    seeded = factories.agent(staff, is_public=True, slug="general-assistant", name="General assistant")
    renamed = factories.agent(staff, is_public=True, slug="code-helper", name="Mi ayudante")
    for agent in (seeded, renamed):
        with tenant(owner.id):
            conversation = factories.conversation(owner, agent_=agent)
        _log(owner, conversation)
    owner_client.cookies["django_language"] = "es"
    page = owner_client.get(reverse("metrics:usage")).content.decode()
    assert "Asistente general" in page and "General assistant" not in page
    assert "Mi ayudante" in page
    owner_client.cookies["django_language"] = "en"
    assert "General assistant" in owner_client.get(reverse("metrics:usage")).content.decode()
