"""The provider interface: stream a chat reply from a language model, report usage, support cancel.

Every provider (OpenAI-compatible, Anthropic, the built-in offline model) yields ``StreamEvent``s:
one per text delta, then exactly one final event with ``finished=True`` and the usage. Failures
raise ``ProviderError`` (or a subclass) carrying what had been streamed so far, so the caller can
keep a partial answer and account for its tokens.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from agents import tokens


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Passage:
    """A retrieved document passage; the model cites it as ``[number]``."""

    number: int
    title: str
    text: str
    url: str = ""


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int
    estimated: bool = False  # True when counted by agents.tokens rather than reported by the provider


@dataclass(frozen=True)
class StreamEvent:
    text: str = ""
    usage: Usage | None = None
    finished: bool = False
    cancelled: bool = False


class ProviderError(Exception):
    """A model call failed. ``user_message`` is safe to show; ``partial_text`` is what was streamed."""

    default_message = _("The model could not answer. Please try again.")

    def __init__(
        self,
        user_message: str | None = None,
        *,
        partial_text: str = "",
        usage: Usage | None = None,
        retryable: bool = False,
        detail: str = "",
    ) -> None:
        self.user_message = user_message if user_message is not None else self.default_message
        self.partial_text = partial_text
        self.usage = usage
        self.retryable = retryable
        self.detail = detail  # technical detail for logs, never shown to the user
        super().__init__(detail or str(self.user_message))


class ProviderTimeout(ProviderError):
    default_message = _("The model took too long to answer. Please try again.")

    def __init__(self, user_message: str | None = None, **kwargs) -> None:
        kwargs.setdefault("retryable", True)
        super().__init__(user_message, **kwargs)


class ProviderUnavailable(ProviderError):
    """The provider is not configured (no API key or base URL), or the model is unknown."""

    default_message = _("This model is not available: its provider is not configured.")


class Provider(ABC):
    name: str

    @abstractmethod
    def is_configured(self) -> bool: ...

    @abstractmethod
    def stream(
        self,
        *,
        model: str,
        messages: list[ChatMessage],
        temperature: float,
        max_tokens: int,
        passages: list[Passage] | None = None,
        cancel: threading.Event | None = None,
        timeout: float | None = None,
    ) -> Iterator[StreamEvent]:
        """Yield a ``StreamEvent(text=...)`` per delta, then one ``StreamEvent(usage=..., finished=True)``."""


# --- helpers shared by the providers -------------------------------------------------------------

PASSAGES_INSTRUCTIONS = (
    "Use the following passages from the user's documents to answer when they are relevant. "
    "Cite a passage by writing its number in square brackets, like [1], right after the statement "
    "it supports. Do not invent citations; if the passages do not contain the answer, say so."
)


def format_passages(passages: list[Passage]) -> str:
    """The passages section appended to the system prompt of the real providers."""
    if not passages:
        return ""
    blocks = []
    for passage in passages:
        heading = f"[{passage.number}] {passage.title}".rstrip()
        if passage.url:
            heading += f" ({passage.url})"
        blocks.append(f"{heading}\n{passage.text.strip()}")
    return PASSAGES_INSTRUCTIONS + "\n\n" + "\n\n".join(blocks)


def split_system(messages: list[ChatMessage], passages: list[Passage] | None) -> tuple[str, list[ChatMessage]]:
    """Join the system messages (plus the passages section) into one prompt; return it and the rest."""
    system_parts = [m.content.strip() for m in messages if m.role == "system" and m.content.strip()]
    section = format_passages(passages or [])
    if section:
        system_parts.append(section)
    conversation = [m for m in messages if m.role != "system"]
    return "\n\n".join(system_parts), conversation


def estimate_prompt_tokens(system: str, conversation: list[ChatMessage]) -> int:
    prompt = [ChatMessage("system", system)] if system else []
    return tokens.estimate_messages_tokens(prompt + list(conversation))


def combine_usage(
    *, input_tokens: int | None, output_tokens: int | None, prompt_estimate: int, partial_text: str
) -> Usage:
    """Usage from what the provider reported, estimating whatever it did not report (yet)."""
    estimated = input_tokens is None or output_tokens is None
    return Usage(
        input_tokens=input_tokens if input_tokens is not None else prompt_estimate,
        output_tokens=output_tokens if output_tokens is not None else tokens.estimate_tokens(partial_text),
        estimated=estimated,
    )


def is_cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


# User-facing messages for HTTP failures, shared by the OpenAI and Anthropic providers.
MSG_AUTH = _("Authentication with the model provider failed. Check the API key.")
MSG_FORBIDDEN = _("The model provider refused access to this model.")
MSG_RATE_LIMITED = _("The model provider is rate limiting requests. Please wait a moment and try again.")
MSG_OVERLOADED = _("The model provider is overloaded. Please try again in a moment.")
MSG_SERVER = _("The model provider had an internal error. Please try again.")
MSG_REJECTED = _("The model provider rejected the request.")
MSG_CONNECTION = _("Could not reach the model provider. Please try again.")
MSG_INTERRUPTED = _("The answer was interrupted by the model provider. Please try again.")


def error_for_status(
    status: int | None, *, partial_text: str = "", usage: Usage | None = None, detail: str = ""
) -> ProviderError:
    """Map an HTTP status to a ``ProviderError``: 401/403 final, 429 and 5xx retryable."""
    kwargs = {"partial_text": partial_text, "usage": usage, "detail": detail}
    if status == 401:
        return ProviderError(MSG_AUTH, retryable=False, **kwargs)
    if status == 403:
        return ProviderError(MSG_FORBIDDEN, retryable=False, **kwargs)
    if status == 429:
        return ProviderError(MSG_RATE_LIMITED, retryable=True, **kwargs)
    if status == 529:  # Anthropic's "overloaded"
        return ProviderError(MSG_OVERLOADED, retryable=True, **kwargs)
    if status is not None and status >= 500:
        return ProviderError(MSG_SERVER, retryable=True, **kwargs)
    if status is not None and status >= 400:
        return ProviderError(MSG_REJECTED, retryable=False, **kwargs)
    return ProviderError(MSG_INTERRUPTED, retryable=True, **kwargs)
