"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores, fused with language-aware weights.

The pipeline for one question:

1. normalise and check the question (:func:`prepare_question`);
2. detect its language (Danish or English) and expand acronyms and English
   terms with their Danish forms from the glossary, for the lexical side;
3. score candidates densely (cosine, FAISS top-N plus exact scores for lexical
   candidates) and lexically (bm25s with the Danish Snowball stemmer);
4. fuse min-max-normalised scores with weights that depend on the language;
5. filter, keep one chunk per entry, and decide how well the corpus answers the question:
   ``match``, ``weak`` or ``no_match`` (:mod:`lessons.abstention`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

import bm25s
import numpy as np
import numpy.typing as npt

from lessons.abstention import Confidence
from lessons.chunking import Chunk, ChunkMeta
from lessons.embedding import Embedder
from lessons.errors import Count, QuestionError
from lessons.lexicon import framing_words, glossary_groups
from lessons.models import Area, Domain, Kind, ProjectStatus, Sector
from lessons.store import IndexData
from lessons.text import content_stems, lexical_tokens, normalise, tokens

__all__ = [
    "Confidence",
    "Filters",
    "Hit",
    "Mode",
    "Ranking",
    "SearchResult",
    "Searcher",
    "detect_language",
    "expand_query",
    "own_lexical_scores",
    "passage_coverage_scores",
    "passage_subject_scores",
    "prepare_question",
]

_E = TypeVar("_E", bound=StrEnum)


class Mode(StrEnum):
    """Which ranker to use; dense and lexical exist to measure the hybrid against."""

    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


@dataclass(frozen=True)
class Ranking:
    """The tunable parts of the ranking, measured by `lessons eval`."""

    lexical_weight_da: float = 0.35
    lexical_weight_en: float = 0.3
    candidates: int = 100
    # No-match: a question matches when its best chunk is closer than the nearest
    # off-topic background phrase by at least ``min_margin`` (cosine), or when the
    # lexical side finds a strong match for the question's own words. Calibrated
    # with `lessons calibrate` on a labelled question set; see docs/retrieval.md.
    min_margin: float = -0.023
    min_lexical: float = 2.2
    # Inside active filters, a hit counts only when its fused score (1.0 = the best chunk
    # anywhere) reaches this; otherwise the answer is "nothing inside your filters".
    min_filtered_score: float = 0.5


@dataclass(frozen=True)
class Filters:
    """Restrict results by entry metadata. Empty sets mean no restriction."""

    kinds: frozenset[Kind] = frozenset()
    areas: frozenset[Area] = frozenset()
    sectors: frozenset[Sector] = frozenset()
    domains: frozenset[Domain] = frozenset()
    statuses: frozenset[ProjectStatus] = frozenset()

    @classmethod
    def parse(
        cls,
        *,
        kinds: Iterable[str] = (),
        areas: Iterable[str] = (),
        sectors: Iterable[str] = (),
        domains: Iterable[str] = (),
        statuses: Iterable[str] = (),
    ) -> Filters:
        """Build filters from strings; an unknown value raises QuestionError listing the valid ones."""
        return cls(
            kinds=_parse_values("kind", Kind, kinds),
            areas=_parse_values("area", Area, areas),
            sectors=_parse_values("sector", Sector, sectors),
            domains=_parse_values("domain", Domain, domains),
            statuses=_parse_values("status", ProjectStatus, statuses),
        )

    @property
    def active(self) -> bool:
        """Whether any filter is set."""
        return bool(self.kinds or self.areas or self.sectors or self.domains or self.statuses)

    def describe(self) -> dict[str, list[str]]:
        """The active filters as plain lists, for JSON and display."""
        out = {
            "kind": sorted(v.value for v in self.kinds),
            "area": sorted(v.value for v in self.areas),
            "sector": sorted(v.value for v in self.sectors),
            "domain": sorted(v.value for v in self.domains),
            "status": sorted(v.value for v in self.statuses),
        }
        return {k: v for k, v in out.items() if v}

    def matches(self, meta: ChunkMeta) -> bool:
        """Whether a chunk's metadata passes every active filter."""
        if self.kinds and meta.kind not in self.kinds:
            return False
        if self.areas and not self.areas.intersection(meta.areas):
            return False
        if self.sectors and meta.sector not in self.sectors:
            return False
        if self.domains and meta.domain not in self.domains:
            return False
        return not (self.statuses and meta.project_status not in self.statuses)


def _parse_values(name: str, enum: type[_E], values: Iterable[str]) -> frozenset[_E]:
    out: set[_E] = set()
    for raw in values:
        for value in (v.strip().lower() for v in str(raw).split(",")):
            if not value:
                continue
            try:
                out.add(enum(value))
            except ValueError:
                valid = ", ".join(e.value for e in enum)
                raise QuestionError(f"unknown {name} {value!r}; valid values: {valid}") from None
    return frozenset(out)


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its scores."""

    rank: int
    score: float
    chunk: Chunk
    dense: float
    lexical: float

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `lessons ask --json`."""
        meta = self.chunk.meta
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "entry_id": self.chunk.entry_id,
            "kind": meta.kind.value,
            "title": meta.title,
            "text": self.chunk.text,
            "source": {
                "report": meta.source.report,
                "section": meta.source.section,
                "page": meta.source.page,
            },
        }


