"""Chat speed: our own time for a chat turn, the 500-message conversation page, and how soon a
browser shows its last message.

    .venv/bin/python bench/chat.py [--repeat 30]

1. Server time of one chat turn (POST the message and read its response, which streams the
   answer, to the last byte, as static/js/chat.js does), in-process through Django's test client,
   with a zero-delay fake provider so the model's own time is excluded. Median, next to a trivial
   view measured in the same run; and the turn's round trips to PostgreSQL and Redis (one turn,
   every thread). Beside it, the two-request turn (JSON post, then the stream's URL) that a
   browser without readable response bodies still makes.
2. Server time of the conversation page with 500 messages (median), same baseline: as it is
   opened again (its items from chats.page_cache) and with its items written anew (as after a
   change to the conversation).
3. Server CPU (this process, every thread) per streamed answer of 400 Markdown pieces ~2.5 ms
   apart: sanitised HTML snapshots (the default) against plain text deltas at the same rate, and
   against the old way (one plain delta per piece), in the same run.
4. In Chromium (Playwright, Debian's binary), against the real server (gunicorn): from navigation
   until the last of the 500 messages is visible, and from pressing Send until the first words of
   the answer are on screen (the built-in offline model, zero delay) — medians of several tries,
   next to the login page in the same browser.
Aims: a turn within 15 ms of our own time and 20x the trivial view (issue 15); the page under 100 ms of server time; visible in 0.3 s;
first words within 150 ms of Send; snapshots' CPU at most 1.5 x plain deltas.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import median, scratch_database


class ZeroDelayProvider:
    """Answers instantly with a fixed text: only our code is measured."""

    name = "bench"
    reply = ["This ", "is ", "a ", "fixed ", "answer ", "from ", "the ", "benchmark ", "provider. "] * 8

    def is_configured(self):
        return True

    def stream(self, *, model, messages, temperature, max_tokens, passages=None, cancel=None, timeout=None):
        from agents.providers import StreamEvent, Usage

        for piece in self.reply:
            yield StreamEvent(text=piece)
        yield StreamEvent(usage=Usage(input_tokens=120, output_tokens=len(self.reply)), finished=True)


class PacedProvider(ZeroDelayProvider):
    """A long Markdown answer, a piece every few milliseconds, as a real model streams it."""

    reply = (["## Section\n\n", "Some **bold** words and `code` "] + ["more text in the paragraph "] * 8
             + ["\n\n- a *point* ", "in a list\n", "- another one\n\n", "```python\n", "print('hi')\n", "```\n\n"]
             + ["| a | b |\n", "|---|---|\n", "| 1 | 2 |\n\n"]) * 20
    pause = 0.0025

    def stream(self, **kwargs):
        for event in super().stream(**kwargs):
            time.sleep(self.pause)
            yield event


def _cpu_per_answer(client, post_url, repeat):
    """Median process CPU (ms, all threads) for one paced answer, posted and streamed to the end."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        data = client.post(post_url, {"content": "Write the long report"}, HTTP_ACCEPT="application/json").json()
        body = b"".join(client.get(data["stream_url"]).streaming_content)
        samples.append((time.process_time() - started) * 1000)
        assert b'"status": "complete"' in body
    return median(samples)


def _round_trips(fn) -> tuple[int, int]:
    """(PostgreSQL, Redis) round trips of one call of ``fn``, over every thread: each statement,
    BEGIN, COMMIT and ROLLBACK psycopg sends; each command, pipeline or script redis-py sends.
    Counted once, apart from the timed rounds (the counting wraps the drivers)."""
    import threading

    import psycopg
    import redis.connection

    counts, lock = {"pg": 0, "redis": 0}, threading.Lock()
    idle = psycopg.pq.TransactionStatus.IDLE

    def note(kind):
        with lock:
            counts[kind] += 1

    execute, commit, rollback = psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback
    send = redis.connection.AbstractConnection.send_packed_command

    def counted_execute(self, *args, **kwargs):
        if not self.connection.autocommit and self.connection.info.transaction_status == idle:
            note("pg")  # the BEGIN psycopg sends first
        note("pg")
        return execute(self, *args, **kwargs)

    def ending(original):
        def counted(self):
            if self.info.transaction_status != idle:
                note("pg")
            return original(self)
        return counted

    def counted_send(self, *args, **kwargs):
        note("redis")
        return send(self, *args, **kwargs)

    psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback = counted_execute, ending(commit), ending(rollback)
    redis.connection.AbstractConnection.send_packed_command = counted_send
    try:
        fn()
        time.sleep(0.2)  # the runner thread's last steps
    finally:
        psycopg.Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback = execute, commit, rollback
        redis.connection.AbstractConnection.send_packed_command = send
    return counts["pg"], counts["redis"]


