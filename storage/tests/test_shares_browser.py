"""Share links in a real Chromium at phone and desktop sizes: the owner makes a password link on the
file's page, a stranger opens it in another browser context, is asked the password before seeing
anything about the file, types it and downloads the file; no sideways scroll, no script error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from storage import services
from testutils.browser import VIEWPORTS
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
CONTENT = b"Minutes of the meeting, for the people invited only.\n"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_password_link_asks_first_then_downloads(signed_in_page, _browser, live_server, viewport, tmp_path):
    owner = make_user(f"sharer-{viewport}@example.com", name="Sharer")
    file = services.file_store(user=owner, content=CONTENT, name="minutes.txt", mime_type="text/plain")
    page = signed_in_page(owner, viewport)
    page.goto(reverse("storage:file", args=[file.pk]))
    panel = page.locator("[data-share-panel]")
    panel.get_by_label("Password (optional)").fill("correct horse")
    panel.get_by_label("Download limit (optional)").fill("2")
    panel.get_by_role("button", name="Create the link").click()
    page.wait_for_url(f"**{reverse('shares_owner:file_links', args=[file.pk])}")
    link = page.locator("[data-share-url]").input_value()
    assert "/s/" in link
    assert page.get_by_role("button", name="Copy").is_visible()  # shares.js shows it
    assert page.locator(".share-link").filter(has_text="With a password").count() == 1
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    stranger_context = _browser.new_context(base_url=live_server.url, locale="en-US", viewport=VIEWPORTS[viewport],
                                            accept_downloads=True)
    try:
        stranger = stranger_context.new_page()
        problems = []
        stranger.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        stranger.on("pageerror", lambda error: problems.append(str(error)))
        stranger.goto(link)
        assert stranger.get_by_role("heading", name="This link is protected").is_visible()
        assert "minutes.txt" not in stranger.content() and "Minutes of the meeting" not in stranger.content()
        stranger.get_by_label("Password").fill("wrong horse")
        stranger.get_by_role("button", name="Open").click()
        assert stranger.get_by_text("That password is not right.").is_visible()
        stranger.get_by_label("Password").fill("correct horse")
        stranger.get_by_role("button", name="Open").click()
        assert stranger.get_by_role("heading", name="minutes.txt").is_visible()
        assert stranger.get_by_text("Minutes of the meeting").is_visible()
        assert stranger.evaluate(NO_SIDEWAYS_SCROLL)
        with stranger.expect_download() as download_info:
            stranger.get_by_role("link", name="Download").click()
        target = tmp_path / "got.txt"
        download_info.value.save_as(target)
        assert target.read_bytes() == CONTENT
        # The wrong password's page answers 403 (Chromium logs that status); nothing else may show up.
        assert [p for p in problems if "status of 403" not in p] == []
        assert len(problems) <= 1
    finally:
        stranger_context.close()
    page.reload()
    assert page.locator(".share-link").filter(has_text="1 of 2 downloads").count() == 1
    assert page.problems == []
