"""One assistant turn, as the events a page receives over Server-Sent Events.

``turn_events`` runs in ``chats.generation``'s runner (a thread of its own, apart from any
request), so it sets its own RLS context for each database step. It builds the model's context
(system prompt, retrieved passages, history trimmed to the model's window, oldest first), streams
the provider's answer as ``delta`` events, and always stores what it got — complete, stopped by the
user, or cut by an error — with its usage log, before a final ``done`` event. The per-question lock
(``lock_*``) says a runner is writing the answer.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.http import Http404
from django.utils.translation import gettext as _

from agents import registry, tokens
from agents.providers import ChatMessage, Passage, ProviderError, Usage, provider_for_model
from core.errors import UserFacingError
from core.tenancy import tenant
from metrics import limits

from . import selectors, services, statements
from .models import Conversation, Message
from .rendering import GrowingMarkdown, message_body, message_item, render_markdown
from .threads import KeptThreads

if TYPE_CHECKING:
    from rag.types import Citation, CitedPassage

logger = logging.getLogger(__name__)

LOCK_KEY = "chat:stream:{}"
CANCEL_POLL_SECONDS = 0.2
# A provider that sends nothing after Stop (stuck on the network) is left behind after this long.
STOP_GRACE_SECONDS = 0.6
# A snapshot is rendered at most once per this many times its own rendering time.
RENDER_SHARE_FACTOR = 5
# How often the turn wakes when the provider is silent: to publish buffered text, notice Stop.
TICK_SECONDS = 0.05
# Room kept free in the context window for the tokenizer's estimate being off.
CONTEXT_MARGIN = 256


class Snapshots:
    """The answer so far, published at a bounded rate: text arriving within ``interval`` of the
    last ``delta`` waits for the next one (the first words go out at once). With snapshots on
    (``CHAT_STREAM_SNAPSHOTS``), each ``delta`` also carries the whole answer so far rendered by
    ``GrowingMarkdown`` — ``render_markdown``'s HTML byte for byte, the one markdown-it + nh3 path,
    parsing again only the blocks still open — so the page shows formatted, sanitised Markdown
    while it streams and never builds HTML itself; ``t`` (the new text) stays, for a
    runner that died mid-answer (its text is rebuilt from the deltas)."""

    def __init__(self, *, citations: dict[int, str], interval: float | None = None, html: bool | None = None):
        self.citations = citations
        self.interval = interval if interval is not None else settings.CHAT_STREAM_INTERVAL_MS / 1000
        self.html = html if html is not None else settings.CHAT_STREAM_SNAPSHOTS
        self.pending: list[str] = []
        self.last = float("-inf")
        self.wait = self.interval
        self.markdown = GrowingMarkdown(citations)

    def add(self, text: str) -> None:
        self.pending.append(text)

    def due(self, now: float) -> bool:
        return bool(self.pending) and now - self.last >= self.wait

    def take(self, parts: list[str], now: float, rendered: str | None = None) -> dict:
        """The next ``delta``; ``rendered``: the HTML of ``parts`` when the caller has it already."""
        data = {"t": "".join(self.pending)}
        if self.html and rendered is not None:
            data["html"] = rendered
        elif self.html:
            started = time.perf_counter()
            data["html"] = self.markdown.render("".join(parts))
            # A long open block (a code block of hundreds of lines) still costs its length: the
            # next snapshot waits long enough that rendering stays a fifth of the turn's time at most.
            self.wait = max(self.interval, RENDER_SHARE_FACTOR * (time.perf_counter() - started))
        self.pending.clear()
        self.last = now
        return data


class _Raised:
    def __init__(self, exc: BaseException):
        self.exc = exc


_END = object()
# The threads that read providers' streams (``pumped``), kept between turns.
_pumps = KeptThreads("chat-provider", idle_seconds=60)


def pumped(stream: Iterator, *, tick: float) -> Iterator:
    """The provider's events, read by a thread of their own, with ``None`` whenever ``tick``
    seconds pass without one: the turn publishes buffered text and notices Stop while the provider
    is silent. Leaving early (Stop with a stuck provider) lets the thread close the stream at its
    next event."""
    queue_: SimpleQueue = SimpleQueue()
    stop = threading.Event()

    def pump():
        try:
            for item in stream:
                queue_.put(item)
                if stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the turn, which decides
            queue_.put(_Raised(exc))
        finally:
            try:
                stream.close()
            finally:
                queue_.put(_END)

    _pumps.submit(pump)
    try:
        while True:
            try:
                item = queue_.get(timeout=tick)
            except Empty:
                yield None
                continue
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item
    finally:
        stop.set()


def sse(event: str, data: dict, event_id: str = "") -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


@dataclass
class TurnContext:
    model: str
    temperature: float
    max_tokens: int
    messages: list[ChatMessage]
    passages: list[Passage] = field(default_factory=list)  # what the model reads and cites
    citations: tuple[Citation, ...] = ()  # what each passage's number links to, for the answer
    trimmed: int = 0
    prompt_tokens: int | None = None  # the estimate of messages and passages, when build_context made it


def retrieve_passages(*, user, query: str, conversation: Conversation | None = None,
                      history: list[tuple[str, str]] | None = None, model: str = "", scope=None) -> list[CitedPassage]:
    """The user's document passages for this question, numbered for citation (RAG, when enabled),
    within the conversation's knowledge scope (its attachments, its agent's knowledge: see
    ``chats.attachments``). With the turn's ``history`` ((role, content), oldest first), a follow-up
    question retrieves with the previous user turns' salient terms too, or as the turn's ``model``
    rewrites it when RAG_FOLLOWUP_REWRITE is on (``rag.followup``)."""
    try:
        from rag import followup, retrieval  # noqa: PLC0415 - RAG is optional for a turn
    except ImportError:
        return []
    if history and conversation is not None:
        query = followup.turn_query(user=user, conversation=conversation, model=model or conversation.agent.model,
                                    question=query, previous=followup.previous_user_turns(history, query))
    elif history:
        query = followup.retrieval_query(query, followup.previous_user_turns(history, query))
    if conversation is None:
        return retrieval.passages_for_chat(user=user, query=query)
    if scope is None:  # ``scope``: the conversation's ``knowledge_scope``, when the caller read it
        from .attachments import knowledge_scope  # noqa: PLC0415 - it imports rag, optional like above

        scope = knowledge_scope(user=user, conversation=conversation)
    return retrieval.passages_for_chat(user=user, query=query, document_ids=scope.document_ids,
                                       exclude_document_ids=scope.exclude_document_ids)


@dataclass
class TurnReads:
    """What a turn reads from the database before retrieval (one transaction)."""

    history: list[tuple[str, str]]
    retrieving: bool  # RAG on and something indexed: retrieval (and a follow-up rewrite) will run
    scope: object = None  # the conversation's knowledge scope, when retrieving


def turn_statements(*, user, conversation: Conversation, user_message: Message) -> list[str]:
    """What a turn reads before retrieval, written out (``turn_reads_of`` takes their rows): the
    person's RAG setting with whether anything is indexed, and the history."""
    return [statements.rag_enabled_and_indexed(user.pk), statements.history(conversation.id, user_message.timestamp)]


