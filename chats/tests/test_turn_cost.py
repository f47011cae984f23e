"""What one chat turn costs the database and Redis, and the shortcuts that keep it small: a fixed
number of queries and Redis round trips per turn (posting the question, streaming its answer),
however long the conversation, in a test's transaction and as served (the answer written by a
runner thread); the claim under the question's lock reading the database only when the
question's events end with a ``done``; the reservation of a runner thread as a transaction of its
own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chats import events as chat_events
from chats import generation, streaming
from chats.models import Message
from core.tenancy import tenant
from metrics import limits as metering
from metrics.models import MonthlyUsage, UsageLog
from metrics.plans import utc_month

from .conftest import consume, events

pytestmark = pytest.mark.django_db

# In a test's transaction the answer is written by the stream's own request (chats.generation):
# its savepoints are counted here, a runner thread's transactions are not. Raise these only for a
# reason the turn needs; the bench (bench/chat.py) counts the runner's side.
POST_QUERIES = 8
STREAM_QUERIES = 22
POST_REDIS = 1  # the rate limit's count (core.ratelimit: one script)
STREAM_REDIS = 4  # the claim, the reservation, the first words, the last words with done and the releases
# As served (no test transaction), over every thread: the statements the app sends through Django
# (BEGIN, COMMIT, ROLLBACK and the connection's health check are not among them, nor a
# transaction's tenant context, which goes with its first statement: core.db.base) and the Redis
# round trips (a pipeline or a script is one) besides the tail's waits (XREAD BLOCK: one per
# batch of events the writer publishes before the tail asks again, however the threads interleave).
SERVED_STATEMENTS = 7
# The post starts the answer once it commits (chats.generation.answer_on_commit): the runner claims
# the question, and the stream, whose URL says its post started the answer, waits for the runner's
# events without a claim of its own; the rate limit counts in one round trip (core.ratelimit).
SERVED_REDIS = 5


@pytest.fixture
def redis_round_trips(monkeypatch):
    """What is sent to Redis, one entry per round trip, from every thread."""
    import redis.connection

    sent = []
    original = redis.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.fixture
def statements_sent(monkeypatch):
    """The statements sent through Django's cursors, from every thread."""
    from django.db.backends import utils

    sent = []
    original = utils.CursorWrapper._execute

    def counting(self, sql, params, *ignored_wrapper_args):
        sent.append(sql)
        return original(self, sql, params, *ignored_wrapper_args)

    monkeypatch.setattr(utils.CursorWrapper, "_execute", counting)
    return sent


def _turn(client, conversation, content, redis=None):
    before = len(redis) if redis is not None else 0
    with CaptureQueriesContext(connection) as posted:
        data = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": content},
                           HTTP_ACCEPT="application/json").json()
    if redis is not None:
        assert len(redis) - before == POST_REDIS
    with CaptureQueriesContext(connection) as streamed:
        parsed = events(consume(client.get(data["stream_url"])))
    return parsed, len(posted), len(streamed)


@pytest.mark.django_db(transaction=True)
def test_a_turn_as_served_sends_a_fixed_number_of_statements_and_redis_round_trips(
        owner, owner_client, conversation, redis_round_trips, statements_sent):
    """The answer written by a runner thread, as in production, started by the post once it
    commits: its reservation, its answer and usage log (one round trip each with what goes with
    them), its final events with the release of the reservation and of the lock (one Redis
    transaction); the stream tails the runner without claiming the question or looking for the writer."""
    url = reverse("chats:message_create", args=[conversation.id])
    counts = []
    for number in range(3):  # the first loads the Redis scripts
        sql_before, redis_before = len(statements_sent), len(redis_round_trips)
        data = owner_client.post(url, {"content": f"Question {number}"}, HTTP_ACCEPT="application/json").json()
        parsed = events(consume(owner_client.get(data["stream_url"])))
        assert parsed[-1][0] == "done" and parsed[-1][1]["status"] == "complete"
        sent = [bytes(b"".join(c) if isinstance(c, list) else c) for c in redis_round_trips[redis_before:]]
        waits = [c for c in sent if c.startswith(b"*8\r\n$5\r\nXREAD\r\n$5\r\nBLOCK")]
        assert 1 <= len(waits) <= len([name for name, _data in parsed]), sent
        assert not [c for c in sent if b"XREAD" in c and b"EXISTS" in c]  # it never looked for its own writer
        assert data["stream_url"].endswith("?started=1")
        counts.append((len(statements_sent) - sql_before, len(sent) - len(waits)))
        assert metering.usage_turns_in_flight(user=owner) == 0
        assert not chat_events._client().exists(*streaming.lock_keys(data["message_id"]))  # lock and Stop freed
    assert counts[1:] == [(SERVED_STATEMENTS, SERVED_REDIS)] * 2, counts
    with tenant(owner.id):
        assert UsageLog.objects.filter(conversation=conversation, success=True).count() == 3
        assert MonthlyUsage.objects.get(user=owner).total_messages == 3


