"""Writes of the chat domain. Each runs in the owner's RLS context and its own transaction."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from agents.models import Agent
from core.queue import enqueue_on_commit
from core.tenancy import tenant
from core.text import strip_control_chars
from metrics import limits
from metrics import services as metering

from . import overrides, statements, tasks
from .errors import ChatError
from .models import ChatSession, Conversation, ConversationPin, Message, MessageRole
from .rendering import html_digest, render_markdown, render_plain

if TYPE_CHECKING:
    from rag.types import Citation

CANCEL_KEY = "chat:cancel:{}"
CANCEL_TTL = 600


def _validate_content(content: str) -> str:
    # Control characters are dropped from every stored message (the form does it too, for the
    # pages): NUL cannot be stored, and \x02/\x03 are the search snippets' highlight markers.
    content = strip_control_chars(content or "").strip()
    if not content:
        raise ChatError(_("Write a message first."))
    if len(content) > settings.MAX_MESSAGE_CHARS:
        raise ChatError(
            _("This message is too long: %(length)s characters, the limit is %(limit)s.")
            % {"length": len(content), "limit": settings.MAX_MESSAGE_CHARS}
        )
    return content


def _chat_session_for(user) -> ChatSession:
    """The user's current chat session, or a new one after CHAT_SESSION_IDLE_HOURS of inactivity."""
    since = timezone.now() - timedelta(hours=settings.CHAT_SESSION_IDLE_HOURS)
    session = ChatSession.objects.filter(user=user, last_activity__gte=since).order_by("-last_activity").first()
    return session or ChatSession.objects.create(user=user)


def _store_user_message(user, conversation: Conversation, content: str, chosen: dict | None = None) -> Message:
    return Message.objects.create(
        conversation=conversation,
        user=user,
        role=MessageRole.USER,
        content=content,
        # The question's model and temperature (chats.overrides) sit beside its HTML.
        metadata={"html": render_plain(content), **(chosen or {})},
    )


def _refuse_over_limit(user, *, in_context: bool = False, month_row=None) -> None:
    """``LimitExceeded`` when the month's limit is used up.

    The limit is checked twice. Here, when the message is posted, so that nothing is stored and
    the person sees why at once, on the page they posted from. And again right before the provider
    call (``chats.streaming``), where the turn is reserved atomically: only that check counts the
    turns in flight at that moment (other tabs, streams opened since this post), so only it can
    hold the limit exactly; this one alone would let twenty streams opened at once all pass.
    """
    limits.usage_check_before_turn(user=user, in_context=in_context, month_row=month_row)


def conversation_start(*, user, agent: Agent, content: str, override: dict | None = None) -> tuple[Conversation, Message]:
    """A new conversation with ``agent``, opened by the user's first message (``ChatError`` or
    ``LimitExceeded``, both ``UserFacingError``, when it cannot be taken). ``override``: the
    question's ``model`` and ``temperature``, within what the agent allows (chats.overrides)."""
    content = _validate_content(content)
    chosen = overrides.checked(agent, **(override or {}))
    _refuse_over_limit(user)
    with tenant(user.id):
        session = _chat_session_for(user)
        conversation = Conversation.objects.create(chat_session=session, agent=agent, user=user)
        message = _store_user_message(user, conversation, content, chosen)
    return conversation, message


def message_post(*, user, conversation: Conversation, content: str, override: dict | None = None,
                 in_request: bool = False, month_row=None) -> Message:
    """The user's next message; its answer is streamed separately. ``override`` as in
    ``conversation_start``. ``in_request``: the caller is a request of ``user``'s, whose
    transaction and tenant context (TenantMiddleware) the limit check and the one insert run in
    (a nested ``tenant()`` would add a savepoint and a read of the context: three round trips each).
    ``month_row``: the month's usage as the request read it with the conversation
    (``chats.statements.chat_for_post``)."""
    content = _validate_content(content)
    chosen = overrides.checked(conversation.agent, **(override or {}))
    _refuse_over_limit(user, in_context=in_request, month_row=month_row)
    with nullcontext() if in_request else tenant(user.id):
        return _store_user_message(user, conversation, content, chosen)


@dataclass(frozen=True)
class TurnResult:
    content: str
    status: str  # complete | cancelled | failed
    model: str
    tokens_input: int
    tokens_output: int
    duration_ms: int
    error: str = ""
    citations: tuple[Citation, ...] = ()  # what the answer's [n] link to (rag.types)


def citations_json(citations: tuple[Citation, ...]) -> dict[str, dict]:
    """Citations as an answer's ``metadata["citations"]`` keeps them and the page receives them."""
    return {str(c.number): c.as_json() for c in citations}


