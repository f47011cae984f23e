"""A chat turn's statements, written out so that several go to PostgreSQL in one round trip
(``metrics.limits.run_statements``), and the rows they read built into the instances the ORM
would build (its converters applied).

Each function states the rule of the ORM read or write it stands for (``chats.selectors``,
``chats.services``); ``chats/tests/test_turn_statements.py`` compares them.
"""

from __future__ import annotations

from django.db import connection
from django.http import Http404

from agents.models import Agent
from agents.selectors import agent_is_usable_by
from metrics import limits

from .models import Conversation, Message, MessageRole

# selectors.SUPERSEDED in SQL: ``@>`` is false, never NULL, for a row without the key.
_SHOWN = """NOT ({alias}.metadata @> '{{"superseded": true}}'::jsonb)"""


def bound(sql: str, params) -> str:
    """``sql`` with its parameters bound (as psycopg's client-side binding sends them)."""
    return connection.ops.compose_sql(sql, params)


class Columns:
    """A model's concrete columns as ``alias.column``, and the instance the ORM builds from them."""

    def __init__(self, model, alias: str):
        self.model = model
        fields = model._meta.concrete_fields
        quote = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{quote(f.column)}" for f in fields)
        self.names = [f.attname for f in fields]
        self.width = len(fields)
        self._converters = [
            (i, found) for i, f in enumerate(fields)
            if (found := connection.ops.get_db_converters(f.get_col(alias)) + f.get_db_converters(connection))
        ]

    def build(self, row, offset: int = 0):
        values = list(row[offset:offset + self.width])
        if values[0] is None:  # a LEFT JOIN that found nothing (every model here has a primary key)
            return None
        for index, found in self._converters:
            for converter in found:
                values[index] = converter(values[index], None, connection)
        return self.model.from_db(connection.alias, self.names, values)


_plans: dict[str, object] = {}


def _plan(name: str, build):
    """Columns and SQL made once per process (they depend on the models only)."""
    plan = _plans.get(name)
    if plan is None:
        plan = _plans[name] = build()
    return plan


def _conversation_plan():
    conversation, agent = Columns(Conversation, "c"), Columns(Agent, "a")
    # conversation_get_for_chat: the person's conversation with its agent, and whether they hold a
    # grant for it (``agent_is_usable_by`` reads ``is_granted`` instead of asking).
    select = (f"SELECT {conversation.sql}, {agent.sql}, EXISTS (SELECT 1 FROM user_agent_permissions p"
              f" WHERE p.agent_id = a.id AND p.user_id = %(user)s)")
    source = "FROM conversations c JOIN agents a ON a.id = c.agent_id"
    return conversation, agent, select, source


def _chat_conversation(row, user, conversation_cols, agent_cols) -> Conversation:
    """The conversation (its agent attached) of a row; 404 unless its agent is usable by ``user``."""
    conversation = conversation_cols.build(row)
    agent = agent_cols.build(row, conversation_cols.width)
    agent.is_granted = bool(row[conversation_cols.width + agent_cols.width])
    conversation.agent = agent
    if not agent_is_usable_by(agent, user):
        raise Http404
    return conversation


def _stream_plan():
    conversation, agent, select, source = _conversation_plan()
    question, answer = Columns(Message, "q"), Columns(Message, "ans")
    inner = Columns(Message, "m").sql
    # message_get_for_user (the message of this conversation and person) and answer_for (the
    # version of its answer that is shown, newest first) in the same statement.
    sql = (
        f"{select}, {question.sql}, {answer.sql} {source}"
        " LEFT JOIN messages q ON q.id = %(message)s AND q.conversation_id = c.id AND q.user_id = %(user)s"
        f" LEFT JOIN LATERAL (SELECT {inner} FROM messages m WHERE m.conversation_id = c.id"
        " AND (m.metadata -> 'reply_to') = to_jsonb(q.id::text) AND m.role = 'assistant'"
        f" AND {_SHOWN.format(alias='m')} ORDER BY m.timestamp DESC, m.id DESC LIMIT 1) ans ON true"
        " WHERE c.id = %(conversation)s AND c.user_id = %(user)s"
    )
    return conversation, agent, question, answer, sql


