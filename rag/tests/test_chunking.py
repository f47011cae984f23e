"""Structure-aware chunking: sizes, headings, paragraph packing, sentence/word splits and overlap."""

from __future__ import annotations

import random
import re

import pytest

from rag.chunking import Chunk, chunk_text

SENTENCES = [
    "The installer checks the Python version first.",
    "Then it creates a virtual environment in the project folder.",
    "If the network is down, the download step fails and can be retried.",
    "Logs are written to the var directory.",
    "Every command prints a short summary when it ends.",
    "Configuration lives in a single file that is easy to read.",
]


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(rng.choice(SENTENCES) for _ in range(sentences))


def sample_document(seed: int = 1) -> str:
    rng = random.Random(seed)
    parts = ["Preface paragraph before any heading.", "# Guide", paragraph(rng, 2)]
    for section in ("Install", "Configure", "Troubleshoot"):
        parts.append(f"## {section}")
        for _ in range(rng.randint(2, 6)):
            parts.append(paragraph(rng, rng.randint(1, 12)))
        parts.append("### Details")
        parts.append(paragraph(rng, rng.randint(3, 20)))
    return "\n\n".join(parts) + "\n"


def body(chunk: Chunk) -> str:
    """The chunk's text without its heading prefix."""
    return chunk.text[len(chunk.text) - (chunk.end - chunk.start):]


def prefix(chunk: Chunk) -> str:
    return chunk.text[: len(chunk.text) - (chunk.end - chunk.start)]


def check_invariants(text: str, chunks: list[Chunk], size: int) -> None:
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text.strip(), "no empty chunks"
        assert len(chunk.text) <= size
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text.endswith(text[chunk.start:chunk.end])
        if chunk.heading:
            full = chunk.heading + "\n\n"
            # The heading path opens the chunk, clipped from the left when it would take over half.
            assert prefix(chunk) == full or (prefix(chunk).startswith("…") and full.endswith(prefix(chunk)[1:]))
        else:
            assert prefix(chunk) == ""


@pytest.mark.parametrize("size,overlap", [(800, 120), (300, 60), (120, 30), (60, 0)])
def test_sizes_positions_offsets_and_determinism(size, overlap):
    text = sample_document()
    chunks = chunk_text(text, chunk_size=size, overlap=overlap)
    check_invariants(text, chunks, size)
    assert chunks == chunk_text(text, chunk_size=size, overlap=overlap)
    assert len(chunks) > 1


def test_defaults_come_from_settings(settings):
    settings.RAG_CHUNK_SIZE = 250
    settings.RAG_CHUNK_OVERLAP = 40
    text = sample_document(2)
    chunks = chunk_text(text)
    check_invariants(text, chunks, 250)
    assert chunks == chunk_text(text, chunk_size=250, overlap=40)


def test_heading_paths_and_prefixes():
    text = sample_document(3)
    chunks = chunk_text(text, chunk_size=400, overlap=50)
    headings = [chunk.heading for chunk in chunks]
    assert headings[0] == ""
    assert chunks[0].text == "Preface paragraph before any heading."
    for expected in ("Guide", "Guide > Install", "Guide > Install > Details", "Guide > Configure",
                     "Guide > Troubleshoot > Details"):
        assert expected in headings
    # Sections appear in document order and never interleave.
    order = list(dict.fromkeys(headings))
    assert [h for h in headings] == sorted(headings, key=order.index)
    for chunk in chunks:
        if chunk.heading == "Guide > Install":
            assert chunk.text.startswith("Guide > Install\n\n")
        # A chunk's body never contains a heading line of its own.
        assert not re.search(r"^#{1,6} ", body(chunk), re.MULTILINE)


def test_small_paragraphs_are_packed_whole():
    paragraphs = [f"Paragraph number {i} is short." for i in range(10)]
    text = "\n\n".join(paragraphs)
    chunks = chunk_text(text, chunk_size=200, overlap=0)
    joined = "\n\n".join(body(chunk) for chunk in chunks)
    assert joined == text  # no paragraph was split, nothing lost or repeated
    assert len(chunks) == 2
    for chunk in chunks:
        assert all(piece in paragraphs for piece in body(chunk).split("\n\n"))


