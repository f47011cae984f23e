"""Per-person rate limits (issue 14): posting messages, uploads, URL fetches, share downloads.

Past the limit: 429, Retry-After, a message naming the limit and the wait; nothing stored; other
people are not affected; the next window allows again.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from chats.models import Message
from core import ratelimit
from core.tenancy import tenant
from rag.models import RagDocument
from storage import services as storage_services
from storage import shares
from testutils import factories
from testutils.testing import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

TEXT = "Water the tomatoes every morning before nine. " * 10


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_messages_past_the_limit_are_refused_with_the_wait_and_not_stored(settings):
    settings.RATE_LIMITS = {"messages": "2/60"}
    user, other = make_user("fast@example.com"), make_user("calm@example.com")
    with tenant(user.id):
        conversation = factories.conversation(user)
    client = _client(user)
    url = reverse("chats:message_create", args=[conversation.id])
    for text in ("one", "two"):
        assert client.post(url, {"content": text}).status_code == 302
    refused = client.post(url, {"content": "three"})
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Slow down: at most 2 messages every 1 minute" in page and "Try again in" in page
    with tenant(user.id):
        assert not Message.objects.filter(conversation=conversation, content="three").exists()
    json_refused = client.post(url, {"content": "four"}, headers={"Accept": "application/json"})
    assert json_refused.status_code == 429 and "Slow down" in json_refused.json()["errors"][0]
    # Another person is not slowed down by the first one.
    with tenant(other.id):
        theirs = factories.conversation(other)
    assert _client(other).post(reverse("chats:message_create", args=[theirs.id]), {"content": "hi"}).status_code == 302


def test_a_new_window_allows_again():
    assert ratelimit.hit("url_fetches", "u:x", now=1_000.0) == 0
    for _ in range(ratelimit.rate_for("url_fetches").count - 1):
        assert ratelimit.hit("url_fetches", "u:x", now=1_000.0) == 0
    assert ratelimit.hit("url_fetches", "u:x", now=1_000.0) > 0
    assert ratelimit.hit("url_fetches", "u:x", now=1_000.0 + 600) == 0


def test_documents_and_file_uploads_past_the_limit_are_refused(settings):
    settings.RATE_LIMITS = {"uploads": "1/600", "url_fetches": "0/60"}
    user = make_user("uploader@example.com")
    client = _client(user)
    assert client.post(reverse("rag:add_text"), {"title": "One", "text": TEXT}).status_code == 302
    refused = client.post(reverse("rag:add_text"), {"title": "Two", "text": TEXT})
    assert refused.status_code == 429 and "at most 1 upload every 10 minutes" in refused.content.decode()
    with tenant(user.id):
        assert list(RagDocument.objects.values_list("title", flat=True)) == ["One"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = client.post(reverse("storage:upload"), {"files": SimpleUploadedFile("a.txt", b"hello")},
                         headers={"Accept": "application/json"})
    assert upload.status_code == 429 and upload.json()["errors"] and "Retry-After" in upload


def test_url_fetches_have_their_own_limit(settings):
    settings.RATE_LIMITS = {"url_fetches": "1/600"}
    client = _client(make_user("fetcher@example.com"))
    client.post(reverse("rag:add_url"), {"url": "https://example.com/a"})  # whatever becomes of it
    refused = client.post(reverse("rag:add_url"), {"url": "https://example.com/b"})
    assert refused.status_code == 429 and "at most 1 address fetched every 10 minutes" in refused.content.decode()


def test_share_downloads_are_limited_per_link_and_address(settings):
    settings.RATE_LIMITS = {"share_downloads": "2/600"}
    owner = make_user("sharer@example.com")
    with tenant(owner.id):
        stored = storage_services.file_store(user=owner, content=b"report", name="r.txt", mime_type="text/plain")
    token = shares.share_create(user=owner, file=stored).token
    visitor = Client()
    url = reverse("shares:download", args=[token])
    assert [visitor.get(url).status_code for _ in range(2)] == [200, 200]
    refused = visitor.get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert Client(REMOTE_ADDR="203.0.113.9").get(url).status_code == 200  # another address


def test_a_counted_request_is_one_redis_round_trip_and_its_window_expires(monkeypatch):
    """core.ratelimit counts with one script (INCR, and the window's expiry on the first count),
    not Django's add then incr (three round trips)."""
    import redis.connection
    from django.core.cache import cache

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, *args, **kwargs):
        sent.append(command)
        return original(self, command, *args, **kwargs)

    ratelimit.hit("uploads", "u:round-trips", now=5_000.0)  # loads the script
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    for _ in range(3):
        ratelimit.hit("uploads", "u:round-trips", now=5_000.0)
    assert len(sent) == 3
    key = cache.make_and_validate_key(f"rl:uploads:u:round-trips:{int(5_000 // 600)}")
    client = cache._cache.get_client(write=True)
    assert int(client.get(key)) == 4
    assert 0 < client.ttl(key) <= 601  # the window's length and a second


def test_a_window_key_left_without_an_expiry_gets_one():
    from django.core.cache import cache

    key = cache.make_and_validate_key(f"rl:uploads:u:no-ttl:{int(9_000 // 600)}")
    client = cache._cache.get_client(write=True)
    client.set(key, 5)  # as a key written without a ttl would be
    assert ratelimit.hit("uploads", "u:no-ttl", now=9_000.0) == 0
    assert int(client.get(key)) == 6 and 0 < client.ttl(key) <= 601
