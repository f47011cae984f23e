"""Naming a conversation after its first exchange (run by ``chats.tasks.generate_conversation_title``).

A real model names it when the agent's model is available, metered like any turn: reserved
against the monthly limits (at the limit, the offline model names it instead) and leaving a usage
log. Otherwise, or when the model gives no title, the offline model names it from the question.
"""

from __future__ import annotations

import logging

from agents import registry
from agents.providers import ChatMessage
from agents.providers.offline import generate_title
from core.tenancy import tenant
from core.text import strip_control_chars
from metrics.calls import metered_call

from .models import Conversation, MessageRole

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a short title (at most six words) for a conversation that starts with the exchange below. "
    "Answer with the title only: no quotes, no punctuation at the end. Use the language of the user's message."
)


def _clean_title(text: str) -> str:
    title = " ".join(strip_control_chars(text).strip().strip("\"'“”«»").split())
    return title.rstrip(".!?:;,")[:80]


def conversation_title_generate(*, conversation_id: str, user_id: str) -> str:
    """Give an untitled conversation its title; returns it ("" when it already had one)."""
    with tenant(user_id):
        conversation = Conversation.objects.select_related("agent", "user").filter(pk=conversation_id).first()
        if conversation is None or conversation.title:
            return ""
        first = list(conversation.messages.order_by("timestamp", "id").values_list("role", "content")[:2])
    question = next((content for role, content in first if role == MessageRole.USER), "")
    answer = next((content for role, content in first if role == MessageRole.ASSISTANT), "")
    title = ""
    info = registry.get_model(conversation.agent.model)
    if info is not None and info.provider != "offline" and registry.is_available(info.id):
        title = _title_from_model(conversation, info.id, question, answer)
    if not title:
        title = generate_title(question, answer)
    conversation_title_set_if_empty(user_id=user_id, conversation_id=conversation_id, title=title)
    return title


def conversation_title_set_if_empty(*, user_id, conversation_id, title: str) -> bool:
    """Store ``title`` unless the conversation has one by now (the person may have renamed it)."""
    title = strip_control_chars(title or "").strip()[:200]
    if not title:
        return False
    with tenant(user_id):
        return bool(Conversation.objects.filter(pk=conversation_id, title="").update(title=title))


def _title_from_model(conversation: Conversation, model: str, question: str, answer: str) -> str:
    """The model's title for the exchange ("" if it could not give one), metered as a turn."""
    messages = [ChatMessage("system", TITLE_PROMPT), ChatMessage("user", f"User: {question}\n\nAssistant: {answer[:1500]}")]
    text = metered_call(conversation=conversation, model=model, messages=messages, temperature=0.2, max_tokens=24,
                        purpose="title generation")
    return _clean_title(text) if text else ""