def turn_reads_of(rows: list[list[tuple]], *, user, conversation: Conversation) -> TurnReads:
    """``TurnReads`` from the rows of ``turn_statements``, in the transaction they ran in."""
    settings_rows, history_rows = rows
    if not settings_rows:
        raise Http404("No UserSettings matches the given query.")  # as user_settings_get
    # Nothing indexed (most people): no passage can come back (rag.retrieval.retrieve says the
    # same), so neither the scope nor retrieval (its own transaction) nor a follow-up rewrite runs.
    retrieving = bool(settings_rows[0][0] and settings_rows[0][1])
    scope = _knowledge_scope(user, conversation) if retrieving else None
    return TurnReads(history=[tuple(row) for row in history_rows], retrieving=retrieving, scope=scope)


def turn_reads(*, user, conversation: Conversation, user_message: Message) -> TurnReads:
    with tenant(user.id):  # one transaction (and one round trip) for what the turn reads before retrieval
        rows = limits.run_statements(turn_statements(user=user, conversation=conversation, user_message=user_message))
        return turn_reads_of(rows, user=user, conversation=conversation)


def build_context(*, user, conversation: Conversation, user_message: Message, reads: TurnReads | None = None) -> TurnContext:
    """The model's context for ``user_message``; ``reads``: ``turn_reads`` as the caller read them."""
    agent = conversation.agent
    from . import overrides  # noqa: PLC0415 - the question's model and temperature

    chosen = overrides.turn_settings(agent, user_message)
    info = registry.get_model(chosen.model)
    if reads is None:
        reads = turn_reads(user=user, conversation=conversation, user_message=user_message)
    history = reads.history
    found = (retrieve_passages(user=user, query=user_message.content, conversation=conversation, history=history,
                               model=chosen.model, scope=reads.scope) if reads.retrieving else [])
    # The model gets the passages by number (no address: it cites [n]); the answer keeps the links.
    passages = [Passage(number=p.citation.number, title=p.citation.title, text=p.text) for p in found]
    max_tokens = min(agent.max_tokens, info.max_output_tokens) if info else agent.max_tokens
    system_prompt = agent.system_prompt if agent.system_prompt.strip() else ""
    from artifacts.conf import setting as artifact_setting  # noqa: PLC0415
    from artifacts.extraction import SYSTEM_INSTRUCTION  # noqa: PLC0415 - how to name an artifact (issue 10)

    if artifact_setting("ARTIFACTS_CAPTURE"):
        system_prompt = f"{system_prompt}\n\n{SYSTEM_INSTRUCTION}" if system_prompt else SYSTEM_INSTRUCTION
    system = [ChatMessage("system", system_prompt)] if system_prompt else []
    conversation_messages = [ChatMessage(role, content) for role, content in history if role in ("user", "assistant")]
    window = info.context_window if info else 8192
    passages_tokens = sum(tokens.estimate_tokens(p.text) + 16 for p in passages)
    budget = max(window - max_tokens - passages_tokens - CONTEXT_MARGIN, 256)
    messages = system + conversation_messages
    # Estimated once: when the whole history fits (most turns), it is the prompt as trimming leaves
    # it (trim_history keeps everything within the budget), and what the turn reserves.
    messages_tokens = tokens.estimate_messages_tokens(messages)
    if messages_tokens <= budget:
        trimmed = messages
    else:
        trimmed = tokens.trim_history(messages, budget=budget)
        messages_tokens = tokens.estimate_messages_tokens(trimmed)
    return TurnContext(
        model=chosen.model,
        temperature=chosen.temperature,
        max_tokens=max_tokens,
        messages=trimmed,
        passages=passages,
        citations=tuple(p.citation for p in found),
        trimmed=len(messages) - len(trimmed),
        prompt_tokens=messages_tokens + sum(tokens.estimate_tokens(p.text) for p in passages),
    )


