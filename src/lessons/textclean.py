"""Cleaning text extracted from PDFs: line-break hyphenation, bullets, whitespace."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_text", "dehyphenate", "normalise", "split_sentences", "words"]

# A word broken at a line end: "investe-\n\nringsfond". The hyphen is kept when the
# fragment before it ends in a capital or a digit ("CE-\nmærkning", "AI-\nmodel"),
# because Danish writes acronym compounds with a hyphen.
_BROKEN_WORD = re.compile(r"(?<=[a-zæøåéü])-[ \t]*\n[ \t\n]*(?=[a-zæøåéü])")
_ACRONYM_BREAK = re.compile(r"(?<=[A-ZÆØÅ0-9])-[ \t]*\n[ \t\n]*(?=\w)")
# Private-use bullet glyphs from the PDF's symbol font, and other bullet marks.
_BULLETS = re.compile(r"[\uf000-\uf8ff\u2022\u25aa\u25cf\u2023\u2043]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÆØÅ0-9\"“(])")
_WORD = re.compile(r"[0-9a-zæøåéü]+(?:[.,][0-9]+)?", re.IGNORECASE)


def normalise(text: str) -> str:
    """Unicode NFC (so 'å' typed as 'a' + ring equals 'å'), without control characters."""
    composed = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in composed if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def dehyphenate(text: str) -> str:
    """Join words broken across lines: 'investe-\\n\\nringsfond' -> 'investeringsfond'."""
    text = _BROKEN_WORD.sub("", text)
    return _ACRONYM_BREAK.sub("-", text)


def clean_text(text: str) -> str:
    """Normalise, de-hyphenate and reflow extracted text into paragraphs.

    Lines inside a paragraph are joined with spaces; blank-line gaps that PDF
    extraction puts between every line are not treated as paragraph breaks.
    Bullets become paragraph breaks.
    """
    text = dehyphenate(normalise(text))
    text = _BULLETS.sub("\n\n", text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def split_sentences(text: str) -> list[str]:
    """Split cleaned text into sentences (good enough for Danish report prose)."""
    flat = re.sub(r"\s+", " ", text).strip()
    return [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]


def words(text: str) -> list[str]:
    """Lowercased word tokens, Danish letters kept."""
    return [w.lower() for w in _WORD.findall(normalise(text))]
