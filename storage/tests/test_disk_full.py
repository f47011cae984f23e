"""The disk refuses a write (issue 14): the upload fails with a clear message and leaves no row
and no blob, not even the bytes written before the failure."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.tenancy import tenant
from storage.models import StorageFile

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]


class FullDisk(FileSystemStorage):
    """A local storage whose disk fills up after the first 1,000 bytes of a file: the real file is
    created and partly written, then the write fails with ENOSPC, as on a full filesystem."""

    def _save(self, name, content):
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.write(content.read(1000))
        raise OSError(errno.ENOSPC, "No space left on device", str(path))


@pytest.fixture
def full_disk(tmp_path, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.FullDisk", "OPTIONS": {"location": str(tmp_path)}}}
    return tmp_path


def test_a_full_disk_refuses_the_upload_clearly_and_leaves_nothing(owner, owner_client, full_disk):
    upload = SimpleUploadedFile("report.txt", b"quarterly figures\n" * 500, content_type="text/plain")
    response = owner_client.post(reverse("storage:upload"), {"files": upload}, headers={"Accept": "application/json"})
    assert 400 <= response.status_code < 500
    assert any("the storage refused to write it" in error for error in response.json()["errors"])
    with tenant(owner.id):
        assert not StorageFile.objects.exists()
    assert [p for p in full_disk.rglob("*") if p.is_file()] == []  # the partial bytes are gone too

    page = owner_client.post(reverse("storage:upload"), {"files": SimpleUploadedFile("b.txt", b"x" * 5000)}, follow=True)
    assert page.status_code == 200 and "Nothing was stored" in page.content.decode()


def test_a_file_whose_blob_is_gone_shows_its_page_and_refuses_the_download_cleanly(owner, owner_client, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    from storage import services

    with tenant(owner.id):
        stored = services.file_store(user=owner, content=b"minutes of the meeting", name="minutes.txt", mime_type="text/plain")
    (tmp_path / stored.storage_path).unlink()  # a restore without its files, a lost disk
    page = owner_client.get(reverse("storage:file", args=[stored.id]))
    assert page.status_code == 200 and "could not be read from the storage" in page.content.decode()
    assert owner_client.get(reverse("storage:download", args=[stored.id])).status_code == 404
