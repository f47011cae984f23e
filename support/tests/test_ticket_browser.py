"""A ticket's page in a real Chromium at phone and desktop sizes: a staff reply appears without a
reload (an internal note never does), the status follows; no sideways scroll, no script error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.tenancy import bypass, tenant
from support import services
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_staff_reply_appears_without_reload(signed_in_page, settings, viewport):
    settings.SUPPORT_POLL_SECONDS = 0.5
    user = make_user(f"ticket-{viewport}@example.com", name="Tess")
    agent = make_user(f"agent-{viewport}@example.com", role="SUPPORT", name="Alex")
    with tenant(user.id):
        ticket = services.ticket_create(user=user, title="A very long title " * 6, description="The export fails.")
    page = signed_in_page(user, viewport)
    page.goto(reverse("support:detail", args=[ticket.pk]))
    assert page.get_by_text(ticket.ticket_number).first.is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    with bypass("test: staff reply", actor_id=agent.id):
        services.staff_reply(actor=agent, ticket=ticket, content="NOTE-FOR-STAFF only", internal=True)
        services.staff_reply(actor=agent, ticket=ticket, content="Try the **new** export button.")
    page.locator(".support-message.from-staff").wait_for(timeout=10_000)
    assert "Try the new export button." in page.locator("[data-conversation]").inner_text()
    assert page.locator(".support-message.from-staff strong", has_text="new").count() == 1
    assert "NOTE-FOR-STAFF" not in page.content()
    assert page.locator("[data-ticket-status]").inner_text() == "Waiting for you"
    page.wait_for_timeout(1200)  # more polls add nothing twice
    assert page.locator(".support-message").count() == 1
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert not page.problems, page.problems


def test_typing_a_new_ticket_lists_matching_help_articles(signed_in_page):
    from support.models import HelpArticle

    user = make_user("deflect@example.com")
    agent = make_user("writer@example.com", role="SUPPORT")
    with bypass("test: article", actor_id=agent.id):  # commits: the indexing runs on commit
        services.help_article_save(actor=agent, article=HelpArticle(
            title="Reset your password", slug="reset-your-password", is_published=True,
            body="Open Settings, then Security, and press Reset password."), created=True)
    page = signed_in_page(user, "phone")
    page.goto(reverse("support:new"))
    page.get_by_label("Title").fill("how to reset password")
    link = page.locator("[data-deflection-list] a", has_text="Reset your password")
    link.wait_for(timeout=10_000)
    assert link.get_attribute("href") == reverse("support:article", args=["reset-your-password"])
    assert page.locator("[data-deflection-empty]").is_hidden()
    assert not page.problems, page.problems
