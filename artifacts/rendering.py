"""Each type's safe rendering, its download name and MIME type, and the line diff of two versions.

Everything here escapes model text or passes it through the chat's renderer
(``chats.rendering.render_markdown``: markdown-it with HTML off, then nh3); HTML artifacts are
never put into the page, only into a sandboxed frame served by its own response
(``artifacts.views``); SVG was cleaned before it was stored (``artifacts.sanitising``).
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import json
import re

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .models import Artifact, ArtifactType

_FORMATTER = HtmlFormatter(nowrap=True, classprefix="hl-")
HIGHLIGHT_MAX_CHARS = 300_000
JSON_TREE_MAX_NODES = 2000
TABLE_MAX_ROWS = 2000
DIFF_MAX_LINES = 20_000

EXTENSIONS = {
    "python": ".py", "py": ".py", "javascript": ".js", "js": ".js", "typescript": ".ts", "ts": ".ts",
    "tsx": ".tsx", "jsx": ".jsx", "java": ".java", "c": ".c", "cpp": ".cpp", "c++": ".cpp", "csharp": ".cs",
    "cs": ".cs", "go": ".go", "rust": ".rs", "ruby": ".rb", "php": ".php", "swift": ".swift",
    "kotlin": ".kt", "scala": ".scala", "sql": ".sql", "bash": ".sh", "sh": ".sh", "shell": ".sh",
    "zsh": ".sh", "powershell": ".ps1", "yaml": ".yaml", "yml": ".yaml", "toml": ".toml", "ini": ".ini",
    "css": ".css", "scss": ".scss", "xml": ".xml", "r": ".r", "lua": ".lua", "perl": ".pl",
    "dockerfile": ".dockerfile", "makefile": ".mk", "diff": ".diff", "text": ".txt",
}
TYPE_FILES = {
    ArtifactType.JSON: (".json", "application/json"),
    ArtifactType.HTML: (".html", "text/html"),
    ArtifactType.MARKDOWN: (".md", "text/markdown"),
    ArtifactType.DIAGRAM: (".mmd", "text/plain"),
}
_SAFE_STEM = re.compile(r"[^\w.\-]+", re.UNICODE)


def download_name_and_type(artifact: Artifact) -> tuple[str, str]:
    """(file name with the right extension, MIME type) of the artifact's download."""
    metadata = artifact.metadata if isinstance(artifact.metadata, dict) else {}
    if artifact.type == ArtifactType.IMAGE:
        mime = metadata.get("mime", "image/svg+xml")
        extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}.get(mime, ".svg")
    elif artifact.type == ArtifactType.TABLE:
        extension, mime = ".csv", "text/csv"
    elif artifact.type == ArtifactType.CODE:
        extension, mime = EXTENSIONS.get(metadata.get("language", ""), ".txt"), "text/plain"
    else:
        extension, mime = TYPE_FILES.get(artifact.type, (".txt", "text/plain"))
    stem = _SAFE_STEM.sub("-", artifact.name).strip("-.") or "artifact"
    if stem.lower().endswith(extension):
        return stem[:120], mime
    stem = stem.rsplit(".", 1)[0] if "." in stem and len(stem.rsplit(".", 1)[1]) <= 5 else stem
    return f"{stem[:120]}{extension}", mime


def highlighted(code: str, language: str) -> str:
    try:
        lexer = get_lexer_by_name(language) if language and len(code) <= HIGHLIGHT_MAX_CHARS else None
    except ClassNotFound:
        lexer = None
    body = highlight(code, lexer, _FORMATTER) if lexer else html.escape(code)
    label = html.escape(language or "text")
    return f'<pre class="highlight artifact-code"><code class="language-{label}">{body}</code></pre>'


def _json_node(value, budget: list[int], key: str | None = None) -> str:
    budget[0] -= 1
    label = f'<span class="json-key">{html.escape(json.dumps(key, ensure_ascii=False))}</span>: ' if key is not None else ""
    if isinstance(value, dict) or isinstance(value, list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        count = len(value)
        children = []
        for child_key, child in items:
            if budget[0] <= 0:
                children.append('<li class="json-more">…</li>')
                break
            children.append(f"<li>{_json_node(child, budget, child_key if isinstance(value, dict) else None)}</li>")
        summary = f"{label}{opening}<span class=\"json-count\">{count}</span>{closing}"
        return (f'<details open class="json-node"><summary>{summary}</summary>'
                f'<ul class="json-children">{"".join(children)}</ul></details>')
    kind = "null" if value is None else "bool" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "string"
    return f'{label}<span class="json-{kind}">{html.escape(json.dumps(value, ensure_ascii=False))}</span>'


def render_json(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return highlighted(text, "json")
    pretty = json.dumps(data, indent=2, ensure_ascii=False)
    tree = _json_node(data, [JSON_TREE_MAX_NODES])
    return (f'<div class="json-view"><div class="json-tree">{tree}</div>'
            f'<details class="json-raw"><summary>{html.escape(_("Formatted text"))}</summary>{highlighted(pretty, "json")}</details></div>')


def _markdown_cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line)]


