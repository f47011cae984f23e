import pytest

from core.tenancy import tenant
from testutils import factories


@pytest.fixture
def offline_agent(staff):
    return factories.agent(staff, is_public=True, name="Helper", system_prompt="You help with everyday questions.")


@pytest.fixture
def conversation(owner, offline_agent):
    with tenant(owner.id):
        return factories.conversation(owner, agent_=offline_agent)


def consume(response) -> str:
    """The whole body of a streaming response, as the browser would receive it."""
    return b"".join(response.streaming_content).decode()


def events(body: str) -> list[tuple[str, str]]:
    import json

    parsed = []
    for block in body.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            parsed.append((lines["event"], json.loads(lines["data"])))
    return parsed
