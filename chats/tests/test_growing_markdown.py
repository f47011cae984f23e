"""A streaming answer's snapshots: GrowingMarkdown gives exactly render_markdown's HTML for every
prefix of a growing text, while parsing again only its last top-level block."""

import random

from chats.rendering import GrowingMarkdown, render_markdown

# Markdown whose blocks depend on what follows them: lists that turn loose, setext underlines,
# lazy continuations, fences left open, tables, indented code, tabs, Windows line ends.
SNIPPETS = [
    "# Title", "Setext title\n===", "Another one\n---", "---", "***",
    "A paragraph with **bold**, *em*, `code` and a citation [1].",
    "A paragraph\nthat goes on\nover lines", "lazy\ncontinuation",
    "- one\n- two\n- three", "- loose\n\n- list", "1. first\n2. second", "3) starts at three",
    "- outer\n  - inner\n    - deeper", "* item\n\n  with a second paragraph",
    "> quoted\nlazy line", "> quote\n>\n> - list in quote",
    "```python\nprint('hi')\n```", "```\nunclosed fence", "~~~\ntilde fence\n~~~",
    "    indented code\n    more", "\tcode after a tab",
    "| a | b |\n|---|:-:|\n| 1 | 2 |", "| head |\n|---|",
    "<script>alert(1)</script>", "<div>raw html</div>", "&amp; &copy; &#35;",
    "line with hard break  \nnext", "back\\\nslash break", "~~struck~~ text",
    "[a link](https://example.com) and <https://example.com>", "Windows\r\nline ends\r\n\r\n- a\r\n- b",
    "Sources [2] and [3].", "", " ", "\n",
    # Lines that change what they are as they grow: "1" is text, "1." an item that continues a list.
    "1", "1.", "2)", "-", "*", "+ x", "  continued", "   - three spaces", "    four", "> ", ">",
    "```", "~~~~", "| x | y |", "|-|-|", "---|---", "a | b", "=", "==", "#", "#no", "#### h4 ####",
    "\t- tab list", "1. a\n\n   para in item", "***bold em***", "_under_", "`` code ``", "[1]", "[x](",
]
SEPARATORS = ["\n", "\n\n", "", " ", "\n\n\n", "\n  "]


def _document(rng: random.Random) -> str:
    return "".join(rng.choice(SNIPPETS) + rng.choice(SEPARATORS) for _ in range(rng.randint(2, 9)))


def _prefixes(text: str, rng: random.Random):
    cut = 0
    while cut < len(text):
        cut = min(len(text), cut + rng.choice((1, 1, 2, 3, 5, 9, 20)))
        yield text[:cut]


def test_every_prefix_renders_as_the_whole_text_does():
    rng = random.Random(20261204)
    citations = {1: "/documents/x/#p-1", 2: "https://example.com/two"}
    compared = 0
    for _ in range(300):
        text = _document(rng)
        growing = GrowingMarkdown(citations)
        for prefix in _prefixes(text, rng):
            assert growing.render(prefix) == render_markdown(prefix, citations), repr(prefix)
            compared += 1
    assert compared > 4000


def test_blocks_before_the_last_are_kept_not_parsed_again():
    growing = GrowingMarkdown()
    growing.render("# Title\n\nFirst paragraph.\n\n- a list")
    # The paragraph is still open to the renderer: the list that closes it starts on the line
    # being written, and a line can change what it is as it grows.
    assert growing._closed == "# Title\n\n"
    text = "# Title\n\nFirst paragraph.\n\n- a list\n- grows\n\nThe end."
    assert growing.render(text) == render_markdown(text)
    assert growing._closed == "# Title\n\nFirst paragraph.\n\n"  # the list stays open: "The end." is being written
    text += "\n\nMore."
    assert growing.render(text) == render_markdown(text)
    assert growing._closed == "# Title\n\nFirst paragraph.\n\n- a list\n- grows\n\n"


def test_a_link_reference_definition_renders_the_whole_text():
    growing = GrowingMarkdown()
    first = "See [the docs].\n\nMore text.\n\n"
    assert growing.render(first) == render_markdown(first)
    # The definition arrives last and turns the first paragraph's text into a link.
    text = first + "[the docs]: https://example.com/docs"
    html = growing.render(text)
    assert html == render_markdown(text)
    assert '<a href="https://example.com/docs"' in html


def test_a_text_that_did_not_grow_from_the_last_one_starts_again():
    growing = GrowingMarkdown()
    growing.render("# One\n\nTwo\n\nThree")
    assert growing.render("Something else\n\nentirely") == render_markdown("Something else\n\nentirely")