def _knowledge_scope(user, conversation: Conversation):
    """The conversation's knowledge scope in the tenant context in force; None without RAG."""
    try:
        from .attachments import knowledge_scope_in_context  # noqa: PLC0415 - it imports rag, optional
    except ImportError:
        return None
    return knowledge_scope_in_context(user=user, conversation=conversation)


STATUSES = ("complete", "cancelled", "failed")


def done_payload(answer: Message, agent_name: str) -> dict:
    metadata = answer.metadata if isinstance(answer.metadata, dict) else {}
    status = metadata.get("status", "complete")
    # The item's versions and artifact cards: as ``services.reply_save`` read them with the answer,
    # else (an answer from the database) in one transaction (the stream has none).
    versions, artifacts = getattr(answer, "item_versions", None), getattr(answer, "item_artifacts", None)
    if versions is None or artifacts is None:
        from artifacts.selectors import artifacts_for_messages  # noqa: PLC0415

        with tenant(answer.user_id):
            versions = {str(metadata.get("reply_to")): selectors.answer_versions_of(answer)}
            artifacts = artifacts_for_messages(conversation_id=answer.conversation_id, message_ids=[answer.id])
    return {
        "message_id": str(answer.id),
        "status": status if status in STATUSES else "failed",
        "html": message_body(answer),  # cleaned again: a replayed answer comes from the database
        "error": str(metadata.get("error") or ""),
        # The whole list item as the page renders it (status note, sources): the page swaps it in.
        "item": message_item(answer, agent_name, versions=versions, artifacts=artifacts),
    }


# turn_events' last item: (BATCH, Final), events to publish together.
BATCH = "batch"


