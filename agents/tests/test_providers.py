"""The provider layer as a whole: factory, shared helpers, token estimates and history trimming."""

from __future__ import annotations

import pytest

from agents import tokens
from agents.providers import (
    ChatMessage,
    Passage,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    format_passages,
    get_provider,
    provider_for_model,
)
from agents.providers.anthropic import AnthropicProvider
from agents.providers.offline import OfflineProvider
from agents.providers.openai_compat import OpenAICompatProvider


def test_factory_and_registry_lookup():
    assert isinstance(get_provider("offline"), OfflineProvider)
    assert isinstance(get_provider("openai"), OpenAICompatProvider)
    assert isinstance(get_provider("anthropic"), AnthropicProvider)
    assert isinstance(provider_for_model("gpt-4o-mini"), OpenAICompatProvider)
    assert isinstance(provider_for_model("claude-haiku-4-5"), AnthropicProvider)
    assert isinstance(provider_for_model("offline"), OfflineProvider)
    assert provider_for_model("llama3.1:8b").name == "openai"
    with pytest.raises(ValueError):
        get_provider("mystery")
    with pytest.raises(ProviderUnavailable):
        provider_for_model("no-such-model")


def test_configuration_follows_settings(settings):
    settings.OPENAI_API_KEY = settings.OPENAI_BASE_URL = settings.ANTHROPIC_API_KEY = ""
    assert not get_provider("openai").is_configured()
    assert not get_provider("anthropic").is_configured()
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    settings.ANTHROPIC_API_KEY = "sk-ant"
    assert get_provider("openai").is_configured()
    assert get_provider("anthropic").is_configured()


def test_format_passages_numbers_them_and_asks_for_citations():
    section = format_passages([Passage(1, "Guide", " First text. "), Passage(2, "Notes", "Second.", "https://x.test")])
    assert "[1]" in section.split("\n\n", 1)[0]  # the instructions show how to cite
    assert "[1] Guide\nFirst text." in section
    assert "[2] Notes (https://x.test)\nSecond." in section
    assert format_passages([]) == ""


def test_errors_carry_defaults():
    error = ProviderError(partial_text="abc")
    assert error.partial_text == "abc" and error.usage is None and not error.retryable
    assert str(error.message)
    assert ProviderTimeout().retryable is True
    assert isinstance(ProviderUnavailable(), ProviderError)


# --- tokens --------------------------------------------------------------------------------------


def test_estimate_tokens_is_monotonic_and_counts_words():
    text = "The quick brown fox jumps over the lazy dog, again and again. " * 5
    estimates = [tokens.estimate_tokens(text[:n]) for n in range(len(text) + 1)]
    assert estimates == sorted(estimates)
    assert estimates[0] == 0
    assert tokens.estimate_tokens("a b c d e f") >= 6  # at least one per word
    assert tokens.estimate_tokens("x" * 400) == 100  # about four characters per token
    assert tokens.estimate_tokens(text) == tokens.estimate_tokens(text)


def _history(turns: int) -> list[ChatMessage]:
    messages = [ChatMessage("system", "You are helpful.")]
    for i in range(turns):
        messages.append(ChatMessage("user", f"Question number {i} " + "word " * 20))
        messages.append(ChatMessage("assistant", f"Answer number {i} " + "word " * 20))
    messages.append(ChatMessage("user", "The last question?"))
    return messages


def test_trim_history_drops_oldest_first_and_keeps_system_and_last_user():
    messages = _history(5)
    full = tokens.estimate_messages_tokens(messages)

    assert tokens.trim_history(messages, budget=full) == messages

    trimmed = tokens.trim_history(messages, budget=full // 2)
    assert trimmed[0] == messages[0]
    assert trimmed[-1] == messages[-1]
    assert trimmed[1:] == messages[len(messages) - len(trimmed) + 1 :]  # a suffix: oldest went first
    assert tokens.estimate_messages_tokens(trimmed) <= full // 2
    assert len(trimmed) < len(messages)


def test_trim_history_never_drops_system_or_last_user_even_over_budget():
    messages = _history(3) + [ChatMessage("assistant", "A trailing reply.")]
    trimmed = tokens.trim_history(messages, budget=0)
    assert trimmed == [messages[0], messages[-2]]


def test_token_estimates_are_the_same_remembered_or_not():
    """agents.tokens remembers the estimates of texts up to 8,192 characters (a turn estimates its
    whole history again): the same figure as computing it, for short, long and repeated texts."""
    from agents import tokens

    texts = ["", "one", "Hello, world! " * 3, "palabra " * 1500, "x" * 8192, "y" * 8193, "z. " * 5000]
    for text in texts + texts:  # the second time from memory where remembered
        expected = 0 if not text else max(-(-len(text) // 4), len(tokens._PIECE.findall(text)))
        assert tokens.estimate_tokens(text) == expected, len(text)
    assert tokens._remembered_estimate.cache_info().hits >= 4
