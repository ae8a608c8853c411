"""The one text processor: normalising, cleaning, sentences, tokens, stop words and the Danish stemmer.

Search, answering, curation, coverage and evaluation all use these functions, so a question, a
chunk and a report sentence are cut into words the same way.

PyStemmer's stemmer must not be called from two threads at once (Streamlit serves each session
from its own thread), so every thread gets its own stemmer instance (:func:`stemmer`).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

__all__ = [
    "clean_text",
    "content_stems",
    "dehyphenate",
    "has_word",
    "lexical_tokens",
    "markdown_heading",
    "match_key",
    "normalise",
    "question_key",
    "sentence_ends",
    "split_sentences",
    "stem",
    "stemmer",
    "stopwords",
    "tokens",
    "words",
]


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
_TOKEN = re.compile(r"\w+", re.UNICODE)
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_WHITESPACE = re.compile(r"\s+")
_LOCAL = threading.local()


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
    flat = _WHITESPACE.sub(" ", text).strip()
    return [s.strip() for s in _SENTENCE_END.split(flat) if s.strip()]


def words(text: str) -> list[str]:
    """Lowercased word tokens, Danish letters kept."""
    return [w.lower() for w in _WORD.findall(normalise(text))]


def sentence_ends(text: str) -> list[int]:
    """Where sentences end in ``text``: the offsets of the white space after '.', '!' or '?' before a capital."""
    return [m.start() for m in _SENTENCE_END.finditer(text)]


def tokens(text: str) -> list[str]:
    """Lowercased word tokens (any Unicode word characters), for questions and chunk sentences."""
    return [t.lower() for t in _TOKEN.findall(text)]


def has_word(text: str) -> bool:
    """Whether the text has any word character at all."""
    return _TOKEN.search(text) is not None


@cache
def stopwords() -> frozenset[str]:
    """Danish and English stop words (questions come in both languages, the corpus is Danish)."""
    import bm25s.stopwords  # bm25s pulls in scipy: imported on first use, so the ingest worker stays light

    return frozenset(bm25s.stopwords.STOPWORDS_DANISH) | frozenset(bm25s.stopwords.STOPWORDS_EN_PLUS)


def stemmer() -> Any:
    """This thread's Danish Snowball stemmer (PyStemmer instances are not thread-safe)."""
    found = getattr(_LOCAL, "stemmer", None)
    if found is None:
        import Stemmer

        found = _LOCAL.stemmer = Stemmer.Stemmer("danish")
    return found


def stem(words_: Sequence[str]) -> list[str]:
    """The Danish stems of the words, in order."""
    return list(stemmer().stemWords(list(words_)))


def content_stems(word_list: Iterable[str]) -> set[str]:
    """Stems of the content words: stop words and one-letter words dropped."""
    stop = stopwords()
    return set(stem([w for w in word_list if len(w) > 1 and w not in stop]))


def lexical_tokens(texts: Sequence[str]) -> list[list[str]]:
    """bm25s tokens of each text: lower case, Danish stop words removed, Danish stems."""
    import bm25s

    tokenized = bm25s.tokenize(
        list(texts), lower=True, stopwords="da", stemmer=stemmer(), return_ids=False, show_progress=False
    )
    return [list(doc) for doc in tokenized]


def match_key(text: str) -> str:
    """Lowercase, de-hyphenate, punctuation to spaces, single spaces, with a leading space (gold matching)."""
    flat = _PUNCT.sub(" ", dehyphenate(normalise(text)).lower())
    return " " + " ".join(flat.split())


def question_key(question: str) -> str:
    """Lower case, punctuation and extra spaces removed: how repeats of an unanswered question are grouped."""
    return " ".join(_NON_WORD.sub(" ", question.lower()).split())


def markdown_heading(line: str, max_level: int = 6) -> tuple[int, str] | None:
    """(level, text) of an ATX Markdown heading line ('## Udfordring ##'), or None.

    Written without a regular expression: the patterns it replaces, ``^(#{1,6})\\s+(.+?)\\s*#*\\s*$``
    and the like, backtrack quadratically on a long line of '#' characters (an hour at 1 MB).
    A closing run of '#' is dropped when white space precedes it, as in CommonMark ('C#' stays).
    """
    level = len(line) - len(line.lstrip("#"))
    if not 1 <= level <= max_level or len(line) == level or not line[level].isspace():
        return None
    text = line[level:].strip()
    closing = text.rstrip("#")
    if not closing:
        return None  # only '#' characters: no heading text
    if closing != text and closing[-1].isspace():
        text = closing.rstrip()
    return level, text
