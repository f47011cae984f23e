"""Editing a person's message: the rule that spans the stored turns and the answers being written.

An edit replaces the message's text and drops every message after it (``services.message_edit``),
then the page streams its new answer. An answer still being written for this message or a later
one (its question's stream lock is held, ``chats.streaming``) would land in a conversation that no
longer has its question, so the edit is refused until it ends (Stop ends it within a second).
Answer versions themselves are kept by ``services`` (``reply_regenerate``, ``reply_save``,
``answer_version_select``) and read by ``selectors`` (docs/decisions.md, "Answer versions").
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils.translation import gettext as _

from core.tenancy import tenant

from . import selectors, services, streaming
from .errors import ChatError
from .models import Conversation, Message


def answer_being_written(message: Message) -> bool:
    """Whether an answer to ``message`` or to a later message of its conversation is being written."""
    with tenant(message.user_id):
        questions = selectors.questions_from(message)
    if not questions:
        return False
    return bool(cache.get_many([streaming.LOCK_KEY.format(question_id) for question_id in questions]))


def message_edit(*, user, conversation: Conversation, message: Message, content: str) -> tuple[Message, int]:
    """``services.message_edit`` once no answer at or after ``message`` is being written."""
    if answer_being_written(message):
        raise ChatError(_("An answer is still being written. Stop it or wait for it to finish, then edit."))
    return services.message_edit(user=user, conversation=conversation, message=message, content=content)
