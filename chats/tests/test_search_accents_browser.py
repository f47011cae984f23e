"""Accent-insensitive search in a real browser, as a person types it (no accents), at phone and
desktop widths: the conversation list marks the word as written; the agents catalog finds "Código"."""

from __future__ import annotations

import pytest

from chats.models import Conversation, Message
from core.tenancy import tenant
from testutils import factories
from testutils.browser import VIEWPORTS
from testutils.testing import make_user

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_searching_without_accents_in_a_browser(signed_in_page, viewport):
    owner = make_user("browser-owner@example.com")
    staff = make_user("browser-staff@example.com", role="ADMIN")
    agent = factories.agent(staff, is_public=True, name="Revisor de código", description="Lee tu código y lo explica.")
    factories.agent(staff, is_public=True, name="Gardener", description="Plants and soil.")
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=agent)
        Conversation.objects.filter(pk=conversation.pk).update(title="Canciones")
        Message.objects.create(conversation=conversation, user=owner, role="user",
                               content="Quiero escribir una canción sobre el mar de Mazatlán.")
    page = signed_in_page(owner, viewport)

    page.goto("/chat/")
    page.locator('input[type="search"][name="q"]').fill("cancion")
    page.keyboard.press("Enter")
    page.wait_for_url("**/chat/?q=cancion")
    mark = page.locator("mark", has_text="canción")
    assert mark.count() == 1 and mark.first.is_visible()
    assert page.get_by_role("link", name="Canciones").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.goto("/agents/")
    page.get_by_label("Search agents by name or description").fill("codigo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/agents/?q=codigo")
    assert page.locator(".agent-card").count() == 1
    assert page.locator(".agent-card-title").inner_text() == "Revisor de código"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.problems == []
