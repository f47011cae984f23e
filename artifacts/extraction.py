"""What in a model's answer is worth keeping: the blocks that become artifacts.

A pure function of the text (no database): one pass over its lines finds fenced blocks (their
language and name from the info string), Markdown tables and ``data:image/...`` URLs outside
fences, and a whole HTML document. The agent names an artifact in the fence's info string —
```` ```python title="app.py" ```` (also ``name=`` / ``file=`` / ``filename=``, or a bare file name
after the language) — and ``SYSTEM_INSTRUCTION`` tells real models so; a later block with the same
name in the same conversation becomes that artifact's next version (``artifacts.capture``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .models import ArtifactType

# Appended to the agent's system prompt (chats.streaming.build_context).
SYSTEM_INSTRUCTION = (
    "When you write code, a diagram, an HTML page, JSON, CSV or a long Markdown document the user may "
    "want to keep, put it in a fenced block whose info string gives the language and a short file name, "
    'for example ```python title="app.py"``` or ```mermaid title="flow.mmd"```. To revise something you '
    "wrote earlier in this conversation, write the whole new version in a block with the same title."
)

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\n]*)$")
_ATTRIBUTE = re.compile(r"""(title|name|file|filename)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""", re.IGNORECASE)
_BARE_NAME = re.compile(r"^[\w.\-/]{1,120}\.[A-Za-z0-9]{1,10}$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_DATA_IMAGE = re.compile(r"data:(image/[a-z0-9.+-]{1,40});base64,([A-Za-z0-9+/=\s]{16,})", re.IGNORECASE)
_HTML_DOCUMENT = re.compile(r"^\s*(<!doctype\s+html|<html[\s>])", re.IGNORECASE)
NAME_MAX_LENGTH = 200

_LANGUAGE_TYPES = {
    "mermaid": ArtifactType.DIAGRAM,
    "html": ArtifactType.HTML,
    "htm": ArtifactType.HTML,
    "json": ArtifactType.JSON,
    "csv": ArtifactType.TABLE,
    "svg": ArtifactType.IMAGE,
    "markdown": ArtifactType.MARKDOWN,
    "md": ArtifactType.MARKDOWN,
}


@dataclass(frozen=True)
class Block:
    """One artifact-to-be: its type, content, language (a fence's, lowercased; '' when none),
    the name the agent gave it ('' when none), and the table's format ('csv' or 'markdown')."""

    type: str
    content: str
    language: str = ""
    name: str = ""
    format: str = ""
    mime: str = ""  # data-URL images: the declared type


def parse_info(info: str) -> tuple[str, str]:
    """(language, name) from a fence's info string."""
    info = (info or "").strip()
    if not info:
        return "", ""
    language, _, rest = info.partition(" ")
    language = language.strip().lower()
    if "=" in language:  # ```title="x"``` without a language
        rest, language = info, ""
    name = ""
    match = _ATTRIBUTE.search(rest)
    if match:
        name = next(group for group in match.groups()[1:] if group is not None)
    else:
        bare = rest.strip().split(" ", 1)[0] if rest.strip() else ""
        if bare and _BARE_NAME.match(bare):
            name = bare
    return language[:40], name.strip()[:NAME_MAX_LENGTH]


def json_parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _fenced(language: str, name: str, content: str) -> Block:
    kind = _LANGUAGE_TYPES.get(language, ArtifactType.CODE)
    if kind == ArtifactType.JSON and not json_parses(content):
        kind = ArtifactType.CODE  # shown as code, never as broken JSON
    if kind == ArtifactType.TABLE:
        return Block(kind, content, language, name, format="csv")
    if kind == ArtifactType.IMAGE:
        return Block(kind, content, language, name, mime="image/svg+xml")
    return Block(kind, content, language, name)


def _worth_keeping(block: Block, *, min_chars: int, markdown_min_chars: int, min_lines: int) -> bool:
    if block.type == ArtifactType.IMAGE:
        return True
    if not block.content.strip():
        return False
    if block.name:
        return True  # the agent made it an artifact on purpose
    if block.type == ArtifactType.MARKDOWN:
        return len(block.content) >= markdown_min_chars
    return len(block.content) >= min_chars or block.content.strip().count("\n") + 1 >= min_lines


def extract_blocks(text: str, *, min_chars: int = 80, markdown_min_chars: int = 400, min_lines: int = 3) -> list[Block]:
    """The blocks of ``text`` worth keeping, in the order they appear."""
    if not text:
        return []
    if _HTML_DOCUMENT.match(text) and "```" not in text:
        block = Block(ArtifactType.HTML, text.strip(), "html")
        return [block] if _worth_keeping(block, min_chars=min_chars, markdown_min_chars=markdown_min_chars, min_lines=min_lines) else []
    found: list[Block] = []
    lines = text.split("\n")
    count = len(lines)
    index = 0
    outside: list[str] = []  # prose lines, searched for data-URL images afterwards
    while index < count:
        line = lines[index]
        if "`" in line or "~" in line:
            fence = _FENCE.match(line)
            if fence:
                marker, info = fence.group(1), fence.group(2)
                language, name = parse_info(info)
                end = index + 1
                closing = marker[0]
                while end < count:
                    stripped = lines[end].strip()
                    if stripped.startswith(marker) and stripped == closing * len(stripped):
                        break
                    end += 1
                content = "\n".join(lines[index + 1:end])
                found.append(_fenced(language, name, content))
                index = end + 1
                continue
        if "|" in line and index + 1 < count and "-" in lines[index + 1] and _TABLE_SEPARATOR.match(lines[index + 1]):
            end = index + 2
            while end < count and "|" in lines[end] and lines[end].strip():
                end += 1
            found.append(Block(ArtifactType.TABLE, "\n".join(lines[index:end]), "", "", format="markdown"))
            index = end
            continue
        outside.append(line)
        index += 1
    if outside:
        prose = "\n".join(outside)
        if "data:" in prose:
            for match in _DATA_IMAGE.finditer(prose):
                found.append(Block(ArtifactType.IMAGE, re.sub(r"\s+", "", match.group(2)), "", "", mime=match.group(1).lower()))
    return [b for b in found if _worth_keeping(b, min_chars=min_chars, markdown_min_chars=markdown_min_chars, min_lines=min_lines)]
