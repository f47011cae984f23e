"""The catalog and agent pages: who sees what, filters, search, pagination, query counts, escaping."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from agents import selectors, services
from agents.models import Agent, Category
from testutils import factories
from testutils.testing import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_provider_keys(settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""


def _slugs(response) -> set[str]:
    return {card.agent.slug for card in response.context["cards"]}


def test_catalog_shows_public_granted_and_own_agents_only(owner, other, staff, owner_client):
    public = factories.agent(other, is_public=True, name="Public helper")
    mine = factories.agent(owner, name="My helper")
    granted = factories.agent(other, name="Granted helper")
    services.agent_grant(actor=staff, agent=granted, email=owner.email)
    hidden = factories.agent(other, name="Secret helper")
    inactive_public = factories.agent(other, is_public=True, is_active=False, name="Retired helper")

    response = owner_client.get("/agents/")

    assert response.status_code == 200
    assert _slugs(response) == {public.slug, mine.slug, granted.slug}
    html = response.content.decode()
    assert "Secret helper" not in html and "Retired helper" not in html
    assert hidden.slug not in html and inactive_public.slug not in html
    # Public agents first, and each card says how the viewer reaches it.
    cards = response.context["cards"]
    assert cards[0].agent == public
    by_slug = {card.agent.slug: card for card in cards}
    assert by_slug[mine.slug].mine and not by_slug[mine.slug].shared
    assert by_slug[granted.slug].shared and not by_slug[granted.slug].mine
    assert not by_slug[public.slug].shared and not by_slug[public.slug].mine
    for badge in ("Yours", "Public", "Shared with you", "Create agent"):
        assert badge in html


def test_catalog_needs_login(client):
    response = client.get("/agents/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_private_agent_is_404_until_granted_and_again_after_revoke(owner, other, staff, other_client):
    agent = factories.agent(owner, name="Private one")
    url = f"/agents/{agent.slug}/"
    assert other_client.get(url).status_code == 404

    services.agent_grant(actor=staff, agent=agent, email=other.email)
    page = other_client.get(url)
    assert page.status_code == 200
    assert "Private one" in page.content.decode()
    assert agent.slug in _slugs(other_client.get("/agents/"))

    services.agent_revoke(actor=staff, agent=agent, user=other)
    assert other_client.get(url).status_code == 404
    assert agent.slug not in _slugs(other_client.get("/agents/"))


def test_unknown_slug_is_404(owner_client):
    assert owner_client.get("/agents/no-such-agent/").status_code == 404


def test_deactivated_agents_leave_the_catalog(owner, other, owner_client, other_client):
    agent = factories.agent(owner, is_public=True, name="Soon gone")
    assert agent.slug in _slugs(other_client.get("/agents/"))

    services.agent_deactivate(user=owner, agent=agent)

    assert agent.slug not in _slugs(other_client.get("/agents/"))
    assert other_client.get(f"/agents/{agent.slug}/").status_code == 404
    with pytest.raises(Http404):
        selectors.agent_get_usable(user=owner, slug=agent.slug)
    # Its creator no longer finds it in the grid, but in the list of their deactivated agents.
    mine = owner_client.get("/agents/")
    assert agent.slug not in _slugs(mine)
    assert list(mine.context["deactivated"]) == [agent]
    detail = owner_client.get(f"/agents/{agent.slug}/")
    assert detail.status_code == 200
    assert "This agent is deactivated" in detail.content.decode()
    assert f"/agents/{agent.slug}/activate/" in detail.content.decode()


def test_category_filter(owner, owner_client):
    code = factories.agent(owner, category=Category.CODE)
    writing = factories.agent(owner, category=Category.WRITING)

    response = owner_client.get("/agents/?category=CODE")

    assert _slugs(response) == {code.slug}
    assert 'aria-current="page">Code<' in response.content.decode()
    assert _slugs(owner_client.get("/agents/?category=WRITING")) == {writing.slug}
    assert _slugs(owner_client.get("/agents/")) == {code.slug, writing.slug}


def test_unknown_category_is_ignored_with_a_message(owner, owner_client):
    agent = factories.agent(owner)
    response = owner_client.get("/agents/?category=<b>NOPE</b>")
    assert response.status_code == 200
    assert _slugs(response) == {agent.slug}
    assert "There is no such category; showing every category." in messages_of(response)
    assert "<b>NOPE</b>" not in response.content.decode()


def test_search_over_name_and_description_ignores_case(owner, owner_client):
    by_name = factories.agent(owner, name="Travel Planner")
    by_description = factories.agent(owner, name="Helper", description="Plans TRAVEL itineraries")
    factories.agent(owner, name="Cook", description="Recipes")

    response = owner_client.get("/agents/?q=travel")

    assert _slugs(response) == {by_name.slug, by_description.slug}
    assert 'value="travel"' in response.content.decode()
    combined = owner_client.get("/agents/?q=travel&category=CODE")
    assert _slugs(combined) == set()
    assert "No agents match" in combined.content.decode()


def test_empty_catalog(owner_client):
    html = owner_client.get("/agents/").content.decode()
    assert "No agents yet" in html
    assert 'href="/agents/new/"' in html


def test_pagination(owner, owner_client):
    for n in range(30):
        factories.agent(owner, name=f"Agent {n:02d}")
    first = owner_client.get("/agents/")
    assert len(first.context["cards"]) == 24
    assert "Page 1 of 2" in first.content.decode()
    assert "?page=2" in first.content.decode()
    second = owner_client.get("/agents/?page=2")
    assert len(second.context["cards"]) == 6
    assert len(owner_client.get("/agents/?page=nonsense").context["cards"]) == 24
    assert len(owner_client.get("/agents/?page=99").context["cards"]) == 6


def _catalog_queries(client) -> tuple[int, int]:
    """(all queries of the page, those reading agents)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/agents/")
    assert response.status_code == 200
    return len(queries), sum('FROM "agents"' in q["sql"] for q in queries.captured_queries)


