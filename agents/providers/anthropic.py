"""Anthropic's Messages API via the ``anthropic`` SDK, streamed as raw server-sent events.

Usage arrives in two halves: input tokens in ``message_start``, output tokens (cumulative) in
``message_delta``. The system prompt goes in ``system=``, not in the messages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anthropic
import httpx2
from django.conf import settings

from agents.providers.base import (
    MSG_CONNECTION,
    MSG_INTERRUPTED,
    MSG_OVERLOADED,
    ChatMessage,
    Passage,
    Provider,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    StreamEvent,
    Usage,
    combine_usage,
    error_for_status,
    estimate_prompt_tokens,
    is_cancelled,
    split_system,
)

# Models that answer 400 "temperature is deprecated for this model": never send it to them.
NO_TEMPERATURE_MODELS = ("claude-opus-4-7", "claude-opus-4-8")


class AnthropicProvider(Provider):
    name = "anthropic"

    def is_configured(self) -> bool:
        return bool(settings.ANTHROPIC_API_KEY)

    def client(self, timeout: float) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            api_key=settings.ANTHROPIC_API_KEY,
            base_url=settings.ANTHROPIC_BASE_URL or None,
            timeout=timeout,
            max_retries=0,  # the chat service decides about retries
        )

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
        if not self.is_configured():
            raise ProviderUnavailable()
        system, conversation = split_system(messages, passages)
        conversation = _for_anthropic(conversation)
        prompt_estimate = estimate_prompt_tokens(system, conversation)
        if is_cancelled(cancel):
            yield StreamEvent(usage=Usage(0, 0), finished=True, cancelled=True)
            return

        request = {
            "model": model,
            "max_tokens": max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in conversation],
            "stream": True,
        }
        if system:
            request["system"] = system
        if not model.startswith(NO_TEMPERATURE_MODELS):
            # SDK 1.x removed sampling parameters from the signature; the API still takes them.
            request["extra_body"] = {"temperature": temperature}

        parts: list[str] = []
        input_tokens: int | None = None
        output_tokens: int | None = None

        def usage_so_far() -> Usage:
            return combine_usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                prompt_estimate=prompt_estimate,
                partial_text="".join(parts),
            )

        with self.client(timeout if timeout is not None else settings.LLM_TIMEOUT_SECONDS) as client:
            try:
                response = client.messages.create(**request)
            except anthropic.APIError as exc:
                raise _translate(exc, partial_text="", usage=None) from exc

            cancelled = False
            try:
                with response:  # closing it drops the connection, so the server stops generating
                    for event in response:
                        if event.type == "message_start":
                            input_tokens = event.message.usage.input_tokens
                        elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                            if event.delta.text:
                                parts.append(event.delta.text)
                                yield StreamEvent(text=event.delta.text)
                        elif event.type == "message_delta":
                            output_tokens = event.usage.output_tokens
                            if event.usage.input_tokens is not None:  # cumulative when present
                                input_tokens = event.usage.input_tokens
                        if is_cancelled(cancel):
                            cancelled = True
                            break
            except anthropic.APIError as exc:
                raise _translate(exc, partial_text="".join(parts), usage=usage_so_far()) from exc
            # The SDK does not wrap transport errors raised while reading the event stream.
            except httpx2.TimeoutException as exc:
                raise ProviderTimeout(partial_text="".join(parts), usage=usage_so_far(), detail=str(exc)) from exc
            except httpx2.TransportError as exc:
                raise ProviderError(
                    MSG_INTERRUPTED, partial_text="".join(parts), usage=usage_so_far(), retryable=True, detail=str(exc)
                ) from exc

        yield StreamEvent(usage=usage_so_far(), finished=True, cancelled=cancelled)


def _for_anthropic(conversation: list[ChatMessage]) -> list[ChatMessage]:
    """Only non-empty user/assistant turns, starting with a user turn, as the API requires."""
    turns = [m for m in conversation if m.role in ("user", "assistant") and m.content.strip()]
    while turns and turns[0].role != "user":  # trimmed history can start with an assistant reply
        turns.pop(0)
    return turns


def _translate(exc: anthropic.APIError, *, partial_text: str, usage: Usage | None) -> ProviderError:
    """Map an SDK error to ours; ``usage`` is None when the request never started streaming."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderTimeout(partial_text=partial_text, usage=usage, detail=detail)
    if isinstance(exc, anthropic.APIConnectionError):
        message = MSG_INTERRUPTED if partial_text else MSG_CONNECTION
        return ProviderError(message, partial_text=partial_text, usage=usage, retryable=True, detail=detail)
    if isinstance(exc, anthropic.APIStatusError):
        error_type = getattr(exc, "type", None)
        if error_type == "overloaded_error":  # also sent mid-stream, as an SSE "error" event
            return ProviderError(MSG_OVERLOADED, partial_text=partial_text, usage=usage, retryable=True, detail=detail)
        if exc.status_code == 200:  # any other "error" event inside an accepted stream
            return error_for_status(None, partial_text=partial_text, usage=usage, detail=detail)
        return error_for_status(exc.status_code, partial_text=partial_text, usage=usage, detail=detail)
    return error_for_status(None, partial_text=partial_text, usage=usage, detail=detail)
