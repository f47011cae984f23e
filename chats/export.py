"""A conversation as a file the person downloads: a Markdown transcript or JSON.

Both are built from the rows as stored (the messages' text, never their HTML), from one query for
the conversation (with its agent), one for its messages and one for its answers' versions, however
many there are. They hold the conversation as it reads: of an answer with several versions
(Regenerate), the version shown, with its number ("version 2 of 3"); the others stay in the app.
"""

from __future__ import annotations

import json
import re

from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from agents.registry import display_name
from core.text import strip_control_chars

from .models import Conversation, MessageRole
from .rendering import _safe_url, message_body
from .sources import cited_numbers

FILENAME_MAX_CHARS = 80
# Characters no file name should carry on any system (path separators, Windows' reserved ones).
_UNSAFE_IN_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def _metadata(message) -> dict:
    return message.metadata if isinstance(message.metadata, dict) else {}


def _status(message) -> str | None:
    """An answer's status (complete, cancelled, failed); a person's message has none."""
    if message.role != MessageRole.ASSISTANT:
        return None
    return str(_metadata(message).get("status") or "complete")


def _feedback(message) -> str | None:
    feedback = _metadata(message).get("feedback")
    return feedback if feedback in ("up", "down") else None


def _citations(message) -> list[dict]:
    """The passages an answer cites, in their number's order."""
    citations = _metadata(message).get("citations")
    if not isinstance(citations, dict):
        return []
    cited = set(cited_numbers(message_body(message)))  # as the page's chips: only what the text cites
    listed = []
    for number, source in citations.items():
        if not isinstance(source, dict) or not str(number).isdigit() or int(number) not in cited:
            continue
        listed.append({"number": int(number), "title": str(source.get("title") or ""), "url": _safe_url(source.get("url"))})
    return sorted(listed, key=lambda citation: citation["number"])


def _version(message, versions: dict | None) -> dict | None:
    """{"number": n, "of": m} for an answer shown as version n of m; None for the others."""
    ids = [str(version) for version in (versions or {}).get(str(_metadata(message).get("reply_to")), [])]
    if message.role != MessageRole.ASSISTANT or str(message.id) not in ids:
        return None
    return {"number": ids.index(str(message.id)) + 1, "of": len(ids)}


def _title(conversation: Conversation) -> str:
    return " ".join(str(conversation).split())  # one line, whatever the stored title holds


def export_filename(conversation: Conversation, extension: str) -> str:
    """A file name from the title: no path separators, reserved characters or control characters,
    at most FILENAME_MAX_CHARS before the extension; "conversation" when nothing is left."""
    stem = _UNSAFE_IN_FILENAME.sub("-", strip_control_chars(conversation.title or "")).strip("-.")
    stem = stem[:FILENAME_MAX_CHARS].rstrip("-.") or "conversation"
    return f"{stem}.{extension}"


def attachment_header(conversation: Conversation, extension: str) -> str:
    """``Content-Disposition: attachment`` with the safe file name (RFC 6266 ``filename*`` when it
    is not ASCII)."""
    return content_disposition_header(True, export_filename(conversation, extension))


def conversation_json(conversation: Conversation, messages, versions: dict | None = None) -> dict:
    """``versions``: ``selectors.answer_versions`` of the conversation."""
    return {
        "title": _title(conversation),
        "agent": conversation.agent.name,
        "model": conversation.agent.model,
        "model_name": display_name(conversation.agent.model),  # as people see it
        "created": conversation.created_at.isoformat(),
        "messages": [
            {
                "role": message.role,
                "content": message.content,
                "status": _status(message),
                "created_at": message.timestamp.isoformat(),
                "feedback": _feedback(message),
                "citations": _citations(message),
                **({"version": version} if (version := _version(message, versions)) else {}),
            }
            for message in messages
        ],
    }


def conversation_json_text(conversation: Conversation, messages, versions: dict | None = None) -> str:
    return json.dumps(conversation_json(conversation, messages, versions), ensure_ascii=False, indent=2) + "\n"


def _source_line(citation: dict) -> str:
    """``n. [title](<url>)``: brackets in the title and characters that would end the link
    escaped, so a source cannot break the transcript's Markdown."""
    title = re.sub(r"([\\\[\]])", r"\\\1", " ".join((citation["title"] or citation["url"]).split()))
    if not citation["url"]:
        return f"{citation['number']}. {title}"
    url = citation["url"].replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    return f"{citation['number']}. [{title}](<{url}>)"


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def conversation_markdown(conversation: Conversation, messages, versions: dict | None = None) -> str:
    """A readable transcript: the title, who answered, then each message under its author."""
    agent = conversation.agent
    lines = [
        f"# {_title(conversation)}",
        "",
        f"- {_('Agent')}: {agent.display_name} ({display_name(agent.model)})",
        f"- {_('Started')}: {_when(conversation.created_at)}",
        "",
    ]
    notes = {
        "cancelled": _("Stopped before the end."),
        "failed": _("The answer could not be completed."),
    }
    for message in messages:
        author = _("You") if message.role == MessageRole.USER else agent.display_name
        lines += ["---", "", f"## {author} · {_when(message.timestamp)}", "", message.content.strip() or "…", ""]
        status = _status(message)
        if status in notes:
            lines += [f"*{notes[status]}*", ""]
        version = _version(message, versions)
        if version:
            lines += [f"*{_('Version %(number)s of %(total)s') % {'number': version['number'], 'total': version['of']}}*", ""]
        citations = _citations(message)
        if citations:
            lines += [f"{_('Sources')}:", ""]
            lines += [_source_line(citation) for citation in citations]
            lines.append("")
        feedback = _feedback(message)
        if feedback:
            lines += [f"*{_('Marked as a good answer.') if feedback == 'up' else _('Marked as a bad answer.')}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
