"""Capture from realistic model output, through the fake OpenAI server and the real chat turn."""

import json

import pytest
from django.urls import reverse

from artifacts.extraction import SYSTEM_INSTRUCTION, extract_blocks, parse_info
from artifacts.models import Artifact
from chats.models import Message
from core.tenancy import tenant

from .conftest import turn

pytestmark = pytest.mark.django_db

FUNCTION = "\n".join([
    "def fibonacci(n: int) -> list[int]:",
    '    """The first n Fibonacci numbers."""',
    "    numbers = [0, 1]",
    "    while len(numbers) < n:",
    "        numbers.append(numbers[-1] + numbers[-2])",
    "    return numbers[:n]",
])
ANSWER = f"""Here is a small module, a diagram of the flow and the data it returns.

```python title="fib.py"
{FUNCTION}
```

```mermaid
flowchart TD
    Start[Start] --> Check{{Is the list long enough?}}
    Check -- no --> Append[Append the sum of the last two]
    Append --> Check
    Check -- yes --> Done[Return the first n]
```

```json
{{"n": 5, "numbers": [0, 1, 1, 2, 3], "note": "the first five Fibonacci numbers, starting at zero"}}
```

```html
<!doctype html><html><head><style>body{{font-family:sans-serif}}</style></head>
<body><h1>Fibonacci</h1><p id="out"></p><script>document.getElementById('out').textContent = [0,1,1,2,3].join(', ');</script></body></html>
```

| n | fib(n) | note |
|---|--------|------|
| 0 | 0 | the first |
| 1 | 1 | the second |
| 2 | 1 | the sum of the two before |

```csv
n,value,squared
1,1,1
2,1,1
3,2,4
4,3,9
5,5,25
6,8,64
7,13,169
8,21,441
```

```svg
<svg viewBox="0 0 40 40" onload="alert(1)"><script>alert(document.cookie)</script><circle cx="20" cy="20" r="18" fill="teal"/></svg>
```

A one-liner stays in the message: `print(1)` and

```bash
ls
```
"""


def test_every_type_is_captured_from_a_streamed_answer(owner_client, owner, chat, openai_server):
    done = turn(owner_client, openai_server, chat, ANSWER)
    with tenant(owner.id):
        answer = Message.objects.get(role="assistant")
        found = {a.type: a for a in Artifact.objects.filter(conversation=chat)}
        count = Artifact.objects.filter(conversation=chat).count()
    assert count == 7  # the two tables are two artifacts; the one-liners are not kept
    assert set(found) == {"CODE", "DIAGRAM", "JSON", "HTML", "TABLE", "IMAGE"}
    code = found["CODE"]
    assert code.name == "fib.py" and code.content == FUNCTION and code.version == 1
    assert code.metadata["language"] == "python"
    assert code.metadata["line_count"] == 6
    assert code.metadata["byte_size"] == len(FUNCTION.encode())
    assert code.metadata["source_message_id"] == str(answer.id)
    assert code.agent_id == chat.agent_id and code.user_id == owner.id
    assert found["DIAGRAM"].content.startswith("flowchart TD")
    assert json.loads(found["JSON"].content)["n"] == 5
    svg = found["IMAGE"].content
    assert "<script" not in svg and "onload" not in svg and "<circle" in svg
    # The cards are in the final item the page swaps in, and on the page itself.
    assert done["item"].count('class="artifact-card"') == 7
    page = owner_client.get(reverse("chats:detail", args=[chat.id])).content.decode()
    assert page.count('class="artifact-card"') == 7
    assert "fib.py" in page


def test_the_system_prompt_tells_the_model_how_to_name_artifacts(owner_client, chat, openai_server):
    turn(owner_client, openai_server, chat, "Plain answer.")
    system = openai_server.requests[-1]["json"]["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You write code.")
    assert SYSTEM_INSTRUCTION in system["content"]


