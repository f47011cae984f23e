"""The exports list the sources an answer's text cites, as its chips do: not every passage retrieved."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant

pytestmark = pytest.mark.django_db


def test_exports_list_only_the_cited_sources(owner_client, owner, conversation):
    citations = {str(n): {"number": n, "title": f"Doc {n}", "url": f"/documents/{n}/"} for n in (1, 2, 3)}
    with tenant(owner.id):
        question = Message.objects.create(conversation=conversation, user=owner, role="user", content="Which?")
        Message.objects.create(conversation=conversation, user=owner, role="assistant", content="It is in [2], not `[3]`.",
                               metadata={"status": "complete", "reply_to": str(question.id), "citations": citations})
    data = json.loads(owner_client.get(reverse("chats:export_json", args=[conversation.id])).content)
    answer = [m for m in data["messages"] if m["role"] == "assistant"][0]
    assert [c["number"] for c in answer["citations"]] == [2]
    markdown = owner_client.get(reverse("chats:export_md", args=[conversation.id])).content.decode()
    assert "Doc 2" in markdown and "Doc 1" not in markdown and "Doc 3" not in markdown
