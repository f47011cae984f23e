"""In a real Chromium, at phone and desktop sizes: the composer's "Model and temperature" menu
picks a model and a temperature for the question (the OpenAI fake receives them), a refused
temperature is explained without saving anything, and the new answer shows its time, with its
model, tokens and duration on hover (the summary's title) and on a tap or Enter."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chats.models import Message
from core.tenancy import tenant
from testutils import factories
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer
from testutils.testing import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def openai_server(settings):
    with FakeServer(FakeOpenAI, script=Script(reply="A focused answer.", input_tokens=1200, output_tokens=34)) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        yield server


def _messages(user):
    with tenant(user.id):
        return list(Message.objects.order_by("timestamp"))


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_pick_a_model_and_temperature_send_and_read_the_answers_details(signed_in_page, openai_server, viewport):
    user = make_user(f"override-{viewport}@example.com", name="Iris")
    agent = factories.agent(user, model="gpt-4o-mini", name="Writer", config={"temperature": 0.7, "max_tokens": 400})
    with tenant(user.id):
        conversation = factories.conversation(user, agent_=agent)
    page = signed_in_page(user, viewport)
    page.goto(reverse("chats:detail", args=[conversation.id]))
    assert page.locator(".chat-header .muted").inner_text().endswith("· GPT-4o mini")

    # The menu opens from the keyboard; its fields are labelled.
    options = page.locator("summary", has_text="Model and temperature")
    options.focus()
    page.keyboard.press("Enter")
    model = page.get_by_label("Model", exact=True)
    temperature = page.get_by_label("Temperature", exact=True)
    model.wait_for()
    assert model.input_value() == "gpt-4o-mini" and temperature.input_value() == "0.70"
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert "For this agent the temperature goes from 0 to 2." in page.locator(".composer-options").inner_text()

    # A temperature the agent does not allow: explained, nothing saved (Enter sends past the
    # browser's own range check, as a script or an old browser would).
    temperature.fill("5")
    box = page.get_by_role("textbox", name="Message")
    box.fill("Write one calm sentence.")
    box.press("Enter")
    errors = page.locator("#composer-errors")
    errors.wait_for(state="visible")
    assert errors.inner_text() == "For this agent the temperature goes from 0 to 2."
    assert _messages(user) == [] and openai_server.requests == []

    # Picked and sent.
    model.select_option(label="GPT-4o")
    temperature.fill("0.3")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".msg-assistant:not(.msg-streaming)")
    answer.locator("details.msg-details").wait_for()
    assert errors.is_hidden()
    sent = [r["json"] for r in openai_server.requests if r["path"].endswith("/chat/completions")]
    assert len(sent) == 1 and sent[0]["model"] == "gpt-4o" and sent[0]["temperature"] == pytest.approx(0.3)
    question, stored = _messages(user)
    assert (question.metadata["model"], question.metadata["temperature"]) == ("gpt-4o", 0.3)
    assert stored.metadata["model"] == "gpt-4o"

    # The question and the answer show their time; the answer its details, on hover (title) ...
    clock = answer.locator("summary time")
    assert re.fullmatch(r"\d\d:\d\d", clock.inner_text())
    assert clock.get_attribute("datetime") == stored.timestamp.isoformat()
    assert re.fullmatch(r"\d\d:\d\d", page.locator(f"#m-{question.id} time").inner_text())
    summary = answer.locator("summary")
    expected = re.compile(r"^GPT-4o · 1,234 tokens \(1,200 in, 34 out\) · \d+\.\d s$")
    summary.hover()
    assert expected.match(summary.get_attribute("title"))
    usage = answer.locator(".msg-usage")
    assert usage.is_hidden()
    # ... and on a tap (a click) or from the keyboard.
    summary.click()
    usage.wait_for(state="visible")
    assert expected.match(usage.inner_text())
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    summary.focus()
    page.keyboard.press("Enter")
    usage.wait_for(state="hidden")

    # The composer keeps the choice for the next question, and so does the page once reloaded.
    assert model.input_value() == "gpt-4o" and temperature.input_value() == "0.3"
    page.reload()
    page.locator("summary", has_text="Model and temperature").click()
    assert page.get_by_label("Model", exact=True).input_value() == "gpt-4o"
    assert page.get_by_label("Temperature", exact=True).input_value() == "0.30"
    assert page.locator(".chat-header .muted").inner_text().endswith("· GPT-4o")
    assert expected.match(page.locator(f"#m-{stored.id} summary").get_attribute("title"))
    # Only the refused post's 400 reached the console: no script error, no CSP violation.
    assert [p for p in page.problems if "status of 400" not in p] == []
