"""Twenty concurrent downloads through one link with max_downloads=5 serve exactly five, on the
real server (gunicorn, threaded workers): the counter is taken atomically, never overshot."""

from __future__ import annotations

import threading

import httpx
import pytest
from django.conf import settings

from core.tenancy import tenant
from storage import services, shares
from storage.models import FileAccessLog, FileShare
from testutils.liveserver import gunicorn
from testutils.testing import make_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CLIENTS = 20
LIMIT = 5


def test_twenty_concurrent_downloads_through_a_link_with_five_serve_exactly_five():
    owner = make_user("sharer@example.com")
    content = bytes(range(256)) * 8192  # 2 MiB, so the downloads overlap
    file = services.file_store(user=owner, content=content, name="video.bin", mime_type="application/octet-stream")
    created = shares.share_create(user=owner, file=file, max_downloads=LIMIT)
    results: list[tuple[int, bytes]] = []
    start = threading.Barrier(CLIENTS)

    with gunicorn(database=settings.DATABASES["default"]["NAME"]) as url:
        def download():
            with httpx.Client(base_url=url, timeout=60) as http:
                start.wait()
                response = http.get(f"/s/{created.token}/download/")
                results.append((response.status_code, response.content))

        threads = [threading.Thread(target=download) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    statuses = sorted(status for status, _body in results)
    assert len(results) == CLIENTS
    assert statuses == [200] * LIMIT + [410] * (CLIENTS - LIMIT)
    assert all(body == content for status, body in results if status == 200)
    with tenant(owner.id):
        assert FileShare.objects.get(pk=created.share.pk).download_count == LIMIT
        assert FileAccessLog.objects.filter(share=created.share, action="DOWNLOAD").count() == LIMIT
