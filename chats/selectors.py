"""Reads of the chat domain, always scoped to the person asking (RLS is the second wall)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.db.models.fields.json import KT
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from agents.selectors import agent_is_usable_by
from core.search import folded_contains

from .models import Conversation, Message, MessageRole


def conversation_get_for_user(*, user, conversation_id) -> Conversation:
    return get_object_or_404(Conversation.objects.select_related("agent"), pk=conversation_id, user=user)


def conversation_get_for_chat(*, user, conversation_id) -> Conversation:
    """A conversation the user may continue: theirs, with an agent they may still use; else 404."""
    conversation = conversation_get_for_user(user=user, conversation_id=conversation_id)
    if not agent_is_usable_by(conversation.agent, user):
        raise Http404
    return conversation


# An answer replaced by a newer version (Regenerate) or by the person's choice of another version
# keeps ``metadata.superseded``: the one answer of a question without it is the version shown, and
# while every answer of a question has it, a new version is being written (docs/decisions.md,
# "Answer versions"). ``@>`` is false, never NULL, for a row without the key.
SUPERSEDED = Q(metadata__contains={"superseded": True})


def conversation_messages(conversation: Conversation) -> QuerySet[Message]:
    """The conversation as it reads: each question with the version of its answer that is shown."""
    return conversation.messages.exclude(SUPERSEDED).order_by("timestamp", "id")


def conversation_tail(conversation: Conversation) -> list[Message]:
    """What the page needs of ``conversation_messages`` besides its items (one query): its last
    message (a question still waiting for its answer) and its last question (the composer starts
    from its model and temperature), oldest first."""
    shown = conversation_messages(conversation).order_by("-timestamp", "-id").values("pk")
    return list(
        Message.objects.filter(Q(pk__in=shown[:1]) | Q(pk__in=shown.filter(role=MessageRole.USER)[:1]))
        .order_by("timestamp", "id")
    )


def message_get_for_user(*, user, conversation: Conversation, message_id) -> Message:
    return get_object_or_404(Message, pk=message_id, conversation=conversation, user=user)


def question_get(*, conversation: Conversation, message_id) -> Message:
    """The person's message ``message_id`` of ``conversation`` (the question a stream answers)."""
    return Message.objects.get(pk=message_id, conversation=conversation, role=MessageRole.USER)


def history_for_turn(*, conversation: Conversation, user_message: Message) -> list[tuple[str, str]]:
    """(role, content) of the messages up to ``user_message``, oldest first, for the model's context
    (answers that came out empty are left out, and of each answer only the version shown)."""
    return list(
        conversation.messages.filter(timestamp__lte=user_message.timestamp)
        .exclude(role=MessageRole.ASSISTANT, content="")
        .exclude(SUPERSEDED)
        .order_by("timestamp", "id")
        .values_list("role", "content")
    )


def _answers_to(user_message: Message) -> QuerySet[Message]:
    return Message.objects.filter(conversation_id=user_message.conversation_id, role=MessageRole.ASSISTANT,
                                  metadata__reply_to=str(user_message.id))


def answer_for(user_message: Message) -> Message | None:
    """The answer ``user_message`` currently has (the version shown); None while none was stored
    or a new version is to be written (Regenerate superseded the one shown)."""
    return _answers_to(user_message).exclude(SUPERSEDED).order_by("-timestamp", "-id").first()


def answer_versions(*, conversation_id) -> dict[str, list[uuid.UUID]]:
    """{question id: its answers' ids, oldest first} for the questions of a conversation that have
    more than one answer (one query, however long the conversation)."""
    rows = (
        Message.objects.filter(conversation_id=conversation_id, role=MessageRole.ASSISTANT, metadata__has_key="reply_to")
        .values(question=KT("metadata__reply_to"))
        .annotate(count=Count("id"), ids=ArrayAgg("id", order_by=("timestamp", "id")))
        .filter(count__gt=1)
        .values_list("question", "ids")
    )
    return dict(rows)