def test_a_later_block_with_the_same_name_is_the_next_version(owner_client, owner, chat, openai_server):
    first = f'Version one:\n\n```python title="fib.py"\n{FUNCTION}\n```\n'
    turn(owner_client, openai_server, chat, first)
    revised = FUNCTION.replace("numbers[:n]", "numbers[:max(n, 0)]")
    turn(owner_client, openai_server, chat, f'Fixed the negative case:\n\n```python title="fib.py"\n{revised}\n```\n',
         question="Handle negative n")
    with tenant(owner.id):
        versions = list(Artifact.objects.filter(conversation=chat, name="fib.py").order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[1].parent_id == versions[0].id
    assert versions[1].metadata["root"] == str(versions[0].id)
    assert versions[1].metadata["origin"] == "revision"
    assert versions[0].content == FUNCTION and versions[1].content == revised  # the old one is untouched
    listing = owner_client.get(reverse("artifacts:list")).content.decode()
    assert listing.count('class="artifact-row"') == 1  # one artifact, shown at its newest version
    assert "Version 2" in listing


def test_capture_off_keeps_the_chat_as_before(owner_client, owner, chat, openai_server, settings):
    settings.ARTIFACTS_CAPTURE = False
    done = turn(owner_client, openai_server, chat, ANSWER)
    with tenant(owner.id):
        assert not Artifact.objects.exists()
    assert "artifact-card" not in done["item"]
    assert SYSTEM_INSTRUCTION not in openai_server.requests[-1]["json"]["messages"][0]["content"]


def test_a_stopped_or_failed_answer_keeps_nothing(owner, chat):
    from chats import services
    from chats.services import TurnResult

    with tenant(owner.id):
        question = Message.objects.create(conversation=chat, user=owner, role="user", content="go")
    result = TurnResult(content=ANSWER, status="failed", model="gpt-4o-mini", tokens_input=1, tokens_output=1,
                        duration_ms=1, error="boom")
    services.reply_save(user=owner, conversation=chat, user_message=question, result=result)
    with tenant(owner.id):
        assert not Artifact.objects.exists()


def test_a_broken_capture_never_loses_the_answer(owner_client, owner, chat, openai_server, monkeypatch):
    from artifacts import capture

    def broken(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(capture, "_capture", broken)
    done = turn(owner_client, openai_server, chat, ANSWER)
    assert done["status"] == "complete"
    with tenant(owner.id):
        assert Message.objects.filter(role="assistant").count() == 1
        assert not Artifact.objects.exists()


@pytest.mark.parametrize(("info", "expected"), [
    ('python title="app.py"', ("python", "app.py")),
    ("python app.py", ("python", "app.py")),
    ("js filename=main.js", ("js", "main.js")),
    ("Mermaid name='flow.mmd'", ("mermaid", "flow.mmd")),
    ('title="notes.md"', ("", "notes.md")),
    ("", ("", "")),
    ("python", ("python", "")),
])
def test_fence_info_strings(info, expected):
    assert parse_info(info) == expected


def test_extraction_details():
    invalid_json = "```json\n{'not': json, 'at': all, 'but': 'long enough to pass the size floor of the capture rules'}\n```"
    assert [b.type for b in extract_blocks(invalid_json, min_chars=10)] == ["CODE"]
    document = "<!DOCTYPE html>\n<html><body>" + "<p>x</p>" * 30 + "</body></html>"
    assert [b.type for b in extract_blocks(document)] == ["HTML"]
    long_markdown = "```markdown title=\"plan.md\"\n# Plan\n\n- one\n- two\n```"
    assert [(b.type, b.name) for b in extract_blocks(long_markdown)] == [("MARKDOWN", "plan.md")]
    image = "Here: ![chart](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==)"
    blocks = extract_blocks(image)
    assert [(b.type, b.mime) for b in blocks] == [("IMAGE", "image/png")]
    # A fence inside a longer fence is content, not a block of its own.
    nested = "````markdown title=\"readme.md\"\n```python\nprint(1)\n```\n````"
    assert [(b.type, b.name) for b in extract_blocks(nested)] == [("MARKDOWN", "readme.md")]


def test_a_data_url_image_in_an_answer_is_kept_as_a_stored_file(owner_client, owner, chat, openai_server):
    import base64

    from storage.models import StorageFile

    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    reply = f"Here is the chart: ![chart](data:image/png;base64,{base64.b64encode(png).decode()}) and a fake one " \
            "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)."
    turn(owner_client, openai_server, chat, reply)
    with tenant(owner.id):
        image = Artifact.objects.get()
        file = StorageFile.objects.get()
    assert image.type == "IMAGE" and image.metadata["mime"] == "image/png" and image.metadata["file_id"] == str(file.pk)
    assert file.usage_context == "ARTIFACT" and file.size == len(png)
    assert owner_client.get(reverse("artifacts:image", args=[image.pk])).content == png
