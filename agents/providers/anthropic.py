"""Anthropic's Messages API via the ``anthropic`` SDK, streamed as raw server-sent events.

Usage arrives in two halves: input tokens in ``message_start``, output tokens (cumulative) in
``message_delta``. The system prompt goes in ``system=``, not in the messages.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
from django.conf import settings

from agents.providers.base import (
    MSG_OVERLOADED,
    ChatMessage,
    Prompt,
    ProviderError,
    RemoteProvider,
    StreamTally,
    error_for_status,
)

# Models that answer 400 "temperature is deprecated for this model": never send it to them.
NO_TEMPERATURE_MODELS = ("claude-opus-4-7", "claude-opus-4-8")


class AnthropicProvider(RemoteProvider):
    name = "anthropic"
    sdk = anthropic

    def is_configured(self) -> bool:
        return bool(settings.ANTHROPIC_API_KEY)

    def client(self, timeout: float) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            api_key=settings.ANTHROPIC_API_KEY,
            base_url=settings.ANTHROPIC_BASE_URL or None,
            timeout=timeout,
            max_retries=0,  # the chat service decides about retries
        )

    def for_api(self, conversation: list[ChatMessage]) -> list[ChatMessage]:
        """Only non-empty user/assistant turns, starting with a user turn, as the API requires."""
        turns = [m for m in conversation if m.role in ("user", "assistant") and m.content.strip()]
        while turns and turns[0].role != "user":  # trimmed history can start with an assistant reply
            turns.pop(0)
        return turns

    def open_stream(self, client: anthropic.Anthropic, prompt: Prompt, conversation: list[ChatMessage]):
        request = {
            "model": prompt.model,
            "max_tokens": prompt.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in conversation],
            "stream": True,
        }
        if prompt.system:
            request["system"] = prompt.system
        if not prompt.model.startswith(NO_TEMPERATURE_MODELS):
            # SDK 1.x removed sampling parameters from the signature; the API still takes them.
            request["extra_body"] = {"temperature": prompt.temperature}
        return client.messages.create(**request)

    def read(self, response, tally: StreamTally) -> Iterator[str]:
        for event in response:
            text = ""
            if event.type == "message_start":
                tally.input_tokens = event.message.usage.input_tokens
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                text = event.delta.text or ""
            elif event.type == "message_delta":
                tally.output_tokens = event.usage.output_tokens
                if event.usage.input_tokens is not None:  # cumulative when present
                    tally.input_tokens = event.usage.input_tokens
            yield text

    def status_error(self, exc, **kwargs) -> ProviderError:
        if getattr(exc, "type", None) == "overloaded_error":  # also sent mid-stream, as an SSE "error" event
            return ProviderError(MSG_OVERLOADED, retryable=True, **kwargs)
        if exc.status_code == 200:  # any other "error" event inside an accepted stream
            return error_for_status(None, **kwargs)
        return super().status_error(exc, **kwargs)
