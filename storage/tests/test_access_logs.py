"""Access-log pages (issue 09 item 6): the owner sees each file's and each link's log, newest first,
paged; share accesses and failed passwords are rows of it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.tenancy import tenant
from storage import services, shares
from storage.models import FileAccessLog
from testutils.testing import client_for, make_user

pytestmark = pytest.mark.django_db


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-action="([A-Z]+)">', html)


@pytest.fixture
def stored(owner):
    return services.file_store(user=owner, content=b"log me", name="logged.txt", mime_type="text/plain")


def test_the_file_log_is_newest_first_and_paged(owner, owner_client, stored):
    now = timezone.now()
    with tenant(owner.id):
        FileAccessLog.objects.bulk_create([
            FileAccessLog(file=stored, owner=owner, action="VIEW", ip_address="192.0.2.1", timestamp=now - timedelta(minutes=i + 1))
            for i in range(59)
        ])
        FileAccessLog.objects.create(file=stored, owner=owner, action="DOWNLOAD", timestamp=now)
    url = reverse("shares_owner:file_log", args=[stored.pk])
    first = owner_client.get(url).content.decode()
    rows = _rows(first)
    assert len(rows) == 50 and rows[0] == "DOWNLOAD"
    assert "Page 1 of 2" in first
    second = owner_client.get(url + "?page=2").content.decode()
    assert len(_rows(second)) == 10  # 59 views and the download: 60 rows
    assert owner_client.get(url + "?page=abc").status_code == 200
    assert owner_client.get(url + "?page=%00").status_code == 200


def test_the_link_log_has_its_visits_downloads_and_wrong_passwords(owner, owner_client, stored):
    created = shares.share_create(user=owner, file=stored, password="open sesame")
    other_link = shares.share_create(user=owner, file=stored)
    visitor = Client(REMOTE_ADDR="203.0.113.5")
    visitor.post(f"/s/{created.token}/", {"password": "nope nope"})
    visitor.post(f"/s/{created.token}/", {"password": "open sesame"})
    visitor.get(f"/s/{created.token}/")
    b"".join(visitor.get(f"/s/{created.token}/download/").streaming_content)
    signed_in = client_for(make_user("friend@example.com"))
    signed_in.get(f"/s/{other_link.token}/")
    page = owner_client.get(reverse("shares_owner:link_log", args=[created.share.pk])).content.decode()
    assert _rows(page) == ["DOWNLOAD", "VIEW", "DENIED", "SHARE"]
    assert "Wrong password" in page and "203.0.113.5" in page and "A visitor" in page
    assert "friend@example.com" not in page
    other_page = owner_client.get(reverse("shares_owner:link_log", args=[other_link.share.pk])).content.decode()
    assert _rows(other_page) == ["VIEW", "SHARE"] and "friend@example.com" in other_page
    file_page = owner_client.get(reverse("shares_owner:file_log", args=[stored.pk])).content.decode()
    assert _rows(file_page).count("VIEW") == 2 and "a share link" in file_page
