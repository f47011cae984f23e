"""Short model calls made for the app itself (a conversation's title, a follow-up's search query),
metered like any turn: reserved against the monthly limits first, logged with the provider's token
counts (estimated when it gives none), the reservation released once the usage log is written."""

from __future__ import annotations

import logging
import time

from agents import tokens
from agents.providers import ChatMessage, ProviderError, Usage, provider_for_model

from . import limits
from . import services as metering
from .errors import LimitExceeded

logger = logging.getLogger(__name__)


def metered_call(*, conversation, model: str, messages: list[ChatMessage], temperature: float,
                 max_tokens: int, purpose: str) -> str:
    """The model's whole answer to ``messages``, or "" when the month's limit is reached, the call
    failed or it was cut short (``purpose`` names the call in the logs). The usage log counts it
    for ``conversation``'s owner and agent whatever the outcome."""
    user = conversation.user
    prompt_tokens = tokens.estimate_messages_tokens(messages)
    try:
        reservation = limits.usage_reserve_turn(user=user, tokens=prompt_tokens)
    except LimitExceeded:
        logger.info("%s for %s: monthly limit reached, no call", purpose, conversation.id)
        return ""
    started = time.monotonic()
    parts: list[str] = []
    usage = None
    success = False
    try:
        try:
            for event in provider_for_model(model).stream(model=model, messages=messages, temperature=temperature,
                                                          max_tokens=max_tokens):
                if event.text:
                    parts.append(event.text)
                if event.finished:
                    usage = event.usage
                    success = not event.cancelled
        except ProviderError as exc:
            logger.info("%s failed, falling back: %s", purpose, exc.detail or exc)
            usage = exc.usage
            parts = []
            success = False
        text = "".join(parts)
        if usage is None:
            usage = Usage(input_tokens=prompt_tokens, output_tokens=tokens.estimate_tokens(text) if text else 0, estimated=True)
        metering.usage_record_turn(
            user=user, agent=conversation.agent, conversation=conversation, model=model,
            tokens_input=usage.input_tokens, tokens_output=usage.output_tokens,
            duration_ms=int((time.monotonic() - started) * 1000), success=success,
        )
    finally:
        limits.usage_release_turn(reservation)
    return text if success else ""
