"""BERT's uncased WordPiece tokenizer in plain Python (no `tokenizers`, no torch).

Splits like ``BertTokenizer(do_lower_case=True)``: clean control characters, split Chinese
characters apart, lower-case, strip accents, split on whitespace and punctuation, then greedy
longest-match WordPiece with ``##`` continuations; a word with no match becomes nothing (BERT's
``[UNK]``, which carries no meaning for an embedding sum). Words repeat, so their ids are cached.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

MAX_WORD_CHARS = 100


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_chinese(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# In ASCII, BERT's punctuation is every printable character that is not a letter or a digit.
_ASCII_WORDS = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def basic_words(text: str) -> list[str]:
    """Lower-cased, accent-free words and punctuation marks, as BERT's basic tokenizer gives them.

    Whitespace-separated pieces in ASCII (most of most texts) take a regular-expression fast path;
    the others take BERT's character-by-character rules.
    """
    if text.isascii():
        return _ASCII_WORDS.findall(_ASCII_CONTROL.sub("", text).lower())
    words: list[str] = []
    for piece in text.split():
        if piece.isascii():
            words.extend(_ASCII_WORDS.findall(_ASCII_CONTROL.sub("", piece).lower()))
        else:
            words.extend(_basic_words_unicode(piece))
    return words


def _basic_words_unicode(text: str) -> list[str]:
    cleaned = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or (unicodedata.category(char).startswith("C") and char not in "\t\n\r"):
            continue
        if _is_chinese(code):
            cleaned.append(f" {char} ")
        elif char.isspace():
            cleaned.append(" ")
        else:
            cleaned.append(char)
    words: list[str] = []
    for token in "".join(cleaned).lower().split():
        token = "".join(c for c in unicodedata.normalize("NFD", token) if unicodedata.category(c) != "Mn")
        current = []
        for char in token:
            if _is_punctuation(char):
                if current:
                    words.append("".join(current))
                    current = []
                words.append(char)
            else:
                current.append(char)
        if current:
            words.append("".join(current))
    return words


class WordPiece:
    def __init__(self, vocabulary: list[str]):
        self.ids = {piece: index for index, piece in enumerate(vocabulary)}
        self.word_ids = lru_cache(maxsize=200_000)(self._word_ids)

    @classmethod
    def from_file(cls, path: Path) -> "WordPiece":
        return cls(path.read_text(encoding="utf-8").splitlines())

    def _word_ids(self, word: str) -> tuple[int, ...]:
        if len(word) > MAX_WORD_CHARS:
            return ()
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.ids.get(piece)
                if found is not None:
                    ids.append(found)
                    break
                end -= 1
            else:
                return ()  # no piece matches: BERT's [UNK] for the whole word
            start = end
        return tuple(ids)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for word in basic_words(text):
            ids.extend(self.word_ids(word))
        return ids
