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

    with gunicorn(database=settings.DATABASES["default"]["NAME"], env={"OFFLINE_STREAM_DELAY": "0.1"}) as url:
        client = login(url, user.email, PASSWORD)
        cookies = dict(client.cookies)
        spans, statuses = [], []
        opened = threading.Semaphore(0)  # released by each stream at its first bytes

        def timed_pages(http):
            """Fetch the two probe pages once; their latencies."""
            timings = []
            for path in ("/healthz", "/accounts/login/"):
                started = time.monotonic()
                assert http.get(path).status_code == 200
                timings.append(time.monotonic() - started)
            return timings

        # Baseline on the same server, warm, before any stream: the machine's own speed, so the
        # bounds below hold on a slow or busy CI host as well as on a fast one.
        with httpx.Client(base_url=url, timeout=30) as anonymous:
            for _ in range(3):
                timed_pages(anonymous)
            baseline = [t for _ in range(5) for t in timed_pages(anonymous)]

        def stream(conversation_id, message_id):
            started = time.monotonic()
            with httpx.Client(base_url=url, cookies=cookies, timeout=60) as http:
                with http.stream("GET", f"/chat/{conversation_id}/messages/{message_id}/stream/") as response:
                    parts = []
                    for part in response.iter_text():
                        if not parts:
                            opened.release()
                        parts.append(part)
                    body = "".join(parts)
            spans.append((started, time.monotonic()))
            statuses.append('"status": "complete"' in body)

        threads = [threading.Thread(target=stream, args=item) for item in pending]
        for thread in threads:
            thread.start()
        latencies = []
        for _ in range(STREAMS):  # probe only once every stream is open and flowing
            assert opened.acquire(timeout=60)
        with httpx.Client(base_url=url, timeout=30) as anonymous:
            while any(t.is_alive() for t in threads):
                latencies.extend(timed_pages(anonymous))
                time.sleep(0.05)
        for thread in threads:
            thread.join()

    assert len(statuses) == STREAMS and all(statuses)
    # All twenty were open at the same time: the last to start began before the first to end.
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    assert len(latencies) >= 6  # at least three rounds of probes while the streams were open
    # Other pages kept answering: slower under twenty streams (they share the CPU, so on a busy
    # host they slow down with it), but never queued behind one: a page that waited for a free
    # thread would take as long as a stream.
    shortest_stream = min(end - start for start, end in spans)
    typical = max(0.2, 6 * statistics.median(baseline), shortest_stream / 10)
    assert statistics.median(latencies) < typical, (baseline, shortest_stream, latencies)
    assert max(latencies) < max(1.0, shortest_stream / 2), (shortest_stream, latencies)
