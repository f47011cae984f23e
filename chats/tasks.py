"""Background work of the chat domain. Tasks take ids and are safe to run twice."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from agents import registry, tokens
from agents.providers import ChatMessage, ProviderError, Usage, provider_for_model
from agents.providers.offline import generate_title
from core.tenancy import tenant
from core.text import strip_control_chars
from metrics import services as metering

from . import services
from .models import Conversation, MessageRole

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a short title (at most six words) for a conversation that starts with the exchange below. "
    "Answer with the title only: no quotes, no punctuation at the end. Use the language of the user's message."
)


def _clean_title(text: str) -> str:
    title = " ".join(strip_control_chars(text).strip().strip("\"'“”«»").split())
    return title.rstrip(".!?:;,")[:80]


@shared_task(name="chats.generate_conversation_title", ignore_result=True)
def generate_conversation_title(conversation_id: str, user_id: str) -> str:
    """Name a conversation after its first exchange; the offline model names it from the question.

    A model call for a title is metered like any turn: it is reserved against the monthly limits
    (at the limit, the offline model names the conversation instead) and leaves a usage log.
    """
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
    services.conversation_title_set_if_empty(user_id=user_id, conversation_id=conversation_id, title=title)
    return title


def _title_from_model(conversation: Conversation, model: str, question: str, answer: str) -> str:
    """The model's title for the exchange ("" if it could not give one), metered as a turn."""
    user = conversation.user
    messages = [ChatMessage("system", TITLE_PROMPT), ChatMessage("user", f"User: {question}\n\nAssistant: {answer[:1500]}")]
    prompt_tokens = tokens.estimate_messages_tokens(messages)
    try:
        reservation = metering.usage_reserve_turn(user=user, tokens=prompt_tokens)
    except metering.LimitExceeded:
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
        metering.usage_release_turn(reservation)
    return _clean_title(text) if success else ""
