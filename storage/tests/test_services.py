"""The storage service directly, as the runtime role: blob and row stored and deleted together, the
quota trigger's refusals as one translated error, names cut safely, paths made of ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from core.errors import UserFacingError
from core.tenancy import tenant
from storage import services
from storage.errors import DuplicateFile, QuotaExceeded
from storage.models import StorageFile, StorageQuota, UsageContext

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def blobs(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def quota(user) -> StorageQuota:
    with tenant(user.id):
        return StorageQuota.objects.get(user=user)


def rows(user) -> list[StorageFile]:
    with tenant(user.id):
        return list(StorageFile.objects.filter(user=user))


def test_a_stored_file_has_its_blob_and_its_row_and_counts_against_the_quota(owner, media):
    data = "Notas del médico.\n".encode()
    stored = services.file_store(user=owner, content=data, name="notes/../visita.TXT", mime_type="text/plain",
                                 usage_context=UsageContext.RAG)
    [row] = rows(owner)
    assert row.pk == stored.pk
    assert (row.filename, row.original_name, row.mime_type, row.size) == ("visita.TXT", "visita.TXT", "text/plain", len(data))
    assert row.checksum == hashlib.sha256(data).hexdigest() and row.usage_context == UsageContext.RAG
    assert row.storage_path == f"rag/{owner.id}/{row.id}.txt"
    with default_storage.open(row.storage_path, "rb") as handle:
        assert handle.read() == data
    assert blobs(media) == [media / row.storage_path]
    assert (quota(owner).file_count, quota(owner).used_storage) == (1, len(data))


def test_an_uploaded_file_is_read_in_pieces_and_a_missing_type_is_generic(owner):
    data = b"x" * 200_000
    stored = services.file_store(user=owner, content=SimpleUploadedFile("big.bin", data, content_type=""),
                                 name="big.bin")
    assert stored.size == len(data) and stored.checksum == hashlib.sha256(data).hexdigest()
    assert stored.mime_type == "application/octet-stream" and stored.usage_context == UsageContext.GENERAL
    assert stored.storage_path == f"general/{owner.id}/{stored.id}.bin"
    with default_storage.open(stored.storage_path, "rb") as handle:
        assert handle.read() == data


def test_a_long_name_is_cut_to_255_bytes_keeping_its_extension_and_the_path_uses_ids(owner):
    stored = services.file_store(user=owner, content=b"accented", name="é" * 150 + ".pdf")
    assert len(stored.original_name.encode()) <= 255 and stored.original_name.endswith(".pdf")
    assert stored.original_name.startswith("éé") and "é" not in stored.storage_path
    odd = services.file_store(user=owner, content=b"odd", name="report.tar.gz;rm -rf")
    assert odd.storage_path == f"general/{owner.id}/{odd.id}"  # an odd extension is left out of the path
    assert services.file_store(user=owner, content=b"unnamed", name="\x00 ").original_name == "document"


@pytest.mark.parametrize("limit, values, size, message", [
    ("max_file_size", {"max_file_size": 100}, 101, "This file is larger than your plan allows for one file."),
    ("max_storage", {"max_storage": 150}, 100,
     "This file does not fit in your remaining storage. Delete some files or documents first."),
    ("max_files", {"max_files": 1}, 10, "You have reached the number of files your plan allows."),
])
def test_a_quota_refusal_is_one_translated_error_and_leaves_no_row_and_no_blob(owner, media, limit, values, size,
                                                                               message):
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(**values)
    first = services.file_store(user=owner, content=b"a" * 60, name="first.txt")
    with pytest.raises(QuotaExceeded) as refused:
        services.file_store(user=owner, content=b"b" * size, name="second.txt")
    assert isinstance(refused.value, UserFacingError)
    assert refused.value.limit == limit and refused.value.message == message and str(refused.value) == message
    assert [row.pk for row in rows(owner)] == [first.pk]
    assert blobs(media) == [media / first.storage_path]
    assert (quota(owner).file_count, quota(owner).used_storage) == (1, 60)


def test_a_quota_refusal_speaks_the_active_language(owner):
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(max_files=0)
    with translation.override("es"), pytest.raises(QuotaExceeded) as refused:
        services.file_store(user=owner, content=b"data", name="a.txt")
    assert refused.value.message == "Alcanzaste el número de archivos que permite tu plan."


def test_the_same_content_twice_is_refused_for_one_user_but_not_across_users(owner, other, media):
    services.file_store(user=owner, content=b"same bytes", name="a.txt")
    with pytest.raises(DuplicateFile) as refused:
        services.file_store(user=owner, content=b"same bytes", name="b.txt")
    assert refused.value.message == "You have already uploaded this exact file."
    assert len(rows(owner)) == 1 and len(blobs(media)) == 1
    theirs = services.file_store(user=other, content=b"same bytes", name="a.txt")
    assert [row.pk for row in rows(other)] == [theirs.pk] and len(blobs(media)) == 2


def test_deleting_a_file_removes_the_row_now_and_the_blob_on_commit(owner, media, django_capture_on_commit_callbacks):
    stored = services.file_store(user=owner, content=b"to delete", name="gone.txt")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.file_delete(file=stored)
    assert rows(owner) == [] and (quota(owner).file_count, quota(owner).used_storage) == (0, 0)
    assert blobs(media) == [media / stored.storage_path]  # not before the transaction commits
    for callback in callbacks:
        callback()
    assert blobs(media) == []


def test_another_users_file_is_not_deleted_through_the_service(owner, other, media, django_capture_on_commit_callbacks):
    stored = services.file_store(user=owner, content=b"mine", name="mine.txt")
    forged = StorageFile(pk=stored.pk, user_id=other.id, storage_path=stored.storage_path)
    with django_capture_on_commit_callbacks(execute=True):
        services.file_delete(file=forged)  # acts as the other user: row-level security hides the row
    assert [row.pk for row in rows(owner)] == [stored.pk]
    assert blobs(media) == [media / stored.storage_path]
