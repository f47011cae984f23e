"""Background work under faults (issue 14), with a real Celery worker on a private Redis.

- Redis (broker and cache) stops while a person adds a document: the page answers, the document is
  kept "Queued"; once Redis is back the sweep sends its task again and the worker indexes it, once.
- The worker's process is killed (SIGKILL) in the middle of indexing: the task goes back to the
  queue (acks_late + reject_on_worker_lost), runs again, and the document ends with its chunks once.
"""

from __future__ import annotations

import os
import signal
import threading

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from config.celery import app as celery_app
from core.tenancy import tenant
from rag import tasks
from rag.models import RagChunk, RagDocument, Status
from testutils.fakes.openai import FakeOpenAI
from testutils.fakes.server import FakeServer
from testutils.services import PrivateRedis, celery_worker, child_pids, wait_until
from testutils.testing import make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.reliability, pytest.mark.timeout(120)]

TEXT = "# Garden guide\n\n## Watering\n\n" + "Water the tomatoes every morning before nine. " * 40 + \
    "\n\n## Pruning\n\n" + "Cut the side shoots of the tomato plants weekly. " * 40


@pytest.fixture
def private(settings):
    """Celery's app sends to a private Redis, for real (not eagerly), for this test only: its
    connection pools are set aside and put back untouched afterwards, so later tests (and the
    eager mode they rely on) find the app as it was."""
    server = PrivateRedis()
    server.start()
    saved = {"pool": celery_app._pool, "producers": celery_app.amqp._producer_pool,
             "broker_url": celery_app.conf.broker_url, "eager": celery_app.conf.task_always_eager}
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.conf.broker_url = server.broker_url()
    celery_app.conf.task_always_eager = False
    caches = {"default": {**settings.CACHES["default"], "LOCATION": server.url(0)}}
    try:
        with override_settings(CACHES=caches):
            yield server
    finally:
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
        celery_app._pool = saved["pool"]
        celery_app.amqp._producer_pool = saved["producers"]
        celery_app.conf.broker_url = saved["broker_url"]
        celery_app.conf.task_always_eager = saved["eager"]
        server.stop()


def _worker(server, **env):
    return celery_worker(database=settings.DATABASES["default"]["NAME"], broker_url=server.broker_url(),
                         redis_url=server.url(0), env=env)


def _document(user) -> RagDocument:
    with tenant(user.id):
        return RagDocument.objects.get(user=user)


def _chunks(user, document) -> list[int]:
    with tenant(user.id):
        return list(RagChunk.objects.filter(document_id=document.id).values_list("position", flat=True))


def test_a_document_added_while_redis_is_down_is_indexed_once_redis_is_back(private, settings):
    user = make_user("queued-redis@example.com")
    client = Client()
    client.force_login(user)
    private.stop()
    response = client.post(reverse("rag:add_text"), {"title": "Garden guide", "text": TEXT})
    assert response.status_code == 302  # kept, not a 500
    document = _document(user)
    assert document.status == Status.QUEUED

    private.start()
    settings.RAG_REQUEUE_AFTER_SECONDS = 0
    with _worker(private):
        assert tasks.requeue_queued_documents_task() == 1
        wait_until(lambda: _document(user).status == Status.INDEXED, message="the document indexed")
        assert tasks.requeue_queued_documents_task() == 0  # nothing left queued: nothing sent twice
    document = _document(user)
    positions = _chunks(user, document)
    assert len(positions) == document.chunk_count > 0 and len(set(positions)) == len(positions)


class HangingFirstEmbeddings(FakeOpenAI):
    """The first embeddings request hangs (the worker is killed meanwhile); later ones answer."""

    def send_embeddings(self, body):
        server = self.server
        with server.lock:
            server.calls += 1
            first = server.calls == 1
        if first:
            server.started.set()
            server.release.wait(30)
        super().send_embeddings(body)


