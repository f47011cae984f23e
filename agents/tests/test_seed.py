"""The demo agents: five, public, owned by the staff user, refreshed (never duplicated) on every run."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from agents import registry
from agents.demo_agents import DEMO_AGENTS
from agents.models import Agent

pytestmark = pytest.mark.django_db

SLUGS = {"general-assistant", "code-helper", "writing-coach", "finance-coach", "health-companion"}


@pytest.fixture(autouse=True)
def _no_provider_keys(settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""


def _seed() -> None:
    apps.get_app_config("agents").seed_demo()


def test_seed_creates_the_five_demo_agents_once(staff):
    _seed()
    agents = {a.slug: a for a in Agent.objects.all()}
    assert set(agents) == SLUGS
    expected_categories = {
        "general-assistant": "GENERAL", "code-helper": "CODE", "writing-coach": "WRITING",
        "finance-coach": "FINANCE", "health-companion": "HEALTH",
    }
    for slug, agent in agents.items():
        assert agent.category == expected_categories[slug]
        assert agent.is_public and agent.is_active
        assert agent.created_by == staff
        assert agent.model == "offline"
        assert 0 <= agent.config["temperature"] <= 2
        assert 1 <= agent.config["max_tokens"] <= registry.get_model("offline").max_output_tokens
        assert agent.system_prompt.count("\n\n") >= 3, "several paragraphs"
        assert agent.description

    assert "not a licensed financial adviser" in agents["finance-coach"].system_prompt
    assert "not a doctor" in agents["health-companion"].system_prompt
    assert "emergency" in agents["health-companion"].system_prompt

    # Again, after someone edited a prompt: still five, and the prompt is the written one again.
    Agent.objects.filter(slug="code-helper").update(system_prompt="stale", is_public=False)
    _seed()
    assert Agent.objects.count() == 5
    code_helper = Agent.objects.get(slug="code-helper")
    expected = next(spec for spec in DEMO_AGENTS if spec.slug == "code-helper")
    assert code_helper.system_prompt == expected.system_prompt
    assert code_helper.is_public


def test_seed_prefers_a_better_available_model(staff, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    _seed()
    assert set(Agent.objects.values_list("model", flat=True)) == {"claude-sonnet-4-5"}
    code_helper = Agent.objects.get(slug="code-helper")
    assert code_helper.config["max_tokens"] == next(s.max_tokens for s in DEMO_AGENTS if s.slug == "code-helper")


def test_seed_without_the_staff_user_does_nothing(db):
    _seed()
    assert not Agent.objects.exists()


def test_the_seed_command_creates_the_staff_user_and_the_agents(db):
    call_command("seed_demo", password="demo-pass-for-tests", stdout=io.StringIO())
    assert set(Agent.objects.values_list("slug", flat=True)) == SLUGS
    assert set(Agent.objects.values_list("created_by__email", flat=True)) == {"staff@example.com"}
    call_command("seed_demo", password="demo-pass-for-tests", stdout=io.StringIO())
    assert Agent.objects.count() == 5


def test_the_demo_agents_show_in_everyones_catalog(staff, owner_client):
    _seed()
    response = owner_client.get("/agents/")
    assert {card.agent.slug for card in response.context["cards"]} == SLUGS
    assert "General assistant" in response.content.decode()
