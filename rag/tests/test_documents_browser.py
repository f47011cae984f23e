"""The Documents pages in a real browser: upload, live progress, confirm before delete, a cited passage
highlighted; no CSP violation or script error, nothing wider than a phone."""

from __future__ import annotations

import pytest

from core.tenancy import tenant
from rag.models import RagChunk, RagDocument, Source, Status
from testutils.browser import VIEWPORTS
from testutils.testing import make_user

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_documents_in_a_browser(signed_in_page, viewport, tmp_path):
    from playwright.sync_api import expect  # imported here, like conftest, so collection never needs it

    owner = make_user(f"docs-{viewport}@example.com")
    page = signed_in_page(owner, viewport)

    # Empty state, then upload a file through the add page (indexing runs when the request commits).
    page.goto("/documents/")
    assert page.get_by_text("No documents yet").is_visible()
    page.get_by_role("link", name="Add your first document").click()
    page.wait_for_url("**/documents/add/")
    assert page.evaluate(FITS)
    source = tmp_path / "garden.md"
    source.write_text("# Garden\n\n## Watering\n\nWater the tomatoes every morning.\n\n## Pruning\n\nCut side shoots weekly.")
    page.get_by_label("File:", exact=True).set_input_files(str(source))
    page.locator("#file_tags").fill("garden, summer " + "verylongtagword" * 2)
    page.locator("#file_collection").fill("Home")
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/documents/")
    row = page.locator("tbody tr").first
    assert "Indexed · 2 passages" in row.inner_text()
    assert page.evaluate(FITS)

    # A queued document updates itself: progress, then the final state, announced politely.
    with tenant(owner.id):
        waiting = RagDocument.objects.create(user=owner, title="Slow report", source=Source.PASTE, content="x",
                                             status=Status.QUEUED)
    page.reload()
    pending = page.locator(f'tr[data-document-id="{waiting.id}"]')
    assert "Queued" in pending.inner_text()
    with tenant(owner.id):
        RagDocument.objects.filter(pk=waiting.pk).update(status=Status.INDEXING, progress=40)
    expect(pending.locator("progress")).to_have_js_property("value", 40)
    assert "Indexing… 40%" in pending.inner_text()
    with tenant(owner.id):
        RagDocument.objects.filter(pk=waiting.pk).update(status=Status.FAILED, progress=0,
                                                         error_message="This PDF file is damaged or incomplete.")
    expect(page.locator("#documents-live")).to_contain_text("failed")
    assert "Failed: This PDF file is damaged or incomplete." in pending.inner_text()
    assert page.locator("#documents-live").inner_text() == "“Slow report”: failed: This PDF file is damaged or incomplete."
    assert page.locator(f'tr[data-document-id="{waiting.id}"] progress').is_hidden()

    # Delete asks first; dismissing keeps the document, accepting deletes it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    pending.get_by_role("button", name="Delete Slow report").click()
    with tenant(owner.id):
        assert RagDocument.objects.filter(pk=waiting.pk).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    pending.get_by_role("button", name="Delete Slow report").click()
    page.wait_for_selector(".message.success")
    with tenant(owner.id):
        assert not RagDocument.objects.filter(pk=waiting.pk).exists()

    # A citation link opens the document at its passage, highlighted.
    with tenant(owner.id):
        document = RagDocument.objects.get(user=owner)
        assert RagChunk.objects.filter(document=document).count() == 2
    page.goto(f"/documents/{document.id}/#chunk-1")
    cited = page.evaluate("getComputedStyle(document.getElementById('chunk-1')).backgroundColor")
    other = page.evaluate("getComputedStyle(document.getElementById('chunk-0')).backgroundColor")
    assert cited != other
    assert "Garden › Pruning" in page.locator("#chunk-1").inner_text()
    assert page.evaluate(FITS)

    page.goto("/documents/settings/")
    page.get_by_label("Home").check()
    page.get_by_label("Passages per answer").fill("8")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".message.success")
    assert page.get_by_label("Home").is_checked()
    assert page.evaluate(FITS)
    assert page.problems == []
