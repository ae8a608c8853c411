"""Answering one turn: the question in context, cards, and a cited overview; the caches they share."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from lessons.answering.cards import Card, build_cards
from lessons.answering.followups import Context, contextualise
from lessons.answering.overview import (
    VECTOR_CACHE_SIZE,
    OverviewSentence,
    SentenceVectors,
    common_sentences,
    extract_overview,
    text_sentences,
)
from lessons.models import Entry, Kind, Sector
from lessons.search import Confidence, Filters, Searcher, detect_language, prepare_question

__all__ = ["Answer", "Answerer"]


@dataclass
class Answer:
    """One turn of the conversation: the question, how it was searched, and what came back."""

    question: str
    query: str
    followup: bool
    language: str
    filters: Filters
    no_match: bool
    cards: list[Card]
    overview: list[OverviewSentence]
    index_version: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    asked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    sector_from_question: frozenset[Sector] = frozenset()
    kinds_from_question: frozenset[Kind] = frozenset()
    # match: cards with an overview; weak: the nearest cards under a caution, no overview;
    # no_match: no cards shown. ``reason`` says why a state is not a match (see SearchResult).
    confidence: Confidence = Confidence.MATCH
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.no_match:
            self.confidence = Confidence.NO_MATCH
        self.no_match = self.confidence is Confidence.NO_MATCH

    @property
    def weak(self) -> bool:
        """Only the nearest experiences, none answering the question precisely."""
        return self.confidence is Confidence.WEAK

    @property
    def entry_ids(self) -> list[str]:
        """The cited entries, in card order."""
        return [card.entry_id for card in self.cards]


class Answerer:
    """Answers questions from one searcher (one index version), owning the caches answers share.

    Thread-safe: Streamlit sessions share one Answerer per index version. Sentence vectors are
    cached (cards recur across questions, so most sentences embed once) and the index's
    boilerplate sentences are found once, under a lock.
    """

    def __init__(self, searcher: Searcher, *, vector_cache_size: int = VECTOR_CACHE_SIZE) -> None:
        self.searcher = searcher
        self.vectors = SentenceVectors(vector_cache_size)
        self._common: frozenset[str] | None = None
        self._lock = threading.Lock()

    @property
    def boilerplate(self) -> frozenset[str]:
        """Sentences found in three or more entries of the index: never quoted in an overview."""
        with self._lock:
            if self._common is None:
                self._common = common_sentences(self.searcher.chunks)
            return self._common

    def answer(
        self,
        question: str,
        *,
        entries: Mapping[str, Entry],
        filters: Filters | None = None,
        previous: Answer | None = None,
        k: int = 5,
    ) -> Answer:
        """Answer one question (maybe a follow-up of ``previous``) with cards and a cited overview.

        A follow-up that names a sector replaces the sector filter for this answer only.
        Raises QuestionError for an empty or over-long question.
        """
        searcher = self.searcher
        text = prepare_question(question, searcher.max_question_chars)
        context = contextualise(text, previous.query if previous else None, searcher.max_question_chars)
        turn_filters = filters or Filters()
        if context.sectors:
            turn_filters = replace(turn_filters, sectors=context.sectors)
        vector = searcher.embed(context.query)
        focus = context.focus if context.focus is not None and not turn_filters.kinds else None
        result = None
        if focus is not None:  # move towards what the follow-up asks for, unless that finds nothing
            focused = replace(turn_filters, kinds=focus.kinds)
            result = searcher.search(context.query, k, filters=focused, vector=vector)
            if result.no_match or not result.hits:
                result, focus = None, None
            else:
                turn_filters = focused
        if result is None:
            result = searcher.search(context.query, k, filters=turn_filters, vector=vector)
        cards = build_cards(result.hits, entries)
        skip = self._skip(context, previous, [entries.get(h.chunk.entry_id) for h in result.hits])
        overview = (
            []
            if result.confidence is not Confidence.MATCH  # a weak answer gets no overview that reads as an answer
            else extract_overview(
                context.query, vector, result.hits, searcher.embedder, skip=skip, vectors=self.vectors
            )
        )
        return Answer(
            question=text,
            query=context.query,
            followup=context.followup,
            language=detect_language(text),
            filters=turn_filters,
            no_match=result.no_match,
            confidence=result.confidence,
            reason=result.reason,
            cards=cards,
            overview=overview,
            index_version=searcher.version,
            sector_from_question=context.sectors,
            kinds_from_question=focus.kinds if focus is not None else frozenset(),
        )

    def _skip(self, context: Context, previous: Answer | None, hit_entries: list[Entry | None]) -> frozenset[str]:
        """Sentences the overview must not quote: boilerplate; for a follow-up, what the previous answer
        already quoted and the fields its focus moves away from (e.g. the challenge, for 'what did they do')."""
        if not context.followup:
            return self.boilerplate
        skip = set(self.boilerplate)
        if previous is not None:
            skip.update(s.text for s in previous.overview)
        fields = context.focus.skip_fields if context.focus is not None else frozenset()
        for entry in hit_entries:
            for name, text in entry.text_fields() if entry is not None else ():
                if name in fields:
                    skip.update(text_sentences(text))
        return frozenset(skip)
