"""The trash (issue 09 item 7): soft delete, restore (to its folder, or the top level under a unique
name), delete for good (row and blob), purge past the retention period (task and command), counters."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.tenancy import tenant
from storage import services, trash
from storage.backends import file_storage
from storage.errors import QuotaExceeded
from storage.models import FileAccessLog, StorageFile, StorageFolder, StorageQuota
from testutils import factories
from testutils.testing import messages_of

pytestmark = pytest.mark.django_db


def _file(owner, content=b"some words", name="notes.txt", folder=None):
    return services.file_store(user=owner, content=content, name=name, mime_type="text/plain", folder=folder)


def _quota(owner) -> StorageQuota:
    with tenant(owner.id):
        return StorageQuota.objects.get(user=owner)


def _row(file) -> StorageFile | None:
    with tenant(file.user_id):
        return StorageFile.objects.filter(pk=file.pk).first()


def test_deleting_moves_to_the_trash_and_the_counters_follow(owner, owner_client):
    file = _file(owner)
    assert (_quota(owner).file_count, _quota(owner).used_storage) == (1, 10)
    trash.file_trash(file=file)
    assert _row(file).deleted_at is not None
    assert (_quota(owner).file_count, _quota(owner).used_storage) == (0, 0)
    assert file_storage().exists(file.storage_path)
    page = owner_client.get(reverse("shares_owner:trash"))
    assert page.status_code == 200 and "notes.txt" in page.content.decode()
    restore = owner_client.post(reverse("shares_owner:trash_restore", args=[file.pk]), follow=True)
    assert "“notes.txt” is back, at the top level of your files." in messages_of(restore)
    assert _row(file).deleted_at is None
    assert (_quota(owner).file_count, _quota(owner).used_storage) == (1, 10)
    with tenant(owner.id):
        actions = list(FileAccessLog.objects.filter(file_id=file.pk).order_by("timestamp").values_list("action", flat=True))
    assert actions[-2:] == ["DELETE", "RESTORE"]


def test_restore_goes_back_to_its_folder_under_a_unique_name(owner):
    with tenant(owner.id):
        folder = factories.folder(owner, name="Work")
    file = _file(owner, folder=folder)
    trash.file_trash(file=file)
    _file(owner, content=b"a newer file", name="notes.txt", folder=folder)  # the name is taken meanwhile
    restored = trash.file_restore(user=owner, file=file)
    assert restored.folder_id == folder.pk and restored.filename == "notes (2).txt"
    assert _row(file).filename == "notes (2).txt"


def test_restore_lands_at_the_top_level_when_the_folder_is_gone(owner, owner_client):
    with tenant(owner.id):
        folder = factories.folder(owner, name="Old")
    file = _file(owner, folder=folder)
    trash.file_trash(file=file)
    _file(owner, content=b"at the top", name="notes.txt")
    with tenant(owner.id):
        StorageFolder.objects.filter(pk=folder.pk).delete()
    owner_client.post(reverse("shares_owner:trash_restore", args=[file.pk]))
    row = _row(file)
    assert row.deleted_at is None and row.folder_id is None and row.filename == "notes (2).txt"


def test_restore_refused_by_the_quota_changes_nothing(owner, owner_client):
    file = _file(owner)
    trash.file_trash(file=file)
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(max_storage=5)
    with pytest.raises(QuotaExceeded):
        trash.file_restore(user=owner, file=file)
    response = owner_client.post(reverse("shares_owner:trash_restore", args=[file.pk]), follow=True)
    assert response.status_code == 200
    assert any("does not fit" in message for message in messages_of(response))
    assert _row(file).deleted_at is not None
    assert (_quota(owner).file_count, _quota(owner).used_storage) == (0, 0)


def test_delete_for_good_removes_the_row_and_the_blob(owner, owner_client, django_capture_on_commit_callbacks):
    file = _file(owner)
    live = _file(owner, content=b"stays", name="keep.txt")
    with pytest.raises(trash.TrashError):  # only from the trash
        trash.file_delete_forever(user=owner, file=live)
    trash.file_trash(file=file)
    with django_capture_on_commit_callbacks(execute=True):  # the blob goes when the deletion commits
        response = owner_client.post(reverse("shares_owner:trash_delete", args=[file.pk]), follow=True)
    assert "“notes.txt” was deleted for good." in messages_of(response)
    assert _row(file) is None and not file_storage().exists(file.storage_path)
    assert _row(live) is not None and file_storage().exists(live.storage_path)
    assert _quota(owner).file_count == 1


def test_empty_the_trash(owner, owner_client):
    files = [_file(owner, content=f"file {i}".encode(), name=f"f{i}.txt") for i in range(3)]
    for file in files[:2]:
        trash.file_trash(file=file)
    owner_client.post(reverse("shares_owner:trash_empty"))
    assert [_row(f) is None for f in files] == [True, True, False]


def test_items_past_the_retention_are_purged_by_the_task_and_the_command(owner, other, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.STORAGE_TRASH_RETENTION_DAYS = 30
    old = _file(owner, content=b"old", name="old.txt")
    recent = _file(owner, content=b"recent", name="recent.txt")
    theirs = _file(other, content=b"their old", name="theirs.txt")
    live = _file(owner, content=b"live", name="live.txt")
    now = timezone.now()
    for file, age in ((old, 31), (recent, 29), (theirs, 40)):
        with tenant(file.user_id):
            StorageFile.objects.filter(pk=file.pk).update(deleted_at=now - timedelta(days=age))
    with django_capture_on_commit_callbacks(execute=True):
        assert trash.trash_purge_expired() == 2
    assert _row(old) is None and _row(theirs) is None and not file_storage().exists(old.storage_path)
    assert _row(recent) is not None and _row(live) is not None
    with tenant(recent.user_id):
        StorageFile.objects.filter(pk=recent.pk).update(deleted_at=now - timedelta(days=31))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_trash", stdout=out)
    assert "purged 1 file(s)" in out.getvalue()
    assert _row(recent) is None and _row(live) is not None


def test_trash_urls_are_404_for_another_user_and_change_nothing(owner, other_client):
    file = _file(owner)
    trash.file_trash(file=file)
    page = other_client.get(reverse("shares_owner:trash"))
    assert page.status_code == 200 and "notes.txt" not in page.content.decode()
    assert other_client.post(reverse("shares_owner:trash_restore", args=[file.pk])).status_code == 404
    assert other_client.post(reverse("shares_owner:trash_delete", args=[file.pk])).status_code == 404
    other_client.post(reverse("shares_owner:trash_empty"))
    row = _row(file)
    assert row is not None and row.deleted_at is not None


def test_a_live_file_is_not_restorable_or_deletable_from_the_trash_urls(owner, owner_client):
    file = _file(owner)
    assert owner_client.post(reverse("shares_owner:trash_restore", args=[file.pk])).status_code == 404
    assert owner_client.post(reverse("shares_owner:trash_delete", args=[file.pk])).status_code == 404
    assert owner_client.get(reverse("shares_owner:trash_restore", args=[file.pk])).status_code == 405
    assert _row(file) is not None


def test_the_file_page_moves_a_file_to_the_trash_and_its_links_stop(owner, owner_client):
    from django.test import Client

    from storage import shares

    with tenant(owner.id):
        folder = factories.folder(owner, name="Docs")
    file = _file(owner, folder=folder)
    created = shares.share_create(user=owner, file=file)
    page = owner_client.get(reverse("storage:file", args=[file.pk])).content.decode()
    assert reverse("shares_owner:trash_add", args=[file.pk]) in page and "Share links" in page
    response = owner_client.post(reverse("shares_owner:trash_add", args=[file.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("storage:folder", args=[folder.pk])
    assert "“notes.txt” was moved to the trash." in messages_of(response)
    assert _row(file).deleted_at is not None
    assert Client().get(f"/s/{created.token}/").status_code == 404
    assert owner_client.post(reverse("shares_owner:trash_add", args=[file.pk])).status_code == 404  # already there


def test_another_user_cannot_move_a_file_to_the_trash(owner, other_client):
    file = _file(owner)
    assert other_client.post(reverse("shares_owner:trash_add", args=[file.pk])).status_code == 404
    assert _row(file).deleted_at is None
