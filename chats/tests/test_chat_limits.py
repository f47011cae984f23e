"""Monthly limits: the turn after the limit is refused before any provider call."""

import pytest
from django.core import mail
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant
from metrics.models import MonthlyUsage, UsageAlert
from testutils import factories
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer

from .conftest import consume, events

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_limits(settings):
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 2, "tokens": 1_000_000}}


def test_the_turn_after_the_limit_is_refused_before_calling_the_model(owner_client, owner, settings, tight_limits, django_capture_on_commit_callbacks):
    with FakeServer(FakeOpenAI, script=Script(reply="An answer.")) as server:
        settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = f"{server.url}/v1", "sk-test"
        agent = factories.agent(owner, model="gpt-4o-mini")
        with tenant(owner.id):
            conversation = factories.conversation(owner, agent_=agent)
        url = reverse("chats:message_create", args=[conversation.id])
        pending = []
        for text in ("one", "two", "three"):
            response = owner_client.post(url, {"content": text}, HTTP_ACCEPT="application/json")
            if response.status_code == 200:
                pending.append(response.json())
                with django_capture_on_commit_callbacks(execute=True):
                    consume(owner_client.get(response.json()["stream_url"]))
            else:
                refused = response
        calls = len([r for r in server.requests if r["path"].endswith("/chat/completions")])
    assert calls == 2  # the third turn never reached the model
    assert refused.status_code == 400
    assert "limit" in " ".join(refused.json()["errors"]).lower() or "used all" in " ".join(refused.json()["errors"])
    with tenant(owner.id):
        assert not Message.objects.filter(content="three").exists()
        month = MonthlyUsage.objects.get(user=owner)
        assert month.total_messages == 2 and month.exceeded_limit
        # 80, 90 and 100 % of the messages: one alert each, one email each.
        assert sorted(UsageAlert.objects.filter(type="MESSAGES").values_list("threshold", flat=True)) == [80, 90, 100]
    assert len([m for m in mail.outbox if owner.email in m.to]) == 3


def test_a_stream_opened_after_the_limit_is_refused_too(owner_client, owner, conversation, settings):
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "hi"}, HTTP_ACCEPT="application/json").json()
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 0, "tokens": 0}}
    parsed = events(consume(owner_client.get(data["stream_url"])))
    assert parsed[-1][0] == "failed" and parsed[-1][1]["error"]
    with tenant(owner.id):
        assert not Message.objects.filter(role="assistant").exists()
