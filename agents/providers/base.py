"""The provider interface: stream a chat reply from a language model, report usage, support cancel.

Every provider (OpenAI-compatible, Anthropic, the built-in offline model) yields ``StreamEvent``s:
one per text delta, then exactly one final event with ``finished=True`` and the usage. Failures
raise ``ProviderError`` (or a subclass) carrying what had been streamed so far, so the caller can
keep a partial answer and account for its tokens.

``Provider.stream`` is the one entry point; a provider implements ``generate``. The providers
reached through an SDK over HTTP (OpenAI, Anthropic) share ``RemoteProvider.generate``: they only
say how to open the stream and how to read its events.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

import httpx2
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agents import tokens
from core.errors import UserFacingError


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


class ProviderError(UserFacingError):
    """A model call failed. ``message`` is safe to show; ``partial_text`` is what was streamed."""

    default_message = _("The model could not answer. Please try again.")

    def __init__(
        self,
        message: str | None = None,
        *,
        partial_text: str = "",
        usage: Usage | None = None,
        retryable: bool = False,
        detail: str = "",
    ) -> None:
        super().__init__(message, *([detail] if detail else []))
        self.partial_text = partial_text
        self.usage = usage
        self.retryable = retryable
        self.detail = detail  # technical detail for logs, never shown to the user


class ProviderTimeout(ProviderError):
    default_message = _("The model took too long to answer. Please try again.")

    def __init__(self, message: str | None = None, **kwargs) -> None:
        kwargs.setdefault("retryable", True)
        super().__init__(message, **kwargs)


class ProviderUnavailable(ProviderError):
    """The provider is not configured (no API key or base URL), or the model is unknown."""

    default_message = _("This model is not available: its provider is not configured.")


@dataclass(frozen=True)
class Prompt:
    """One call's input, as ``Provider.stream`` received it and with the system prompt joined."""

    model: str
    messages: list[ChatMessage]  # as given
    passages: list[Passage] | None
    system: str  # the system messages and the passages section (``split_system``)
    conversation: list[ChatMessage]  # the messages other than system ones
    temperature: float
    max_tokens: int


class Provider(ABC):
    name: str

    @abstractmethod
    def is_configured(self) -> bool: ...

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
        system, conversation = split_system(messages, passages)
        prompt = Prompt(model=model, messages=messages, passages=passages, system=system, conversation=conversation,
                        temperature=temperature, max_tokens=max_tokens)
        yield from self.generate(prompt, cancel=cancel, timeout=timeout)

    @abstractmethod
    def generate(self, prompt: Prompt, *, cancel: threading.Event | None, timeout: float | None) -> Iterator[StreamEvent]:
        """The events of ``stream`` (runs lazily, as the caller iterates)."""


class StreamTally:
    """What a remote stream has produced so far: its text and the token counts the provider reported."""

    def __init__(self, prompt_estimate: int) -> None:
        self.prompt_estimate = prompt_estimate
        self.parts: list[str] = []
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def usage(self) -> Usage:
        """The usage so far: what the provider reported, estimated where it did not report (yet)."""
        return combine_usage(input_tokens=self.input_tokens, output_tokens=self.output_tokens,
                             prompt_estimate=self.prompt_estimate, partial_text=self.text)


