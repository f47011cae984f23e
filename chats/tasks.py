"""Background work of the chat domain. Tasks take ids, are safe to run twice, and call the module
that does the work (imported in the task body)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="chats.generate_conversation_title", ignore_result=True)
def generate_conversation_title(conversation_id: str, user_id: str) -> str:
    """Name a conversation after its first exchange (``chats.titles``)."""
    from .titles import conversation_title_generate  # noqa: PLC0415 - tasks import the work in the task body

    return conversation_title_generate(conversation_id=conversation_id, user_id=user_id)
