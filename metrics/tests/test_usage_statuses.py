"""The Usage page counts complete, stopped and failed turns apart (issue 07 item 10): a stopped
answer is not a failure. usage_logs has only ``success``; a stopped turn is told by its answer
(same conversation, same time, ``metadata.status == "cancelled"``)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chats import services
from chats.models import Message
from core.tenancy import tenant
from metrics import selectors
from metrics.models import UsageLog
from metrics.plans import utc_month
from testutils import factories

pytestmark = pytest.mark.django_db


def _turn(user, conversation, status: str) -> Message:
    """One turn as the chat stores it: the question, then the answer and its usage log."""
    with tenant(user.id):
        question = factories.message(user, conv=conversation, content=f"Question ({status})")
    result = services.TurnResult(content=f"Answer ({status})", status=status, model="offline",
                                 tokens_input=5, tokens_output=3, duration_ms=40,
                                 error="The model failed." if status == "failed" else "")
    return services.reply_save(user=user, conversation=conversation, user_message=question, result=result)


@pytest.fixture
def turns(owner, other):
    with tenant(owner.id):
        conversation = factories.conversation(owner)
    for status in ("complete", "complete", "cancelled", "cancelled", "cancelled", "failed"):
        _turn(owner, conversation, status)
    # A failed turn whose conversation is gone: its log stays (conversation NULL), counted failed.
    with tenant(owner.id):
        gone = factories.conversation(owner, agent_=conversation.agent)
    _turn(owner, gone, "cancelled")
    services.conversation_delete(user=owner, conversation=gone)
    # Someone else's stopped turn never shows up.
    with tenant(other.id):
        theirs = factories.conversation(other)
    _turn(other, theirs, "cancelled")
    return conversation


def test_each_log_carries_its_answers_time(owner, turns):
    with tenant(owner.id):
        answers = {m.timestamp for m in Message.objects.filter(role="assistant")}
        logs = list(UsageLog.objects.filter(conversation=turns))
    assert len(logs) == 6 and {log.timestamp for log in logs} <= answers


def test_the_selector_counts_complete_stopped_and_failed(owner, turns):
    year, month = utc_month()
    with tenant(owner.id):
        usage = selectors.usage_for_month(user=owner, year=year, month=month)
    assert usage["turns"] == {"total": 7, "succeeded": 2, "stopped": 3, "failed": 2}
    today = next(day for day in usage["days"] if day["date"] == timezone.now().astimezone(dt.timezone.utc).date())
    assert (today["messages"], today["stopped"], today["failed"]) == (7, 3, 2)


def test_the_usage_page_shows_stopped_apart_from_failed(owner_client, turns):
    html = owner_client.get("/usage/").content.decode()
    card = re.search(r'<div class="card usage-card usage-turns">(.*?)</div>', html, re.S)[1]
    assert "<h3>Complete answers</h3>" in card
    assert '<p class="usage-figure">2</p>' in card and "of 7 turns" in card
    assert "Stopped by you: 3 · Failed: 2" in " ".join(card.split())
    assert '<th scope="col" class="num">Stopped</th>' in html
    row = re.search(r'<td class="num" data-label="Stopped">3</td>\s*<td class="num" data-label="Failed">2</td>', html)
    assert row, "today's row of the daily table"


def test_an_answer_stopped_at_another_moment_does_not_make_a_failure_look_stopped(owner, turns):
    """A failed log and a stopped answer of the same conversation a little apart stay apart."""
    with tenant(owner.id):
        UsageLog.objects.create(user=owner, agent=turns.agent, conversation=turns, model="offline",
                                tokens_input=1, tokens_output=1, total_tokens=2, total_cost=Decimal(0), success=False,
                                timestamp=Message.objects.filter(metadata__status="cancelled").first().timestamp + dt.timedelta(milliseconds=1))
        usage = selectors.usage_for_month(user=owner, year=utc_month()[0], month=utc_month()[1])
    assert (usage["turns"]["stopped"], usage["turns"]["failed"]) == (3, 3)


def test_the_page_reads_the_same_number_of_queries_however_many_turns(owner_client, owner, turns):
    with CaptureQueriesContext(connection) as few:
        owner_client.get("/usage/")
    for status in ("cancelled", "failed", "complete") * 4:
        _turn(owner, turns, status)
    with CaptureQueriesContext(connection) as many:
        html = owner_client.get("/usage/").content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert "Stopped by you: 7 · Failed: 6" in " ".join(html.split())