@dataclass
class Final:
    """The turn's last events (the last words and ``done``), published in one Redis transaction
    with the release of its ``reservation`` (its usage log is written by then); the publisher sets
    ``released`` once it is. Unpublished, the turn releases the reservation itself."""

    events: list[tuple[str, dict]]
    reservation: object = None
    released: bool = False


def turn_events(*, user, conversation: Conversation, user_message: Message, started: float,
                stop_requested: bool | None = None) -> Iterator[tuple[str, dict]]:
    """The answer to ``user_message`` as (event, data) pairs: ``sources``, ``delta``…, then
    ``done`` with the stored answer (with the last ``delta`` in a ``BATCH`` pair, ``Final``:
    published in one round trip), or ``failed`` when the turn could not be reserved.
    ``stop_requested``: whether Stop was pressed for it, as the caller read it when it claimed the
    question (read here otherwise); later presses are polled for as the answer streams.

    Run by ``chats.generation`` (which holds the per-question lock and publishes the events),
    never by a request's own iteration: a browser going away does not end it.
    """
    # The second limit check, which reserves the turn (why twice: chats.services._refuse_over_limit).
    # Without retrieval the whole prompt is known from the turn's reads, and is what the turn holds;
    # with it, the turn is reserved first (a follow-up rewrite is a metered call of its own, which
    # must not take the month's last turn from the answer) and holds the prompt's size once known.
    # The reads run in the reservation's transaction, before its lock.
    # The reads go with the reservation's lock, in one round trip.
    read: dict = {}

    def prompt_estimate(rows) -> int:
        read["reads"] = reads = turn_reads_of(rows, user=user, conversation=conversation)
        read["context"] = None if reads.retrieving else build_context(
            user=user, conversation=conversation, user_message=user_message, reads=reads)
        return tokens.estimate_tokens(user_message.content) if read["context"] is None else _prompt_tokens(read["context"])

    try:
        reservation = limits.usage_reserve_turn(
            user=user, tokens=prompt_estimate,
            reads=turn_statements(user=user, conversation=conversation, user_message=user_message))
    except UserFacingError as exc:
        yield "failed", {"error": str(exc.message)}
        return
    reads, context = read["reads"], read["context"]
    holder = [reservation]  # renewing may replace it: the one to release is the latest
    try:
        yield from _answer(user=user, conversation=conversation, user_message=user_message, started=started,
                           reservation=holder, reads=reads, context=context, stop_requested=stop_requested)
    finally:
        # Released with the final events (``Final``), once the usage log is written, or here when
        # the turn died before them. A process that dies leaves it to expire.
        limits.usage_release_turn(holder[0])