def _timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--loads", type=int, default=7, help="browser page loads")
    parser.add_argument("--server-only", action="store_true", help="parts 1 and 2 only (no CPU part, no browser)")
    args = parser.parse_args()
    plan, name = scratch_database("bench")
    from django.conf import settings

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "messages": "0/60"}  # a benchmark asks hundreds of questions a minute

    from django.test import Client
    from django.urls import reverse

    import chats.streaming as streaming
    from chats.models import Message
    from config import bootstrap
    from core.tenancy import tenant
    from testutils import factories
    from testutils.testing import PASSWORD, client_for, make_user

    try:
        user = make_user("bench@example.com", tier="ENTERPRISE")
        agent = factories.agent(user, is_public=True)
        with tenant(user.id):
            turn_conversation = factories.conversation(user, agent_=agent)
            page_conversation = factories.conversation(user, agent_=agent)
            Message.objects.bulk_create([
                Message(conversation=page_conversation, user=user, role="user" if i % 2 == 0 else "assistant",
                        content=f"Message {i}: " + "some words about the plan " * 8,
                        metadata={"html": f"<p>Message {i}: " + "some <strong>words</strong> about the plan " * 8 + "</p>", "status": "complete"})
                for i in range(500)
            ])
        client = client_for(user)
        trivial = Client()

        def trivial_view():
            assert trivial.get("/healthz").status_code == 200

        streaming.provider_for_model = lambda model_id: ZeroDelayProvider()
        post_url = reverse("chats:message_create", args=[turn_conversation.id])

        def chat_turn():
            response = client.post(post_url, {"content": "What is next on the plan?"}, HTTP_ACCEPT="text/event-stream, application/json")
            body = b"".join(response.streaming_content)
            assert body.startswith(b"event: turn") and b'"status": "complete"' in body

        def chat_turn_two_requests():
            data = client.post(post_url, {"content": "What is next on the plan?"}, HTTP_ACCEPT="application/json").json()
            body = b"".join(client.get(data["stream_url"]).streaming_content)
            assert b'"status": "complete"' in body

        page_url = reverse("chats:detail", args=[page_conversation.id])

        def conversation_page():
            assert client.get(page_url).status_code == 200

        from chats import page_cache

        kept_items = page_cache.items_get

        def conversation_page_cold():  # the items written again, as after any change to the conversation
            page_cache.items_get = lambda key: None
            try:
                conversation_page()
            finally:
                page_cache.items_get = kept_items

        for fn in (trivial_view, chat_turn, chat_turn_two_requests, conversation_page, conversation_page_cold):  # warm up caches, connections, templates
            fn()
        pg_trips, redis_trips = _round_trips(chat_turn)
        baseline = _timed(trivial_view, args.repeat)
        turn = _timed(chat_turn, args.repeat)
        turn_two = _timed(chat_turn_two_requests, args.repeat)
        page = _timed(conversation_page, args.repeat)
        page_cold = _timed(conversation_page_cold, args.repeat)
        print(f"\nserver time, median of {args.repeat} (in-process, zero-delay provider)")
        print(f"  trivial view (/healthz)          {baseline:7.2f} ms")
        print(f"  one chat turn (one request)      {turn:7.2f} ms   {turn / baseline:6.1f}x trivial   aim <= 15 ms, <= 20x")
        print(f"    its round trips (every thread): PostgreSQL {pg_trips}, Redis {redis_trips}")
        print(f"  the same in two requests         {turn_two:7.2f} ms   {turn_two / baseline:6.1f}x trivial   (JSON post, then the stream)")
        print(f"  conversation page, 500 messages  {page:7.2f} ms   {page / baseline:6.1f}x trivial   aim < 100 ms")
        print(f"    the same, its items not cached {page_cold:7.2f} ms   {page_cold / baseline:6.1f}x trivial   (after a change)")

        if args.server_only:
            return
        from django.conf import settings

        streaming.provider_for_model = lambda model_id: PacedProvider()
        with tenant(user.id):
            cpu_conversation = factories.conversation(user, agent_=agent)
        cpu_url = reverse("chats:message_create", args=[cpu_conversation.id])
        cpu_repeat = max(3, args.repeat // 5)
        settings.CHAT_STREAM_SNAPSHOTS = True
        snapshot_cpu = _cpu_per_answer(client, cpu_url, cpu_repeat)
        settings.CHAT_STREAM_SNAPSHOTS = False
        plain_cpu = _cpu_per_answer(client, cpu_url, cpu_repeat)
        interval, settings.CHAT_STREAM_INTERVAL_MS = settings.CHAT_STREAM_INTERVAL_MS, 0
        per_piece_cpu = _cpu_per_answer(client, cpu_url, cpu_repeat)
        settings.CHAT_STREAM_INTERVAL_MS, settings.CHAT_STREAM_SNAPSHOTS = interval, True
        pieces = len(PacedProvider.reply)
        print(f"\nserver CPU per streamed answer ({pieces} pieces, ~{PacedProvider.pause * 1000:.1f} ms apart), median of {cpu_repeat}")
        print(f"  plain deltas, one per piece (before) {per_piece_cpu:7.1f} ms")
        print(f"  plain deltas every {interval} ms          {plain_cpu:7.1f} ms")
        print(f"  HTML snapshots every {interval} ms        {snapshot_cpu:7.1f} ms   {snapshot_cpu / plain_cpu:5.2f}x plain deltas   aim <= 1.5x")

        offline_agent = factories.agent(user, is_public=True, model="offline", name="Offline")
        with tenant(user.id):
            first_token_conversation = factories.conversation(user, agent_=offline_agent)
        first_token_url = reverse("chats:detail", args=[first_token_conversation.id])
        _browser_measure(name, user.email, PASSWORD, page_url, args.loads, first_token_url)
    finally:
        from django.db import connections

        connections.close_all()
        bootstrap.drop_database(plan, name)


def _browser_measure(database, email, password, page_url, loads, first_token_url):
    from testutils.browser import LAUNCH_ARGS, chromium_path
    from testutils.liveserver import gunicorn

    path = chromium_path()
    if path is None:
        print("\nbrowser: skipped (no chromium; apt-get install chromium)")
        return
    from playwright.sync_api import sync_playwright

    with gunicorn(database=database, env={"RATE_LIMIT_MESSAGES": "0/60"}) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(base_url=url)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{url}/")

        def visible_last_message():
            started = time.perf_counter()
            page.goto(page_url, wait_until="commit")
            page.locator("#messages > li.msg").nth(499).wait_for(state="visible")
            return (time.perf_counter() - started) * 1000

        def login_page():
            started = time.perf_counter()
            page.goto("/accounts/password/reset/", wait_until="load")
            return (time.perf_counter() - started) * 1000

        def first_visible_words():
            page.goto(first_token_url)
            page.get_by_role("textbox", name="Message").fill("How do I plan my week?")
            answers = page.locator(".msg-assistant .msg-body")
            before = answers.count()
            started = time.perf_counter()
            page.get_by_role("button", name="Send").click()
            page.wait_for_function(
                "n => { const a = document.querySelectorAll('.msg-assistant .msg-body'); return a.length > n && a[a.length - 1].innerText.trim().length > 0; }",
                arg=before, polling="raf")
            took = (time.perf_counter() - started) * 1000
            page.locator(".msg-assistant:not(.msg-streaming)").nth(before).wait_for()  # finished before the next try
            return took

        visible_last_message(), login_page(), first_visible_words()  # warm up
        chat_times = [visible_last_message() for _ in range(loads)]
        base_times = [login_page() for _ in range(loads)]
        token_times = [first_visible_words() for _ in range(loads)]
        browser.close()
    chat_ms, base_ms = statistics.median(chat_times), statistics.median(base_times)
    print(f"\nChromium, median of {loads} loads (real server: gunicorn, threaded workers)")
    print(f"  a small page (password reset), loaded        {base_ms:7.1f} ms")
    print(f"  500-message conversation, last one visible   {chat_ms:7.1f} ms   {chat_ms / base_ms:5.1f}x small page   aim < 300 ms")
    token_ms = statistics.median(token_times)
    print(f"  Send -> first words of the answer on screen  {token_ms:7.1f} ms   {token_ms / base_ms:5.1f}x small page   aim <= 150 ms")


if __name__ == "__main__":
    main()
