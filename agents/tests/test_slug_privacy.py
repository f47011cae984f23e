"""A private agent's slug does not reveal that the agent exists (slugs are unique across all agents,
as the ERD says): someone who cannot see it gets no hint and a working agent of their own."""

from __future__ import annotations

import re

import pytest

from agents.models import Agent
from testutils import factories

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Tax helper",
    "description": "",
    "category": "GENERAL",
    "model": "offline",
    "system_prompt": "",
    "temperature": "0.70",
    "max_tokens": "500",
}


@pytest.fixture(autouse=True)
def _no_provider_keys(settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""


def test_a_private_agents_slug_gives_no_hint_and_the_newcomer_gets_a_working_agent(owner, other_client, other):
    hidden = factories.agent(owner, name="Owner's taxes")
    Agent.objects.filter(pk=hidden.pk).update(slug="my-taxes")

    response = other_client.post("/agents/new/", {**FORM, "slug": "my-taxes"})

    assert response.status_code == 302  # no form error ("another agent already uses this slug")
    mine = Agent.objects.get(created_by=other)
    assert re.fullmatch(r"my-taxes-[a-z2-9]{6}", mine.slug)
    assert response["Location"] == f"/agents/{mine.slug}/"
    page = other_client.get(response["Location"], follow=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tax helper" in html and "Owner&#x27;s taxes" not in html and "already" not in html
    assert other_client.get(f"/chat/new/{mine.slug}/").status_code == 200  # it works: a chat opens
    assert other_client.get("/agents/my-taxes/").status_code == 404
    assert Agent.objects.get(pk=hidden.pk).slug == "my-taxes"


def test_renaming_to_a_private_agents_slug_gives_no_hint_either(owner, other_client, other):
    factories.agent(owner, name="Hidden")
    hidden_slug = Agent.objects.get(created_by=owner).slug
    mine = factories.agent(other, name="Mine")
    response = other_client.post(f"/agents/{mine.slug}/edit/", {**FORM, "name": "Mine", "slug": hidden_slug})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.slug.startswith(f"{hidden_slug}-") and mine.slug != hidden_slug


def test_a_slug_the_person_can_see_is_still_a_field_error(owner, other_client):
    public = factories.agent(owner, name="Public one", is_public=True)
    response = other_client.post("/agents/new/", {**FORM, "slug": public.slug})
    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == ["Another agent already uses this slug."]