@dataclass
class SearchResult:
    """The answer to one question."""

    question: str
    no_match: bool
    hits: list[Hit]
    language: str
    filters: Filters = field(default_factory=Filters)
    best_dense: float = 0.0
    best_lexical: float = 0.0
    margin: float = 0.0
    # the IDF-weighted share of the question's subject words found in its best dense passages (1.0: all)
    coverage: float = 1.0
    # the best cosine between question and passages with the passages' shared direction projected out
    subject: float = 0.0
    confidence: Confidence = Confidence.MATCH
    # the no-match model's score (a logit; None when the index predates the model or nothing was scored)
    decision_score: float | None = None
    # why the answer is not a plain match: "off_topic", "filters" (nothing inside the chosen filters),
    # "no_words" (only punctuation or symbols), "too_short" (a single character); None for a match
    reason: str | None = None
    rule_scores: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.no_match and self.confidence is not Confidence.NO_MATCH:
            self.confidence = Confidence.NO_MATCH
        self.no_match = self.confidence is Confidence.NO_MATCH

    def to_json(self) -> dict[str, Any]:
        """The stable JSON contract: question, no_match, confidence, hits with scores (plus language, filters)."""
        return {
            "question": self.question,
            "no_match": self.no_match,
            "confidence": self.confidence.value,
            "reason": self.reason,
            "hits": [h.to_json() for h in self.hits],
            "language": self.language,
            "filters": self.filters.describe(),
        }


# --- question handling -------------------------------------------------------------------------

_DA_WORDS = frozenset(
    (
        "og i at det en den til er som på de med for ikke der af har var vi kan hvad hvordan "
        "hvilke hvem hvorfor hvornår skal vores jeg man om fra eller også når sig så efter andre "
        "vil mod noget får gør skulle kunne være blev bliver andre ved hos mellem "
    ).split()
)
_EN_WORDS = frozenset(
    (
        "the and of to in is are was were what how which who why when should our we do does did "
        "can could with for on from that this it be have has get got about any there their other "
        "others us you would will a an "
    ).split()
)


def detect_language(text: str) -> str:
    """'da' or 'en', from stop words and Danish letters. Ties go to Danish (the corpus language)."""
    found = tokens(text)
    da = sum(t in _DA_WORDS for t in found) + 2 * sum(ch in "æøåÆØÅ" for ch in text)
    en = sum(t in _EN_WORDS for t in found)
    return "en" if en > da else "da"


def prepare_question(question: str, max_chars: int) -> str:
    """Normalise (NFC, no control characters, single spaces) and check a question.

    Raises QuestionError for an empty question or one over ``max_chars``.
    """
    if not isinstance(question, str):
        raise QuestionError.worded("question_not_text")
    if len(question) > max_chars * 4:
        raise QuestionError.worded("question_too_long", length=Count(len(question)), limit=Count(max_chars))
    text = " ".join(normalise(question).split())
    if not text:
        raise QuestionError.worded("question_empty")
    if len(text) > max_chars:
        raise QuestionError.worded("question_too_long", length=Count(len(text)), limit=Count(max_chars))
    return text


