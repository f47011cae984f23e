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
from testutils.testing import client_for

pytestmark = pytest.mark.django_db


def _log(user, conversation):
    with tenant(user.id):
        UsageLog.objects.create(user=user, agent=conversation.agent, conversation=conversation, model="offline",
                                tokens_input=10, tokens_output=20, total_tokens=30, total_cost=Decimal("0"),
                                success=True, timestamp=dt.datetime.now(dt.timezone.utc))


def test_a_seeded_agent_is_named_in_the_readers_language(owner, staff):
    seeded = factories.agent(staff, is_public=True, slug="general-assistant", name="General assistant")
    renamed = factories.agent(staff, is_public=True, slug="code-helper", name="Mi ayudante")
    for agent in (seeded, renamed):
        with tenant(owner.id):
            conversation = factories.conversation(owner, agent_=agent)
        _log(owner, conversation)
    pages = {}
    for language in ("es", "en"):
        client = client_for(owner)
        client.cookies["django_language"] = language
        response = client.get(reverse("metrics:usage"))
        assert response.status_code == 200
        pages[language] = response.content.decode()
    assert "Asistente general" in pages["es"] and "General assistant" not in pages["es"]
    assert "Mi ayudante" in pages["es"]
    assert "General assistant" in pages["en"]
