"""Storage in the admin (issue 09 item 8): staff read metadata and logs through the audited bypass,
never a file's contents; files, folders and logs are read-only; revoking a link is the one action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditLog
from core.tenancy import tenant
from storage import services, shares
from storage.models import FileShare, StorageFile
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db

SECRET_CONTENT = b"the confidential body of the file 7f3a"


@pytest.fixture
def stored(owner):
    return services.file_store(user=owner, content=SECRET_CONTENT, name="contract.txt", mime_type="text/plain")


def test_staff_see_file_metadata_and_logs_never_the_contents(staff_client, staff, stored, owner):
    created = shares.share_create(user=owner, file=stored)
    for url in (
        reverse("admin:storage_storagefile_changelist"),
        reverse("admin:storage_storagefile_change", args=[stored.pk]),
        reverse("admin:storage_fileaccesslog_changelist") + f"?file__id__exact={stored.pk}",
        reverse("admin:storage_fileshare_change", args=[created.share.pk]),
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert SECRET_CONTENT.decode() not in html
        assert "/download/" not in html and "/preview/" not in html and "/s/" not in html
        assert created.token not in html and created.share.share_token not in html
    change = staff_client.get(reverse("admin:storage_storagefile_change", args=[stored.pk])).content.decode()
    assert "contract.txt" in change and stored.checksum in change
    # The change page's bypass row names the file (the changelist's names no object).
    assert AuditLog.objects.filter(action="rls.bypass", admin=staff, target_type="storage_files", target_id=stored.pk).exists()


def test_files_folders_and_logs_are_read_only_even_for_admins(staff_client, stored, owner):
    response = staff_client.post(reverse("admin:storage_storagefile_change", args=[stored.pk]),
                                 {"filename": "renamed.txt", "user": str(owner.pk)})
    assert response.status_code == 403
    assert staff_client.post(reverse("admin:storage_storagefile_delete", args=[stored.pk]), {"post": "yes"}).status_code == 403
    staff_client.post(reverse("admin:storage_storagefile_changelist"),
                      {"action": "delete_selected", "_selected_action": [str(stored.pk)], "post": "yes"})
    with tenant(owner.id):
        assert StorageFile.objects.get(pk=stored.pk).filename == "contract.txt"
    assert staff_client.get(reverse("admin:storage_storagefile_add")).status_code == 403
    assert staff_client.get(reverse("admin:storage_storagefolder_add")).status_code == 403


def test_admins_revoke_links_and_support_cannot_see_storage(staff_client, stored, owner):
    created = shares.share_create(user=owner, file=stored)
    assert Client().get(f"/s/{created.token}/").status_code == 200
    response = staff_client.post(reverse("admin:storage_fileshare_changelist"),
                                 {"action": "revoke", "_selected_action": [str(created.share.pk)]})
    assert response.status_code == 302
    with tenant(owner.id):
        assert FileShare.objects.get(pk=created.share.pk).revoked_at is not None
    assert Client().get(f"/s/{created.token}/").status_code == 404
    support = client_for(make_user("helper@example.com", role="SUPPORT"))
    for name in ("storagefile", "fileaccesslog", "fileshare", "storagefolder"):
        assert support.get(f"/admin/storage/{name}/").status_code == 403
    assert support.get(reverse("admin:storage_storagefile_change", args=[stored.pk])).status_code == 403