@cache
def _glossary_patterns() -> tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]:
    out = []
    for group in glossary_groups():
        alternatives = "|".join(re.escape(term.lower()) for term in sorted(group, key=len, reverse=True))
        out.append((re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), group))
    return tuple(out)


def expand_query(text: str) -> list[str]:
    """Glossary terms related to the question's own terms (not repeating those already present)."""
    lowered = text.lower()
    extra: list[str] = []
    for pattern, group in _glossary_patterns():
        if pattern.search(lowered):
            extra.extend(term for term in group if term.lower() not in lowered and term not in extra)
    return extra


# --- lexical side ------------------------------------------------------------------------------


class _Lexical:
    """A bm25s index over the chunks' texts."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.size = len(texts)
        self._retriever: Any = None
        if texts:
            self._retriever = bm25s.BM25()
            self._retriever.index(lexical_tokens(texts), show_progress=False)

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score of every chunk for the query (zeros when nothing matches)."""
        if self._retriever is None:
            return np.zeros(0, dtype=np.float32)
        query_tokens = lexical_tokens([query])[0]
        known = [t for t in query_tokens if t in self.vocabulary]
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return self.scores_of(known)

    @property
    def vocabulary(self) -> Mapping[str, int]:
        """The indexed (stemmed) tokens."""
        vocab: Mapping[str, int] = {} if self._retriever is None else self._retriever.vocab_dict
        return vocab

    def scores_of(self, tokens: list[str]) -> npt.NDArray[np.float32]:
        """BM25 scores of every chunk for known, already tokenised query terms."""
        return np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)


def _own_lexical(lexical: _Lexical, text: str) -> npt.NDArray[np.float32]:
    """Lexical scores for the question's own words only (no glossary), normalised by query length."""
    scores = lexical.scores(text)
    terms = max(1, len(lexical_tokens([text])[0]))
    out: npt.NDArray[np.float32] = scores / math.sqrt(terms)
    return out


def own_lexical_scores(chunk_texts: Sequence[str], texts: Sequence[str]) -> list[float]:
    """The best own-word lexical score of each text against the chunk texts (to train the no-match model).

    The same as a search's ``best_lexical`` for that text, computed in one batch.
    """
    lexical = _Lexical(chunk_texts)
    if lexical.size == 0 or not texts:
        return [0.0] * len(texts)
    vocab = lexical.vocabulary
    out = []
    for text_tokens in lexical_tokens(texts):
        known = [t for t in text_tokens if t in vocab]
        if not known:
            out.append(0.0)
            continue
        best = float(np.max(lexical.scores_of(known)))
        out.append(best / math.sqrt(max(1, len(text_tokens))))
    return out


# --- coverage: is the question's subject in what it retrieved? ---------------------------------

# How many of the best dense passages the coverage feature reads (the cards a user sees).
COVERAGE_PASSAGES = 5


@cache
def _framing_stems() -> frozenset[str]:
    return frozenset(content_stems(w.lower() for w in framing_words()))


@cache
def _glossary_siblings() -> dict[str, frozenset[str]]:
    """Each glossary stem's group: a question word counts as covered when any form of its group is."""
    out: dict[str, set[str]] = {}
    for group in glossary_groups():
        stems = content_stems(w for term in group for w in tokens(term))
        for stem_ in stems:
            out.setdefault(stem_, set()).update(stems)
    return {k: frozenset(v) for k, v in out.items()}


