"""The extractive overview: the few sentences of the retrieved experiences that best answer a question."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from lessons.answering.escaping import BLANK_LINES
from lessons.answering.labels import shorten
from lessons.chunking import Chunk
from lessons.embedding import Embedder
from lessons.search import Hit, expand_query
from lessons.text import content_stems, split_sentences, tokens
from lessons.words import labels

__all__ = ["OverviewSentence", "SentenceVectors", "common_sentences", "extract_overview", "text_sentences"]


@dataclass(frozen=True)
class OverviewSentence:
    """A sentence quoted from a card, with the card's number as citation."""

    text: str
    card: int
    score: float


_FIELD_PREFIX = re.compile(
    "^(?:" + "|".join(re.escape(da) for da, _ in labels("field").values()) + r"):\s*", re.IGNORECASE
)

MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_WORDS = 70
SENTENCES_PER_HIT = 3
MAX_CANDIDATES = 12
LEXICAL_WEIGHT = 0.15
EXPANSION_SHARE = 0.5
RANK_WEIGHT = 0.04
SCORE_MARGIN = 0.06
DUPLICATE_OVERLAP = 0.6
VECTOR_CACHE_SIZE = 4096
BOILERPLATE_ENTRIES = 3


def _stems(text: str) -> set[str]:
    return content_stems(tokens(text))


def _sentences(body: str) -> list[str]:
    """A chunk body's sentences, without the 'Udfordring:'-style field labels."""
    out = []
    for paragraph in BLANK_LINES.split(body):
        text = _FIELD_PREFIX.sub("", " ".join(paragraph.split()))
        for sentence in split_sentences(text):
            if len(sentence.split()) >= MIN_SENTENCE_WORDS:
                out.append(shorten(sentence, MAX_SENTENCE_WORDS))
    return out


def text_sentences(text: str) -> list[str]:
    """A text's sentences as the overview quotes them (so they can be skipped: already quoted, off focus)."""
    return _sentences(text)


class SentenceVectors:
    """Sentence vectors by (model, sentence): cards recur across questions, so most sentences embed once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Vectors for texts (as passages), embedding only those not seen before."""
        keys = [(embedder.fingerprint, text) for text in texts]
        with self._lock:
            missing = [key[1] for key in dict.fromkeys(keys) if key not in self._vectors]
        if missing:
            fresh = embedder.embed_documents(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[(embedder.fingerprint, text)] = vector
                while len(self._vectors) > self.size:
                    self._vectors.popitem(last=False)
        with self._lock:
            found = [self._vectors.get(key) for key in keys]
        if any(v is None for v in found):  # evicted meanwhile by a concurrent session: embed directly
            return embedder.embed_documents(list(texts))
        return np.stack([v for v in found if v is not None]).astype(np.float32)


@dataclass
class _Candidate:
    text: str
    card: int
    position: int
    lexical: float
    stems: set[str]
    score: float = 0.0


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def common_sentences(chunks: Iterable[Chunk]) -> frozenset[str]:
    """Sentences found in three or more entries: boilerplate (e.g. the advice entries' shared introduction)."""
    entries_of: dict[str, set[str]] = {}
    for chunk in chunks:
        for sentence in _sentences(chunk.body):
            entries_of.setdefault(sentence, set()).add(chunk.entry_id)
    return frozenset(sentence for sentence, ids in entries_of.items() if len(ids) >= BOILERPLATE_ENTRIES)


_COMMON: dict[str, frozenset[str]] = {}


def _candidates(query: str, hits: Sequence[Hit], skip: Collection[str]) -> list[_Candidate]:
    """Each hit's few sentences that overlap the query most (then the earliest), best hits first.

    A sentence in ``skip``, or one that recurs in several hits, is boilerplate and skipped.
    """
    own = _stems(query)
    expansion = _stems(" ".join(expand_query(query))) - own
    per_hit_sentences = [(hit.rank, _sentences(hit.chunk.body)) for hit in hits]
    seen_in: dict[str, set[int]] = {}
    for rank, sentences in per_hit_sentences:
        for sentence in sentences:
            seen_in.setdefault(sentence, set()).add(rank)
    out: list[_Candidate] = []
    for rank, sentences in per_hit_sentences:
        scored = []
        for position, sentence in enumerate(sentences):
            if len(seen_in[sentence]) > 1 or sentence in skip:
                continue
            stems = _stems(sentence)
            matched = len(stems & own) + EXPANSION_SHARE * len(stems & expansion)
            scored.append(_Candidate(sentence, rank, position, min(1.0, matched / max(1, len(own))), stems))
        scored.sort(key=lambda c: (-c.lexical, c.position))
        out.extend(scored[:SENTENCES_PER_HIT])
    return out[:MAX_CANDIDATES]


def extract_overview(
    query: str,
    query_vector: npt.NDArray[np.float32] | None,
    hits: Sequence[Hit],
    embedder: Embedder | None,
    *,
    min_sentences: int = 2,
    max_sentences: int = 4,
    skip: Collection[str] = frozenset(),
    vectors: SentenceVectors | None = None,
) -> list[OverviewSentence]:
    """The 2–4 sentences of the hits that best answer the query, each citing its hit's rank.

    Each hit's sentences are pre-ranked by lexical overlap with the query (stemmed;
    glossary expansions count half, so English questions still meet Danish terms);
    the best few are embedded (cached) and scored by cosine against the query
    vector, plus a little for lexical overlap and for the hit's rank. Near-duplicates
    are dropped and one card gives at most two sentences. Without an embedder the
    lexical overlap alone decides. Sentences in ``skip`` (boilerplate) are never quoted.
    ``vectors`` caches sentence vectors across calls (an :class:`~lessons.answering.Answerer` owns one).
    """
    candidates = _candidates(query, hits, skip)
    if not candidates:
        return []
    dense = np.zeros(len(candidates), dtype=np.float32)
    if embedder is not None and query_vector is not None:
        texts = [c.text for c in candidates]
        matrix = vectors.embed(embedder, texts) if vectors is not None else embedder.embed_documents(texts)
        dense = (matrix @ query_vector.astype(np.float32)).astype(np.float32)
    for candidate, cosine in zip(candidates, dense, strict=True):
        candidate.score = float(cosine) + LEXICAL_WEIGHT * candidate.lexical + RANK_WEIGHT / candidate.card
    candidates.sort(key=lambda c: -c.score)
    chosen: list[_Candidate] = []
    per_card: dict[int, int] = {}
    best = candidates[0].score
    for candidate in candidates:
        if len(chosen) >= max_sentences:
            break
        if len(chosen) >= min_sentences and candidate.score < best - SCORE_MARGIN:
            break
        if per_card.get(candidate.card, 0) >= 2:
            continue
        if any(_overlap(candidate.stems, c.stems) >= DUPLICATE_OVERLAP for c in chosen):
            continue
        chosen.append(candidate)
        per_card[candidate.card] = per_card.get(candidate.card, 0) + 1
    return [OverviewSentence(text=c.text, card=c.card, score=round(c.score, 6)) for c in chosen]
