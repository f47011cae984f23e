"""OpenAI, and any OpenAI-compatible server (Ollama, vLLM, OpenRouter, LM Studio), via the ``openai`` SDK.

Streams ``chat.completions`` with ``stream_options.include_usage`` so the last chunk carries the
token counts. Servers that ignore that option send no usage: it is then estimated.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx2
import openai
from django.conf import settings

from agents.providers.base import (
    MSG_CONNECTION,
    MSG_INTERRUPTED,
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

# Local servers (Ollama, vLLM, LM Studio) need no key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "not-needed"


class OpenAICompatProvider(Provider):
    name = "openai"

    def is_configured(self) -> bool:
        return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)

    def client(self, timeout: float) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=settings.OPENAI_API_KEY or PLACEHOLDER_KEY,
            base_url=settings.OPENAI_BASE_URL or None,
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
        payload = ([{"role": "system", "content": system}] if system else []) + [
            {"role": m.role, "content": m.content} for m in conversation
        ]
        prompt_estimate = estimate_prompt_tokens(system, conversation)
        if is_cancelled(cancel):
            yield StreamEvent(usage=Usage(0, 0), finished=True, cancelled=True)
            return
        parts: list[str] = []
        reported: Usage | None = None

        def usage_so_far() -> Usage:
            if reported is not None:
                return reported
            return combine_usage(
                input_tokens=None, output_tokens=None, prompt_estimate=prompt_estimate, partial_text="".join(parts)
            )

        with self.client(timeout if timeout is not None else settings.LLM_TIMEOUT_SECONDS) as client:
            try:
                response = client.chat.completions.create(
                    model=model,
                    messages=payload,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                )
            except openai.APIError as exc:
                raise _translate(exc, partial_text="", usage=None) from exc

            cancelled = False
            try:
                with response:  # closing it drops the connection, so the server stops generating
                    for chunk in response:
                        if chunk.usage is not None:
                            reported = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                        for choice in chunk.choices:
                            text = choice.delta.content if choice.delta is not None else None
                            if text:
                                parts.append(text)
                                yield StreamEvent(text=text)
                        if is_cancelled(cancel):
                            cancelled = True
                            break
            except openai.APIError as exc:
                raise _translate(exc, partial_text="".join(parts), usage=usage_so_far()) from exc
            except httpx2.TimeoutException as exc:
                raise ProviderTimeout(partial_text="".join(parts), usage=usage_so_far(), detail=str(exc)) from exc
            except httpx2.TransportError as exc:
                raise ProviderError(
                    MSG_INTERRUPTED, partial_text="".join(parts), usage=usage_so_far(), retryable=True, detail=str(exc)
                ) from exc

        yield StreamEvent(usage=usage_so_far(), finished=True, cancelled=cancelled)


def _translate(exc: openai.APIError, *, partial_text: str, usage: Usage | None) -> ProviderError:
    """Map an SDK error to ours; ``usage`` is None when the request never started streaming."""
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(partial_text=partial_text, usage=usage, detail=detail)
    if isinstance(exc, openai.APIConnectionError):
        message = MSG_INTERRUPTED if partial_text else MSG_CONNECTION
        return ProviderError(message, partial_text=partial_text, usage=usage, retryable=True, detail=detail)
    if isinstance(exc, openai.APIStatusError):
        return error_for_status(exc.status_code, partial_text=partial_text, usage=usage, detail=detail)
    # An error object inside the stream (HTTP status was 200): OpenAI's side broke mid-answer.
    return error_for_status(None, partial_text=partial_text, usage=usage, detail=detail)
