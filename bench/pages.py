"""Every list and detail page of every domain at realistic sizes: server time and queries.

    .venv/bin/python bench/pages.py [--repeat 50] [--no-gunicorn] [--only NAME ...]

One person holds: 200 conversations (one of 500 messages), 500 documents, 1,000 files, 10,000
transactions, a year of measurements (two a day), 300 artifacts, 60 support tickets. Each page is
requested ``--repeat`` times in-process (Django's test client: the whole middleware stack, no
network) and through gunicorn (one worker, 4 threads); printed: median and p95, the ratio to the
trivial view (/healthz) measured in the same rounds (each round asks every page once, after ANALYZE
of the data), and the queries the page runs.
Aims (issue 15): every list page <= 10x the trivial view and <= 20 ms in-process.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import scratch_database


def _percentile(values, fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def build(user):
    """The data; returns {page name: path}."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from artifacts import services as artifacts
    from chats.models import Conversation, Message
    from core.tenancy import tenant
    from finance import services as finance
    from finance.models import Transaction
    from health import services as health
    from health.models import HealthMeasurement
    from rag.models import RagDocument, Source, Status
    from storage.models import StorageFile
    from support import services as support
    from testutils import factories

    started = time.monotonic()
    with tenant(user.id):
        agent = factories.agent(user, name="Garden guide")
        session = factories.chat_session(user)
        conversations = Conversation.objects.bulk_create([
            Conversation(chat_session=session, agent=agent, user=user, title=f"Conversation {n}") for n in range(200)
        ])
        long = conversations[0]
        Message.objects.bulk_create([
            Message(conversation=long, user=user, role="user" if n % 2 == 0 else "assistant",
                    content=f"Message {n}: " + "**Water** the tomatoes every morning, and `mulch` them. " * 4,
                    metadata={} if n % 2 == 0 else {"status": "complete"})
            for n in range(500)
        ])
        documents = RagDocument.objects.bulk_create([
            RagDocument(user=user, title=f"Document {n}", source=Source.PASTE, status=Status.INDEXED, content="Some text.")
            for n in range(500)
        ])
        StorageFile.objects.bulk_create([
            StorageFile(user=user, filename=f"file-{n}.txt", original_name=f"file-{n}.txt", storage_path=f"bench/{n}",
                        mime_type="application/octet-stream", size=100 + n, checksum=f"{n:064x}")
            for n in range(1000)
        ])
        file_id = StorageFile.objects.filter(user=user).values_list("id", flat=True).first()
    profile = finance.profile_for(user)
    account = finance.account_create(profile, name="Checking", type="CHECKING", currency=profile.currency)
    with tenant(user.id):
        today = dt.date.today()
        Transaction.objects.bulk_create([
            Transaction(financial_profile=profile, user=user, account=account, currency=account.currency, type="expense",
                        date=today - dt.timedelta(days=n % 365), amount=Decimal("12.50"), description=f"Groceries {n}",
                        category="food")
            for n in range(10_000)
        ])
        hp = health.profile_ensure(user)
        now = timezone.now()
        HealthMeasurement.objects.bulk_create([
            HealthMeasurement(health_profile=hp, user=user, type="WEIGHT" if n % 2 else "BLOOD_PRESSURE",
                              value={"kg": 70 + (n % 50) / 10} if n % 2 else {"systolic": 120, "diastolic": 80},
                              measured_at=now - dt.timedelta(hours=12 * n))
            for n in range(730)
        ])
    artifact = None
    for n in range(300):
        artifact = artifacts.artifact_create(user=user, agent=agent, name=f"snippet_{n}.py", type="CODE",
                                             content=f"def f{n}():\n    return {n}\n" * 5, conversation=long, language="python")
    ticket = None
    with tenant(user.id):  # as a request does (TenantMiddleware)
        for n in range(60):
            ticket = support.ticket_create(user=user, title=f"Question {n}", description="How do I export my data? " * 3)
    print(f"data built in {time.monotonic() - started:.0f} s")
    return {
        "trivial view (/healthz)": "/healthz",
        "home": "/",
        "conversation list": "/chat/",
        "conversation, 500 messages": f"/chat/{long.id}/",
        "agents": "/agents/",
        "documents": "/documents/",
        "document": f"/documents/{documents[0].id}/",
        "files": "/files/",
        "file": f"/files/{file_id}/",
        "artifacts": "/artifacts/",
        "artifact": f"/artifacts/{artifact.id}/",
        "finance overview": "/finance/",
        "transactions": "/finance/transactions/",
        "health overview": "/health/",
        "measurements": "/health/measurements/",
        "medications": "/health/medications/",
        "support tickets": "/support/",
        "support ticket": f"/support/{ticket.id}/",
        "usage": "/usage/",
    }


def measure_in_process(user, pages: dict, repeat: int) -> dict:
    """Round-robin: each round requests every page once, the trivial view among them, so on a shared
    machine the baseline meets the same load as the pages it is compared with."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    queries, times = {}, {name: [] for name in pages}
    for name, path in pages.items():
        for _ in range(3):  # warm: templates, connections, caches
            assert client.get(path).status_code == 200, (name, path)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries[name] = len(captured.captured_queries)  # now: the next request's request_started clears the log
    for _ in range(repeat):
        for name, path in pages.items():
            started = time.perf_counter()
            client.get(path)
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: (statistics.median(times[name]), _percentile(times[name], 0.95), queries[name]) for name in pages}


def measure_gunicorn(database: str, user, pages: dict, repeat: int) -> dict:
    from testutils.liveserver import gunicorn, login
    from testutils.testing import PASSWORD

    times = {name: [] for name in pages}
    with gunicorn(database=database, workers=1, threads=4) as url:
        client = login(url, user.email, PASSWORD)
        for name, path in pages.items():
            for _ in range(3):
                assert client.get(path).status_code == 200, (name, path)
        for _ in range(repeat):  # round-robin, as in-process
            for name, path in pages.items():
                started = time.perf_counter()
                client.get(path)
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: (statistics.median(times[name]), _percentile(times[name], 0.95)) for name in pages}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--no-gunicorn", action="store_true")
    parser.add_argument("--only", nargs="*", help="page names to measure (plus the trivial view)")
    args = parser.parse_args()
    _plan, database = scratch_database("pages_bench")
    from testutils.testing import make_user

    user = make_user("pages-bench@example.com", tier="ENTERPRISE")
    pages = build(user)
    from django.db import connections

    with connections["owner"].cursor() as cursor:  # the steady state: statistics of the data just loaded
        cursor.execute("ANALYZE")
    if args.only:
        pages = {k: v for k, v in pages.items() if k in args.only or k.startswith("trivial")}
    local = measure_in_process(user, pages, args.repeat)
    served = {} if args.no_gunicorn else measure_gunicorn(database, user, pages, args.repeat)
    base = local["trivial view (/healthz)"][0]
    served_base = served.get("trivial view (/healthz)", (1, 1))[0]
    print(f"\n{'page':<28} {'in-process':>10} {'p95':>7} {'x triv':>7} {'queries':>7}   {'gunicorn':>9} {'p95':>7} {'x triv':>7}")
    for name in pages:
        median, p95, queries = local[name]
        line = f"{name:<28} {median:8.1f}ms {p95:5.1f}ms {median / base:6.1f}x {queries:>7}"
        if served:
            s_median, s_p95 = served[name]
            line += f"   {s_median:7.1f}ms {s_p95:5.1f}ms {s_median / served_base:6.1f}x"
        print(line)
    print("aims: every list page <= 10x the trivial view and <= 20 ms in-process")


if __name__ == "__main__":
    main()
