"""Retrieval quality of every system on the same questions, judged by the same rule.

A system is a function from a question to its ranked passage texts (best first, at least ten).
A passage is relevant when ``lessons.evaluation.is_relevant`` accepts its text, the rule
``lessons eval`` uses, so every system is judged on exactly what it hands the reader.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.common import QualityScores, QuestionSet, first_relevant_rank
from lessons.evaluation import Scores
from lessons.search import Confidence, Mode, Searcher

__all__ = ["NO_MATCH_FIGURES", "Ranked", "System", "evaluate_systems", "no_match_figures", "our_systems"]

DEPTH = 10


@dataclass(frozen=True)
class Ranked:
    """What a system returned for one question."""

    texts: list[str]
    confidence: Confidence | None = None  # None: the system has no notion of "nothing matches"


System = Callable[[str], Ranked]


def our_systems(searcher: Searcher, questions: Sequence[str]) -> dict[str, System]:
    """Hybrid, dense-only and BM25-only from one searcher, each question embedded once.

    Also "hybrid, body only": the hybrid's results judged without the curated header line
    (title, project, tags), to show how much of the hybrid's score rests on curated words.
    """
    vectors: dict[str, npt.NDArray[np.float32]] = {}

    def vector(question: str) -> npt.NDArray[np.float32]:
        if question not in vectors:
            vectors[question] = searcher.embed(question)
        return vectors[question]

    for question in questions:
        vector(question)

    def make(mode: Mode, body_only: bool = False) -> System:
        def run(question: str) -> Ranked:
            result = searcher.search(question, k=DEPTH, mode=mode, vector=vector(question))
            texts = [h.chunk.body if body_only else h.chunk.text for h in result.hits]
            return Ranked(texts=texts, confidence=result.confidence)

        return run

    return {
        "hybrid": make(Mode.HYBRID),
        "dense": make(Mode.DENSE),
        "bm25": make(Mode.LEXICAL),
        "hybrid-body-only": make(Mode.HYBRID, body_only=True),
    }


# The no-match figures of a system that has the notion, as `lessons eval` counts them (lessons.evaluation.Scores).
NO_MATCH_FIGURES = (
    "out_of_scope",
    "no_match_recall",
    "no_match_precision",
    "answerable_flagged",
    "weak_share",
    "oos_as_match",
)


def no_match_figures(scores: Scores) -> dict[str, float | int | None]:
    """The no-match part of ``lessons eval``'s figures for one group of questions."""
    figures = scores.as_dict()
    return {name: figures[name] for name in NO_MATCH_FIGURES}


def evaluate_systems(systems: dict[str, System], sets: Sequence[QuestionSet]) -> dict[str, Any]:
    """Score every system on every question set, overall and by language, plus the union ("all")."""
    out: dict[str, Any] = {"systems": {}, "questions": []}
    details: dict[tuple[str, str], dict[str, Any]] = {}
    for name, system in systems.items():
        groups: dict[str, dict[str, QualityScores]] = {}
        no_match: dict[str, Scores] = {}  # only for a system that can say "nothing matches"
        for qset in sets:
            for question in qset.questions:
                ranked = system(question.q)
                language = question.language
                key = (qset.label, question.q)
                detail = details.setdefault(
                    key, {"set": qset.label, "q": question.q, "language": language, "oos": question.oos, "rank": {}}
                )
                if ranked.confidence is not None:
                    for label in (qset.label, "all"):
                        no_match.setdefault(label, Scores()).add_state(question.oos, ranked.confidence)
                if question.oos:
                    detail["rank"][name] = None
                    continue
                rank = first_relevant_rank(ranked.texts, question.gold, DEPTH)
                detail["rank"][name] = rank
                top5 = sum(len(t) for t in ranked.texts[:5])
                for label in (qset.label, "all"):
                    by = groups.setdefault(label, {})
                    by.setdefault("overall", QualityScores()).add(rank, top5)
                    by.setdefault(language, QualityScores()).add(rank, top5)
        out["systems"][name] = {
            label: {
                "overall": scores["overall"].as_dict(),
                "by_language": {k: v.as_dict() for k, v in sorted(scores.items()) if k != "overall"},
                "no_match": no_match_figures(no_match[label]) if label in no_match else None,
            }
            for label, scores in groups.items()
        }
    out["questions"] = list(details.values())
    return out
