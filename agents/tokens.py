"""Token estimates without a tokenizer: fast, deterministic, and good enough for budgets.

Used to trim history to a model's context window and to account for usage when a provider does
not report it (some OpenAI-compatible servers, cancelled or failed streams, the offline model).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Protocol, TypeVar

# A word, a number, or a single punctuation mark: roughly what a BPE tokenizer never merges across.
_PIECE = re.compile(r"\w+|[^\w\s]")

# Role markers and separators a chat template adds around each message.
MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 2


class _Message(Protocol):
    role: str
    content: str


M = TypeVar("M", bound=_Message)


# A turn estimates its whole history again (chats.streaming.build_context): the same messages turn
# after turn, 0.26 ms for 40 of them. Texts up to this long are remembered, the last this many.
_REMEMBERED_LENGTH = 8192
_REMEMBERED = 1024


def estimate_tokens(text: str) -> int:
    """About one token per four characters, and at least one per word or punctuation mark."""
    if not text:
        return 0
    return _remembered_estimate(text) if len(text) <= _REMEMBERED_LENGTH else _estimate(text)


def _estimate(text: str) -> int:
    return max(math.ceil(len(text) / 4), len(_PIECE.findall(text)))


_remembered_estimate = functools.lru_cache(maxsize=_REMEMBERED)(_estimate)


def estimate_messages_tokens(messages: list[_Message]) -> int:
    if not messages:
        return 0
    return sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD for m in messages) + REPLY_PRIMING


def trim_history(messages: list[M], *, budget: int) -> list[M]:
    """Drop the oldest non-system messages until the estimate fits ``budget``.

    System messages and the last user message are always kept (even if they alone exceed the
    budget: the provider will then say the prompt is too long, which is the honest outcome).
    Order is preserved.
    """
    last_user = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    keep = list(range(len(messages)))
    droppable = [i for i in keep if messages[i].role != "system" and i != last_user]
    total = estimate_messages_tokens(messages)
    for index in droppable:  # oldest first
        if total <= budget:
            break
        keep.remove(index)
        total -= estimate_tokens(messages[index].content) + MESSAGE_OVERHEAD
    return [messages[i] for i in keep]