def test_a_worker_killed_mid_indexing_runs_the_task_again_and_indexes_once(private):
    user = make_user("killed-worker@example.com")
    client = Client()
    client.force_login(user)
    state = {"lock": threading.Lock(), "calls": 0, "started": threading.Event(), "release": threading.Event()}
    with FakeServer(HangingFirstEmbeddings, **state) as fake:
        env = {"EMBEDDER": "openai", "OPENAI_BASE_URL": fake.url + "/v1", "OPENAI_API_KEY": "sk-test",
               "OPENAI_EMBEDDING_MODEL": "fake-embedding-model"}
        with _worker(private, **env) as worker:
            assert client.post(reverse("rag:add_text"), {"title": "Garden guide", "text": TEXT}).status_code == 302
            assert fake.httpd.started.wait(30), "indexing never reached the embedder"
            (child,) = child_pids(worker.pid)
            os.kill(child, signal.SIGKILL)  # mid-task: the embeddings request is still open
            wait_until(lambda: _document(user).status == Status.INDEXED, timeout=60, message="indexing after the kill")
            fake.httpd.release.set()
            log = open(worker.log_path).read()
    assert "WorkerLostError" in log or "SIGKILL" in log
    assert fake.httpd.calls >= 2  # the task ran again
    document = _document(user)
    positions = _chunks(user, document)
    assert len(positions) == document.chunk_count > 0 and len(set(positions)) == len(positions)


# 100 payments of 41 weekly occurrences: 4,100 transactions, about 27 s of job at the 150 a second
# of this 2-core machine (300 payments, 12,300 transactions, took 50 to 90 s and proved no more).
# The worker is killed right after the first payment commits, a fraction of a second in: the job
# would have to run a hundred times faster to finish first, and the assertion before the wait says
# so if it ever does. The 300 s bound is for a job that never finishes, not a speed test; a repeat
# still fails at once on the count below.
PAYMENTS = 100


@pytest.mark.timeout(420)
def test_a_worker_killed_in_the_middle_of_the_recurring_payments_job_creates_each_occurrence_once(private):
    import datetime as dt
    from decimal import Decimal

    from finance import services as finance
    from finance.models import FinancialAccount, RecurringPayment, Transaction

    user = make_user("recurring-kill@example.com")
    profile = finance.profile_for(user)
    account = finance.account_create(profile, name="Checking", type="CHECKING", currency=profile.currency)
    today = dt.date.today()
    start = today - dt.timedelta(weeks=40)
    with tenant(user.id):
        RecurringPayment.objects.bulk_create([
            RecurringPayment(financial_profile=profile, user=user, name=f"Subscription {n}", amount=Decimal("1.00"),
                             frequency="WEEKLY", next_due_date=start, start_date=start, auto_debit=True, account=account)
            for n in range(PAYMENTS)
        ])
    occurrences = sum(1 for weeks in range(41) if start + dt.timedelta(weeks=weeks) <= today)
    expected = PAYMENTS * occurrences

    def made() -> int:
        with tenant(user.id):
            return Transaction.objects.filter(recurring_payment__isnull=False).count()

    with _worker(private) as worker:
        celery_app.send_task("finance.run_recurring")
        wait_until(lambda: made() > 0, timeout=60, interval=0.05, message="the job to start")
        (child,) = child_pids(worker.pid)
        os.kill(child, signal.SIGKILL)  # in the middle: some payments caught up, most not
        assert made() < expected, "the job finished before it could be killed: make it longer"
        wait_until(lambda: made() >= expected, timeout=300, message="the job to run again and finish")
        log = open(worker.log_path).read()
    assert "WorkerLostError" in log or "SIGKILL" in log
    with tenant(user.id):
        assert Transaction.objects.filter(recurring_payment__isnull=False).count() == expected
        assert not RecurringPayment.objects.filter(next_due_date__lte=today).exists()
        assert FinancialAccount.objects.get(pk=account.pk).balance == account.opening_balance - Decimal(expected)