def _agents_of_every_kind(n: int, *, owner, other, staff) -> None:
    for i in range(n):
        kind = i % 3
        if kind == 0:
            factories.agent(other, is_public=True)
        elif kind == 1:
            factories.agent(owner)
        else:
            services.agent_grant(actor=staff, agent=factories.agent(other), email=owner.email)


def test_catalog_query_count_does_not_grow_with_agents(owner, other, staff, owner_client):
    factories.agent(owner, is_active=False)  # the deactivated list is part of the page too
    _agents_of_every_kind(10, owner=owner, other=other, staff=staff)
    with_ten = _catalog_queries(owner_client)
    _agents_of_every_kind(90, owner=owner, other=other, staff=staff)
    with_hundred = _catalog_queries(owner_client)
    assert with_ten == with_hundred
    assert with_hundred[1] == 3  # count, one page of cards, the deactivated list


def test_user_text_is_escaped_everywhere(owner, owner_client):
    agent = services.agent_create(
        user=owner,
        name="<script>alert('name')</script>",
        description="<img src=x onerror=alert('description')>",
        category=Category.GENERAL,
        model="offline",
        system_prompt="</pre><script>alert('prompt')</script>",
        temperature=0.5,
        max_tokens=100,
    )
    for url in ("/agents/", f"/agents/{agent.slug}/", f"/agents/{agent.slug}/edit/"):
        html = owner_client.get(url).content.decode()
        assert "<script>alert(" not in html, url
        assert "<img src=x" not in html, url
        assert "&lt;script&gt;alert(" in html, url
    detail = owner_client.get(f"/agents/{agent.slug}/").content.decode()
    assert "&lt;/pre&gt;&lt;script&gt;alert(&#x27;prompt&#x27;)&lt;/script&gt;" in detail


def test_system_prompt_is_shown_to_creator_and_admins_only(owner, other, staff, owner_client, other_client, staff_client):
    agent = factories.agent(owner, is_public=True, system_prompt="Secret instructions")
    url = f"/agents/{agent.slug}/"
    assert "Secret instructions" in owner_client.get(url).content.decode()
    assert "Secret instructions" in staff_client.get(url).content.decode()
    outsider = other_client.get(url).content.decode()
    assert outsider.count("Secret instructions") == 0
    assert f"/agents/{agent.slug}/edit/" not in outsider
    assert f"/agents/{agent.slug}/access/" not in outsider
    assert f"/agents/{agent.slug}/access/" in staff_client.get(url).content.decode()
    assert f"/agents/{agent.slug}/access/" not in owner_client.get(url).content.decode()


def test_start_a_conversation_opens_the_chat(owner, owner_client):
    agent = factories.agent(owner, is_public=True)
    html = owner_client.get(f"/agents/{agent.slug}/").content.decode()
    assert f'href="/chat/new/{agent.slug}/"' in html and "Start a conversation" in html
    assert owner_client.get(f"/chat/new/{agent.slug}/").status_code == 200

    services.agent_deactivate(user=owner, agent=agent)
    assert "Start a conversation" not in owner_client.get(f"/agents/{agent.slug}/").content.decode()


def test_no_start_button_when_the_model_is_unavailable(owner, owner_client, settings):
    agent = factories.agent(owner)
    Agent.objects.filter(pk=agent.pk).update(model="gpt-4o")
    html = owner_client.get(f"/agents/{agent.slug}/").content.decode()
    assert "Start a conversation" not in html
    assert "model is not available right now" in html
    assert "unavailable" in owner_client.get("/agents/").content.decode()
