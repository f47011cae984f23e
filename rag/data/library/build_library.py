"""Rebuild ``documents.json.gz`` from the Python documentation's reStructuredText sources.

The library set is pages of the Python 3.11 documentation as Debian's ``python3-doc`` package ships
them (``/usr/share/doc/python3-doc/html/_sources/*.rst.txt``; PSF licence, see SOURCES.md). Each
page becomes one Markdown document: section titles become ``#`` headings (levels in the order the
page's underline styles appear), Sphinx roles keep their text (``:func:`len``` → ``len``,
``:ref:`text <label>``` → ``text``), API directives keep their signature as a line of code, notes
and version remarks keep their text, and markup-only directives (index entries, labels, toctrees,
module declarations) are dropped. The words of the text are the documentation's own.

    apt-get install python3-doc
    python rag/data/library/build_library.py [SOURCES_DIR]

The output is deterministic (sorted keys, fixed gzip timestamp), so a rebuild from the same package
version gives the same file.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "documents.json.gz"
DEFAULT_SOURCES = Path("/usr/share/doc/python3-doc/html/_sources")
PACKAGE = "python3-doc 3.11.2-1 (Debian 12), Python 3.11 documentation"

PAGES = [
    *(f"tutorial/{name}" for name in (
        "appetite", "interpreter", "introduction", "controlflow", "datastructures", "modules", "inputoutput",
        "errors", "classes", "stdlib", "stdlib2", "venv", "whatnow", "interactive", "floatingpoint", "appendix")),
    *(f"howto/{name}" for name in (
        "annotations", "argparse", "clinic", "cporting", "curses", "descriptor", "enum", "functional",
        "instrumentation", "ipaddress", "isolating-extensions", "logging", "logging-cookbook", "pyporting",
        "regex", "sockets", "sorting", "unicode", "urllib2")),
    *(f"faq/{name}" for name in (
        "general", "programming", "design", "library", "extending", "windows", "gui", "installed")),
    *(f"using/{name}" for name in ("cmdline", "unix", "configure", "windows", "mac", "editors")),
    *(f"library/{name}" for name in (
        "venv", "pathlib", "json", "csv", "sqlite3", "argparse", "subprocess", "unittest", "collections",
        "dataclasses", "datetime")),
]

_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")
_ROLE_WITH_TARGET = re.compile(r":[\w:.+-]+:`([^`<]*?)\s*<[^`>]*>`")
_ROLE = re.compile(r":[\w:.+-]+:`~?!?([^`]*)`")
_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]+>`_{1,2}")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w:-]+)::\s?(.*)$")
_COMMENT_OR_LABEL = re.compile(r"^\s*\.\.(\s+(_[^:]+:|\|[^|]+\|.*)?.*)?$")
_OPTION = re.compile(r"^\s+:[\w-]+:.*$")
SIGNATURES = {"function", "method", "class", "attribute", "data", "exception", "decorator", "classmethod",
              "staticmethod", "describe", "option", "cmdoption", "envvar", "opcode", "coroutinefunction",
              "c:function", "c:macro", "c:type", "c:member", "c:var", "decoratormethod", "abstractmethod",
              "awaitablefunction", "coroutinemethod", "pdbcommand"}
REMARKS = {"note": "Note:", "warning": "Warning:", "seealso": "See also:", "versionadded": "New in version",
           "versionchanged": "Changed in version", "deprecated": "Deprecated since version", "tip": "Tip:",
           "important": "Important:", "impl-detail": "CPython implementation detail:", "attention": "Attention:",
           "caution": "Caution:", "hint": "Hint:", "admonition": ""}
# Directives whose body is text or code worth keeping (as it stands, dedented one level).
KEEP_BODY = {"code-block", "code", "sourcecode", "doctest", "testcode", "productionlist", "table", "list-table",
             "csv-table", "topic", "sidebar", "rubric", "centered", "glossary", "literalinclude"} | set(REMARKS)


def inline(text: str) -> str:
    text = _ROLE_WITH_TARGET.sub(r"\1", text)
    text = _ROLE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    return text.replace("\\ ", "")


def convert(rst: str) -> tuple[str, str]:
    """(title, Markdown) of one reStructuredText page."""
    lines = rst.replace("\t", "    ").splitlines()
    out: list[str] = []
    styles: list[tuple[str, bool]] = []  # underline character and whether it is overlined too
    title = ""
    skip_indent: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if skip_indent is not None:
            if stripped and indent <= skip_indent:
                skip_indent = None
            else:
                i += 1
                continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        after = lines[i + 2] if i + 2 < len(lines) else ""
        # Overlined title: ====\nTitle\n====
        if _UNDERLINE.match(line) and nxt.strip() and _UNDERLINE.match(after) and after.strip()[0] == stripped[0]:
            style = (stripped[0], True)
            heading = nxt.strip()
            i += 3
        elif stripped and not line.startswith(" ") and _UNDERLINE.match(nxt) and len(nxt.strip()) >= len(stripped) - 2 \
                and not _UNDERLINE.match(line):
            style = (nxt.strip()[0], False)
            heading = stripped
            i += 2
        else:
            style = None
        if style is not None:
            if style not in styles:
                styles.append(style)
            level = min(styles.index(style) + 1, 6)
            heading = inline(heading).strip("*")
            if not title:
                title = heading
            out.extend(["", f"{'#' * level} {heading}", ""])
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            lead, name, rest = directive.groups()
            name = name.lower()
            if name in SIGNATURES:
                signature = rest.strip()
                i += 1
                while signature.endswith("\\") and i < len(lines):  # a signature continued on the next line
                    signature = signature[:-1].rstrip() + " " + lines[i].strip()
                    i += 1
                out.extend(["", f"{lead}`{signature}`", ""])
                while i < len(lines) and _OPTION.match(lines[i]):
                    i += 1
                continue
            if name in KEEP_BODY:
                text = " ".join(part for part in (REMARKS.get(name, ""), rest.strip()) if part)
                if text:
                    out.append(f"{lead}{text}")
                i += 1
                while i < len(lines) and _OPTION.match(lines[i]):
                    i += 1
                continue
            skip_indent = indent
            i += 1
            continue
        if stripped.startswith("..") and _COMMENT_OR_LABEL.match(line) and not stripped.startswith("..."):
            skip_indent = indent
            i += 1
            continue
        # Auto-numbered list items ("#. text") would read as Markdown headings.
        out.append(re.sub(r"^(\s*)#\.(\s)", r"\g<1>1.\2", line.rstrip()))
        i += 1
    # Roles and links may span a line break: resolved over the whole text.
    text = re.sub(r"\n{3,}", "\n\n", inline("\n".join(out))).strip() + "\n"
    return title, text


def build(sources: Path = DEFAULT_SOURCES) -> dict:
    documents = []
    for page in PAGES:
        title, text = convert((sources / f"{page}.rst.txt").read_text(encoding="utf-8"))
        documents.append({"key": page.replace("/", "-"), "title": title, "language": "en", "source": page,
                          "text": text})
    return {"description": f"{len(documents)} pages of the Python documentation ({PACKAGE}), as Markdown.",
            "documents": documents}


def main() -> None:
    sources = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCES
    data = json.dumps(build(sources), ensure_ascii=False, indent=0, sort_keys=True).encode()
    with OUTPUT.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as packed:
        packed.write(data)
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
