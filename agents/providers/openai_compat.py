"""OpenAI, and any OpenAI-compatible server (Ollama, vLLM, OpenRouter, LM Studio), via the ``openai`` SDK.

Streams ``chat.completions`` with ``stream_options.include_usage`` so the last chunk carries the
token counts. Servers that ignore that option send no usage: it is then estimated.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
from django.conf import settings

from agents.providers.base import ChatMessage, Prompt, RemoteProvider, StreamTally

# Local servers (Ollama, vLLM, LM Studio) need no key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "not-needed"


class OpenAICompatProvider(RemoteProvider):
    name = "openai"
    sdk = openai

    def is_configured(self) -> bool:
        return bool(settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL)

    def client(self, timeout: float) -> openai.OpenAI:
        return openai.OpenAI(
            api_key=settings.OPENAI_API_KEY or PLACEHOLDER_KEY,
            base_url=settings.OPENAI_BASE_URL or None,
            timeout=timeout,
            max_retries=0,  # the chat service decides about retries
        )

    def open_stream(self, client: openai.OpenAI, prompt: Prompt, conversation: list[ChatMessage]):
        payload = ([{"role": "system", "content": prompt.system}] if prompt.system else []) + [
            {"role": m.role, "content": m.content} for m in conversation
        ]
        return client.chat.completions.create(
            model=prompt.model,
            messages=payload,
            temperature=prompt.temperature,
            max_tokens=prompt.max_tokens,
            stream=True,
            stream_options={"include_usage": True},
        )

    def read(self, response, tally: StreamTally) -> Iterator[str]:
        for chunk in response:
            if chunk.usage is not None:
                tally.input_tokens, tally.output_tokens = chunk.usage.prompt_tokens, chunk.usage.completion_tokens
            texts = [choice.delta.content for choice in chunk.choices if choice.delta is not None and choice.delta.content]
            yield from texts or [""]
