"""The agent form's Knowledge section in a real Chromium at 390 and 1280 px: the owner ticks a
collection and a document, saves, and the agent page says what it answers from; nothing wider
than the screen, no script error."""

from __future__ import annotations

import pytest

from agents.models import Agent
from core.tenancy import tenant
from rag.models import RagDocument
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_owner_chooses_the_agents_knowledge(signed_in_page, viewport):
    owner = make_user(f"knowledge-{viewport}@example.com", name="Kim")
    with tenant(owner.id):
        lease = RagDocument.objects.create(user=owner, title="Flat lease with a rather long title for a phone screen",
                                           source="PASTE", content="x", collection="home")
        RagDocument.objects.create(user=owner, title="Boat club", source="PASTE", content="x", collection="leisure")
    agent = factories.agent(owner, name="Home helper", slug=f"home-helper-{viewport}")
    page = signed_in_page(owner, viewport)
    page.goto(f"/agents/{agent.slug}/edit/")
    section = page.get_by_role("group", name="Knowledge")
    assert section.is_visible()
    section.get_by_label("home").check()
    section.get_by_label(lease.title).check()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"**/agents/{agent.slug}/")
    agent = Agent.objects.get(pk=agent.pk)
    assert agent.config["knowledge"] == {"collections": ["home"], "documents": [str(lease.id)]}
    facts = page.locator(".agent-knowledge-facts")
    assert "Your documents in the collections:" in facts.inner_text() and "home" in facts.inner_text()
    assert "1 document of yours chosen one by one" in facts.inner_text()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.problems == []
