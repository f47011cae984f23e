"""Quotas from the subscription tier: the limits follow the tier, a refused upload names the limit
and changes neither the counters nor the storage, the files page and the Usage page show them."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from core.tenancy import tenant
from storage.models import StorageFile, StorageQuota
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def blobs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def quota(user) -> StorageQuota:
    with tenant(user.id):
        return StorageQuota.objects.get(user=user)


def counters(user) -> tuple:
    q = quota(user)
    return q.used_storage, q.file_count, q.usage_breakdown


def upload(client, name: str, data: bytes):
    return client.post(reverse("storage:upload"), {"files": [SimpleUploadedFile(name, data)]}, **JSON)


def test_the_limits_follow_the_tier(settings):
    settings.STORAGE_TIER_LIMITS = {"PRO": {"max_storage": 5000, "max_files": 7}}
    user = make_user(tier="PRO")
    q = quota(user)
    assert (q.max_storage, q.max_files, q.max_file_size) == (5000, 7, 1024 ** 3)
    user.subscription_tier = "FREE"
    user.save(update_fields=["subscription_tier"])
    q = quota(user)
    assert (q.max_storage, q.max_file_size, q.max_files) == (1024 ** 3, 100 * 1024 ** 2, 1000)


@pytest.mark.parametrize("limits, size, message", [
    ({"max_storage": 100}, 80, "“second.txt” does not fit in your storage: 60\xa0bytes of 100\xa0bytes used. Delete some files first."),
    ({"max_files": 1}, 10, "“second.txt” was not saved: your plan allows 1 files and you have reached it."),
    ({"max_file_size": 70}, 71, "“second.txt” is larger than your plan allows for one file (70\xa0bytes). Nothing was saved."),
])
def test_a_quota_refusal_names_the_limit_and_leaves_counters_and_storage_unchanged(owner, owner_client, media, settings,
                                                                                 limits, size, message):
    settings.STORAGE_TIER_LIMITS = {"FREE": limits}
    assert upload(owner_client, "first.txt", b"a" * 60).status_code == 200
    before, stored = counters(owner), blobs(media)
    response = upload(owner_client, "second.txt", b"b" * size)
    assert response.status_code in (400, 413)
    assert response.json()["errors"] == [message]
    assert counters(owner) == before and blobs(media) == stored
    with tenant(owner.id):
        assert list(StorageFile.objects.values_list("filename", flat=True)) == ["first.txt"]


def test_the_trigger_is_the_guard_even_past_the_early_check(owner, media, settings, monkeypatch):
    """Two uploads racing past the early check: the trigger refuses one; its blob goes too."""
    from storage import services

    settings.STORAGE_TIER_LIMITS = {"FREE": {"max_files": 1}}
    services.quota_sync(owner)
    services.file_store(user=owner, content=b"one", name="one.txt")
    monkeypatch.setattr(services, "_precheck_quota", lambda user, size: None)
    before = counters(owner)
    with pytest.raises(services.QuotaExceeded):
        services.file_store(user=owner, content=b"two", name="two.txt")
    assert counters(owner) == before and len(blobs(media)) == 1


def test_the_refusal_speaks_spanish(owner, settings):
    from storage import services

    settings.STORAGE_TIER_LIMITS = {"FREE": {"max_files": 0}}
    services.quota_sync(owner)
    with translation.override("es"), pytest.raises(services.QuotaExceeded) as refused:
        services.file_upload(user=owner, uploaded=SimpleUploadedFile("a.txt", b"x"))
    assert refused.value.message.startswith("“a.txt”")


def test_the_files_page_and_the_usage_page_show_used_vs_max_per_context(owner, owner_client, settings):
    from storage import services

    settings.STORAGE_TIER_LIMITS = {"FREE": {"max_storage": 10_000}}
    services.quota_sync(owner)
    services.file_store(user=owner, content=b"r" * 1000, name="doc.txt", usage_context="RAG")
    services.file_store(user=owner, content=b"g" * 500, name="note.txt")
    html = owner_client.get(reverse("storage:list")).content.decode()
    assert "1.5\xa0KB of 9.8\xa0KB" in html and 'id="files-quota-chart"' in html and 'id="files-chart-data"' in html
    table = html[html.index('class="table files-quota-table"'):]
    assert "Documents" in table and "General" in table and "1000\xa0bytes" in table
    usage = owner_client.get(reverse("metrics:usage")).content.decode()
    card = usage[usage.index('class="card usage-card usage-storage"'):]
    card = card[:card.index("</div>")]
    assert "1.5\xa0KB" in card and "of 9.8\xa0KB · 15 % used" in card and "Documents: 1000\xa0bytes" in card


def test_another_users_quota_is_not_shown(owner, other):
    from storage import services

    services.file_store(user=other, content=b"x" * 2048, name="theirs.txt")
    html = client_for(owner).get(reverse("storage:list")).content.decode()
    assert "0\xa0bytes of" in html
