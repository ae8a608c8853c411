"""Readable words for filters, and text shortened for display."""

from __future__ import annotations

from lessons.search import Filters
from lessons.text import sentence_ends
from lessons.words import label

__all__ = ["filter_summary", "shorten"]


def filter_summary(filters: Filters, lang: str) -> list[str]:
    """The active filters as readable labels, e.g. ['Jura', 'Region']."""
    out: list[str] = []
    for vocabulary, values in (
        ("kind", filters.kinds),
        ("area", filters.areas),
        ("sector", filters.sectors),
        ("domain", filters.domains),
        ("status", filters.statuses),
    ):
        out.extend(label(vocabulary, v.value, lang) for v in sorted(values))
    return out


def shorten(text: str, max_words: int) -> str:
    """The text cut to about ``max_words`` words, at a sentence end when one is near; '…' marks a cut.

    A sentence end is a full stop followed by a capital, so 'bl.a. de' or 'ca. 66' are not ends.
    """
    words = text.split()
    if len(words) <= max_words:
        return " ".join(words)
    cut = " ".join(words[:max_words])
    ends = sentence_ends(cut)
    if ends and ends[-1] > len(cut) * 0.6:
        return cut[: ends[-1]]
    return cut.rstrip(",;:–-") + " …"