class _Coverage:
    """The IDF-weighted share of a question's subject words found in given passages.

    A question's subject words are its content stems (word tokens of any script, stop words
    and one-letter words dropped, Danish Snowball stems as for the corpus) minus the framing words of
    ``data/framing.yaml`` (municipality, region, project, data, …). A word counts as
    covered when it, or a glossary form of it, occurs in one of the passages; rare words
    weigh more (IDF over the chunks; a word the corpus lacks weighs most). A question
    with no subject words left is fully covered (nothing it asks about is missing).
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self.passages = [frozenset(content_stems(tokens(t))) for t in texts]
        n = len(self.passages)
        counts: dict[str, int] = {}
        for passage in self.passages:
            for stem_ in passage:
                counts[stem_] = counts.get(stem_, 0) + 1
        self.idf = {stem_: math.log(1.0 + n / (1.0 + df)) for stem_, df in counts.items()}
        self.unseen = math.log(1.0 + n)

    @staticmethod
    def subject(text: str) -> set[str]:
        """The question's subject stems (content words minus framing words)."""
        return content_stems(tokens(text)) - _framing_stems()

    def share(self, text: str, passages: Iterable[int]) -> float:
        """The IDF-weighted share of the question's subject stems found in the passages (0 to 1)."""
        subject = self.subject(text)
        if not subject:
            return 1.0
        found: set[str] = set()
        for i in passages:
            found.update(self.passages[int(i)])
        siblings = _glossary_siblings()
        total = covered = 0.0
        for stem_ in subject:
            weight = self.idf.get(stem_, self.unseen)
            total += weight
            if stem_ in found or not found.isdisjoint(siblings.get(stem_, ())):
                covered += weight
        return covered / total


def passage_coverage_scores(
    chunk_texts: Sequence[str],
    chunk_vectors: npt.NDArray[np.float32],
    texts: Sequence[str],
    vectors: npt.NDArray[np.float32],
    passages: int = COVERAGE_PASSAGES,
) -> list[float]:
    """The coverage feature of each text against its best dense passages (to train the no-match model).

    The same as a search's ``coverage`` for that text and vector, computed in one batch.
    """
    if not len(chunk_texts) or not len(texts):
        return [1.0] * len(texts)
    coverage = _Coverage(chunk_texts)
    similarities = np.asarray(vectors, dtype=np.float32) @ np.asarray(chunk_vectors, dtype=np.float32).T
    k = min(passages, similarities.shape[1])
    out = []
    for text, row in zip(texts, similarities, strict=True):
        top = np.argsort(-row, kind="stable")[:k]
        out.append(coverage.share(text, top))
    return out


# --- subject similarity: is some passage about the question's subject, domain aside? ----------