def table_rows(artifact_text: str, format: str) -> list[list[str]]:
    """The table's rows (the header first) from Markdown or CSV."""
    if format == "csv":
        try:
            return [row for row in csv.reader(io.StringIO(artifact_text)) if row][: TABLE_MAX_ROWS + 1]
        except csv.Error:
            return [[line] for line in artifact_text.splitlines()[: TABLE_MAX_ROWS + 1]]
    lines = [line for line in artifact_text.splitlines() if line.strip()]
    rows = [_markdown_cells(line) for index, line in enumerate(lines) if index != 1]
    return rows[: TABLE_MAX_ROWS + 1]


def table_csv(artifact_text: str, format: str) -> str:
    if format == "csv":
        return artifact_text
    out = io.StringIO()
    csv.writer(out).writerows(table_rows(artifact_text, format))
    return out.getvalue()


def render_table(text: str, format: str) -> str:
    rows = table_rows(text, format)
    if not rows:
        return f'<p class="muted">{html.escape(_("This table is empty."))}</p>'
    header, body = rows[0], rows[1:]
    sort_label = html.escape(_("Sort by this column"))
    head = "".join(f'<th scope="col"><button type="button" class="table-sort" data-column="{i}" title="{sort_label}">'
                   f'{html.escape(cell)}</button></th>' for i, cell in enumerate(header))
    lines = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in body)
    return (f'<div class="table-scroll"><table class="artifact-table" data-sortable>'
            f'<thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table></div>')


def render(artifact: Artifact, text: str, *, frame_url: str = "", image_url: str = "") -> SafeString:
    """The artifact's body as safe HTML for a page."""
    from chats.rendering import render_markdown  # noqa: PLC0415 - the chat's renderer, reused

    metadata = artifact.metadata if isinstance(artifact.metadata, dict) else {}
    kind = artifact.type
    if kind == ArtifactType.CODE:
        body = highlighted(text, metadata.get("language", ""))
    elif kind == ArtifactType.MARKDOWN:
        body = f'<div class="artifact-markdown">{render_markdown(text)}</div>'
    elif kind == ArtifactType.JSON:
        body = render_json(text)
    elif kind == ArtifactType.TABLE:
        body = render_table(text, metadata.get("format", "markdown"))
    elif kind == ArtifactType.DIAGRAM:
        failed = html.escape(_("This diagram could not be drawn; its source is shown."))
        body = (f'<div class="mermaid-diagram" data-mermaid data-failed="{failed}">'
                f'<pre class="mermaid-source"><code>{html.escape(text)}</code></pre></div>')
    elif kind == ArtifactType.HTML:
        title = html.escape(_("Preview of %(name)s") % {"name": artifact.name})
        body = (f'<iframe class="artifact-frame" sandbox="allow-scripts" referrerpolicy="no-referrer" '
                f'src="{html.escape(frame_url)}" title="{title}" loading="lazy"></iframe>')
    elif kind == ArtifactType.IMAGE:
        body = f'<img class="artifact-image" src="{html.escape(image_url)}" alt="{html.escape(artifact.name)}">'
    else:
        body = highlighted(text, "")
    return mark_safe(body)  # noqa: S308 - built from escaped text and nh3-cleaned HTML above


def diff_rows(old: str, new: str) -> list[tuple[str, int | None, int | None, str]]:
    """The line diff of two texts as (kind, old line number, new line number, text): kind is
    ``same``, ``removed``, ``added`` or ``skip`` (unchanged lines folded away). Escaped by the
    template."""
    a, b = old.splitlines()[:DIFF_MAX_LINES], new.splitlines()[:DIFF_MAX_LINES]
    rows: list[tuple[str, int | None, int | None, str]] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(3):
        if rows:
            rows.append(("skip", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(("same", i + 1, j1 + (i - i1) + 1, a[i]) for i in range(i1, i2))
                continue
            if tag in ("replace", "delete"):
                rows.extend(("removed", i + 1, None, a[i]) for i in range(i1, i2))
            if tag in ("replace", "insert"):
                rows.extend(("added", None, j + 1, b[j]) for j in range(j1, j2))
    return rows


def card_html(artifact: Artifact, url: str) -> str:
    """A card in a chat message: the artifact's name, type and version, opening the panel."""
    label = html.escape(ArtifactType(artifact.type).label)
    version = html.escape(_("v%(number)s") % {"number": artifact.version})
    root = html.escape(str((artifact.metadata or {}).get("root", artifact.pk)))
    return (f'<a class="artifact-card" href="{html.escape(url)}" data-artifact-open="{artifact.pk}" data-artifact-root="{root}">'
            f'<span class="artifact-card-type">{label}</span>'
            f'<span class="artifact-card-name">{html.escape(artifact.name)}</span>'
            f'<span class="artifact-card-version">{version}</span></a>')


def cards_html(artifacts: list[Artifact]) -> str:
    if not artifacts:
        return ""
    from django.urls import reverse  # noqa: PLC0415

    first = reverse("artifacts:detail", args=["00000000-0000-0000-0000-000000000000"])
    head, _zero, tail = first.partition("00000000-0000-0000-0000-000000000000")
    cards = "".join(card_html(a, f"{head}{a.pk}{tail}") for a in artifacts)
    label = html.escape(_("Artifacts"))
    return f'<div class="artifact-cards" role="group" aria-label="{label}">{cards}</div>'
