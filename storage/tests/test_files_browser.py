"""The file manager in a real Chromium at phone and desktop sizes: two files dropped on the upload
box, each with its progress bar, the list refreshed in place; a folder created, a file moved into
it, an image previewed; no sideways scroll, no CSP problem or script error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.tenancy import tenant
from storage.models import StorageFile, StorageFolder
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
PNG_HEX = ("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
           "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")
DROP = """([pngHex, text]) => {
  const bytes = new Uint8Array(pngHex.match(/../g).map(h => parseInt(h, 16)));
  const data = new DataTransfer();
  data.items.add(new File([bytes], 'photo.png', {type: 'image/png'}));
  data.items.add(new File([text], 'notes.txt', {type: 'text/plain'}));
  const zone = document.querySelector('[data-drop-zone]');
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_drop_two_files_create_a_folder_move_one_and_preview_the_image(signed_in_page, viewport):
    user = make_user(f"files-{viewport}@example.com", name="Fiona")
    page = signed_in_page(user, viewport)
    page.goto(reverse("storage:list"))
    assert page.get_by_role("heading", name="Files", exact=True).is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    page.evaluate(DROP, [PNG_HEX, "Packing list: boots, map, water."])
    rows = page.locator(".files-progress-item")
    page.wait_for_function("() => document.querySelectorAll('.files-progress-item.done').length === 2")
    assert rows.count() == 2
    bars = page.eval_on_selector_all(".files-progress-item progress", "bars => bars.map(b => [b.value, b.max])")
    # each bar followed its own request's upload progress (its total is the request body, past the file's size)
    assert all(value == maximum and maximum > 70 for value, maximum in bars), bars
    assert "photo.png: saved" in rows.nth(0).inner_text() and "notes.txt: saved" in rows.nth(1).inner_text()
    table = page.locator(".files-table")
    table.wait_for()
    assert table.get_by_role("link", name="photo.png", exact=True).is_visible()
    assert table.get_by_role("link", name="notes.txt", exact=True).is_visible()
    with tenant(user.id):
        assert sorted(StorageFile.objects.values_list("filename", "mime_type")) == [
            ("notes.txt", "text/plain"), ("photo.png", "image/png")]

    # a new folder (the form posts; the page comes back with it)
    page.locator(".files-new-folder summary").click()
    page.get_by_label("Folder name").fill("Trips")
    page.get_by_role("button", name="Create folder").click()
    page.get_by_role("link", name="Trips").wait_for()
    assert "Folder “Trips” created." in page.locator(".messages").inner_text()

    # move the image into it from its page, then see it previewed
    page.locator(".files-table").get_by_role("link", name="photo.png", exact=True).click()
    page.get_by_label("Move to").select_option(label="Trips")
    page.get_by_role("button", name="Move", exact=True).click()
    assert "“photo.png” moved to “Trips”." in page.locator(".messages").inner_text()
    with tenant(user.id):
        folder = StorageFolder.objects.get(name="Trips")
        assert StorageFile.objects.get(filename="photo.png").folder_id == folder.pk
    image = page.locator("img.files-preview-image")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('img.files-preview-image').complete")
    assert image.evaluate("img => img.naturalWidth") == 1
    assert page.locator(".files-breadcrumbs").get_by_role("link", name="Trips").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    page.goto(reverse("storage:folder", args=[folder.pk]))
    assert page.locator(".files-table").get_by_role("link", name="photo.png", exact=True).is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.problems == []