def test_long_paragraph_is_split_at_sentence_ends():
    rng = random.Random(4)
    text = paragraph(rng, 40)
    chunks = chunk_text(text, chunk_size=200, overlap=0)
    check_invariants(text, chunks, 200)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith(".")
        assert chunk.text[0].isupper()
    assert " ".join(chunk.text for chunk in chunks) == text


def test_long_sentence_is_split_at_word_boundaries():
    words = [f"word{i}" for i in range(300)]
    text = " ".join(words)  # one sentence, no full stop
    chunks = chunk_text(text, chunk_size=100, overlap=0)
    check_invariants(text, chunks, 100)
    for chunk in chunks:
        assert all(token in words for token in chunk.text.split(" "))
    assert " ".join(chunk.text for chunk in chunks) == text


def test_a_single_enormous_token_is_cut():
    text = "x" * 1000
    chunks = chunk_text(text, chunk_size=300, overlap=50)
    check_invariants(text, chunks, 300)
    # No word boundary to overlap on: the pieces simply follow each other.
    assert [(chunk.start, chunk.end) for chunk in chunks] == [(0, 250), (250, 500), (500, 750), (750, 1000)]


def test_overlap_repeats_the_tail_of_the_previous_chunk_on_a_boundary():
    rng = random.Random(5)
    text = "# Notes\n\n" + "\n\n".join(paragraph(rng, rng.randint(2, 8)) for _ in range(12))
    size, overlap = 300, 80
    chunks = chunk_text(text, chunk_size=size, overlap=overlap)
    check_invariants(text, chunks, size)
    overlapping = 0
    for previous, current in zip(chunks, chunks[1:]):
        assert current.heading == previous.heading == "Notes"
        assert current.start > previous.start
        if current.start < previous.end:
            overlapping += 1
            repeated = text[current.start:previous.end]
            assert len(repeated) <= overlap
            assert body(previous).endswith(repeated)
            assert body(current).startswith(repeated)
            # The repeated tail starts at a sentence or word start.
            assert text[current.start - 1].isspace()
    assert overlapping >= len(chunks) // 2


def test_overlap_never_crosses_sections():
    text = "# A\n\n" + " ".join(SENTENCES * 4) + "\n\n# B\n\n" + " ".join(SENTENCES * 4)
    chunks = chunk_text(text, chunk_size=200, overlap=60)
    first_b = next(chunk for chunk in chunks if chunk.heading == "B")
    last_a = [chunk for chunk in chunks if chunk.heading == "A"][-1]
    assert first_b.start > last_a.end
    assert body(first_b).startswith(SENTENCES[0])


def test_code_fences_hide_hash_lines_and_heading_only_sections_are_kept():
    text = "# Setup\n\n```\n# not a heading\nrun()\n```\n\n## Empty section\n\n# Next\n\nDone."
    chunks = chunk_text(text, chunk_size=200, overlap=20)
    assert [chunk.heading for chunk in chunks] == ["Setup", "Setup > Empty section", "Next"]
    assert "# not a heading" in chunks[0].text
    assert chunks[1].text == "Setup > Empty section"
    assert text[chunks[1].start:chunks[1].end] == "## Empty section"


def test_long_heading_path_is_clipped_in_the_prefix_only():
    long_title = "A very long heading " * 10
    text = f"# {long_title.strip()}\n\n" + " ".join(SENTENCES)
    chunks = chunk_text(text, chunk_size=120, overlap=20)
    check_invariants(text, chunks, 120)
    assert chunks[0].heading == long_title.strip()
    assert chunks[0].text.startswith("…")
    assert len(prefix(chunks[0])) <= 60


def test_empty_input_and_bad_arguments():
    assert chunk_text("", chunk_size=100, overlap=10) == []
    assert chunk_text(" \n\n \t", chunk_size=100, overlap=10) == []
    with pytest.raises(ValueError):
        chunk_text("text", chunk_size=0, overlap=0)
    with pytest.raises(ValueError):
        chunk_text("text", chunk_size=100, overlap=100)
    with pytest.raises(ValueError):
        chunk_text("text", chunk_size=100, overlap=-1)
