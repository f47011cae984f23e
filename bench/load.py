"""Load: many people at once over the main pages, chat turns streamed, small documents added.

    .venv/bin/python bench/load.py [--users 50] [--seconds 120] [--workers 2] [--threads 32]

The real stack: gunicorn (config/gunicorn.py, threaded workers), a Celery worker for indexing,
PostgreSQL and Redis, and a fake OpenAI server on 127.0.0.1 streaming each answer at a realistic
pace (40 pieces, 25 ms apart: about a second per answer). Locust (as a library) runs ``--users``
people, each signed in as their own account with their own data (25 conversations, one of 200
messages; 20 documents; 40 files; 200 transactions; 60 measurements). Each person mostly reads
pages, sometimes asks a question and reads the streamed answer to its end, sometimes adds a small
document. Printed: p50/p95/p99 per endpoint, requests/s, errors, streams dropped, and /healthz as
the baseline of the same run. Aims: p95 < 200 ms on pages, 0 errors, no stream dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

PASSWORD = "load-bench-password-2026"
REPLY = " ".join(f"word{i}" for i in range(40))


# --- 1. data (a child process: plain threads and psycopg, no gevent) -------------------------------

def prepare(users: int) -> dict:
    import datetime as dt
    from decimal import Decimal

    from _setup import scratch_database

    _plan, database = scratch_database("load_bench")
    from django.utils import timezone

    from chats.models import Message
    from core.tenancy import tenant
    from finance import services as finance
    from finance.models import Transaction
    from health import services as health
    from health.models import HealthMeasurement
    from rag.models import RagDocument, Source, Status
    from testutils import factories
    from testutils.testing import make_user

    people = []
    started = time.monotonic()
    for i in range(users):
        user = make_user(f"load{i}@example.com", password=PASSWORD, tier="ENTERPRISE")
        with tenant(user.id):
            agent = factories.agent(user, model="gpt-4o-mini", name=f"Guide {i}")
            session = factories.chat_session(user)
            conversations = [factories.conversation(user, session=session, agent_=agent) for _ in range(25)]
            long = conversations[0]
            Message.objects.bulk_create([
                Message(conversation=long, user=user, role="user" if n % 2 == 0 else "assistant",
                        content=f"Message {n}: " + "a line of text about the garden. " * 6,
                        metadata={} if n % 2 == 0 else {"status": "complete"})
                for n in range(200)
            ])
            RagDocument.objects.bulk_create([
                RagDocument(user=user, title=f"Document {n}", source=Source.PASTE, status=Status.INDEXED, content="text")
                for n in range(20)
            ])
            for _ in range(40):
                factories.storage_file(user)
        profile = finance.profile_for(user)
        account = finance.account_create(profile, name="Checking", type="CHECKING", currency=profile.currency)
        with tenant(user.id):
            today = dt.date.today()
            Transaction.objects.bulk_create([
                Transaction(financial_profile=profile, user=user, account=account, currency=account.currency, type="expense",
                            date=today - dt.timedelta(days=n), amount=Decimal("12.50"), description=f"Groceries {n}",
                            category="food")
                for n in range(200)
            ])
        with tenant(user.id):
            hp = health.profile_ensure(user)
            HealthMeasurement.objects.bulk_create([
                HealthMeasurement(health_profile=hp, user=user, type="WEIGHT", value={"kg": 70 + n / 10},
                                  measured_at=timezone.now() - dt.timedelta(days=n))
                for n in range(60)
            ])
        people.append({"email": user.email, "conversation": str(long.id), "agent": agent.slug})
    print(f"data for {users} people in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return {"database": database, "people": people}


# --- 2. the load (this process: gevent, through Locust) ----------------------------------------------

def run_load(config: dict, *, users: int, seconds: int, workers: int, threads: int) -> None:
    import gevent
    from locust import HttpUser, between, events, task
    from locust.env import Environment
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    from testutils.fakes.openai import FakeOpenAI, Script
    from testutils.fakes.server import FakeServer
    from testutils.liveserver import gunicorn
    from testutils.services import celery_worker

    people = iter(config["people"])
    streams = {"ok": 0, "dropped": 0}
    resent = {"count": 0}

    class ResendOnce(Retry):
        """A GET whose reused keep-alive connection the server had just closed (gunicorn keeps an idle
        one 2 s; a person here waits 0.5-2 s between requests) is sent once more on a new connection,
        as browsers do; counted and printed, never hidden. Responses are never retried."""

        def increment(self, *args, **kwargs):
            resent["count"] += 1
            return super().increment(*args, **kwargs)

    class Person(HttpUser):
        wait_time = between(0.5, 2.0)

        def on_start(self):
            retry = ResendOnce(total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET"},
                               raise_on_status=False, respect_retry_after_header=False)
            self.client.mount("http://", HTTPAdapter(max_retries=retry))
            me = next(people)
            self.conversation = me["conversation"]
            # Each person from an address of their own (behind one trusted proxy), as real visitors:
            # the per-address sign-in limit must not count fifty people as one.
            self.client.headers["X-Forwarded-For"] = f"198.51.100.{config['people'].index(me) + 1}"
            page = self.client.get("/accounts/login/", name="login form")
            token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
            self.client.post("/accounts/login/", {"csrfmiddlewaretoken": token, "login": me["email"], "password": PASSWORD},
                             headers={"Referer": self.host + "/accounts/login/"}, name="login", allow_redirects=False)
            self.csrf = self.client.cookies.get("csrftoken", "")

        def _get(self, path, name):
            with self.client.get(path, name=name, catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}")

        @task(4)
        def home(self):
            self._get("/", "home")

        @task(4)
        def conversations(self):
            self._get("/chat/", "conversation list")

        @task(3)
        def long_conversation(self):
            self._get(f"/chat/{self.conversation}/", "200-message conversation")

        @task(3)
        def documents(self):
            self._get("/documents/", "documents")

        @task(3)
        def files(self):
            self._get("/files/", "files")

        @task(3)
        def transactions(self):
            self._get("/finance/transactions/", "finance transactions")

        @task(3)
        def health(self):
            self._get("/health/", "health overview")

        @task(2)
        def usage(self):
            self._get("/usage/", "usage")

        @task(4)
        def healthz(self):
            self._get("/healthz", "/healthz (baseline)")

        @task(2)
        def ask(self):
            headers = {"Accept": "application/json", "X-CSRFToken": self.csrf, "Referer": self.host + "/"}
            response = self.client.post(f"/chat/{self.conversation}/messages/", {"content": "How should I water tomatoes?"},
                                        headers=headers, name="post a message")
            if response.status_code != 200:
                streams["dropped"] += 1
                return
            stream_url = response.json()["stream_url"]
            started = time.perf_counter()
            with self.client.get(stream_url, name="answer stream (headers)", stream=True, catch_response=True) as streamed:
                body = b"".join(streamed.iter_content(chunk_size=None))
                complete = b"event: done" in body
                if not complete:
                    streamed.failure("stream ended without its done event")
            streams["ok" if complete else "dropped"] += 1
            events.request.fire(request_type="SSE", name="answer stream (to the end)", response_time=(time.perf_counter() - started) * 1000,
                                response_length=len(body), exception=None if complete else RuntimeError("dropped"), context={})

        @task(1)
        def add_document(self):
            headers = {"X-CSRFToken": self.csrf, "Referer": self.host + "/documents/"}
            with self.client.post("/documents/add/text/", {"title": "Note", "text": "Water the tomatoes at dawn. " * 20},
                                  headers=headers, name="add a document", allow_redirects=False, catch_response=True) as response:
                if response.status_code != 302:
                    response.failure(f"{response.status_code}")

    env_vars = {
        "CELERY_TASK_ALWAYS_EAGER": "0", "OPENAI_API_KEY": "sk-load",
        "RATE_LIMIT_MESSAGES": "0/60", "RATE_LIMIT_UPLOADS": "0/60",
        "WEB_WARMUP": "1", "TRUSTED_PROXY_COUNT": "1",
    }
    from django.conf import settings

    redis_url = settings.REDIS_URL
    broker = settings.CELERY_BROKER_URL
    with FakeServer(FakeOpenAI, script=Script(reply=REPLY, delay=0.025)) as fake:
        env_vars["OPENAI_BASE_URL"] = fake.url + "/v1"
        with celery_worker(database=config["database"], broker_url=broker, redis_url=redis_url, env=env_vars), \
                gunicorn(database=config["database"], env={**env_vars, "CELERY_BROKER_URL": broker, "REDIS_URL": redis_url},
                         workers=workers, threads=threads) as url:
            environment = Environment(user_classes=[Person], host=url, events=events)
            runner = environment.create_local_runner()
            runner.start(users, spawn_rate=max(users / 10, 1))
            gevent.spawn_later(seconds, runner.quit)
            started = time.monotonic()
            runner.greenlet.join()
            elapsed = time.monotonic() - started
    report(environment.stats, streams, elapsed, users=users, workers=workers, threads=threads, resent=resent["count"])


def report(stats, streams: dict, elapsed: float, *, users: int, workers: int, threads: int, resent: int = 0) -> None:
    print(f"\n{users} people for {elapsed:.0f} s; gunicorn {workers} workers x {threads} threads, 1 Celery worker (2 processes)")
    print(f"{'endpoint':<30} {'requests':>8} {'errors':>6} {'p50':>7} {'p95':>7} {'p99':>7}")
    worst_page_p95 = 0.0
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        p50, p95, p99 = (entry.get_response_time_percentile(p) for p in (0.5, 0.95, 0.99))
        print(f"{entry.name:<30} {entry.num_requests:>8} {entry.num_failures:>6} {p50:>5.0f}ms {p95:>5.0f}ms {p99:>5.0f}ms")
        if entry.name not in ("answer stream (to the end)", "answer stream (headers)", "post a message", "add a document",
                              "login", "login form", "/healthz (baseline)"):
            worst_page_p95 = max(worst_page_p95, p95)
    for error in stats.errors.values():
        print(f"  error: {error.method} {error.name}: {error.error} x{error.occurrences}")
    total = stats.total
    print(f"total: {total.num_requests} requests, {total.num_requests / elapsed:.1f} requests/s, {total.num_failures} errors")
    print(f"streams: {streams['ok']} read to their end, {streams['dropped']} dropped")
    print(f"GETs sent again on a new connection after the server closed an idle keep-alive one: {resent}")
    print(f"worst page p95 {worst_page_p95:.0f} ms   aim < 200 ms; errors aim 0; dropped streams aim 0")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        print(json.dumps(prepare(args.users)))
        return
    output = subprocess.run([sys.executable, __file__, "--prepare", "--users", str(args.users)], check=True,
                            capture_output=True, text=True, env={**os.environ})
    config = json.loads(output.stdout.strip().splitlines()[-1])
    print(next(line for line in output.stderr.splitlines() if line.startswith("data for")))
    from gevent import monkey  # Locust's cooperative sockets, before anything opens one

    monkey.patch_all()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_ENV", "test")
    import django

    django.setup()
    run_load(config, users=args.users, seconds=args.seconds, workers=args.workers, threads=args.threads)


if __name__ == "__main__":
    main()
