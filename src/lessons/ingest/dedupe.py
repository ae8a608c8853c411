"""Which ingested drafts repeat text the corpus already has, in near-linear time.

A draft repeats an existing entry when at least ``Thresholds.contained`` (85 %) of its
content words occur in that entry. Comparing every draft with every entry is
quadratic: a 3,000-section report against a growing corpus took minutes. Here every
text is tokenised once into an inverted index (content word -> entries holding it),
and a draft is compared only with entries found through its rarest words: if an
entry holds 85 % of a draft's n words, it lacks at most m = n - ceil(0.85 n) of them,
so of any r of its words it holds at least r - m (pigeonhole). Counting, over the
posting lists of the draft's 2(m + 1) rarest words, how many each entry holds finds
every such entry while touching short lists only.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from lessons import curation
from lessons.errors import UploadError
from lessons.models import Entry

__all__ = ["Deadline", "Repeat", "TextIndex", "min_shared"]


class Deadline:
    """The time an ingest may take, all of it: parsing, comparing and saving."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (at least a small positive amount, so a subprocess timeout stays valid)."""
        return max(self._end - time.monotonic(), 0.001)

    def check(self, doing: str, **values: int) -> None:
        """Raise an :class:`UploadError` when the time is up; ``doing`` ('indexing', 'comparing') and its
        ``values`` say during what (the words ``upload_too_slow_<doing>``)."""
        if time.monotonic() > self._end:
            raise UploadError(f"too_slow_{doing}", self.what, seconds=float(self.seconds), **values)


def min_shared(size: int, threshold: float) -> int:
    """The fewest shared words that make ``shared / size >= threshold`` true, computed as that test computes it."""
    need = max(math.ceil(threshold * size), 0)
    while need > 0 and (need - 1) / size >= threshold:
        need -= 1
    while need / size < threshold:
        need += 1
    return need


@dataclass(frozen=True)
class Repeat:
    """An existing entry that holds a draft's text, and how much of it."""

    entry: Entry
    contained: float


class TextIndex:
    """Content-word sets of entries with an inverted index, for "is this text already there?" lookups."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries: list[Entry] = []
        self._sets: list[frozenset[str]] = []
        self._postings: dict[str, list[int]] = {}
        self.compared = 0  # exact set comparisons made, for tests and benchmarks
        for entry in entries:
            self.add(entry)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def tokens(entry: Entry) -> frozenset[str]:
        """The entry's content words (as the curator's near-duplicate check counts them)."""
        return curation.content_tokens("\n".join(text for _, text in entry.text_fields()))

    def add(self, entry: Entry, tokens: frozenset[str] | None = None) -> None:
        """Index one entry."""
        number = len(self._entries)
        words = self.tokens(entry) if tokens is None else tokens
        self._entries.append(entry)
        self._sets.append(words)
        for word in words:
            self._postings.setdefault(word, []).append(number)

    def repeat_of(self, tokens: frozenset[str], threshold: float) -> Repeat | None:
        """The indexed entry holding the largest share (at least ``threshold``) of these words, or None."""
        if not tokens:
            return None
        size = len(tokens)
        misses = size - min_shared(size, threshold)  # words of the draft a repeating entry may lack
        # Any misses + 1 words will do (one of them must be shared); the rarest have the shortest lists.
        # Looking at twice as many and counting is a cheap filter: a repeat holds all but `misses` of them.
        ranked = sorted(tokens, key=lambda word: (len(self._postings.get(word, ())), word))
        looked = ranked[: min(size, 2 * (misses + 1))]
        counts: Counter[int] = Counter()
        for word in looked:
            counts.update(self._postings.get(word, ()))
        least = len(looked) - misses
        candidates = [number for number, hits in counts.items() if hits >= least]
        found: Repeat | None = None
        for number in sorted(candidates):
            self.compared += 1
            contained = len(tokens & self._sets[number]) / size
            if contained >= threshold and (found is None or contained > found.contained):
                found = Repeat(self._entries[number], contained)
        return found
