"""The agent pages in a real browser: no CSP violations, nothing wider than a phone, keyboard reachable."""

from __future__ import annotations

import pytest

from agents import services
from testutils import factories
from testutils.browser import VIEWPORTS
from testutils.testing import make_user

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_agent_pages_in_a_browser(signed_in_page, viewport):
    owner = make_user("browser-owner@example.com")
    staff = make_user("browser-staff@example.com", role="ADMIN")
    long_word = "Supercalifragilistic" * 4
    for n in range(30):
        factories.agent(staff, is_public=True, name=f"Helper {n:02d} {long_word if n == 0 else ''}".strip(),
                        description="Answers questions about a topic. " * (n % 4 + 1))
    mine = services.agent_create(
        user=owner, name="My drafting aid", description="Drafts letters.", category="WRITING", model="offline",
        system_prompt="You draft letters.\n\n" + "A very long line of instructions " * 20, temperature=0.5, max_tokens=500,
    )
    page = signed_in_page(owner, viewport)

    page.goto("/agents/")
    assert page.locator(".agent-card").count() == 24
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # The search box is labelled and reachable from the keyboard.
    page.get_by_label("Search agents by name or description").fill("drafting")
    page.keyboard.press("Enter")
    page.wait_for_url("**/agents/?q=drafting")
    assert page.locator(".agent-card").count() == 1
    page.get_by_role("link", name="Writing").click()
    page.wait_for_url("**category=WRITING**")
    assert page.locator(".agent-card").count() == 1
    # The whole card opens the agent.
    page.locator(".agent-card").first.click(position={"x": 20, "y": 80})
    page.wait_for_url(f"**/agents/{mine.slug}/")
    assert page.locator(".agent-prompt").is_visible()

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.goto("/agents/new/")
    assert page.locator('select[name="model"] option[value="gpt-4o"]').get_attribute("disabled") is not None
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.problems == []

    admin_page = signed_in_page(staff, viewport)
    admin_page.goto(f"/agents/{mine.slug}/access/")
    admin_page.get_by_label("Email of the person to grant").fill(owner.email)
    admin_page.get_by_role("button", name="Grant", exact=True).click()
    admin_page.wait_for_selector(".message.success")
    assert admin_page.locator("tbody tr").count() == 1
    assert admin_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert admin_page.problems == []
