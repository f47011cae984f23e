"""The trash in a real Chromium at phone and desktop sizes: a file moved to the trash from its page
is listed there and restored into its folder; no sideways scroll, no script error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.tenancy import tenant
from storage import services
from storage.models import StorageFile
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_move_to_trash_and_restore(signed_in_page, viewport):
    owner = make_user(f"binner-{viewport}@example.com")
    with tenant(owner.id):
        folder = factories.folder(owner, name="Reports")
    file = services.file_store(user=owner, content=b"annual report", name="a-rather-long-report-name-2026.txt",
                               mime_type="text/plain", folder=folder)
    page = signed_in_page(owner, viewport)
    page.goto(reverse("storage:file", args=[file.pk]))
    page.get_by_role("button", name="Move to trash").click()
    page.wait_for_url(f"**{reverse('storage:folder', args=[folder.pk])}")
    assert page.get_by_text("“a-rather-long-report-name-2026.txt” was moved to the trash.").is_visible()
    page.get_by_role("link", name="Trash").first.click()
    page.wait_for_url(f"**{reverse('shares_owner:trash')}")
    row = page.locator(f'tr[data-file-id="{file.pk}"]')
    assert row.get_by_text("/Reports").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    row.get_by_role("button", name="Restore").click()
    assert page.get_by_text("“a-rather-long-report-name-2026.txt” is back in /Reports.").is_visible()
    assert page.get_by_text("The trash is empty.").first.is_visible()
    with tenant(owner.id):
        assert StorageFile.objects.get(pk=file.pk).deleted_at is None
    assert page.problems == []