# The question's own response writing its answer (one request a turn, as static/js/chat.js asks):
# SERVED_STATEMENTS less the second request's two (its session, its stream's state); in Redis the
# rate limit, the claim, the reservation, the first words, the last words with done and the
# releases, and no wait for a writer (it is the writer).
ONE_REQUEST_STATEMENTS = 5
ONE_REQUEST_REDIS = 5


@pytest.mark.django_db(transaction=True)
def test_a_turn_in_one_request_as_served_writes_its_answer_itself_in_fixed_round_trips(
        owner, owner_client, conversation, redis_round_trips, statements_sent):
    url = reverse("chats:message_create", args=[conversation.id])
    counts = []
    for number in range(3):  # the first loads the Redis scripts
        sql_before, redis_before = len(statements_sent), len(redis_round_trips)
        response = owner_client.post(url, {"content": f"Question {number}"}, HTTP_ACCEPT="text/event-stream, application/json")
        parsed = events(consume(response))
        assert parsed[0][0] == "turn" and parsed[-1][0] == "done" and parsed[-1][1]["status"] == "complete"
        sent = [bytes(b"".join(c) if isinstance(c, list) else c) for c in redis_round_trips[redis_before:]]
        assert not [c for c in sent if b"XREAD" in c], sent  # nobody else wrote it: nothing to wait for
        counts.append((len(statements_sent) - sql_before, len(sent)))
        assert metering.usage_turns_in_flight(user=owner) == 0
        assert not chat_events._client().exists(*streaming.lock_keys(parsed[0][1]["message_id"]))  # lock and Stop freed
    assert counts[1:] == [(ONE_REQUEST_STATEMENTS, ONE_REQUEST_REDIS)] * 2, counts
    with tenant(owner.id):
        assert UsageLog.objects.filter(conversation=conversation, success=True).count() == 3
        assert MonthlyUsage.objects.get(user=owner).total_messages == 3
        assert Message.objects.filter(conversation=conversation, role="assistant").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_stream_whose_post_started_no_runner_claims_the_question_after_its_wait(
        owner, owner_client, conversation, redis_round_trips, monkeypatch):
    """The URL says the post started the answer, but no runner took it (none free, its claim
    failed): after ``STARTED_WAIT_MS`` without events the stream claims the question and the answer
    is written, once."""
    monkeypatch.setattr(generation, "answer_on_commit", lambda **kwargs: None)
    monkeypatch.setattr(generation, "STARTED_WAIT_MS", 50)
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "Anyone there?"},
                             HTTP_ACCEPT="application/json").json()
    before = len(redis_round_trips)
    parsed = events(consume(owner_client.get(data["stream_url"])))
    assert parsed[-1][0] == "done" and parsed[-1][1]["status"] == "complete"
    sent = [bytes(b"".join(c) if isinstance(c, list) else c) for c in redis_round_trips[before:]]
    assert sent[0].startswith(b"*8\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$2\r\n50\r\n")  # the wait, then the claim
    assert any(b"EVALSHA" in c or b"EVAL" in c for c in sent[1:2]), sent
    with tenant(owner.id):
        assert Message.objects.filter(conversation=conversation, role="assistant").count() == 1


def test_a_turn_runs_a_fixed_number_of_queries_however_long_the_conversation(owner, owner_client, conversation, redis_round_trips):
    _turn(owner_client, conversation, "A first question loads the Redis scripts")
    counts = []
    for number in range(3):
        before = len(redis_round_trips)
        parsed, posted, streamed = _turn(owner_client, conversation, f"Question number {number} about the weather",
                                         redis=redis_round_trips)
        assert parsed[-1][0] == "done" and parsed[-1][1]["status"] == "complete"
        counts.append((posted, streamed, len(redis_round_trips) - before))
    assert counts == [(POST_QUERIES, STREAM_QUERIES, POST_REDIS + STREAM_REDIS)] * 3, counts
    with tenant(owner.id):  # four turns
        assert Message.objects.filter(conversation=conversation, role="assistant").count() == 4
        assert UsageLog.objects.filter(conversation=conversation, success=True).count() == 4
        assert MonthlyUsage.objects.get(user=owner).total_messages == 4
    assert metering.usage_turns_in_flight(user=owner) == 0


def _question(owner, conversation, content="What should I pack for the mountains?"):
    with tenant(owner.id):
        return Message.objects.create(conversation=conversation, user=owner, role="user", content=content)