def stream_state(*, user, conversation_id, message_id) -> tuple[Conversation, Message, Message | None]:
    """(conversation, message, the answer shown for it or None) in one query, as
    ``selectors.conversation_get_for_chat``, ``selectors.message_get_for_user`` and
    ``selectors.answer_for`` read them (404 where they raise it), in the tenant context in force."""
    conversation_cols, agent_cols, question_cols, answer_cols, sql = _plan("stream", _stream_plan)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk, "conversation": conversation_id, "message": message_id})
        row = cursor.fetchone()
    if row is None:
        raise Http404("No Conversation matches the given query.")
    conversation = _chat_conversation(row, user, conversation_cols, agent_cols)
    offset = conversation_cols.width + agent_cols.width + 1
    message = question_cols.build(row, offset)
    if message is None:
        raise Http404("No Message matches the given query.")
    return conversation, message, answer_cols.build(row, offset + question_cols.width)


def _post_plan():
    conversation, agent, select, source = _conversation_plan()
    usage = ", ".join(f"u.{column}" for column in limits.CHECK_COLUMNS)
    sql = (f"{select}, u.id IS NOT NULL, {usage} {source}"
           " LEFT JOIN monthly_usage u ON u.user_id = %(user)s AND u.year = %(year)s AND u.month = %(month)s"
           " WHERE c.id = %(conversation)s AND c.user_id = %(user)s")
    return conversation, agent, select, source, sql


def chat_for_post(*, user, conversation_id) -> tuple[Conversation, tuple | None]:
    """``selectors.conversation_get_for_chat`` and, in the same query, the month's row the limit
    check reads (``metrics.limits.usage_check_before_turn``'s ``month_row``; None when the plan
    has no limit)."""
    conversation_cols, agent_cols, select, source, sql = _plan("post", _post_plan)
    month = limits.month_row_params(user)
    with connection.cursor() as cursor:
        if month is None:
            cursor.execute(f"{select} {source} WHERE c.id = %(conversation)s AND c.user_id = %(user)s",
                           {"user": user.pk, "conversation": conversation_id})
        else:
            cursor.execute(sql, {"user": user.pk, "conversation": conversation_id, "year": month["year"], "month": month["month"]})
        row = cursor.fetchone()
    if row is None:
        raise Http404("No Conversation matches the given query.")
    conversation = _chat_conversation(row, user, conversation_cols, agent_cols)
    if month is None:
        return conversation, None
    at = conversation_cols.width + agent_cols.width + 1
    found = row[at:at + 1 + len(limits.CHECK_COLUMNS)]
    return conversation, (month, dict(zip(limits.CHECK_COLUMNS, found[1:])) if found[0] else None)


# --- a turn's reads before its reservation ---------------------------------------------------------


def history(conversation_id, until) -> str:
    """``selectors.history_for_turn``: (role, content) up to ``until`` (the question's time), oldest
    first, without answers that came out empty, of each answer only the version shown."""
    return bound(
        "SELECT m.role, m.content FROM messages m WHERE m.conversation_id = %s AND m.timestamp <= %s"
        f" AND NOT (m.content = '' AND m.role = 'assistant') AND {_SHOWN.format(alias='m')}"
        " ORDER BY m.timestamp ASC, m.id ASC", [conversation_id, until])


def rag_enabled_and_indexed(user_id) -> str:
    """The person's RAG setting and whether they have any passage indexed (one row; none without
    settings). Without the rag app nothing is indexed."""
    try:
        from rag.models import RagChunk  # noqa: PLC0415 - RAG is optional for a turn
    except ImportError:
        indexed = "false"
    else:
        indexed = f"EXISTS (SELECT 1 FROM {RagChunk._meta.db_table} c WHERE c.user_id = s.user_id)"
    from accounts.models import UserSettings  # noqa: PLC0415

    return bound(f"SELECT s.rag_enabled, {indexed} FROM {UserSettings._meta.db_table} s WHERE s.user_id = %s LIMIT 1",
                 [user_id])


# --- storing an answer ---------------------------------------------------------------------------


def lock_question(question_id) -> str:
    """``services._lock_question``: the question's row locked."""
    return bound('SELECT m.id FROM messages m WHERE m.id = %s FOR UPDATE', [question_id])


def answers_locked(question: Message) -> str:
    """(id, superseded) of every answer to ``question`` (every version), oldest first, locked."""
    return bound(
        "SELECT m.id, m.metadata @> '{\"superseded\": true}'::jsonb FROM messages m"
        " WHERE m.conversation_id = %s AND m.role = %s AND (m.metadata -> 'reply_to') = to_jsonb(%s::text)"
        " ORDER BY m.timestamp ASC, m.id ASC FOR UPDATE",
        [question.conversation_id, MessageRole.ASSISTANT.value, str(question.id)])
