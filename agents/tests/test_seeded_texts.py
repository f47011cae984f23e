"""The seeded demo agents and the word-like model labels are shown in the reader's language (the
stored rows stay in English); an edited seeded agent shows its edited text. The catalog search
ignores accents."""

from __future__ import annotations

import pytest
from django.apps import apps

from agents.models import Agent
from testutils import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_provider_keys(settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""


def _in_spanish(client):
    assert client.post("/account/language/", {"language": "es", "next": "/"}).status_code == 302
    return client


def test_the_catalog_and_the_agent_page_in_spanish_show_the_spanish_texts(staff, owner_client):
    apps.get_app_config("agents").seed_demo()
    html = _in_spanish(owner_client).get("/agents/").content.decode()
    for name in ("Asistente general", "Ayudante de código", "Mentor de escritura", "Mentor de finanzas", "Compañero de salud"):
        assert name in html
    assert "General assistant" not in html and "Code helper" not in html
    assert "Escribe, revisa, explica y depura código" in html
    page = owner_client.get("/agents/general-assistant/").content.decode()
    assert "<h1>Asistente general</h1>" in page
    assert "Preguntas del día a día, planes, resúmenes y borradores" in page
    assert "Modelo sin conexión (integrado)" in page
    assert Agent.objects.get(slug="general-assistant").name == "General assistant"  # stored as seeded


def test_in_english_the_seeded_texts_are_the_stored_ones(staff, owner_client):
    apps.get_app_config("agents").seed_demo()
    page = owner_client.get("/agents/general-assistant/").content.decode()
    assert "<h1>General assistant</h1>" in page and "Offline model (built in)" in page


def test_an_edited_seeded_agent_shows_its_edited_name_in_every_language(staff, owner_client):
    apps.get_app_config("agents").seed_demo()
    Agent.objects.filter(slug="code-helper").update(name="Mi programador", description="Solo Python, por favor.")
    html = _in_spanish(owner_client).get("/agents/").content.decode()
    assert "Mi programador" in html and "Solo Python, por favor." in html
    assert "Ayudante de código" not in html
    assert "Asistente general" in html  # the others are still as seeded


def test_a_users_agent_named_like_a_seeded_one_is_shown_as_written(owner, owner_client):
    factories.agent(owner, name="General assistant", is_public=False)
    html = _in_spanish(owner_client).get("/agents/").content.decode()
    assert "General assistant" in html and "Asistente general" not in html


def test_the_catalog_search_ignores_accents(staff, owner_client):
    factories.agent(staff, is_public=True, name="Revisor de código", description="Lee tu código.")
    factories.agent(staff, is_public=True, name="Cafe planner", description="Finds a café near you.")
    factories.agent(staff, is_public=True, name="Gardener", description="Plants and soil.")
    for query, expected in [("codigo", {"Revisor de código"}), ("CÓDIGO", {"Revisor de código"}),
                            ("café", {"Cafe planner"}), ("cafe", {"Cafe planner"}), ("jardín", set())]:
        response = owner_client.get("/agents/", {"q": query})
        assert {card.agent.name for card in response.context["cards"]} == expected, query


def test_a_spanish_reader_finds_a_demo_agent_by_its_spanish_name_unless_it_was_renamed(staff, owner_client):
    apps.get_app_config("agents").seed_demo()
    _in_spanish(owner_client)

    def found(query):
        return {card.agent.slug for card in owner_client.get("/agents/", {"q": query}).context["cards"]}

    assert found("asistente") == {"general-assistant"}
    assert found("companero de salud") == {"health-companion"}
    assert found("assistant") == {"general-assistant"}  # the stored words still count
    Agent.objects.filter(slug="general-assistant").update(name="Mi ayuda")
    assert found("asistente") == set()


def test_the_new_conversation_page_in_spanish_names_the_demo_agent_in_spanish(staff, owner_client):
    apps.get_app_config("agents").seed_demo()
    page = _in_spanish(owner_client).get("/chat/new/code-helper/").content.decode()
    assert "Ayudante de código" in page and "Code helper" not in page
    assert "Escribe, revisa, explica y depura código" in page