def _answer(*, user, conversation: Conversation, user_message: Message, started: float, reservation: list,
            reads: TurnReads, context: TurnContext | None, stop_requested: bool | None) -> Iterator[tuple[str, dict]]:
    if context is None:
        context = build_context(user=user, conversation=conversation, user_message=user_message, reads=reads)
        reservation[0] = limits.usage_renew_reservation(reservation[0], tokens=_prompt_tokens(context))
    if context.passages:
        yield "sources", {"citations": services.citations_json(context.citations)}
    cancel = threading.Event()
    parts: list[str] = []
    usage = None
    status = "failed"
    error = ""
    snapshots = Snapshots(citations={c.number: c.url for c in context.citations})
    try:
        provider = provider_for_model(context.model)
        if not provider.is_configured():
            raise ProviderError(_("This model is not available: its provider is not configured."))
        events = provider.stream(
            model=context.model,
            messages=context.messages,
            temperature=context.temperature,
            max_tokens=context.max_tokens,
            passages=context.passages,
            cancel=cancel,
        )
        last_poll, last_renewal, stop_deadline = time.monotonic(), time.monotonic(), None
        if stop_requested if stop_requested is not None else services.reply_cancel_requested(user_message.id):
            # Stop pressed before the first words
            cancel.set()
            stop_deadline = last_poll + STOP_GRACE_SECONDS
        for event in pumped(events, tick=TICK_SECONDS):
            if event is not None:
                if event.text:
                    parts.append(event.text)
                    snapshots.add(event.text)
                if event.finished:
                    usage = event.usage
                    status = "cancelled" if event.cancelled else "complete"
            now = time.monotonic()
            if snapshots.due(now):
                yield "delta", snapshots.take(parts, now)
            if now - last_poll >= CANCEL_POLL_SECONDS:
                last_poll = now
                if stop_deadline is None and services.reply_cancel_requested(user_message.id):
                    cancel.set()
                    stop_deadline = now + STOP_GRACE_SECONDS
            if stop_deadline is not None and now >= stop_deadline and status == "failed":
                status = "cancelled"  # the provider is stuck (no chunk to notice the stop at): stop anyway
                break
            if now - last_renewal >= limits.RESERVATION_RENEW_SECONDS:
                last_renewal = now
                reservation[0] = limits.usage_renew_reservation(reservation[0])
                lock_renew(user_message.id)
    except ProviderError as exc:
        logger.warning("model call failed for conversation %s: %s", conversation.id, exc.detail or exc)
        error = str(exc.message)
        usage = exc.usage
        if exc.partial_text and not parts:
            parts.append(exc.partial_text)
    except Exception:  # a bug must not lose the partial answer or leave the turn unrecorded
        logger.exception("chat turn failed for conversation %s", conversation.id)
        error = _("Something went wrong while writing the answer. Please try again.")
    finally:
        text = "".join(parts)
        if usage is None:
            usage = _estimate_usage(context, text)
        result = services.TurnResult(
            content=text,
            status=status if not error else "failed",
            model=context.model,
            tokens_input=usage.input_tokens,
            tokens_output=usage.output_tokens,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error,
            citations=context.citations,
        )
        answer = services.reply_save(user=user, conversation=conversation, user_message=user_message, result=result)
    final = [("done", done_payload(answer, conversation.agent.display_name))]
    if snapshots.pending:  # the browser gets the last words before the final item replaces them
        # The answer as stored was rendered from the same text with the same citations: reused.
        stored = answer.metadata.get("html") if isinstance(answer.metadata, dict) and answer.content == "".join(parts) else None
        final.insert(0, ("delta", snapshots.take(parts, time.monotonic(), rendered=stored if isinstance(stored, str) else None)))
    # Published at once, with the reservation's release (the usage log now counts this turn).
    last = Final(events=final, reservation=reservation[0])
    yield BATCH, last
    if last.released:
        reservation[0] = None


def lock_ttl() -> int:
    """The per-question lock lives as long as the turn's reservation and is renewed with it, so a
    lock left by a process that died frees the question when its reservation expires."""
    return limits.reservation_ttl()


def lock_take(user_message_id) -> bool:
    return cache.add(LOCK_KEY.format(user_message_id), 1, timeout=lock_ttl())


def lock_renew(user_message_id) -> None:
    cache.touch(LOCK_KEY.format(user_message_id), lock_ttl())


def lock_key(user_message_id) -> str:
    """The lock's key as stored in Redis (the cache's prefix and version included)."""
    return cache.make_key(LOCK_KEY.format(user_message_id))


def lock_held(user_message_id) -> bool:
    return cache.get(LOCK_KEY.format(user_message_id)) is not None


def lock_keys(user_message_id) -> list[str]:
    """The question's lock and Stop keys as stored in Redis (what ``lock_release(cancel_too=True)`` deletes)."""
    return [cache.make_key(LOCK_KEY.format(user_message_id)), cache.make_key(services.CANCEL_KEY.format(user_message_id))]


def lock_release(user_message_id, *, cancel_too: bool = False) -> None:
    """Free the question; with ``cancel_too``, forget a Stop asked for it as well (one round trip)."""
    if cancel_too:
        cache.delete_many([LOCK_KEY.format(user_message_id), services.CANCEL_KEY.format(user_message_id)])
    else:
        cache.delete(LOCK_KEY.format(user_message_id))


def _prompt_tokens(context: TurnContext) -> int:
    if context.prompt_tokens is not None:
        return context.prompt_tokens
    return tokens.estimate_messages_tokens(context.messages) + sum(tokens.estimate_tokens(p.text) for p in context.passages)


def _estimate_usage(context: TurnContext, text: str) -> Usage:
    return Usage(input_tokens=_prompt_tokens(context), output_tokens=tokens.estimate_tokens(text) if text else 0, estimated=True)


__all__ = ["turn_events", "build_context", "done_payload", "sse", "render_markdown"]
