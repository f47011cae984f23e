"""Per-question model and temperature (issue 07 item 3): chosen in the composer within what the
agent allows, kept on the person's message, used by the turn (the OpenAI fake sees them), refused
with a clear message and nothing saved otherwise; the model's friendly name on the pages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chats import overrides, services
from chats.errors import ChatError
from chats.models import Conversation, Message
from core.tenancy import tenant
from metrics.models import UsageLog
from testutils import factories
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer

from .conftest import consume, events

pytestmark = pytest.mark.django_db


@pytest.fixture
def openai_server(settings):
    with FakeServer(FakeOpenAI, script=Script(reply="Override answer here.", input_tokens=9, output_tokens=3)) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        settings.ANTHROPIC_API_KEY = ""
        yield server


@pytest.fixture
def agent(owner, openai_server):
    return factories.agent(owner, model="gpt-4o-mini", config={"temperature": 0.7, "max_tokens": 500})


@pytest.fixture
def conversation(owner, agent):
    with tenant(owner.id):
        return factories.conversation(owner, agent_=agent)


def _post(client, conversation, json=True, **data):
    extra = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "Hello", **data}, **extra)


def _messages(owner):
    with tenant(owner.id):
        return list(Message.objects.order_by("timestamp"))


def _selected(html: str, name: str) -> str:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select named {name}"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select[1])
    return chosen[1] if chosen else ""


def _value(html: str, name: str) -> str:
    field = re.search(rf'<input type="number" name="{name}"[^>]*>', html)
    assert field, f"no number input named {name}"
    value = re.search(r'value="([^"]*)"', field[0])
    return value[1] if value else ""


def test_the_composer_offers_the_configured_models_and_the_agents_range(owner_client, conversation):
    html = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "Model and temperature" in html
    options = re.findall(r'<option value="([^"]+)"', re.search(r'<select name="model"[^>]*>(.*?)</select>', html, re.S)[1])
    # The agent's model first; the other configured ones (OpenAI's); no Anthropic model: not configured.
    assert options[0] == "gpt-4o-mini"
    assert {"gpt-4o", "gpt-4.1", "offline"} <= set(options)
    assert not any(o.startswith("claude") for o in options)
    assert "GPT-4o mini</option>" in html  # the friendly name, not the id, in the list
    assert _selected(html, "model") == "gpt-4o-mini"
    assert _value(html, "temperature") == "0.70"
    field = re.search(r'<input type="number" name="temperature"[^>]*>', html)[0]
    assert 'min="0"' in field and 'max="2"' in field and 'step="0.05"' in field
    assert "For this agent the temperature goes from 0 to 2." in html


def test_the_override_is_kept_on_the_question_and_used_by_the_turn(owner_client, owner, conversation, openai_server):
    response = _post(owner_client, conversation, model="gpt-4o", temperature="0.25")
    assert response.status_code == 200
    question = _messages(owner)[-1]
    assert (question.metadata["model"], question.metadata["temperature"]) == ("gpt-4o", 0.25)
    parsed = events(consume(owner_client.get(response.json()["stream_url"])))
    assert parsed[-1][0] == "done" and parsed[-1][1]["status"] == "complete"
    sent = openai_server.requests[-1]["json"]
    assert sent["model"] == "gpt-4o" and sent["temperature"] == pytest.approx(0.25)
    answer = _messages(owner)[-1]
    assert answer.role == "assistant" and answer.metadata["model"] == "gpt-4o"
    with tenant(owner.id):
        assert UsageLog.objects.get().model == "gpt-4o"
    # The answer says which model wrote it, by its friendly name, as does the header now.
    assert "GPT-4o · " in parsed[-1][1]["item"]
    html = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert re.search(r'class="muted">Agent: <a [^>]+>[^<]+</a> · GPT-4o</p>', html)
    # The composer starts from the conversation's last choice.
    assert _selected(html, "model") == "gpt-4o" and _value(html, "temperature") == "0.25"


def test_without_an_override_the_agents_own_settings_answer(owner_client, owner, conversation, openai_server):
    response = _post(owner_client, conversation)
    consume(owner_client.get(response.json()["stream_url"]))
    assert "model" not in _messages(owner)[0].metadata
    sent = openai_server.requests[-1]["json"]
    assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == pytest.approx(0.7)


def test_regenerate_answers_with_the_questions_override(owner_client, owner, conversation, openai_server):
    consume(owner_client.get(_post(owner_client, conversation, model="gpt-4.1", temperature="1.5").json()["stream_url"]))
    data = owner_client.post(reverse("chats:regenerate", args=[conversation.id]), HTTP_ACCEPT="application/json").json()
    consume(owner_client.get(data["stream_url"]))
    assert [r["json"]["model"] for r in openai_server.requests if r["path"].endswith("/chat/completions")] == ["gpt-4.1", "gpt-4.1"]
    assert openai_server.requests[-1]["json"]["temperature"] == pytest.approx(1.5)


@pytest.mark.parametrize("temperature", ["2.5", "-0.1", "abc", "NaN", "Infinity", "0.333"])
def test_a_temperature_outside_the_range_is_refused_and_nothing_saved(owner_client, owner, conversation, temperature):
    response = _post(owner_client, conversation, model="gpt-4o", temperature=temperature)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and any(
        text in errors[0]
        for text in ("For this agent the temperature goes from 0 to 2.", "The temperature is a number, such as 0.7.",
                     "Give the temperature with at most two decimals.")
    )
    assert _messages(owner) == []


def test_the_agents_narrower_range_is_enforced_and_shown(owner_client, owner, agent, conversation):
    agent.config = {**agent.config, "temperature_range": [0.2, 0.8]}
    agent.save(update_fields=["config"])
    response = _post(owner_client, conversation, json=False, temperature="0.9")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert" id="composer-errors"><p>For this agent the temperature goes from 0.2 to 0.8.</p>' in html
    assert "<details class=\"menu composer-options\" open>" in html  # the refused field is in view
    assert _value(html, "temperature") == "0.9"  # what was typed stays, to be corrected
    assert "Hello</textarea>" in html
    assert _messages(owner) == []
    assert _post(owner_client, conversation, temperature="0.8").status_code == 200


def test_a_model_the_agent_does_not_allow_is_refused(owner_client, owner, agent, conversation):
    agent.config = {**agent.config, "allowed_models": ["gpt-4o"]}
    agent.save(update_fields=["config"])
    html = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    options = re.findall(r'<option value="([^"]+)"', re.search(r'<select name="model"[^>]*>(.*?)</select>', html, re.S)[1])
    assert options == ["gpt-4o-mini", "gpt-4o"]
    for model in ("gpt-4.1", "claude-haiku-4-5", "no-such-model"):
        response = _post(owner_client, conversation, model=model)
        assert response.status_code == 400
        assert response.json()["errors"] == ["This agent cannot answer with that model. Choose one of the listed models."]
    assert _messages(owner) == []
    assert _post(owner_client, conversation, model="gpt-4o").status_code == 200


def test_an_agent_with_only_its_own_model_shows_no_model_choice(owner_client, agent, conversation):
    agent.config = {**agent.config, "allowed_models": [], "temperature_range": [0.7, 0.7]}
    agent.save(update_fields=["config"])
    html = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert 'name="model"' not in html and 'name="temperature"' not in html
    assert "Model and temperature" not in html


def test_a_new_conversation_takes_the_override_or_is_not_created(owner_client, owner, agent, openai_server):
    url = reverse("chats:new", args=[agent.slug])
    page = owner_client.get(url).content.decode()
    assert _selected(page, "model") == "gpt-4o-mini" and _value(page, "temperature") == "0.70"
    refused = owner_client.post(url, {"content": "Hi", "model": "gpt-4o", "temperature": "3"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 400 and refused.json()["errors"] == ["For this agent the temperature goes from 0 to 2."]
    with tenant(owner.id):
        assert not Conversation.objects.exists()
    html = owner_client.post(url, {"content": "Hi", "model": "gpt-4o", "temperature": "3"}).content.decode()
    assert "For this agent the temperature goes from 0 to 2." in html
    response = owner_client.post(url, {"content": "Hi", "model": "gpt-4o", "temperature": "0.4"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    question = _messages(owner)[0]
    assert (question.metadata["model"], question.metadata["temperature"]) == ("gpt-4o", 0.4)


def test_the_service_refuses_for_every_caller(owner, agent, conversation):
    with pytest.raises(ChatError) as refused:
        services.message_post(user=owner, conversation=conversation, content="Hi", override={"model": "gpt-4o", "temperature": 9})
    assert refused.value.message == "For this agent the temperature goes from 0 to 2."
    with pytest.raises(ChatError):
        services.conversation_start(user=owner, agent=agent, content="Hi", override={"model": "claude-sonnet-4-5"})
    assert _messages(owner) == []


def test_a_choice_the_agent_no_longer_allows_falls_back_to_the_agents_setting(owner, agent, conversation):
    question = services.message_post(user=owner, conversation=conversation, content="Hi", override={"model": "gpt-4.1", "temperature": 1.9})
    assert overrides.turn_settings(agent, question) == overrides.TurnSettings("gpt-4.1", 1.9)
    agent.config = {**agent.config, "allowed_models": ["gpt-4o"], "temperature_range": [0, 1]}
    agent.save(update_fields=["config"])
    assert overrides.turn_settings(agent, question) == overrides.TurnSettings("gpt-4o-mini", 0.7)
    assert overrides.composer_initial(agent, [question])["model"] == "gpt-4o-mini"


@pytest.mark.parametrize("config,expected", [
    ({"temperature_range": [0.5, 3]}, ("0.5", "2")),
    ({"temperature_range": [-1, 1]}, ("0", "1")),
    ({"temperature_range": [1.5, 0.5]}, ("0", "2")),  # not a range: the registry's limits
    ({"temperature_range": ["x", None]}, ("0", "2")),
    ({"temperature_range": "0-1"}, ("0", "2")),
    ({}, ("0", "2")),
])
def test_the_temperature_range_stays_within_the_registrys_limits(owner, config, expected):
    agent = factories.agent(owner, config=config)
    assert tuple(format(v.normalize(), "f") for v in overrides.temperature_range(agent)) == expected


def test_an_outsider_cannot_post_an_override_to_someone_elses_conversation(other_client, owner, conversation):
    response = _post(other_client, conversation, model="gpt-4o", temperature="0.3")
    assert response.status_code == 404
    assert _messages(owner) == []


def test_friendly_model_names_on_the_pages(owner_client, owner, agent, conversation, other):
    detail = owner_client.get(reverse("agents:detail", args=[agent.slug])).content.decode()
    assert "GPT-4o mini" in detail and ">gpt-4o-mini<" not in detail
    catalog = owner_client.get(reverse("agents:catalog")).content.decode()
    assert "GPT-4o mini" in catalog
    chat = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "· GPT-4o mini</p>" in chat and "· gpt-4o-mini</p>" not in chat
    transcript = owner_client.get(reverse("chats:export_md", args=[conversation.id])).content.decode()
    assert "(GPT-4o mini)" in transcript
    exported = owner_client.get(reverse("chats:export_json", args=[conversation.id])).json()
    assert (exported["model"], exported["model_name"]) == ("gpt-4o-mini", "GPT-4o mini")


def test_the_offline_models_name_is_translated(owner_client, owner):
    agent = factories.agent(owner, model="offline")
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
    owner_client.cookies["django_language"] = "es"
    html = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert "· Modelo sin conexión (integrado)</p>" in html


def test_without_javascript_the_composer_posts_the_override_too(owner_client, owner, conversation):
    response = _post(owner_client, conversation, json=False, model="gpt-4.1", temperature="1.25")
    assert response.status_code == 302 and response["Location"] == reverse("chats:detail", args=[conversation.id])
    question = _messages(owner)[0]
    assert (question.metadata["model"], question.metadata["temperature"]) == ("gpt-4.1", 1.25)
    html = owner_client.get(response["Location"]).content.decode()
    assert _selected(html, "model") == "gpt-4.1" and _value(html, "temperature") == "1.25"