def answer_versions_of(answer: Message) -> list[uuid.UUID]:
    """The ids of every version of the answer ``answer`` is one of, oldest first ([] for an answer
    without versions)."""
    metadata = answer.metadata if isinstance(answer.metadata, dict) else {}
    question_id = metadata.get("reply_to")
    if answer.role != MessageRole.ASSISTANT or not isinstance(question_id, str):
        return []
    ids = list(
        Message.objects.filter(conversation_id=answer.conversation_id, role=MessageRole.ASSISTANT, metadata__reply_to=question_id)
        .order_by("timestamp", "id").values_list("id", flat=True)
    )
    return ids if len(ids) > 1 else []


def answer_version_get(*, user, conversation: Conversation, message_id) -> Message:
    """An answer of the user's conversation that has a question (a version one may choose); else 404."""
    answer = message_get_for_user(user=user, conversation=conversation, message_id=message_id)
    metadata = answer.metadata if isinstance(answer.metadata, dict) else {}
    if answer.role != MessageRole.ASSISTANT or not isinstance(metadata.get("reply_to"), str):
        raise Http404
    try:
        uuid.UUID(metadata["reply_to"])
    except ValueError:
        raise Http404 from None
    return answer


def messages_after(message: Message) -> int:
    """How many messages of the conversation as it reads come after ``message`` (an edit drops them)."""
    return (
        Message.objects.filter(conversation_id=message.conversation_id)
        .filter(Q(timestamp__gt=message.timestamp) | Q(timestamp=message.timestamp, id__gt=message.id))
        .exclude(SUPERSEDED)
        .count()
    )


def questions_from(message: Message) -> list[uuid.UUID]:
    """The ids of the person's messages from ``message`` on (itself included), oldest first."""
    return list(
        Message.objects.filter(conversation_id=message.conversation_id, role=MessageRole.USER)
        .filter(Q(timestamp__gt=message.timestamp) | Q(pk=message.pk))
        .order_by("timestamp", "id").values_list("id", flat=True)
    )


def question_get_for_edit(*, user, conversation: Conversation, message_id) -> Message:
    """The person's own message ``message_id`` of ``conversation`` (one they may edit); else 404."""
    message = message_get_for_user(user=user, conversation=conversation, message_id=message_id)
    if message.role != MessageRole.USER:
        raise Http404
    return message


def conversations_for_user(*, user) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user).select_related("agent").order_by("-last_message_at", "-id")


# --- the conversation sidebar ---------------------------------------------------------------------

SIDEBAR_LIMIT = 100  # the sidebar lists this many conversations; the list page has them all
SIDEBAR_FIELDS = ("id", "title", "last_message_at", "user_id", "agent__id", "agent__name", "agent__slug")


@dataclass
class SidebarGroup:
    key: str  # pinned | today | yesterday | week | month | YYYY-MM
    label: str
    conversations: list[Conversation] = field(default_factory=list)


def _day_group(day: date, today: date) -> tuple[str, str]:
    """(key, label) of the group a conversation last active on ``day`` belongs to."""
    if day >= today:
        return "today", _("Today")
    if day == today - timedelta(days=1):
        return "yesterday", _("Yesterday")
    if day > today - timedelta(days=7):
        return "week", _("Previous 7 days")
    if day > today - timedelta(days=30):
        return "month", _("Previous 30 days")
    return f"{day:%Y-%m}", formats.date_format(day, "YEAR_MONTH_FORMAT")


def conversation_sidebar(*, user, query: str = "", limit: int = SIDEBAR_LIMIT, now=None) -> list[SidebarGroup]:
    """The person's conversations for the sidebar: pinned ones first (most recently pinned on top),
    then the others grouped by the day of their last message in the current time zone (Today,
    Yesterday, Previous 7 days, Previous 30 days, then by month). ``query`` keeps the conversations
    whose title contains it. One query however many conversations there are."""
    conversations = (
        Conversation.objects.filter(user=user)
        .select_related("agent")
        .only(*SIDEBAR_FIELDS)  # what an item shows: the agents' prompts and settings stay in the database
        .annotate(pinned_at=F("pin__pinned_at"))
        .order_by(F("pin__pinned_at").desc(nulls_last=True), "-last_message_at", "-id")
    )
    if query:
        conversations = folded_contains(conversations, query, "title")  # accents aside: "cafe" finds "Café"
    today = timezone.localdate(now)
    groups: list[SidebarGroup] = []
    for conversation in conversations[:limit]:
        if conversation.pinned_at is not None:
            key, label = "pinned", _("Pinned")
        else:
            key, label = _day_group(timezone.localdate(conversation.last_message_at), today)
        if not groups or groups[-1].key != key:
            groups.append(SidebarGroup(key=key, label=label))
        groups[-1].conversations.append(conversation)
    return groups


