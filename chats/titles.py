"""Naming a conversation after its first exchange (run by ``chats.tasks.generate_conversation_title``).

A real model names it when the agent's model is available, metered like any turn: reserved
against the monthly limits (at the limit, the offline model names it instead) and leaving a usage
log. Otherwise, or when the model gives no title, the offline model names it from the question.
"""

from __future__ import annotations

import logging
import time

from agents import registry, tokens
from agents.providers import ChatMessage, ProviderError, Usage, provider_for_model
from agents.providers.offline import generate_title
from core.tenancy import tenant
from core.text import strip_control_chars
from metrics import limits
from metrics import services as metering
from metrics.errors import LimitExceeded

from .models import Conversation, MessageRole

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a short title (at most six words) for a conversation that starts with the exchange below. "
    "Answer with the title only: no quotes, no punctuation at the end. Use the language of the user's message."
)


def _clean_title(text: str) -> str:
    title = " ".join(strip_control_chars(text).strip().strip("\"'“”«»").split())
    return title.rstrip(".!?:;,")[:80]


def conversation_title_generate(*, conversation_id: str, user_id: str) -> str:
    """Give an untitled conversation its title; returns it ("" when it already had one)."""
    with tenant(user_id):
        conversation = Conversation.objects.select_related("agent", "user").filter(pk=conversation_id).first()
        if conversation is None or conversation.title:
            return ""
        first = list(conversation.messages.order_by("timestamp", "id").values_list("role", "content")[:2])
    question = next((content for role, content in first if role == MessageRole.USER), "")
    answer = next((content for role, content in first if role == MessageRole.ASSISTANT), "")
    title = ""
    info = registry.get_model(conversation.agent.model)
    if info is not None and info.provider != "offline" and registry.is_available(info.id):
        title = _title_from_model(conversation, info.id, question, answer)
    if not title:
        title = generate_title(question, answer)
    conversation_title_set_if_empty(user_id=user_id, conversation_id=conversation_id, title=title)
    return title


def conversation_title_set_if_empty(*, user_id, conversation_id, title: str) -> bool:
    """Store ``title`` unless the conversation has one by now (the person may have renamed it)."""
    title = strip_control_chars(title or "").strip()[:200]
    if not title:
        return False
    with tenant(user_id):
        return bool(Conversation.objects.filter(pk=conversation_id, title="").update(title=title))


def _title_from_model(conversation: Conversation, model: str, question: str, answer: str) -> str:
    """The model's title for the exchange ("" if it could not give one), metered as a turn."""
    user = conversation.user
    messages = [ChatMessage("system", TITLE_PROMPT), ChatMessage("user", f"User: {question}\n\nAssistant: {answer[:1500]}")]
    prompt_tokens = tokens.estimate_messages_tokens(messages)
    try:
        reservation = limits.usage_reserve_turn(user=user, tokens=prompt_tokens)
    except LimitExceeded:
        logger.info("title generation for %s: monthly limit reached, offline title", conversation.id)
        return ""
    started = time.monotonic()
    parts: list[str] = []
    usage = None
    success = False
    try:
        try:
            for event in provider_for_model(model).stream(model=model, messages=messages, temperature=0.2, max_tokens=24):
                if event.text:
                    parts.append(event.text)
                if event.finished:
                    usage = event.usage
                    success = not event.cancelled
        except ProviderError as exc:
            logger.info("title generation fell back to the offline model: %s", exc.detail or exc)
            usage = exc.usage
            parts = []
        text = "".join(parts)
        if usage is None:
            usage = Usage(input_tokens=prompt_tokens, output_tokens=tokens.estimate_tokens(text) if text else 0, estimated=True)
        metering.usage_record_turn(
            user=user,
            agent=conversation.agent,
            conversation=conversation,
            model=model,
            tokens_input=usage.input_tokens,
            tokens_output=usage.output_tokens,
            duration_ms=int((time.monotonic() - started) * 1000),
            success=success,
        )
    finally:
        limits.usage_release_turn(reservation)
    return _clean_title(text) if success else ""
