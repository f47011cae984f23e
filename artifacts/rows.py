"""The rows of the artifacts list, rendered in Python (issue 15, item 2: pages at the speed limit).

In the template each of the 30 rows cost about 0.25 ms here (three translated phrases, a plural, two
URL reversals, a date filter, the agent's shown name), about 7 ms of the page. Here the phrases and
the URL prefixes are made once per page, each agent's name once per agent, and each row is one
``str.format`` whose every value is escaped (``core.rowhtml.format_row``), a few hundredths of a millisecond.
The markup is the template's, whitespace included (it separates the badges);
``templates/artifacts/list.html`` holds the list around it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.dateformat import format as date_text
from django.utils.formats import get_format, localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext

from agents.seeded_texts import shown
from core.rowhtml import escape, format_row, url_around_id

from .models import ArtifactType
from .selectors import ArtifactRow

_ROW = (
    '\n<li class="artifact-row">'
    '\n<input type="checkbox" name="artifact" value="{id}" id="sel-{id}" aria-label="{select}">'
    '\n<div class="artifact-row-main">'
    '\n<a class="artifact-row-name" href="{url}">{name}</a>'
    '\n<span class="badge">{type}</span>'
    "\n{language}"
    "\n{public}"
    '\n<p class="muted artifact-row-meta">'
    "\n{version} ·"
    "\n{agent}{conversation} ·"
    '\n<time datetime="{created_iso}">{created}</time>'
    "\n{lines}"
    "\n</p>"
    "\n</div>"
    "\n</li>"
)




def artifact_rows(artifacts: Iterable[ArtifactRow]) -> SafeString:
    """The ``<li>`` of each artifact of the list, with its agent's shown name and its conversation's
    title (``selectors.artifact_page`` reads them with it)."""
    # Safe fragments are SafeString(...) here, which is what mark_safe makes of a str (without its
    # checks for lazy and callable arguments, a few microseconds each, seven times a row).
    types = {value: SafeString(escape(label)) for value, label in ArtifactType.choices}
    public = SafeString(f'<span class="badge public">{escape(gettext("Public"))}</span>')
    untitled = gettext("Untitled conversation")
    # {% blocktranslate %} as the template had it: the phrase as translated, its values escaped.
    select, version = gettext("Select %(name)s"), gettext("Version %(number)s")
    (detail_before, detail_after), (chat_before, chat_after) = (
        url_around_id(name) for name in ("artifacts:detail", "chats:detail"))
    datetime_format = get_format("SHORT_DATETIME_FORMAT")
    agents: dict = {}
    lines: dict = {}
    versions: dict = {}
    badges: dict = {}
    out = []
    for artifact in artifacts:
        pk, name = artifact.id, escape(artifact.name)
        metadata = artifact.metadata if isinstance(artifact.metadata, dict) else {}
        language, line_count = metadata.get("language"), metadata.get("line_count")
        if artifact.agent_id not in agents:  # Agent.display_name
            agents[artifact.agent_id] = shown(artifact.agent_slug, "name", artifact.agent_name)
        conversation = ""
        if artifact.conversation_id:
            conversation = SafeString(f' · <a href="{chat_before}{escape(artifact.conversation_id)}{chat_after}">'
                                      f'{escape(artifact.conversation_title or untitled)}</a>')
        if line_count and line_count not in lines:
            lines[line_count] = SafeString(" · " + ngettext("%(counter)s line", "%(counter)s lines", line_count) % {
                "counter": escape(localize(line_count))})
        if artifact.version not in versions:
            versions[artifact.version] = SafeString(version % {"number": escape(localize(artifact.version))})
        badge = ""
        if language:
            badge = badges.get(language) if isinstance(language, str) else None
            if badge is None:
                badge = SafeString(f'<span class="badge secondary">{escape(language)}</span>')
                if isinstance(language, str):
                    badges[language] = badge
        created = localtime(artifact.created_at)
        out.append(format_row(
            _ROW, id=pk, select=SafeString(select % {"name": name}), url=f"{detail_before}{pk}{detail_after}",
            name=SafeString(name), type=types.get(artifact.type) or SafeString(escape(artifact.type)),
            language=badge, public=public if artifact.is_public else "", version=versions[artifact.version],
            agent=agents[artifact.agent_id], conversation=conversation,
            created_iso=created.isoformat(), created=date_text(created, datetime_format),
            lines=lines[line_count] if line_count else "",
        ))
    return mark_safe("".join(out))
