"""Creating, editing, deactivating and activating agents, through the pages and the services."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditLog
from agents import services
from agents.forms import AgentForm
from agents.models import Agent, Category
from testutils import factories

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Travel planner",
    "slug": "",
    "description": "Plans trips.",
    "category": "GENERAL",
    "model": "offline",
    "system_prompt": "You plan trips.\n\nBe concise.",
    "temperature": "0.30",
    "max_tokens": "900",
}


@pytest.fixture(autouse=True)
def _no_provider_keys(settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""


def _create(user, **overrides):
    data = {**VALID, **overrides, "slug": overrides.get("slug") or None}
    return services.agent_create(user=user, **data)


def test_create_page_lists_models_with_unavailable_ones_disabled(owner_client):
    page = owner_client.get("/agents/new/")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<option value="offline"(?![^>]*disabled)[^>]*>Offline model \(built in\)</option>', html)
    assert re.search(r'<option value="gpt-4o"[^>]*disabled[^>]*>GPT-4o \(unavailable\)</option>', html)
    assert 'name="csrfmiddlewaretoken"' in html
    for label in ("Name", "Slug", "Description", "Category", "Model", "System prompt", "Temperature", "Max tokens per answer"):
        assert f">{label}:</label>" in html


def test_create_an_agent(owner, owner_client):
    response = owner_client.post("/agents/new/", {**VALID, "slug": "trip-planner"})
    assert response.status_code == 302
    agent = Agent.objects.get()
    assert response["Location"] == f"/agents/{agent.slug}/"
    assert agent.slug == "trip-planner"
    assert agent.name == "Travel planner"
    assert agent.created_by == owner
    assert agent.config == {"temperature": 0.3, "max_tokens": 900}
    assert (agent.temperature, agent.max_tokens) == (0.3, 900)
    assert agent.system_prompt == "You plan trips.\n\nBe concise."
    assert (agent.category, agent.model, agent.is_public, agent.is_active) == ("GENERAL", "offline", False, True)


def test_slug_is_built_from_the_name_with_a_suffix_on_conflict(owner, owner_client, other):
    assert owner_client.post("/agents/new/", VALID).status_code == 302
    assert owner_client.post("/agents/new/", VALID).status_code == 302
    assert _create(owner).slug == "travel-planner-3"
    assert sorted(Agent.objects.values_list("slug", flat=True)) == ["travel-planner", "travel-planner-2", "travel-planner-3"]
    # Someone who cannot see those three gets a random suffix, not a count of hidden agents.
    assert re.fullmatch(r"travel-planner-[a-z2-9]{6}", _create(other).slug)
    assert _create(owner, name="Café & Crème!").slug == "cafe-creme"
    assert _create(owner, name="日本語").slug == "agent"
    assert _create(owner, name="New").slug == "new-2"  # "new" is the create page's address


BAD_INPUTS = [
    ("name", "", "Give the agent a name."),
    ("name", "   ", "Give the agent a name."),
    ("slug", "Bad Slug!", "Use lowercase letters, digits and single hyphens"),
    ("slug", "UPPER", "Use lowercase letters, digits and single hyphens"),
    ("slug", "under_score", "Use lowercase letters, digits and single hyphens"),
    ("slug", "-edge-", "Use lowercase letters, digits and single hyphens"),
    ("slug", "new", "This slug is reserved"),
    ("temperature", "5", "The temperature goes from 0 to 2."),
    ("temperature", "-0.1", "The temperature goes from 0 to 2."),
    ("temperature", "warm", "Enter a number."),
    ("max_tokens", "0", "An answer needs at least 1 token."),
    ("max_tokens", "2049", "Offline model (built in) answers with at most 2048 tokens."),
    ("model", "gpt-4o", "This model is not available: its provider is not configured."),
    ("model", "no-such-model", "Choose one of the listed models."),
    ("model", "", "Choose a model."),
    ("category", "ASTROLOGY", "Choose one of the listed categories."),
    ("system_prompt", "x" * 20_001, "Ensure this value has at most 20000 characters"),
    ("description", "d" * 501, "Ensure this value has at most 500 characters"),
]


@pytest.mark.parametrize("field,value,message", BAD_INPUTS)
def test_bad_input_is_refused_and_writes_nothing(owner_client, field, value, message):
    response = owner_client.post("/agents/new/", {**VALID, field: value})
    assert response.status_code == 400
    html = response.content.decode()
    assert "errorlist" in html
    assert message.replace("'", "&#x27;") in html
    assert not Agent.objects.exists()


def test_duplicate_slug_is_a_field_error(owner, owner_client):
    _create(owner, slug="taken")
    response = owner_client.post("/agents/new/", {**VALID, "slug": "taken"})
    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == ["Another agent already uses this slug."]
    assert Agent.objects.count() == 1


def test_duplicate_slug_in_a_race_gives_the_same_error_not_a_500(owner, owner_client, monkeypatch):
    """Another request takes the slug after the checks ran: the unique index refuses it, same error."""
    _create(owner, slug="taken")
    monkeypatch.setattr(AgentForm, "clean_slug", lambda self: self.cleaned_data["slug"])
    real_check = services._slug_is_taken
    checks = []

    def first_check_misses(slug, *, exclude_pk, visible_to=None):
        checks.append(slug)
        # Both checks before the insert (visible to the person, then any agent) miss.
        return False if len(checks) <= 2 else real_check(slug, exclude_pk=exclude_pk, visible_to=visible_to)

    monkeypatch.setattr(services, "_slug_is_taken", first_check_misses)
    response = owner_client.post("/agents/new/", {**VALID, "slug": "taken"})
    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == ["Another agent already uses this slug."]
    assert checks == ["taken", "taken", "taken"]  # the third ran after the database refused the insert
    assert Agent.objects.count() == 1


def test_services_refuse_bad_settings_too(owner):
    with pytest.raises(ValidationError) as caught:
        _create(owner, model="gpt-4o", temperature=5, max_tokens=0, category="NOPE", name="")
    assert set(caught.value.message_dict) == {"model", "temperature", "max_tokens", "category", "name"}
    with pytest.raises(ValidationError) as caught:
        _create(owner, slug="Not OK")
    assert "slug" in caught.value.message_dict
    _create(owner, slug="taken")
    with pytest.raises(ValidationError) as caught:
        _create(owner, slug="taken")
    assert caught.value.message_dict == {"slug": ["Another agent already uses this slug."]}
    assert Agent.objects.count() == 1


def test_an_available_openai_model_is_accepted_once_configured(owner_client, settings):
    settings.OPENAI_API_KEY = "sk-test"
    response = owner_client.post("/agents/new/", {**VALID, "model": "gpt-4o", "max_tokens": "16000"})
    assert response.status_code == 302
    assert Agent.objects.get().model == "gpt-4o"


def test_edit_my_agent(owner, owner_client):
    agent = _create(owner, slug="mine")
    page = owner_client.get(f"/agents/{agent.slug}/edit/")
    assert page.status_code == 200
    assert 'value="mine"' in page.content.decode()

    response = owner_client.post(
        f"/agents/{agent.slug}/edit/",
        {**VALID, "name": "Renamed", "slug": "", "category": "CODE", "temperature": "1.25", "max_tokens": "2048"},
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.name, agent.slug, agent.category) == ("Renamed", "mine", Category.CODE)  # empty slug keeps it
    assert agent.config == {"temperature": 1.25, "max_tokens": 2048}


def test_edit_can_change_the_slug_but_not_to_a_taken_one(owner, owner_client):
    agent = _create(owner, slug="first")
    _create(owner, slug="second")
    refused = owner_client.post(f"/agents/{agent.slug}/edit/", {**VALID, "slug": "second", "name": "Changed"})
    assert refused.status_code == 400
    assert "Another agent already uses this slug." in refused.content.decode()
    agent.refresh_from_db()
    assert (agent.slug, agent.name) == ("first", "Travel planner")

    assert owner_client.post(f"/agents/{agent.slug}/edit/", {**VALID, "slug": "first"}).status_code == 302
    assert owner_client.post(f"/agents/{agent.slug}/edit/", {**VALID, "slug": "renamed"}).status_code == 302
    agent.refresh_from_db()
    assert agent.slug == "renamed"


def test_bad_edit_changes_nothing(owner, owner_client):
    agent = _create(owner, slug="keep")
    response = owner_client.post(f"/agents/{agent.slug}/edit/", {**VALID, "name": "Other", "temperature": "5"})
    assert response.status_code == 400
    agent.refresh_from_db()
    assert (agent.name, agent.config["temperature"]) == ("Travel planner", 0.3)


def test_editing_or_deactivating_someone_elses_agent_is_404(owner, other_client, other):
    agent = factories.agent(owner, is_public=True)
    assert other_client.get(f"/agents/{agent.slug}/edit/").status_code == 404
    assert other_client.post(f"/agents/{agent.slug}/edit/", {**VALID, "name": "Hijacked"}).status_code == 404
    assert other_client.post(f"/agents/{agent.slug}/deactivate/").status_code == 404
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    assert other_client.post(f"/agents/{agent.slug}/activate/").status_code == 404
    agent.refresh_from_db()
    assert agent.name != "Hijacked" and not agent.is_active
    with pytest.raises(PermissionDenied):
        services.agent_activate(user=other, agent=agent)
    with pytest.raises(PermissionDenied):
        services.agent_update(user=other, agent=agent, **{**VALID, "slug": None})


def test_admins_may_edit_any_agent(owner, staff_client):
    agent = factories.agent(owner)
    assert staff_client.get(f"/agents/{agent.slug}/edit/").status_code == 200
    assert staff_client.post(f"/agents/{agent.slug}/edit/", {**VALID, "name": "Tidied"}).status_code == 302
    agent.refresh_from_db()
    assert agent.name == "Tidied" and agent.created_by == owner


def test_deactivate_and_activate(owner, owner_client):
    agent = _create(owner)
    assert owner_client.get(f"/agents/{agent.slug}/deactivate/").status_code == 405
    response = owner_client.post(f"/agents/{agent.slug}/deactivate/")
    assert response.status_code == 302 and response["Location"] == f"/agents/{agent.slug}/"
    agent.refresh_from_db()
    assert not agent.is_active
    assert AuditLog.objects.filter(action="agent.deactivate", target_id=agent.id, admin=owner).exists()

    assert owner_client.post(f"/agents/{agent.slug}/activate/").status_code == 302
    agent.refresh_from_db()
    assert agent.is_active
    assert AuditLog.objects.filter(action="agent.activate", target_id=agent.id, admin=owner).exists()


def test_creating_needs_login(client):
    response = client.post("/agents/new/", VALID)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Agent.objects.exists()
