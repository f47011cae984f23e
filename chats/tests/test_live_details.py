"""Live details (issue 07 item 10): every message carries its time (``<time datetime>`` in the
active time zone, the date in the reader's language), an answer its model, tokens and duration
in a ``<details>`` on that time (title on hover, opened by a tap or Enter) — on the page and in
the streamed answer's final item, which comes from the server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from chats.models import Message
from chats.rendering import message_item
from core.tenancy import tenant
from testutils import factories

from .conftest import consume, events

pytestmark = pytest.mark.django_db

MOMENT = dt.datetime(2026, 3, 14, 21, 5, 30, tzinfo=dt.timezone.utc)


def _answer(owner, conversation, **metadata):
    with tenant(owner.id):
        return Message.objects.create(
            conversation=conversation, user=owner, role="assistant", content="An answer.", timestamp=MOMENT,
            tokens_input=1234, tokens_output=56, metadata={"status": "complete", **metadata},
        )


def test_an_answers_time_and_details(owner, conversation):
    answer = _answer(owner, conversation, model="gpt-4o-mini", duration_ms=2345)
    html = message_item(answer, "Helper")
    assert f'<time datetime="{MOMENT.isoformat()}" title="March 14, 2026 21:05">21:05</time>' in html
    details = re.search(r'<details class="msg-details"><summary title="([^"]+)">(.*?)</summary><span class="msg-usage">([^<]+)</span></details>', html)
    assert details, html
    expected = "GPT-4o mini · 1,290 tokens (1,234 in, 56 out) · 2.3 s"
    assert details[1] == expected and details[3] == expected
    assert "<time " in details[2] and '<span class="visually-hidden"> · Details</span>' in details[2]


def test_the_time_follows_the_active_time_zone(owner, conversation, settings):
    answer = _answer(owner, conversation, model="offline", duration_ms=10)
    settings.TIME_ZONE = "America/Mexico_City"  # UTC-6 in March
    html = message_item(answer, "Helper")
    assert f'datetime="{MOMENT.isoformat()}"' in html  # the instant itself stays exact
    assert 'title="March 14, 2026 15:05">15:05</time>' in html


def test_the_details_in_spanish(owner, conversation):
    answer = _answer(owner, conversation, model="offline", duration_ms=2345)
    with translation.override("es"):
        html = message_item(answer, "Ayudante")
    assert 'title="14 de marzo de 2026 21:05">21:05</time>' in html
    # The offline model's name is translated; numbers use the Spanish separators.
    assert "Modelo sin conexión (integrado) · " in html
    assert "1\xa0290" in html and "2,3" in html


def test_a_persons_message_has_its_time_and_no_details(owner, conversation):
    with tenant(owner.id):
        question = factories.message(owner, conv=conversation, content="Hi", timestamp=MOMENT)
    html = message_item(question, "Helper")
    assert '<time datetime="2026-03-14T21:05:30+00:00"' in html and "msg-details" not in html


def test_odd_metadata_is_shown_escaped_or_left_out(owner, conversation):
    answer = _answer(owner, conversation, model='<img src=x onerror="alert(1)">', duration_ms="soon")
    html = message_item(answer, "Helper")
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert " s</span>" not in html  # no duration when it is not a number
    assert "1,290 tokens" in html


def test_the_streamed_answers_final_item_carries_its_time_and_details(owner_client, owner, conversation):
    data = owner_client.post(reverse("chats:message_create", args=[conversation.id]), {"content": "Hello"},
                             HTTP_ACCEPT="application/json").json()
    assert "<time datetime=" in data["user_html"]
    name, done = events(consume(owner_client.get(data["stream_url"])))[-1]
    assert name == "done"
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
    item = done["item"]
    assert f'<time datetime="{answer.timestamp.isoformat()}"' in item
    total = answer.tokens_input + answer.tokens_output
    assert total > 0
    details = re.search(r'<summary title="([^"]+)">', item)[1]
    assert details.startswith("Offline model (built in) · ")
    assert f"{total:,} tokens ({answer.tokens_input:,} in, {answer.tokens_output:,} out)" in details
    assert re.search(r" · \d+\.\d s$", details)
    # The page, reloaded, shows the same item.
    page = owner_client.get(reverse("chats:detail", args=[conversation.id])).content.decode()
    assert details in page


def test_a_stopped_answer_says_so_next_to_its_details(owner, conversation):
    answer = _answer(owner, conversation, status="cancelled", model="offline", duration_ms=900)
    html = message_item(answer, "Helper")
    assert "msg-cancelled" in html and "Stopped before the end." in html and "0.9 s" in html
