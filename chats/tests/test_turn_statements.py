"""The turn's written-out statements (chats.statements) read and lock what the ORM reads they stand
for would: the stream's conversation, question and answer; the post's conversation and month; the
history; an answer's versions. Same rows, same instances, the same 404s."""

import datetime as dt

import pytest
from django.http import Http404

from agents.models import UserAgentPermission
from chats import selectors, services, statements
from chats.models import Message
from core.tenancy import tenant
from metrics import limits
from metrics.models import MonthlyUsage
from metrics.plans import utc_month
from testutils import factories

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields} if instance is not None else None


def _orm_stream_state(user, conversation_id, message_id):
    conversation = selectors.conversation_get_for_chat(user=user, conversation_id=conversation_id)
    message = selectors.message_get_for_user(user=user, conversation=conversation, message_id=message_id)
    return conversation, message, selectors.answer_for(message)


def _same_state(user, conversation_id, message_id):
    with tenant(user.id):
        written = statements.stream_state(user=user, conversation_id=conversation_id, message_id=message_id)
        orm = _orm_stream_state(user, conversation_id, message_id)
    assert [_fields(x) for x in written] == [_fields(x) for x in orm]
    assert _fields(written[0].agent) == _fields(orm[0].agent)
    return written


def _answer(owner, conversation, question, content, **metadata):
    return factories.message(owner, conv=conversation, role="assistant", content=content,
                             metadata={"reply_to": str(question.id), "status": "complete", **metadata})


def test_the_stream_state_is_the_conversation_question_and_shown_answer_the_selectors_read(owner, conversation):
    with tenant(owner.id):
        answered = factories.message(owner, conv=conversation, content="First question")
        old = _answer(owner, conversation, answered, "Old version", superseded=True)
        shown = _answer(owner, conversation, answered, "Shown version")
        _answer(owner, conversation, answered, "Older but superseded", superseded=True)
        waiting = factories.message(owner, conv=conversation, content="Second question")
        regenerating = factories.message(owner, conv=conversation, content="Third question")
        _answer(owner, conversation, regenerating, "Every version superseded", superseded=True)
    conversation_, question, answer = _same_state(owner, conversation.id, answered.id)
    assert question.content == "First question" and answer.id == shown.id and answer.id != old.id
    assert conversation_.agent.display_name == conversation.agent.display_name
    assert _same_state(owner, conversation.id, waiting.id)[2] is None
    assert _same_state(owner, conversation.id, regenerating.id)[2] is None  # a new version is to be written
    assert _same_state(owner, conversation.id, shown.id)[1].role == "assistant"  # the view answers 404 for it


def test_the_stream_state_is_a_404_where_the_selectors_raise_one(owner, other, conversation):
    with tenant(owner.id):
        question = factories.message(owner, conv=conversation, content="Mine")
        elsewhere = factories.conversation(owner, agent_=conversation.agent)
    for user, conversation_id, message_id in [
        (other, conversation.id, question.id),  # someone else's conversation
        (owner, elsewhere.id, question.id),  # a message of another conversation
    ]:
        with tenant(user.id), pytest.raises(Http404):
            statements.stream_state(user=user, conversation_id=conversation_id, message_id=message_id)
        with tenant(user.id), pytest.raises(Http404):
            _orm_stream_state(user, conversation_id, message_id)


def test_an_agent_the_person_may_no_longer_use_is_a_404_and_a_grant_makes_it_usable(owner, staff):
    private = factories.agent(staff, is_public=False)
    with tenant(owner.id):
        conversation = factories.conversation(owner, agent_=private)
        question = factories.message(owner, conv=conversation)
    with tenant(owner.id), pytest.raises(Http404):
        statements.stream_state(user=owner, conversation_id=conversation.id, message_id=question.id)
    with tenant(owner.id), pytest.raises(Http404):
        statements.chat_for_post(user=owner, conversation_id=conversation.id)
    UserAgentPermission.objects.create(agent=private, user=owner)
    assert _same_state(owner, conversation.id, question.id)[0].agent.is_granted is True
    with tenant(owner.id):
        assert statements.chat_for_post(user=owner, conversation_id=conversation.id)[0].id == conversation.id


