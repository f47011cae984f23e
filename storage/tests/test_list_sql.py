"""The files list's written-out queries (selectors.file_page, folder_page, quota_for_user): the rows,
pages and quota the ORM's querysets gave, in three queries of the page's own."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.tenancy import tenant
from storage import selectors, services
from storage.models import StorageFile, StorageQuota

pytestmark = pytest.mark.django_db


def _add(user, names, folder=None, **kw):
    with tenant(user.id):
        StorageFile.objects.bulk_create([
            StorageFile(user=user, folder=folder, filename=name, original_name=name, storage_path=f"general/{user.id}/{name}",
                        size=1, checksum=f"{abs(hash((user.id, name))):064x}"[-64:], **kw)
            for name in names
        ])


def _names(user, **kw) -> list[str]:
    with tenant(user.id):
        return [row.filename for row in selectors.file_page(user=user, size=50, **kw)[2]]


def test_the_files_page_reads_quota_files_and_folders_in_three_queries(owner, owner_client):
    services.folder_create(user=owner, name="Sub")
    _add(owner, [f"f{n:03}.txt" for n in range(120)])
    owner_client.get(reverse("storage:list"))
    with CaptureQueriesContext(connection) as captured:
        page = owner_client.get(reverse("storage:list"), {"page": "99", "sort": "-name"}).content.decode()
    own = [q["sql"] for q in captured.captured_queries if "storage_" in q["sql"]]
    assert len(own) == 3, own  # the quota row; the files' page and count; the folders' page and count
    assert "Page 3 of 3" in page and "120 files" in page  # past the end: the last page
    assert "f019.txt" in page and "f000.txt" in page and "f020.txt" not in page


def test_only_my_live_files_of_this_folder_are_listed(owner, other):
    folder = services.folder_create(user=owner, name="Docs")
    now = timezone.now()
    _add(owner, ["top.txt"])
    _add(owner, ["inside.txt"], folder=folder)
    _add(owner, ["expired.txt"], expires_at=now - timedelta(seconds=1))
    _add(owner, ["expiring.txt"], expires_at=now + timedelta(days=1))
    _add(owner, ["trashed.txt"], deleted_at=now)
    _add(other, ["theirs.txt"])
    assert _names(owner, folder=None) == ["expiring.txt", "top.txt"]
    assert _names(owner, folder=folder) == ["inside.txt"]
    with tenant(owner.id):
        rows = selectors.file_page(user=owner, folder=None, search="IN", size=50)[2]
    assert [(r.filename, r.folder_path) for r in rows] == [("expiring.txt", None), ("inside.txt", "Docs")]


def test_every_sort_orders_as_the_orm_does(owner):
    _add(owner, ["b.txt", "a.txt", "c.txt"])
    with tenant(owner.id):
        for n, name in enumerate(["b.txt", "a.txt", "c.txt"]):
            StorageFile.objects.filter(filename=name).update(size=10 - n, mime_type=["text/plain", "image/png", "text/csv"][n],
                                                            created_at=timezone.now() - timedelta(days=n))
        for sort, fields in selectors.SORTS.items():
            expected = list(StorageFile.objects.filter(user=owner).order_by(*fields).values_list("filename", flat=True))
            assert _names(owner, folder=None, sort=sort) == expected, sort


def test_a_search_takes_percent_and_underscore_as_they_are(owner):
    _add(owner, ["100%_done.txt", "1000_done.txt", "10000done.txt"])
    assert _names(owner, folder=None, search="%") == ["100%_done.txt"]
    assert _names(owner, folder=None, search="0_d") == ["1000_done.txt"]


def test_folders_page_by_name_and_search_by_path(owner):
    top = services.folder_create(user=owner, name="Top")
    services.folder_create(user=owner, name="beta", parent=top)
    services.folder_create(user=owner, name="Alpha", parent=top)
    services.folder_create(user=owner, name="Other")
    with tenant(owner.id):
        assert [f.name for f in selectors.folder_page(user=owner, folder=None, size=60)[2]] == ["Other", "Top"]
        assert [f.name for f in selectors.folder_page(user=owner, folder=top, size=60)[2]] == ["Alpha", "beta"]
        assert [f.name for f in selectors.folder_page(user=owner, folder=top, descending=True, size=60)[2]] == ["beta", "Alpha"]
        assert [f.path for f in selectors.folder_page(user=owner, folder=None, search="T", size=60)[2]] == ["Other", "Top", "Top/beta"]
        total, number, rows = selectors.folder_page(user=owner, folder=top, number=5, size=1)
    assert (total, number, [f.name for f in rows]) == (2, 2, ["beta"])


def test_the_quota_row_is_the_orms(owner):
    services.quota_sync(owner)
    with tenant(owner.id):
        StorageQuota.objects.filter(user=owner).update(usage_breakdown={"GENERAL": {"bytes": 5, "files": 1}})
        read, fetched = selectors.quota_for_user(owner), StorageQuota.objects.get(user=owner)
    assert {f.attname: getattr(read, f.attname) for f in StorageQuota._meta.concrete_fields} == {
        f.attname: getattr(fetched, f.attname) for f in StorageQuota._meta.concrete_fields
    }
    assert read.usage_breakdown == {"GENERAL": {"bytes": 5, "files": 1}} and not read._state.adding


def test_the_kept_new_folder_field_is_what_the_template_renders(owner_client):
    from django.template.loader import render_to_string
    from django.utils import translation

    from storage.forms import FolderForm
    from storage.views import empty_folder_field

    for language in ("en", "es", "en"):
        with translation.override(language):
            fresh = render_to_string("rag/_field.html", {"field": FolderForm(auto_id="folder-%s")["name"]})
            assert empty_folder_field() == fresh
    assert 'for="folder-name"' in fresh and "Folder name" in fresh
    html = owner_client.get(reverse("storage:list"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    with translation.override("es"):
        assert empty_folder_field() in html and "Nombre de la carpeta" in empty_folder_field()
    response = owner_client.post(reverse("storage:folder_create"), {"name": ""})  # the visitor's form, errors and all
    assert response.status_code == 400 and 'class="field has-error"' in response.content.decode()