def reply_save(*, user, conversation: Conversation, user_message: Message, result: TurnResult) -> Message:
    """Store the assistant's answer (whole or partial) and its usage log in one transaction."""
    citation_urls = {c.number: c.url for c in result.citations}
    content = strip_control_chars(result.content)
    html = render_markdown(content, citation_urls)
    metadata = {
        "reply_to": str(user_message.id),
        "status": result.status,
        "model": result.model,
        "duration_ms": result.duration_ms,
        "html": html,
        "html_digest": html_digest(html),  # the page trusts this HTML only while the digest matches
    }
    if result.error:
        metadata["error"] = result.error
    if result.citations:
        metadata["citations"] = citations_json(result.citations)
    answer = Message(
        conversation=conversation,
        user=user,
        role=MessageRole.ASSISTANT,
        content=content,
        tokens_input=result.tokens_input,
        tokens_output=result.tokens_output,
        metadata=metadata,
    )
    usage = metering.TurnRecord(
        user=user,
        agent=conversation.agent,
        conversation=conversation,
        model=result.model,
        tokens_input=result.tokens_input,
        tokens_output=result.tokens_output,
        duration_ms=result.duration_ms,
        success=result.status == "complete",
        # The answer's own time: the Usage page tells a stopped turn from a failed one by it.
        timestamp=answer.timestamp,
    )
    with tenant(user.id):
        # One round trip, in this order: the question locked, the answer inserted, every answer to
        # it read and locked (this one included), the usage log and the month's totals.
        _locked, _inserted, answers, *_log, month = limits.run_statements([
            statements.lock_question(user_message.id), metering.insert_statement(answer),
            statements.answers_locked(user_message), *usage.statements,
        ])
        answer._state.adding, answer._state.db = False, connection.alias
        # The new version is the one shown; every version's id, as chats.selectors.answer_versions_of
        # gives them, is what the answer's list item shows (chats.streaming.done_payload).
        versions = _supersede_answers(user_message, keep=answer, answers=answers)
        usage.finish(month)  # the month's alerts
        captured = []
        if result.status == "complete":  # its code, diagrams, tables... kept as artifacts (issue 10)
            from artifacts.capture import capture_answer  # noqa: PLC0415

            captured = capture_answer(user=user, conversation=conversation, answer=answer)
        # What the answer's list item shows besides the row (chats.streaming.done_payload), read in
        # this transaction: the stream's final event needs no transaction of its own.
        answer.item_versions = {str(user_message.id): versions if len(versions) > 1 else []}
        answer.item_artifacts = {str(answer.id): list(captured)} if captured else {}
        if not conversation.title and result.status == "complete":
            conversation_id, user_id = str(conversation.id), str(user.id)
            enqueue_on_commit(tasks.generate_conversation_title, conversation_id, user_id)  # a down broker: no title, no 500
    return answer


def _lock_question(question: Message) -> None:
    """Lock the question's row: the one lock for the versions of its answer (the answer saved,
    the version chosen, an edit), so that exactly one of them is shown."""
    limits.run_statements([statements.lock_question(question.pk)])


def _supersede_answers(question: Message, *, keep: Message | None = None, answers: list | None = None) -> list:
    """Mark every shown answer of ``question`` but ``keep`` superseded (the question is locked).
    Returns the ids of all its answers (every version), oldest first: one query, which locks them
    (``answers``: its rows, when the caller ran it with its own statements)."""
    if answers is None:
        [answers] = limits.run_statements([statements.answers_locked(question)])
    shown = [pk for pk, superseded in answers if not superseded and (keep is None or pk != keep.pk)]
    for answer in Message.objects.filter(pk__in=shown) if shown else ():
        answer.metadata = {**(answer.metadata if isinstance(answer.metadata, dict) else {}), "superseded": True}
        answer.save(update_fields=["metadata"])
    return [pk for pk, _superseded in answers]


def reply_regenerate(*, user, conversation: Conversation) -> Message:
    """Ask for a new version of the last answer; returns its question. The answer shown so far is
    kept as an earlier version (``metadata.superseded``) and the question awaits the new one."""
    with tenant(user.id):
        last = conversation.messages.exclude(metadata__contains={"superseded": True}).order_by("-timestamp", "-id").first()
        if last is None:
            raise ChatError(_("There is nothing to regenerate yet."))
        if last.role == MessageRole.ASSISTANT:
            question = Message.objects.filter(pk=last.metadata.get("reply_to"), conversation=conversation).first()
        else:
            question = last
        if question is None or question.role != MessageRole.USER:
            raise ChatError(_("There is nothing to regenerate yet."))
        _lock_question(question)
        _supersede_answers(question)
        return question


def answer_version_select(*, user, answer: Message) -> Message:
    """Show ``answer`` (one version of its question's answer) in place of the version shown; the
    later turns' context then uses it. Refused while a new version is being written."""
    with tenant(user.id):
        question = Message.objects.filter(
            pk=answer.metadata.get("reply_to"), conversation_id=answer.conversation_id, role=MessageRole.USER,
        ).first()
        if question is None:
            raise ChatError(_("This answer's question is no longer in the conversation."))
        _lock_question(question)
        locked = Message.objects.select_for_update().filter(pk=answer.pk).first()
        if locked is None:
            raise ChatError(_("This answer is no longer in the conversation."))
        shown = (
            Message.objects.filter(conversation_id=question.conversation_id, role=MessageRole.ASSISTANT,
                                   metadata__reply_to=str(question.id))
            .exclude(metadata__contains={"superseded": True})
        )
        if not shown.exists():
            raise ChatError(_("A new version of this answer is being written. Wait for it to finish, then choose."))
        _supersede_answers(question, keep=locked)
        metadata = dict(locked.metadata) if isinstance(locked.metadata, dict) else {}
        if metadata.pop("superseded", None) is not None:
            locked.metadata = metadata
            locked.save(update_fields=["metadata"])
    return locked


