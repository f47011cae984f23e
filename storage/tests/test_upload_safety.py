"""Uploads through /files/upload/: refused before the body is read whole when too large, the type
sniffed from the bytes, names made safe, the same content offered as the file already there."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.tenancy import tenant
from storage import services, uploads
from storage.models import FileAccessLog, StorageFile, StorageQuota

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
PDF_LIKE_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def rows(user) -> list[StorageFile]:
    with tenant(user.id):
        return list(StorageFile.objects.filter(user=user).order_by("created_at"))


def upload(client, *files, folder=None, **extra):
    data = {"files": list(files)}
    if folder is not None:
        data["folder"] = str(folder.pk)
    return client.post(reverse("storage:upload"), data, **extra)


def test_several_files_at_once_without_javascript(owner, owner_client, media):
    folder = services.folder_create(user=owner, name="Inbox")
    response = upload(owner_client, SimpleUploadedFile("a.txt", b"first"), SimpleUploadedFile("b.txt", b"second"),
                      folder=folder, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "“a.txt” uploaded." in html and "“b.txt” uploaded." in html
    stored = rows(owner)
    assert [(f.filename, f.folder_id, f.size) for f in stored] == [("a.txt", folder.pk, 5), ("b.txt", folder.pk, 6)]
    assert stored[0].checksum == hashlib.sha256(b"first").hexdigest()
    assert len(blobs(media)) == 2
    with tenant(owner.id):
        assert list(FileAccessLog.objects.values_list("action", flat=True)) == ["UPLOAD", "UPLOAD"]


def test_an_oversized_upload_is_refused_without_reading_the_body(owner, owner_client, media, settings):
    settings.FILES_MAX_UPLOAD_BYTES = 1000

    class Unreadable:
        """A body that fails the test if anything reads it."""
        def read(self, *args):
            raise AssertionError("the body was read")

    response = owner_client.generic(
        "POST", reverse("storage:upload"), b"", content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(10 ** 9), HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 413
    assert response.json()["errors"] == ["This upload is too large: send at most 1000\xa0bytes at once."]
    assert rows(owner) == [] and blobs(media) == []
    del Unreadable


def test_a_file_past_the_plans_size_stops_being_read_at_the_limit(owner, owner_client, media, settings):
    settings.STORAGE_TIER_LIMITS = {"FREE": {"max_file_size": 50_000}}
    received = []
    original = uploads.LimitedUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        received.append(len(raw_data))
        return original(self, raw_data, start)

    uploads.LimitedUploadHandler.receive_data_chunk = counting
    try:
        big = SimpleUploadedFile("big.bin", b"x" * 5_000_000)
        response = upload(owner_client, big, **JSON)
    finally:
        uploads.LimitedUploadHandler.receive_data_chunk = original
    assert response.status_code == 413
    assert response.json()["errors"] == ["“big.bin” is larger than your plan allows for one file (48.8\xa0KB). Nothing was saved."]
    assert sum(received) < 200_000  # stopped at the limit, not after the 5 MB
    assert rows(owner) == [] and blobs(media) == []
    # the page's script sends one file per request: refused from its declared length alone
    response = owner_client.generic("POST", reverse("storage:upload"), b"", content_type="multipart/form-data; boundary=x",
                                    CONTENT_LENGTH=str(10 ** 6), HTTP_ACCEPT="application/json",
                                    HTTP_X_FILE_UPLOAD="single")
    assert response.status_code == 413 and "larger than your plan allows" in response.json()["errors"][0]


@pytest.mark.parametrize("name, content, expected", [
    ("report.pdf", PDF_LIKE_EXE, "application/vnd.microsoft.portable-executable"),  # a .pdf that is an executable
    ("cat.png", b"<!DOCTYPE html><html><script>alert(1)</script>", "text/html"),  # an image that is HTML
    ("photo.txt", PNG, "image/png"),
    ("drawing.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/svg+xml"),
    ("notes.bin", "plain words, ünïcode\n".encode(), "text/plain"),
])
def test_the_type_is_sniffed_from_the_bytes_not_the_name_or_header(owner, owner_client, name, content, expected):
    response = upload(owner_client, SimpleUploadedFile(name, content, content_type="application/pdf"), **JSON)
    assert response.status_code == 200
    [stored] = rows(owner)
    assert stored.mime_type == expected
    inline = owner_client.get(reverse("storage:preview", args=[stored.pk]))
    if expected != "image/png":  # nothing but real images and PDFs is shown inline
        assert inline["Content-Disposition"].startswith("attachment;")
        assert inline["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system.ini", "system.ini"),
    ("bad\x00name.txt", "badname.txt"),
    ("tab\tand\nnewline.txt", "tabandnewline.txt"),
    ("CON", "_CON"),
    ("nul.txt", "_nul.txt"),
    ("..", "document"),
    ("trailing dots...", "trailing dots"),
])
def test_path_traversal_control_characters_and_reserved_names(owner, owner_client, media, raw, expected):
    # through the page: the name exactly as a client sends it in the multipart body
    body = (b"--xyz\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + raw.replace('"', "").encode()
            + b"\"\r\nContent-Type: text/plain\r\n\r\n" + raw.encode() + b" content\r\n--xyz--\r\n")
    response = owner_client.generic("POST", reverse("storage:upload"), body, content_type="multipart/form-data; boundary=xyz",
                                    HTTP_ACCEPT="application/json")
    if response.status_code == 200:
        assert response.json()["files"][0]["name"] in (expected, uploads.safe_file_name(raw.split("\n")[0]))
    else:  # Django's parser drops a file it cannot name ("..", a name cut by a newline): nothing stored
        assert response.status_code == 400 and response.json()["errors"] == ["Choose at least one file to upload."]
    assert uploads.safe_file_name(raw) == expected
    elsewhere = services.folder_create(user=owner, name="service")
    stored = services.file_upload(user=owner, uploaded=File(io.BytesIO(b"body " + raw.encode()), name=raw),
                                  folder=elsewhere)
    assert stored.file.filename == expected and stored.file.original_name == expected
    assert stored.file.storage_path.startswith(f"general/{owner.id}/{stored.file.pk}")
    assert all(media in p.parents for p in blobs(media))


def test_a_1000_character_name_is_cut_to_255_bytes_keeping_the_extension(owner, owner_client):
    response = upload(owner_client, SimpleUploadedFile("é" * 1000 + ".pdf", b"%PDF-1.4\n%%EOF"), **JSON)
    assert response.status_code == 200
    [stored] = rows(owner)
    assert len(stored.filename.encode()) <= 255 and stored.filename.endswith(".pdf")


def test_an_empty_file_is_refused_and_a_duplicate_name_gets_a_number(owner, owner_client):
    response = upload(owner_client, SimpleUploadedFile("empty.txt", b""), **JSON)
    assert response.status_code == 400 and response.json()["errors"] == ["“empty.txt” is empty: there is nothing to save."]
    upload(owner_client, SimpleUploadedFile("same.txt", b"one"), **JSON)
    upload(owner_client, SimpleUploadedFile("same.txt", b"two"), **JSON)
    assert [f.filename for f in rows(owner)] == ["same.txt", "same (2).txt"]


def test_content_the_user_already_has_is_offered_as_the_existing_file(owner, owner_client, media):
    first = upload(owner_client, SimpleUploadedFile("contract.txt", b"signed terms"), **JSON).json()["files"][0]
    again = upload(owner_client, SimpleUploadedFile("copy of contract.txt", b"signed terms"), **JSON)
    assert again.status_code == 200
    body = again.json()["files"][0]
    assert body["existing"] is True and body["id"] == first["id"] and body["name"] == "contract.txt"
    assert len(rows(owner)) == 1 and len(blobs(media)) == 1
    page = upload(owner_client, SimpleUploadedFile("third.txt", b"signed terms"), follow=True).content.decode()
    assert "You already have “contract.txt” (the same content); it was not saved twice." in page


def test_an_upload_without_a_csrf_token_is_refused(owner, media):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner, backend="allauth.account.auth_backends.AuthenticationBackend")
    response = upload(client, SimpleUploadedFile("a.txt", b"x"))
    assert response.status_code == 403 and rows(owner) == [] and blobs(media) == []


def test_an_upload_into_another_users_folder_is_a_404(owner, other, owner_client, media):
    theirs = services.folder_create(user=other, name="Theirs")
    response = upload(owner_client, SimpleUploadedFile("a.txt", b"x"), folder=theirs, **JSON)
    assert response.status_code == 404 and rows(owner) == [] and blobs(media) == []
    with tenant(other.id):
        assert StorageQuota.objects.get(user=other).file_count == 0


def test_content_in_the_trash_or_expired_is_handled_without_a_500(owner, owner_client, media):
    from django.utils import timezone

    first = upload(owner_client, SimpleUploadedFile("old.txt", b"trashed bytes"), **JSON).json()["files"][0]
    with tenant(owner.id):
        StorageFile.objects.filter(pk=first["id"]).update(deleted_at=timezone.now())
    response = upload(owner_client, SimpleUploadedFile("new.txt", b"trashed bytes"), **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == ["You already have this file in the trash, as “old.txt”. Restore it from the trash instead."]
    second = upload(owner_client, SimpleUploadedFile("soon.txt", b"expiring bytes"), **JSON).json()["files"][0]
    with tenant(owner.id):
        StorageFile.objects.filter(pk=second["id"]).update(expires_at=timezone.now())
    again = upload(owner_client, SimpleUploadedFile("fresh.txt", b"expiring bytes"), **JSON)
    assert again.status_code == 200 and again.json()["files"][0]["existing"] is False
    with tenant(owner.id):
        assert sorted(StorageFile.objects.values_list("filename", flat=True)) == ["fresh.txt", "old.txt"]
