"""Background work of the chat domain. Tasks take ids and are safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from agents import registry
from agents.providers import ChatMessage, ProviderError, provider_for_model
from agents.providers.offline import generate_title
from core.tenancy import tenant

from . import services
from .models import Conversation, MessageRole

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a short title (at most six words) for a conversation that starts with the exchange below. "
    "Answer with the title only: no quotes, no punctuation at the end. Use the language of the user's message."
)


def _clean_title(text: str) -> str:
    title = " ".join(text.strip().strip("\"'“”«»").split())
    return title.rstrip(".!?:;,")[:80]


@shared_task(name="chats.generate_conversation_title", ignore_result=True)
def generate_conversation_title(conversation_id: str, user_id: str) -> str:
    """Name a conversation after its first exchange; the offline model names it from the question."""
    with tenant(user_id):
        conversation = Conversation.objects.select_related("agent").filter(pk=conversation_id).first()
        if conversation is None or conversation.title:
            return ""
        first = list(conversation.messages.order_by("timestamp", "id").values_list("role", "content")[:2])
    question = next((content for role, content in first if role == MessageRole.USER), "")
    answer = next((content for role, content in first if role == MessageRole.ASSISTANT), "")
    title = ""
    info = registry.get_model(conversation.agent.model)
    if info is not None and info.provider != "offline" and registry.is_available(info.id):
        try:
            provider = provider_for_model(info.id)
            parts = [
                event.text
                for event in provider.stream(
                    model=info.id,
                    messages=[ChatMessage("system", TITLE_PROMPT), ChatMessage("user", f"User: {question}\n\nAssistant: {answer[:1500]}")],
                    temperature=0.2,
                    max_tokens=24,
                )
                if event.text
            ]
            title = _clean_title("".join(parts))
        except ProviderError as exc:
            logger.info("title generation fell back to the offline model: %s", exc.detail or exc)
    if not title:
        title = generate_title(question, answer)
    services.conversation_title_set_if_empty(user_id=user_id, conversation_id=conversation_id, title=title)
    return title
