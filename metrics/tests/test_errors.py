"""The refusals of metering, the chat and the model providers are the one user-facing error type:
``message`` (and ``str``) is the text to show, rendered in the language active when read."""

import pytest
from django.utils import translation

from agents.providers import ProviderError, ProviderTimeout, ProviderUnavailable
from chats.errors import ChatError
from core.errors import UserFacingError
from metrics.errors import InvalidMonth, LimitExceeded


def test_every_domain_refusal_is_a_user_facing_error():
    for error_class in (LimitExceeded, InvalidMonth, ChatError, ProviderError, ProviderTimeout, ProviderUnavailable):
        assert issubclass(error_class, UserFacingError)


@pytest.mark.django_db
def test_limit_exceeded_message_is_rendered_when_read():
    refusal = LimitExceeded(kind="tokens", used=10, limit=300_000, tier="FREE", year=2026, month=1)
    assert refusal.message.startswith("You have used all 300,000 tokens of your Free plan this month.")
    assert str(refusal) == refusal.message and "February 1" in refusal.message
    with translation.override("es"):
        assert "1 de febrero" in refusal.message and str(refusal) == refusal.message


def test_provider_errors_keep_their_details_apart_from_the_message():
    error = ProviderTimeout(partial_text="Par", detail="ReadTimeout: 30 s")
    assert str(error) == str(error.message) == "The model took too long to answer. Please try again."
    assert error.detail == "ReadTimeout: 30 s" and error.partial_text == "Par" and error.retryable