def test_an_answer_finished_after_the_streams_look_is_not_written_again(owner, conversation):
    question = _question(owner, conversation)
    with tenant(owner.id):
        stale = generation.question_state(user=owner, conversation_id=conversation.id, user_message_id=question.id)
    assert stale[2] is None  # the stream looked: no answer yet
    first = events(b"".join(generation.reply_events(
        user=owner, conversation_id=conversation.id, user_message_id=question.id)).decode())
    assert first[-1][0] == "done"
    # A second stream that looked before the first one finished: the question's events end with
    # ``done``, so the claim asks the database, finds the answer and tails the events instead.
    second = events(b"".join(generation.reply_events(
        user=owner, conversation_id=conversation.id, user_message_id=question.id, state=stale)).decode())
    assert second[-1][0] == "done" and second[-1][1]["message_id"] == first[-1][1]["message_id"]
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant").count() == 1
        assert UsageLog.objects.filter(user=owner).count() == 1


def test_a_regenerated_answer_is_written_although_the_earlier_one_ended_with_done(owner, owner_client, conversation):
    from chats import services

    question = _question(owner, conversation)
    url = reverse("chats:reply_stream", args=[conversation.id, question.id])
    assert events(consume(owner_client.get(url)))[-1][0] == "done"
    assert chat_events.events_finished(question.id)  # the earlier answer's events end with done
    services.reply_regenerate(user=owner, conversation=conversation)
    again = events(consume(owner_client.get(url)))
    assert [name for name, _data in again].count("done") == 1 and again[-1][1]["status"] == "complete"
    with tenant(owner.id):
        answers = list(Message.objects.filter(role="assistant").order_by("timestamp"))
    assert len(answers) == 2 and answers[0].metadata.get("superseded") and not answers[1].metadata.get("superseded")
    assert again[-1][1]["message_id"] == str(answers[1].id)


@pytest.mark.django_db(transaction=True)
def test_a_runners_reservation_is_a_transaction_of_its_own_that_leaves_nothing_but_a_refusals_mark(owner, settings):
    """Outside any transaction (a runner thread): the reservation's row lock and the month's row it
    created are rolled back; a refusal at the limit marks the month, and the mark is committed."""
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 2, "tokens": 1_000_000}}
    year, month = utc_month()
    assert not connection.in_atomic_block
    held = metering.usage_reserve_turn(user=owner, tokens=12)
    with tenant(owner.id):
        assert not MonthlyUsage.objects.filter(user=owner).exists()  # created for the lock, rolled back
    metering.usage_release_turn(held)
    with tenant(owner.id):
        MonthlyUsage.objects.create(user=owner, year=year, month=month, total_messages=1)
    held = metering.usage_reserve_turn(user=owner)  # 1 used + this one: the limit
    with pytest.raises(metering.LimitExceeded):
        metering.usage_reserve_turn(user=owner)
    with tenant(owner.id):
        assert not MonthlyUsage.objects.get(user=owner).exceeded_limit  # a turn in flight is not a used one
        MonthlyUsage.objects.filter(user=owner).update(total_messages=2)
    with pytest.raises(metering.LimitExceeded) as refused:
        metering.usage_reserve_turn(user=owner)
    assert refused.value.used == 3 and refused.value.limit == 2
    with tenant(owner.id):
        row = MonthlyUsage.objects.get(user=owner)
    assert row.exceeded_limit and row.limit_messages == 2  # the mark outlives the refusal
    metering.usage_release_turn(held)
    assert metering.usage_turns_in_flight(user=owner) == 0


@pytest.mark.django_db(transaction=True)
def test_a_reservation_waiting_on_the_months_first_row_counts_it_once_committed(owner, settings):
    """The month's row is being created by another transaction (the first usage log of the
    month) while a turn is reserved: the reservation waits for it and, once it commits, counts
    what it holds (the one-statement lock sees no row then; the lock is asked again)."""
    import threading

    from django.db import connections

    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 2, "tokens": 1_000_000}}
    year, month = utc_month()
    inserted, commit, done = threading.Event(), threading.Event(), {}

    def first_log_of_the_month():
        try:
            with tenant(owner.id):
                MonthlyUsage.objects.create(user=owner, year=year, month=month, total_messages=1)
                inserted.set()
                commit.wait(10)
        finally:
            connections.close_all()

    def reserve():
        try:
            done["reservation"] = metering.usage_reserve_turn(user=owner)
        except Exception as exc:  # noqa: BLE001 - reported below
            done["error"] = exc
        finally:
            connections.close_all()

    writer = threading.Thread(target=first_log_of_the_month)
    writer.start()
    assert inserted.wait(10)
    reserver = threading.Thread(target=reserve)
    reserver.start()
    reserver.join(0.5)
    assert reserver.is_alive()  # waiting for the row being created
    commit.set()
    writer.join(10)
    reserver.join(10)
    assert "error" not in done, done.get("error")
    assert done["reservation"] is not None
    with pytest.raises(metering.LimitExceeded) as refused:  # 1 used (the row it waited for) + 1 in flight
        metering.usage_reserve_turn(user=owner)
    assert refused.value.used == 2
    metering.usage_release_turn(done["reservation"])
