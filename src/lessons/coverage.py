"""How much of a source report the curated corpus covers, sentence by sentence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lessons.models import Entry
from lessons.text import clean_text, split_sentences, words

MAX_REPORT_TEXT_BYTES = 50 * 1024 * 1024  # a report's text; the 2022 report is 0.2 MB

__all__ = ["Coverage", "measure_coverage"]

MIN_WORDS = 8
SHARE_OF_WORDS = 0.7


@dataclass
class Coverage:
    """Result of a coverage measurement."""

    total: int
    covered: int
    missing: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Covered sentences as a share of all counted sentences."""
        return self.covered / self.total if self.total else 1.0


def measure_coverage(report_text: str, entries: Iterable[Entry], share: float = SHARE_OF_WORDS) -> Coverage:
    """Count the report's sentences of MIN_WORDS+ words whose words mostly appear in one entry.

    A sentence is covered when some single entry contains at least ``share`` of the
    sentence's distinct words.
    """
    entry_words = [set(words(entry.full_text())) for entry in entries]
    total = covered = 0
    missing: list[str] = []
    for sentence in split_sentences(clean_text(report_text)):
        tokens = set(words(sentence))
        if len(words(sentence)) < MIN_WORDS:
            continue
        total += 1
        need = share * len(tokens)
        if any(len(tokens & ew) >= need for ew in entry_words):
            covered += 1
        else:
            missing.append(sentence)
    return Coverage(total=total, covered=covered, missing=missing)