def message_edit(*, user, conversation: Conversation, message: Message, content: str) -> tuple[Message, int]:
    """Replace the text of the person's message ``message`` and drop every message after it (its
    answers and the later turns), so that it is answered again as the conversation's last
    question. The earlier texts stay in ``metadata["edits"]``. Returns the message and how many
    messages were removed. Nothing changes when the text is refused or the limit is used up."""
    content = strip_control_chars(content or "").strip()
    if not content:
        raise ChatError(_("An edited message cannot be empty. Write something, or cancel the edit."))
    content = _validate_content(content)
    if message.role != MessageRole.USER:
        raise ChatError(_("Only your own messages can be edited."))
    _refuse_over_limit(user)
    with tenant(user.id):
        _lock_question(message)
        locked = Message.objects.filter(pk=message.pk, conversation=conversation, role=MessageRole.USER).first()
        if locked is None:  # not (or no longer) a message this user can see
            raise ChatError(_("This message is no longer in the conversation."))
        later = conversation.messages.filter(
            Q(timestamp__gt=locked.timestamp) | Q(timestamp=locked.timestamp, id__gt=locked.id)
            | Q(role=MessageRole.ASSISTANT, metadata__reply_to=str(locked.id))
        ).exclude(pk=locked.pk)
        removed, _by_model = later.delete()
        metadata = dict(locked.metadata) if isinstance(locked.metadata, dict) else {}
        edits = metadata.get("edits") if isinstance(metadata.get("edits"), list) else []
        metadata["edits"] = [*edits, {"content": locked.content, "edited_at": timezone.now().isoformat()}]
        metadata.pop("html", None)  # a person's message is rendered from its text (chats.rendering)
        locked.content = content
        locked.metadata = metadata
        locked.save(update_fields=["content", "metadata"])
    return locked, removed


def reply_cancel(*, message_id) -> None:
    """Ask the stream answering ``message_id`` to stop (it keeps what it has written)."""
    cache.set(CANCEL_KEY.format(message_id), 1, timeout=CANCEL_TTL)


def reply_cancel_requested(message_id) -> bool:
    return bool(cache.get(CANCEL_KEY.format(message_id)))


def reply_cancel_clear(message_id) -> None:
    cache.delete(CANCEL_KEY.format(message_id))


def conversation_rename(*, user, conversation: Conversation, title: str) -> Conversation:
    title = strip_control_chars(title or "").strip()
    if not title:
        raise ChatError(_("A title cannot be empty."))
    if len(title) > 200:
        raise ChatError(_("A title has at most 200 characters."))
    with tenant(user.id):
        conversation.title = title
        conversation.save(update_fields=["title"])
    return conversation


def conversation_delete(*, user, conversation: Conversation) -> None:
    with tenant(user.id):
        conversation.delete()



def conversation_pin(*, user, conversation: Conversation, pinned: bool) -> bool:
    """Pin ``conversation`` to the top of the person's list, or unpin it; returns the new state.
    Pinning twice keeps the first pin (the unique conversation_id answers the race)."""
    with tenant(user.id):
        if pinned:
            ConversationPin.objects.bulk_create([ConversationPin(conversation=conversation, user=user)], ignore_conflicts=True)
        else:
            ConversationPin.objects.filter(conversation=conversation).delete()
    return pinned


FEEDBACK_VALUES = ("up", "down")


def message_feedback_toggle(*, user, message: Message, value: str) -> str | None:
    """Thumbs up or down on an answer, kept in its ``metadata["feedback"]`` (the ERD fixes the
    columns). The same value again takes it back; the other value replaces it. Returns the
    feedback now stored (``None`` when there is none). The row is locked while it is read and
    written, so two clicks at once cannot lose either one, nor another write to the metadata."""
    if value not in FEEDBACK_VALUES:
        raise ChatError(_("Feedback is either a thumbs up or a thumbs down."))
    if message.role != MessageRole.ASSISTANT:
        raise ChatError(_("Only answers take feedback."))
    with tenant(user.id):
        locked = Message.objects.select_for_update().get(pk=message.pk)
        metadata = dict(locked.metadata) if isinstance(locked.metadata, dict) else {}
        feedback = None if metadata.get("feedback") == value else value
        if feedback is None:
            metadata.pop("feedback", None)
        else:
            metadata["feedback"] = feedback
        locked.metadata = metadata
        locked.save(update_fields=["metadata"])
    message.metadata = metadata
    return feedback