class RemoteProvider(Provider):
    """A provider reached over HTTP through its SDK, which shares one stream skeleton: refuse when not
    configured, send nothing when already cancelled, read the events until the end or a cancel
    (closing the response drops the connection, so the server stops generating), keep the usage so
    far, and turn every SDK or transport failure into a ``ProviderError`` carrying the partial text."""

    sdk: ModuleType  # ``openai`` or ``anthropic``: both name their errors alike

    @abstractmethod
    def client(self, timeout: float):
        """The SDK client (a context manager), with no retries of its own: the chat decides."""

    @abstractmethod
    def open_stream(self, client, prompt: Prompt, conversation: list[ChatMessage]):
        """Start the streamed request (a context manager yielding the SDK's events)."""

    @abstractmethod
    def read(self, response, tally: StreamTally) -> Iterator[str]:
        """The text of each event ("" for none), recording reported token counts in ``tally``."""

    def for_api(self, conversation: list[ChatMessage]) -> list[ChatMessage]:
        """The conversation as the API accepts it (what is sent, and what the estimate counts)."""
        return conversation

    def generate(self, prompt: Prompt, *, cancel: threading.Event | None, timeout: float | None) -> Iterator[StreamEvent]:
        if not self.is_configured():
            raise ProviderUnavailable()
        conversation = self.for_api(prompt.conversation)
        tally = StreamTally(estimate_prompt_tokens(prompt.system, conversation))
        if is_cancelled(cancel):
            yield StreamEvent(usage=Usage(0, 0), finished=True, cancelled=True)
            return
        with self.client(timeout if timeout is not None else settings.LLM_TIMEOUT_SECONDS) as client:
            try:
                response = self.open_stream(client, prompt, conversation)
            except self.sdk.APIError as exc:
                raise self.translate(exc, partial_text="", usage=None) from exc

            cancelled = False
            try:
                with response:
                    for text in self.read(response, tally):
                        if text:
                            tally.parts.append(text)
                            yield StreamEvent(text=text)
                        if is_cancelled(cancel):
                            cancelled = True
                            break
            except self.sdk.APIError as exc:
                raise self.translate(exc, partial_text=tally.text, usage=tally.usage()) from exc
            # The SDKs do not wrap every transport error raised while reading the event stream.
            except httpx2.TimeoutException as exc:
                raise ProviderTimeout(partial_text=tally.text, usage=tally.usage(), detail=str(exc)) from exc
            except httpx2.TransportError as exc:
                raise ProviderError(
                    MSG_INTERRUPTED, partial_text=tally.text, usage=tally.usage(), retryable=True, detail=str(exc)
                ) from exc

        yield StreamEvent(usage=tally.usage(), finished=True, cancelled=cancelled)

    def translate(self, exc: Exception, *, partial_text: str, usage: Usage | None) -> ProviderError:
        """Map an SDK error to ours; ``usage`` is None when the request never started streaming."""
        kwargs = {"partial_text": partial_text, "usage": usage, "detail": f"{type(exc).__name__}: {exc}"}
        if isinstance(exc, self.sdk.APITimeoutError):
            return ProviderTimeout(**kwargs)
        if isinstance(exc, self.sdk.APIConnectionError):
            return ProviderError(MSG_INTERRUPTED if partial_text else MSG_CONNECTION, retryable=True, **kwargs)
        if isinstance(exc, self.sdk.APIStatusError):
            return self.status_error(exc, **kwargs)
        # An error object inside the stream (HTTP status was 200): the provider's side broke mid-answer.
        return error_for_status(None, **kwargs)

    def status_error(self, exc, **kwargs) -> ProviderError:
        """The ``ProviderError`` for an HTTP error status (``kwargs``: partial text, usage, detail)."""
        return error_for_status(exc.status_code, retry_after=retry_after_seconds(exc), **kwargs)


def retry_after_seconds(exc) -> int | None:
    """The wait a 429/503 names in its ``Retry-After`` header (seconds; a date form is ignored)."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after", "") if response is not None else ""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(1, round(seconds)) if 0 <= seconds < 24 * 3600 else None


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
    status: int | None, *, partial_text: str = "", usage: Usage | None = None, detail: str = "",
    retry_after: int | None = None,
) -> ProviderError:
    """Map an HTTP status to a ``ProviderError``: 401/403 final, 429 and 5xx retryable; a 429 that
    names its wait (``Retry-After``) says how long."""
    kwargs = {"partial_text": partial_text, "usage": usage, "detail": detail}
    if status == 401:
        return ProviderError(MSG_AUTH, retryable=False, **kwargs)
    if status == 403:
        return ProviderError(MSG_FORBIDDEN, retryable=False, **kwargs)
    if status == 429 and retry_after:
        message = ngettext("The model provider is rate limiting requests. Please try again in %(n)d second.",
                           "The model provider is rate limiting requests. Please try again in %(n)d seconds.",
                           retry_after) % {"n": retry_after}
        return ProviderError(message, retryable=True, **kwargs)
    if status == 429:
        return ProviderError(MSG_RATE_LIMITED, retryable=True, **kwargs)
    if status == 529:  # Anthropic's "overloaded"
        return ProviderError(MSG_OVERLOADED, retryable=True, **kwargs)
    if status is not None and status >= 500:
        return ProviderError(MSG_SERVER, retryable=True, **kwargs)
    if status is not None and status >= 400:
        return ProviderError(MSG_REJECTED, retryable=False, **kwargs)
    return ProviderError(MSG_INTERRUPTED, retryable=True, **kwargs)
