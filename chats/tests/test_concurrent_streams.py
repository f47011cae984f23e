"""Streaming does not block the site: 20 answers stream at once from the real server (gunicorn,
threaded workers) while other pages keep answering quickly."""

import statistics
import threading
import time

import httpx
import pytest
from django.conf import settings

from core import factories
from core.liveserver import gunicorn, login
from core.tenancy import tenant
from core.testing import PASSWORD, make_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

STREAMS = 20


def test_twenty_streams_while_other_pages_answer():
    user = make_user("streamer@example.com", tier="ENTERPRISE")
    agent = factories.agent(user, is_public=True)
    pending = []
    with tenant(user.id):
        for i in range(STREAMS):
            conversation = factories.conversation(user, agent_=agent)
            message = factories.message(user, conv=conversation, content=f"Tell me a long story number {i} about mountains")
            pending.append((conversation.id, message.id))

    with gunicorn(database=settings.DATABASES["default"]["NAME"], env={"OFFLINE_STREAM_DELAY": "0.03"}) as url:
        client = login(url, user.email, PASSWORD)
        cookies = dict(client.cookies)
        spans, statuses = [], []

        def stream(conversation_id, message_id):
            started = time.monotonic()
            with httpx.Client(base_url=url, cookies=cookies, timeout=60) as http:
                with http.stream("GET", f"/chat/{conversation_id}/messages/{message_id}/stream/") as response:
                    body = "".join(response.iter_text())
            spans.append((started, time.monotonic()))
            statuses.append('"status": "complete"' in body)

        threads = [threading.Thread(target=stream, args=item) for item in pending]
        for thread in threads:
            thread.start()
        latencies = []
        time.sleep(0.3)  # let every stream open
        with httpx.Client(base_url=url, timeout=10) as anonymous:
            while any(t.is_alive() for t in threads):
                for path in ("/healthz", "/accounts/login/"):
                    started = time.monotonic()
                    assert anonymous.get(path).status_code == 200
                    latencies.append(time.monotonic() - started)
                time.sleep(0.05)
        for thread in threads:
            thread.join()

    assert len(statuses) == STREAMS and all(statuses)
    # All twenty were open at the same time: the last to start began before the first to end.
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    assert len(latencies) >= 10
    assert max(latencies) < 1.0, latencies
    assert statistics.median(latencies) < 0.2
