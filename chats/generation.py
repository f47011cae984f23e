"""Answers written apart from the browser: the request that asks (or a runner thread) writes and
publishes each event, SSE connections tail.

A question posted by the page's script (static/js/chat.js) is answered in its own response
(``turn_events``, one request a turn): the request claims the question and writes its answer
itself, publishing every event, so a page that loses the connection reopens the stream's URL and
tails it. ``reply_events`` is the body of that SSE endpoint. A JSON post of a question (a browser
that cannot read a response as it arrives) starts its answer once committed
(``answer_on_commit``); its stream then finds the lock held and tails. When nobody is writing the
answer, the stream takes the question's lock (``_claim``) and runs the turn
(``chats.streaming.turn_events``) in a runner thread of the web process (kept between answers with
its database connection: ``_RunnerThreads``), which publishes every event to the question's Redis
Stream (``chats.events``); then it tails that stream from the browser's ``Last-Event-ID``. Closing
the page, switching apps or losing the network only ends the tail; the answer is finished and
stored all the same, and the next visit replays it (or shows it from the database).

A caller inside an open transaction (the no-JavaScript request, which waits for the answer
anyway; a test's transaction) writes the turn itself instead, publishing as it goes: a thread's
own connection would not see that transaction's rows. So does a request when the process already
runs ``MAX_RUNNERS`` answers; a reader leaving such a request does not stop the answer either.

When the web process dies mid-answer its thread dies with it: the reservation and the lock
expire (``limits.reservation_ttl``), and the next tail that finds the lock gone without a final
event stores the partial answer as failed (``_finish_orphan``), so the page says so and offers to
regenerate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from functools import partial

from django.db import close_old_connections, connection, connections, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from agents import tokens
from core.cache import REDIS_ERRORS
from core.tenancy import tenant
from metrics import limits

from . import events, overrides, selectors, services, streaming
from .threads import KeptThreads

logger = logging.getLogger(__name__)

# A tail waits this long for the next event before a keep-alive comment (which also tells a
# server that the browser has gone) and a look at whether the runner is still alive.
TAIL_BLOCK_MS = 5000
# Background answers one web process writes at once; past it, a request writes its own answer
# (as before issue 07: bounded by the server's threads, and still finished if the reader leaves).
MAX_RUNNERS = 64
_runners = threading.BoundedSemaphore(MAX_RUNNERS)
# A runner thread waits this long for the next answer before it closes its connections and ends.
RUNNER_IDLE_SECONDS = 60


class _RunnerThreads(KeptThreads):
    """The threads that write answers, kept between answers with their database connections: a
    new thread would open a new PostgreSQL connection (and set its role) for every answer, about
    a third of a short turn's server time. Each thread ends after ``RUNNER_IDLE_SECONDS`` without
    work, closing its connections; ``_runners`` bounds how many answers run at once."""

    def __init__(self):
        # After each answer its connection is kept for the next unless too old or broken.
        super().__init__("chat-answer", idle_seconds=RUNNER_IDLE_SECONDS, after_task=close_old_connections,
                         on_exit=connections.close_all)


_threads = _RunnerThreads()


def _claim(*, user, conversation, user_message):
    """Take the question's lock to write its answer: (conversation, question, whether Stop was
    asked for it), "orphan" when a writer died mid-answer (no lock, events without a final one:
    ``_tail`` finishes it), "busy" when an answer is being written (its lock is held), or None
    when one already exists. ``conversation`` and ``user_message`` were
    read by the caller for this user; under the lock the answer is looked for again only when the
    question's events end with a ``done``: every answer is stored before its ``done`` is published
    and its lock freed (``_run``, ``_finish_orphan``), so an answer finished between the caller's
    look and this lock left one (a writer that died before publishing it leaves an orphan)."""
    user_message_id = user_message.id
    lock_key, stop_key = streaming.lock_keys(user_message_id)
    outcome, stop = events.events_claim(user_message_id, lock_key=lock_key, lock_ttl=streaming.lock_ttl(), stop_key=stop_key)
    if outcome in ("orphan", "busy"):
        return outcome
    try:
        if outcome == "done":  # an answer's events: this question's current one, or an earlier one's
            with tenant(user.id):
                answered = selectors.answer_for(user_message) is not None
            if answered:  # finished between the caller's look and the lock
                streaming.lock_release(user_message_id)
                return None
            events.events_clear(user_message_id)  # an earlier answer's events (regenerate, an edit)
    except BaseException:
        streaming.lock_release(user_message_id)
        raise
    return conversation, user_message, stop


def _start_runner(*, user, conversation, user_message, stop_requested) -> bool:
    """Write the claimed answer in a background thread; False when this process already runs
    ``MAX_RUNNERS`` of them (the request's own thread then writes it)."""
    return _submit(_run_detached, user, conversation, user_message, translation.get_language(), stop_requested)


def _submit(fn, *args) -> bool:
    """Run ``fn(*args)`` in a runner thread, which releases ``_runners`` when done; False (nothing
    submitted) when this process already runs ``MAX_RUNNERS`` answers."""
    if not _runners.acquire(blocking=False):
        return False
    try:
        _threads.submit(fn, *args)
    except BaseException:
        _runners.release()
        raise
    return True


def answer_on_commit(*, user, conversation, user_message) -> None:
    """Start writing the answer to a question just posted, in a runner thread, once the post's
    transaction commits: before the browser opens the stream, which then tails it (its claim
    finds the lock). The question's first words come a request earlier, and the runner's waits on
    PostgreSQL overlap the post's last steps and the stream's first ones. Nothing is started when
    no runner is free or Redis is known to be down: the stream's own claim writes the answer then,
    as it does for a question whose post did not start one (the no-JavaScript form, a test's
    transaction, which never commits)."""
    language = translation.get_language()

    def start() -> None:
        if not events.redis_known_down():
            _submit(_claim_and_run, user, conversation, user_message, language)

    transaction.on_commit(start, robust=True)  # a failure here must not turn a saved post into a 500


def _claim_and_run(user, conversation, user_message, language) -> None:
    """``answer_on_commit``'s runner: the question's lock, then its answer (or nothing, when a
    stream claimed it first or it was answered)."""
    try:
        claimed = _claim(user=user, conversation=conversation, user_message=user_message)
    except REDIS_ERRORS as exc:
        _runners.release()
        events.redis_failed(exc)  # the stream finds Redis down and tells the browser
        return
    except Exception:  # the stream's own claim tries again
        _runners.release()
        logger.exception("starting the answer to message %s failed", user_message.id)
        return
    if not isinstance(claimed, tuple):  # being written, answered, or left for a tail to finish
        _runners.release()
        return
    conversation, user_message, stop = claimed
    _run_detached(user, conversation, user_message, language, stop)  # releases the runner


def _run_detached(user, conversation, user_message, language, stop_requested=None) -> None:
    # The thread has no request: the answer's item (its author, actions, notes) is written in the
    # language of the page that asked for it. The person, conversation and question are the ones
    # the request read for this user (handed over, not read again: five round trips per turn).
    try:
        with translation.override(language):
            for _published in _run(user=user, conversation=conversation, user_message=user_message, stop_requested=stop_requested):
                pass
    except Exception:
        logger.exception("chat answer runner failed for message %s", user_message.id)
        streaming.lock_release(user_message.id)  # the next tail records the turn as failed
    finally:
        _runners.release()


def _run(*, user, conversation, user_message, stop_requested=None) -> Iterator[tuple[str, str, dict]]:
    """Write the whole answer, publishing each event (and yielding it with its stream id); the lock
    is released once the final one is published (in the same Redis transaction)."""
    started = time.monotonic()
    ended = False
    try:
        for event, data in streaming.turn_events(user=user, conversation=conversation, user_message=user_message,
                                                 started=started, stop_requested=stop_requested):
            if event == streaming.BATCH:  # the last words and ``done``, the reservation and the lock freed
                ids = events.events_publish_many(user_message.id, data.events, also=partial(_end_turn, user_message.id, data.reservation))
                data.released = ended = True
                for entry_id, (name, payload) in zip(ids, data.events):
                    yield entry_id, name, payload
            else:
                yield events.event_publish(user_message.id, event, data), event, data
    finally:
        if not ended:
            streaming.lock_release(user_message.id, cancel_too=True)  # and the Stop, if one was asked


def _end_turn(user_message_id, reservation, pipe) -> None:
    """The commands that end a turn, in the transaction of its final events: its reservation
    released (its usage log is written), its lock and Stop freed."""
    limits.usage_release_in(pipe, reservation)
    pipe.delete(*streaming.lock_keys(user_message_id))


def _run_inline(*, user, conversation, user_message, stop_requested=None) -> Iterator[bytes]:
    """The turn written by this very request (inside a transaction a thread could not see into)."""
    run = _run(user=user, conversation=conversation, user_message=user_message, stop_requested=stop_requested)
    try:
        for entry_id, event, data in run:
            yield streaming.sse(event, data, entry_id)
    except GeneratorExit:
        for _published in run:  # the reader left: the answer is finished all the same
            pass
        raise


def question_state(*, user, conversation_id, user_message_id):
    """(conversation, question, its answer or None), read in the caller's tenant context (a
    request's): what ``reply_events`` starts from."""
    conversation = selectors.conversation_get_for_user(user=user, conversation_id=conversation_id)
    user_message = selectors.question_get(conversation=conversation, message_id=user_message_id)
    return conversation, user_message, selectors.answer_for(user_message)


def reply_events(*, user, conversation_id, user_message_id, last_event_id: str | None = None,
                 state: tuple | None = None, started: bool = False, write_here: bool = False) -> Iterator[bytes]:
    """The SSE body for the answer to ``user_message_id``: its events from ``last_event_id`` on
    (from the start when it is missing, forged or stale), ending with ``done`` or ``failed``.
    ``state``: ``question_state`` as the caller read it (the stream view, in its request's
    transaction); read here otherwise. ``started``: the question's post asked for a runner (the
    stream's URL says so); a wrong value only changes when this stream claims the question.
    ``write_here``: a claimed question is answered in this request, not in a runner thread (the
    question's own response, which would only wait for the runner: ``turn_events``)."""
    if state is None:
        with tenant(user.id):
            state = question_state(user=user, conversation_id=conversation_id, user_message_id=user_message_id)
    conversation, user_message, existing = state
    yield b"retry: 3000\n\n"
    if existing is not None:  # finished: the stored answer is all the page needs, resuming or not
        yield streaming.sse("done", streaming.done_payload(existing, conversation.agent.display_name))
        return
    # Answers travel through Redis (the lock, the reservation, the event stream). Without it the
    # question waits, saved; the browser comes back every DELAYED_RETRY_MS and the answer is
    # written once Redis answers again. Whether it answers is learnt from the claim itself (no
    # ping of its own), or from a recent failure (the cache's circuit).
    if events.redis_known_down():
        yield from _delayed()
        return
    try:
        if started and not last_event_id and not connection.in_atomic_block:  # (in a transaction no runner started)
            # The post asked a runner to write this answer (``answer_on_commit``): its first events
            # usually come before a claim would, which would only find its lock. Nothing within
            # STARTED_WAIT_MS (no runner was free, its claim failed, a model slow to begin): claim.
            first = events.events_read(user_message.id, after="0", block_ms=STARTED_WAIT_MS)
            if first:
                yield from _tail(user=user, conversation=conversation, user_message=user_message, after="0",
                                 writing=True, first=first)
                return
        # A runner that died mid-answer left events without a final one and no lock: the tail replays
        # them and stores the answer as failed. Otherwise claim the question (unless another request
        # has) and write its answer: in a thread, or in this request when inside a transaction or
        # when the process runs as many threads as it may.
        claimed = _claim(user=user, conversation=conversation, user_message=user_message)
        writing = claimed == "busy"  # its writer holds the lock now (the post started it): wait for its events at once
        if isinstance(claimed, tuple):
            conversation, user_message, stop = claimed
            if write_here or connection.in_atomic_block or not _start_runner(user=user, conversation=conversation, user_message=user_message,
                                                               stop_requested=stop):
                yield from _run_inline(user=user, conversation=conversation, user_message=user_message, stop_requested=stop)
                return
            writing = True
        after, replay = events.resume_point(user_message.id, last_event_id)
        if replay:
            yield streaming.sse("reset", {})  # the page drops what it showed: everything comes again
        yield from _tail(user=user, conversation=conversation, user_message=user_message, after=after, writing=writing)
    except REDIS_ERRORS as exc:  # Redis went away meanwhile: the same as above, the browser comes back
        events.redis_failed(exc)
        yield from _delayed()


def turn_events(*, user, conversation, user_message, head: bytes) -> Iterator[bytes]:
    """The body of a question's own response (one request a turn): ``head`` (its ``turn`` event),
    then its answer, written by this request once the post has committed, publishing every event
    as a runner does, so a page that reconnects (the stream's URL) or another tab tails it. A
    runner would only make this request wait for it. A reader who leaves does not stop the answer
    (``_run_inline``), nor one who leaves before it began: a runner writes it then.
    ``conversation`` and ``user_message`` are the post's."""
    language = translation.get_language()  # the page's, for the answer's item
    try:
        yield head
    except GeneratorExit:
        if not events.redis_known_down():  # (otherwise the question waits for the page to come back)
            _submit(_claim_and_run, user, conversation, user_message, language)
        raise
    with translation.override(language):
        yield from reply_events(user=user, conversation_id=conversation.id, user_message_id=user_message.id,
                                state=(conversation, user_message, None), write_here=True)


DELAYED_RETRY_MS = 5000
# How long a stream whose post started its answer waits for the answer's first events before it
# claims the question itself (``reply_events``).
STARTED_WAIT_MS = 1000


def delayed_message() -> str:
    return _("Answers are delayed: the service that carries them is restarting. Your question is saved; "
             "the answer will appear here as soon as it is back.")


def _delayed() -> Iterator[bytes]:
    yield f"retry: {DELAYED_RETRY_MS}\n\n".encode()
    yield streaming.sse("delayed", {"message": delayed_message()})


def _tail(*, user, conversation, user_message, after: str, writing: bool = False, first: list | None = None) -> Iterator[bytes]:
    """The question's events after ``after`` until a final one. ``writing``: a writer is known to be
    at work (this request started it, or the last look found its lock and then new events): wait
    for its next events at once; otherwise, and after a wait that brought nothing, look first.
    ``first``: the events after ``after`` the caller read already."""
    lock_key = streaming.lock_key(user_message.id)
    while True:
        if first is not None:
            found, first = first, None
        elif writing:
            found = events.events_read(user_message.id, after=after, block_ms=TAIL_BLOCK_MS)
            writing = bool(found)
        else:
            # What is new and whether someone writes, read at one instant (a runner publishes its
            # last event before it frees the lock, so nothing new without a lock means it stopped).
            found, writing = events.events_read_and_exists(user_message.id, after=after, key=lock_key)
            if not found:
                if writing:
                    found = events.events_read(user_message.id, after=after, block_ms=TAIL_BLOCK_MS)
                else:  # nobody is writing and nothing new: finish what a dead runner left
                    found = _finish_orphan(user=user, conversation=conversation, user_message=user_message, after=after)
                writing = writing and bool(found)
        if not found:
            yield b": keep-alive\n\n"
            continue
        for entry_id, event, data in found:
            after = entry_id
            yield streaming.sse(event, data, entry_id)
            if event in events.TERMINAL:
                return


def _finish_orphan(*, user, conversation, user_message, after: str) -> list:
    """No runner and no final event: the process writing the answer died. Store what it wrote as
    a failed answer (once: under the question's lock) and publish its ``done``; returns the events
    that follow ``after``."""
    if not streaming.lock_take(user_message.id):
        return []  # another tail is finishing it, or a new runner started: keep tailing
    try:
        if not events.events_finished(user_message.id):  # the runner may have ended meanwhile
            with tenant(user.id):
                answer = selectors.answer_for(user_message)
            if answer is None:
                written = events.events_all(user_message.id)
                text = "".join(str(data.get("t", "")) for _id, event, data in written if event == "delta")
                result = services.TurnResult(
                    content=text, status="failed", model=overrides.turn_settings(conversation.agent, user_message).model,
                    tokens_input=0, tokens_output=tokens.estimate_tokens(text) if text else 0, duration_ms=0,
                    error=_("The server stopped while writing this answer. Regenerate it to try again."),
                )
                answer = services.reply_save(user=user, conversation=conversation, user_message=user_message, result=result)
            events.event_publish(user_message.id, "done", streaming.done_payload(answer, conversation.agent.display_name))
    finally:
        streaming.lock_release(user_message.id)
    return events.events_read(user_message.id, after=after)


def reply_collect(*, user, conversation_id, user_message_id) -> None:
    """Run a whole turn and wait for it (the no-JavaScript path)."""
    for _chunk in reply_events(user=user, conversation_id=conversation_id, user_message_id=user_message_id):
        pass
