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