# --- full-text search over messages ---------------------------------------------------------------

# Highlight markers: escaped text then gets <mark>. No stored message contains them (control
# characters are stripped on the way in) and the query drops them from older rows too.
_START, _STOP = "\x02", "\x03"
_FRAGMENTS = " … "

# Accents are folded on both sides with public.immutable_unaccent (chats migration 0004): the
# expression is the full-text index's own, so the index serves the match. The headline is taken
# over the folded text (so "cancion" marks "canción") and mapped back onto the original below.
_QUERY = "websearch_to_tsquery('english', public.immutable_unaccent(%(q)s))"  # a constant to the planner
SEARCH_SQL = f"""
WITH hits AS (
    SELECT DISTINCT ON (m.conversation_id) m.conversation_id, m.id AS message_id,
           ts_rank(to_tsvector('english', public.immutable_unaccent(m.content)), {_QUERY}) AS rank,
           translate(m.content, chr(2) || chr(3), '') AS content
      FROM messages m
     WHERE m.user_id = %(user)s AND to_tsvector('english', public.immutable_unaccent(m.content)) @@ {_QUERY}
       AND NOT m.metadata @> '{{"superseded": true}}'  -- the versions shown only: a hit opens at its message
     ORDER BY m.conversation_id, rank DESC, m.timestamp DESC
)
SELECT conversation_id, message_id,
       ts_headline('english', public.immutable_unaccent(content), {_QUERY},
                   'StartSel={_START}, StopSel={_STOP}, MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter="{_FRAGMENTS}"'),
       rank, count(*) OVER () AS total, content, public.immutable_unaccent(content)
  FROM hits
 ORDER BY rank DESC, conversation_id
 LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(frozen=True)
class SearchHit:
    conversation: Conversation
    message_id: uuid.UUID
    snippet: SafeString


def _with_original_letters(headline: str, folded: str, original: str) -> str:
    """``headline`` (fragments of ``folded`` with markers) with the letters of ``original`` in place
    of the folded ones. Folding keeps every character's place (the built-in table always; unaccent
    for all but ligatures such as "æ"): when it did not, the folded headline is shown as it is."""
    if len(folded) != len(original):
        return headline
    restored, start = [], 0
    for fragment in headline.split(_FRAGMENTS):
        plain = fragment.replace(_START, "").replace(_STOP, "")
        at = folded.find(plain, start)
        if at < 0:
            at = folded.find(plain)
        if at < 0:
            return headline
        letters = iter(original[at:at + len(plain)])
        restored.append("".join(ch if ch in (_START, _STOP) else next(letters) for ch in fragment))
        start = at + len(plain)
    return _FRAGMENTS.join(restored)


def _highlighted(snippet: str) -> SafeString:
    return mark_safe(escape(snippet).replace(_START, "<mark>").replace(_STOP, "</mark>"))  # escaped above


def search_conversations(*, user, query: str, limit: int, offset: int) -> tuple[list[SearchHit], int]:
    """Conversations whose messages match ``query`` (PostgreSQL full-text search on the GIN index,
    accents ignored), best match first, each with a highlighted snippet. Two queries whatever the
    data size."""
    with connection.cursor() as cursor:
        cursor.execute(SEARCH_SQL, {"q": query, "user": user.id, "limit": limit, "offset": offset})
        rows = cursor.fetchall()
    if not rows:
        return [], 0
    total = rows[0][4]
    conversations = Conversation.objects.filter(user=user).select_related("agent").in_bulk([r[0] for r in rows])
    hits = [
        SearchHit(conversation=conversations[conversation_id], message_id=message_id,
                  snippet=_highlighted(_with_original_letters(snippet, folded, original)))
        for conversation_id, message_id, snippet, _rank, _total, original, folded in rows
        if conversation_id in conversations
    ]
    return hits, total