def test_the_post_reads_the_month_the_limit_check_reads(owner, conversation, settings):
    year, month = utc_month()
    with tenant(owner.id):
        found, (params, row) = statements.chat_for_post(user=owner, conversation_id=conversation.id)
        assert _fields(found) == _fields(selectors.conversation_get_for_chat(user=owner, conversation_id=conversation.id))
    assert params == {"user_id": owner.id, "year": year, "month": month} and row is None  # no row yet this month
    with tenant(owner.id):
        MonthlyUsage.objects.create(user=owner, year=year, month=month, total_messages=7, total_tokens=70,
                                    exceeded_limit=True, limit_messages=300, limit_tokens=300_000)
        MonthlyUsage.objects.create(user=owner, year=year - 1, month=month, total_messages=1)
        _found, (_params, row) = statements.chat_for_post(user=owner, conversation_id=conversation.id)
        orm = MonthlyUsage.objects.filter(user=owner, year=year, month=month).values(*limits.CHECK_COLUMNS).first()
    assert row == orm == {"total_messages": 7, "total_tokens": 70, "exceeded_limit": True, "limit_messages": 300,
                          "limit_tokens": 300_000}
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": None, "tokens": None}}
    with tenant(owner.id):
        assert statements.chat_for_post(user=owner, conversation_id=conversation.id)[1] is None  # nothing to check


def test_the_limit_check_reads_again_a_month_that_has_ended(owner, settings):
    """A row read for the month before (posted as the month turned) is not this month's."""
    settings.TIER_LIMITS = {**settings.TIER_LIMITS, "FREE": {"messages": 2, "tokens": 1_000_000}}
    year, month = utc_month()
    with tenant(owner.id):
        MonthlyUsage.objects.create(user=owner, year=year, month=month, total_messages=2)
        stale = ({"user_id": owner.id, "year": year - 1, "month": month}, None)
        with pytest.raises(limits.LimitExceeded):
            limits.usage_check_before_turn(user=owner, in_context=True, month_row=stale)
        this_month = ({"user_id": owner.id, "year": year, "month": month}, {"total_messages": 1, "total_tokens": 0,
                      "exceeded_limit": False, "limit_messages": None, "limit_tokens": None})
        limits.usage_check_before_turn(user=owner, in_context=True, month_row=this_month)  # the caller's read counts


def test_the_history_statement_is_the_history_for_the_turn(owner, conversation):
    with tenant(owner.id):
        first = factories.message(owner, conv=conversation, content="One")
        _answer(owner, conversation, first, "Replaced", superseded=True)
        _answer(owner, conversation, first, "")  # came out empty
        _answer(owner, conversation, first, "Kept")
        question = factories.message(owner, conv=conversation, content="Two")
        later = factories.message(owner, conv=conversation, content="Three")
        Message.objects.filter(pk=later.pk).update(timestamp=question.timestamp + dt.timedelta(seconds=5))
        [rows] = limits.run_statements([statements.history(conversation.id, question.timestamp)])
        orm = selectors.history_for_turn(conversation=conversation, user_message=question)
    assert [tuple(r) for r in rows] == orm == [("user", "One"), ("assistant", "Kept"), ("user", "Two")]


def test_the_answers_statement_lists_every_version_oldest_first_with_its_mark(owner, conversation):
    with tenant(owner.id):
        question = factories.message(owner, conv=conversation)
        versions = [_answer(owner, conversation, question, f"Version {n}", **({"superseded": True} if n < 2 else {}))
                    for n in range(3)]
        _answer(owner, conversation, factories.message(owner, conv=conversation), "Another question's")
        [rows] = limits.run_statements([statements.answers_locked(question)])
        assert rows == [(versions[0].id, True), (versions[1].id, True), (versions[2].id, False)]
        # Superseding (Regenerate) marks the one shown and lists every version, as before.
        assert services._supersede_answers(question) == [v.id for v in versions]
        assert not Message.objects.filter(role="assistant", metadata__reply_to=str(question.id)).exclude(selectors.SUPERSEDED)