def _unit_rows(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = values / np.maximum(norms, 1e-12)
    return out


class _SubjectSimilarity:
    """The best cosine between a question and the passages once what all passages share is projected out.

    e5 puts every question about public services, health or IT near a corpus about AI in the
    public sector: the passages' mean direction carries that shared domain. Projected out of
    the question's vector and of every passage's, what is left is each text's own subject,
    and the best cosine there says whether some passage is about what the question asks. A
    question about hospital parking framed like ours stays close to the corpus in the raw
    space, but not once the domain is taken out. The direction comes from the index's own
    passage vectors (no training labels), so build and search compute the same feature.
    """

    def __init__(self, chunk_vectors: npt.ArrayLike) -> None:
        vectors = np.asarray(chunk_vectors, dtype=np.float64)
        self.direction = np.zeros(vectors.shape[1] if vectors.ndim == 2 else 0)
        self.passages = np.zeros((0, len(self.direction)))
        if vectors.ndim != 2 or not len(vectors):
            return
        mean = vectors.mean(axis=0)
        self.direction = mean / max(float(np.linalg.norm(mean)), 1e-12)
        self.passages = self._project(vectors)

    def _project(self, vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return _unit_rows(vectors - np.outer(vectors @ self.direction, self.direction))

    def scores(self, vectors: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The feature for each row of ``vectors`` (0.0 against an empty corpus)."""
        queries = np.asarray(vectors, dtype=np.float64).reshape(-1, len(self.direction))
        if not len(self.passages):
            return np.zeros(len(queries))
        out: npt.NDArray[np.float64] = (self._project(queries) @ self.passages.T).max(axis=1)
        return out


def passage_subject_scores(chunk_vectors: npt.ArrayLike, vectors: npt.ArrayLike) -> list[float]:
    """The subject-similarity feature of each question vector (to train the no-match model).

    The same as a search's ``subject`` for that vector, computed in one batch.
    """
    return [float(v) for v in _SubjectSimilarity(chunk_vectors).scores(vectors)]


# --- the searcher ------------------------------------------------------------------------------


def _minmax(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.zeros_like(values) if high <= 0 else np.ones_like(values)
    out: npt.NDArray[np.float32] = ((values - low) / (high - low)).astype(np.float32)
    return out


class Searcher:
    """Answers questions from one loaded index version. Thread-safe for concurrent readers."""

    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        *,
        ranking: Ranking | None = None,
        max_question_chars: int = 2000,
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.ranking = ranking or Ranking()
        self.max_question_chars = max_question_chars
        self.chunks = data.chunks
        self._vectors = data.vectors()
        self._lexical = _Lexical([c.text for c in self.chunks])
        self._coverage = _Coverage([c.text for c in self.chunks])
        self._subject = _SubjectSimilarity(self._vectors) if self.chunks else None

    @property
    def version(self) -> str:
        """The index version answering."""
        return self.data.manifest.version

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        """The question's vector."""
        vector: npt.NDArray[np.float32] = self.embedder.embed_queries([text])[0]
        return vector

    def search(
        self,
        question: str,
        k: int = 5,
        *,
        filters: Filters | None = None,
        mode: Mode = Mode.HYBRID,
        per_entry: int = 1,
        vector: npt.NDArray[np.float32] | None = None,
    ) -> SearchResult:
        """Rank chunks for a question; at most ``per_entry`` chunks of one entry.

        ``vector`` lets a caller pass a precomputed question vector (benchmarks, eval).
        """
        if not 1 <= k <= 100:
            raise QuestionError(f"k must be between 1 and 100, not {k}")
        filters = filters or Filters()
        text = prepare_question(question, self.max_question_chars)
        language = detect_language(text)
        question_tokens = tokens(text)
        if not question_tokens:
            return self._refused(text, language, filters, "no_words")
        if sum(len(w) for w in question_tokens) < 2:
            return self._refused(text, language, filters, "too_short")
        if not self.chunks:
            return self._refused(text, language, filters, "off_topic")
        query_vector = vector if vector is not None else self.embed(text)
        dense_all, lexical_all, pool = self._candidates(text, query_vector, mode)
        fused = self._fuse(dense_all[pool], lexical_all[pool], language, mode)
        relative = _minmax(fused)  # 1.0 = the best chunk anywhere, whatever the filters
        order = np.argsort(-fused, kind="stable")
        hits: list[Hit] = []
        best_filtered = 0.0
        taken: dict[str, int] = {}
        for position in order:
            index = int(pool[position])
            chunk = self.chunks[index]
            if not filters.matches(chunk.meta):
                continue
            if taken.get(chunk.entry_id, 0) >= per_entry:
                continue
            taken[chunk.entry_id] = taken.get(chunk.entry_id, 0) + 1
            if not hits:
                best_filtered = float(relative[position])
            hits.append(
                Hit(
                    rank=len(hits) + 1,
                    score=float(fused[position]),
                    chunk=chunk,
                    dense=float(dense_all[index]),
                    lexical=float(lexical_all[index]),
                )
            )
            if len(hits) == k:
                break
        best_dense = float(dense_all[pool].max()) if pool.size else 0.0
        best_lexical = float(self._own_lexical(text).max())
        background = self.data.background
        margin = best_dense - float((background @ query_vector).max()) if len(background) else best_dense
        coverage = self._coverage_of(text, dense_all)
        subject = self._subject_of(query_vector)
        confidence, score, rule_scores = self.decide(
            text, query_vector, best_lexical, margin, coverage=coverage, subject=subject, language=language
        )
        reason = None if confidence is Confidence.MATCH else "off_topic"
        if confidence is not Confidence.NO_MATCH and filters.active:
            if not hits or best_filtered < self.ranking.min_filtered_score:
                confidence, reason = Confidence.NO_MATCH, "filters"
        elif not hits:
            confidence, reason = Confidence.NO_MATCH, "off_topic"
        return SearchResult(
            question=text,
            no_match=confidence is Confidence.NO_MATCH,
            hits=hits,
            language=language,
            filters=filters,
            best_dense=best_dense,
            best_lexical=best_lexical,
            margin=margin,
            coverage=coverage,
            subject=subject,
            confidence=confidence,
            decision_score=score,
            reason=reason,
            rule_scores=rule_scores,
        )

    def decide(
        self,
        text: str,
        vector: npt.NDArray[np.float32],
        best_lexical: float,
        margin: float,
        *,
        coverage: float = 1.0,
        subject: float = 0.0,
        language: str | None = None,
    ) -> tuple[Confidence, float | None, dict[str, float]]:
        """The state of a question from the index's no-match model (or the old margin rule without one).

        ``text`` is the prepared question; the model itself reads only its vector, its lexical
        score, the coverage of its subject words by the passages it retrieved and its subject similarity;
        ``language`` (the detected one) picks the model's cut-offs for that language, if it has any.
        """
        model = self.data.no_match_model
        if model is None:
            matched = self._matches(margin, best_lexical)
            return (Confidence.MATCH if matched else Confidence.NO_MATCH), None, {"margin": margin}
        scores = model.rule_scores(vector, best_lexical, coverage=coverage, subject=subject)
        scores["margin"] = margin
        state = model.confidence(scores["combined"], language=language, coverage=coverage)
        return state, scores["combined"], scores

    def _coverage_of(self, text: str, dense: npt.NDArray[np.float32]) -> float:
        """The coverage feature over the best dense passages; 1.0 for a model that does not weigh it."""
        model = self.data.no_match_model
        if model is None or "coverage" not in model.features:  # indexes built before it existed
            return 1.0
        return self._coverage.share(text, np.argsort(-dense, kind="stable")[:COVERAGE_PASSAGES])

    def _subject_of(self, vector: npt.NDArray[np.float32]) -> float:
        """The subject-similarity feature; 0.0 for a model that does not weigh it."""
        model = self.data.no_match_model
        if model is None or self._subject is None or "subject" not in model.features:
            return 0.0
        return float(self._subject.scores(vector)[0])

    def _refused(self, text: str, language: str, filters: Filters, reason: str) -> SearchResult:
        """A question with nothing to search for: no_match, with the reason."""
        return SearchResult(
            question=text,
            no_match=True,
            hits=[],
            language=language,
            filters=filters,
            confidence=Confidence.NO_MATCH,
            reason=reason,
        )

    def _candidates(
        self, text: str, query_vector: npt.NDArray[np.float32], mode: Mode
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Dense and lexical scores for all chunks (exact), and the candidate pool to rank."""
        n = len(self.chunks)
        top = min(self.ranking.candidates, n)
        dense_all = np.full(n, -1.0, dtype=np.float32)
        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        if not np.isfinite(query).all():
            raise QuestionError.worded("question_not_embedded")
        scores, ids = self.data.search(query, top)
        valid = ids[0] >= 0  # FAISS returns -1 for missing results
        dense_all[ids[0][valid]] = scores[0][valid]
        lexical_all = self._lexical.scores(text + " " + " ".join(expand_query(text)))
        pool_ids: set[int] = set(int(i) for i in ids[0][valid]) if mode is not Mode.LEXICAL else set()
        if mode is not Mode.DENSE:
            lexical_top = np.argsort(-lexical_all)[:top]
            pool_ids.update(int(i) for i in lexical_top if lexical_all[i] > 0)
            missing = [i for i in pool_ids if dense_all[i] < -0.5]
            if missing:
                dense_all[missing] = self._vectors[missing] @ query[0]
        if mode is Mode.LEXICAL and not pool_ids:
            pool_ids.update(range(top))
        pool = np.fromiter(sorted(pool_ids), dtype=np.int64)
        return dense_all, lexical_all, pool

    def _fuse(
        self,
        dense: npt.NDArray[np.float32],
        lexical: npt.NDArray[np.float32],
        language: str,
        mode: Mode,
    ) -> npt.NDArray[np.float32]:
        if mode is Mode.DENSE:
            return dense
        if mode is Mode.LEXICAL:
            return lexical
        weight = self.ranking.lexical_weight_en if language == "en" else self.ranking.lexical_weight_da
        return ((1.0 - weight) * _minmax(dense) + weight * _minmax(lexical)).astype(np.float32)

    def _own_lexical(self, text: str) -> npt.NDArray[np.float32]:
        """Lexical scores for the question's own words only (no glossary), normalised by query length."""
        return _own_lexical(self._lexical, text)

    def _matches(self, margin: float, best_lexical: float) -> bool:
        return margin >= self.ranking.min_margin or best_lexical >= self.ranking.min_lexical
