import pytest
from django.urls import reverse

from core.tenancy import tenant
from testutils import factories
from testutils.fakes.openai import FakeOpenAI, Script
from testutils.fakes.server import FakeServer


@pytest.fixture
def openai_server(settings):
    with FakeServer(FakeOpenAI, script=Script(reply="Hello.", input_tokens=10, output_tokens=5)) as server:
        settings.OPENAI_BASE_URL = f"{server.url}/v1"
        settings.OPENAI_API_KEY = "sk-test"
        yield server


@pytest.fixture
def gpt_agent(staff, openai_server):
    return factories.agent(staff, is_public=True, name="Coder", model="gpt-4o-mini", system_prompt="You write code.")


@pytest.fixture
def chat(owner, gpt_agent):
    with tenant(owner.id):
        return factories.conversation(owner, agent_=gpt_agent)


def consume(response) -> str:
    return b"".join(response.streaming_content).decode()


def turn(client, server, conversation, reply: str, question: str = "Write it") -> dict:
    """One chat turn whose answer the fake OpenAI server streams as ``reply`` (in small pieces,
    as a real model does); returns the ``done`` event's data."""
    import json

    server.httpd.script = Script(reply=reply, chunks=[reply[i:i + 7] for i in range(0, len(reply), 7)],
                                 input_tokens=10, output_tokens=50)
    data = client.post(reverse("chats:message_create", args=[conversation.id]), {"content": question},
                       HTTP_ACCEPT="application/json").json()
    body = consume(client.get(data["stream_url"]))
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if lines.get("event") == "done":
            return json.loads(lines["data"])
    raise AssertionError(f"no done event in {body[:500]}")


def make(owner, agent, conversation=None, **kw):
    from artifacts import services

    kw.setdefault("name", "app.py")
    kw.setdefault("type", "CODE")
    kw.setdefault("content", "print('hello')\n" * 3)
    return services.artifact_create(user=owner, agent=agent, conversation=conversation, **kw)
