"""Measuring retrieval on a question file: hit@1, hit@5, MRR@10, recall@10, no-match precision/recall.

The question file format (as in ``eval/dev_questions.yaml``)::

    questions:
      - q: "Hvordan får vi adgang til data via API?"
        gold: [["api"]]            # relevant if the passage has every keyword of one alternative
      - q: "Hvordan laver man en god lasagne?"
        oos: true                  # nothing in the corpus answers it
        lang: da                   # optional; detected when absent

Keywords are compared lowercased with punctuation and line-break hyphenation
ignored; a keyword must start at a word start and may end inside a longer word.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lessons.errors import CorpusError, Problem, UnsafeFileError
from lessons.files import read_regular_file
from lessons.search import Mode, Searcher, detect_language
from lessons.text import match_key
from lessons.yamlio import MAX_YAML_BYTES, YamlError, load_yaml

__all__ = ["EvalQuestion", "ModeReport", "RankMetrics", "evaluate", "is_relevant", "load_questions"]


class EvalQuestion(BaseModel):
    """One question of an evaluation file."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(min_length=1)
    gold: list[list[str]] = Field(default_factory=list)
    oos: bool = False
    lang: str | None = Field(default=None, pattern="^(da|en)$")

    @model_validator(mode="after")
    def _gold_or_oos(self) -> EvalQuestion:
        if not self.oos and not any(self.gold):
            raise ValueError("a question needs `gold` keywords, or `oos: true` when nothing answers it")
        return self

    @property
    def language(self) -> str:
        """The question's language, given or detected."""
        return self.lang or detect_language(self.q)


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read and validate a question file; every problem is reported with its place."""
    try:
        raw = load_yaml(read_regular_file(path, max_bytes=MAX_YAML_BYTES))
    except YamlError as exc:
        raise CorpusError([Problem(file=str(path), message=exc.message, line=exc.line)]) from None
    except UnsafeFileError as exc:
        raise CorpusError([Problem(file=str(path), message=exc.reason)]) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
        raise CorpusError([Problem(file=str(path), field="questions", message="expected a list under `questions:`")])
    questions: list[EvalQuestion] = []
    problems: list[Problem] = []
    for i, item in enumerate(raw["questions"]):
        try:
            questions.append(EvalQuestion.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                problems.append(
                    Problem(file=str(path), field=f"questions[{i}]{'.' + where if where else ''}", message=err["msg"])
                )
    if problems:
        raise CorpusError(problems)
    if not questions:
        raise CorpusError([Problem(file=str(path), field="questions", message="no questions")])
    return questions


def is_relevant(text: str, gold: Sequence[Sequence[str]]) -> bool:
    """Whether a passage contains every keyword of at least one gold alternative."""
    haystack = match_key(text)
    for alternative in gold:
        keywords = [match_key(k) for k in alternative]
        if keywords and all(k.strip() and k in haystack for k in keywords):
            return True
    return False


@dataclass
class RankMetrics:
    """hit@1, hit@5 and MRR@10, accumulated from each answerable question's first relevant rank.

    The one accumulator of rank metrics: `lessons eval` and the benchmarks both count with it.
    """

    n: int = 0
    hit1: float = 0.0
    hit5: float = 0.0
    mrr10: float = 0.0

    def add(self, rank: int | None) -> None:
        """Account one answerable question whose first relevant passage is at ``rank`` (None: not in the top 10)."""
        self.n += 1
        self.hit1 += float(rank == 1)
        self.hit5 += float(rank is not None and rank <= 5)
        self.mrr10 += 1.0 / rank if rank is not None and rank <= 10 else 0.0

    def averages(self) -> dict[str, float | None]:
        """The three metrics averaged over the questions (None without questions)."""
        n = self.n
        return {
            "hit@1": round(self.hit1 / n, 4) if n else None,
            "hit@5": round(self.hit5 / n, 4) if n else None,
            "mrr@10": round(self.mrr10 / n, 4) if n else None,
        }


@dataclass
class Scores:
    """Accumulated metrics over a group of questions."""

    ranks: RankMetrics = field(default_factory=RankMetrics)
    recall10: float = 0.0
    oos: int = 0
    flagged: int = 0
    flagged_oos: int = 0
    wrongly_flagged: int = 0

    @property
    def answerable(self) -> int:
        """How many answerable questions were counted."""
        return self.ranks.n

    def as_dict(self) -> dict[str, float | int | None]:
        """Averages, with None where a metric has no questions."""
        n = self.answerable
        return {
            "questions": n + self.oos,
            "answerable": n,
            "out_of_scope": self.oos,
            **self.ranks.averages(),
            "recall@10": round(self.recall10 / n, 4) if n else None,
            "no_match_precision": round(self.flagged_oos / self.flagged, 4) if self.flagged else None,
            "no_match_recall": round(self.flagged_oos / self.oos, 4) if self.oos else None,
            "answerable_flagged": round(self.wrongly_flagged / n, 4) if n else None,
        }


@dataclass
class ModeReport:
    """Metrics of one ranking mode, overall and per language, plus per-question detail."""

    mode: str
    overall: Scores = field(default_factory=Scores)
    by_language: dict[str, Scores] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {
            "mode": self.mode,
            "overall": self.overall.as_dict(),
            "by_language": {k: v.as_dict() for k, v in sorted(self.by_language.items())},
            "questions": self.details,
        }


def _relevant_entries(searcher: Searcher, gold: Sequence[Sequence[str]]) -> set[str]:
    return {c.entry_id for c in searcher.chunks if is_relevant(c.text, gold)}


def evaluate(
    searcher: Searcher, questions: Iterable[EvalQuestion], modes: Sequence[Mode] = tuple(Mode)
) -> list[ModeReport]:
    """Run every question through every mode (embedding each question once) and score the results."""
    reports = {mode: ModeReport(mode=mode.value) for mode in modes}
    for question in questions:
        vector = searcher.embed(question.q)
        relevant = set() if question.oos else _relevant_entries(searcher, question.gold)
        for mode in modes:
            result = searcher.search(question.q, k=10, mode=mode, vector=vector)
            report = reports[mode]
            groups = [report.overall, report.by_language.setdefault(question.language, Scores())]
            ranks = [h.rank for h in result.hits if not question.oos and is_relevant(h.chunk.text, question.gold)]
            first = min(ranks) if ranks else None
            for scores in groups:
                if result.no_match:
                    scores.flagged += 1
                if question.oos:
                    scores.oos += 1
                    scores.flagged_oos += int(result.no_match)
                    continue
                scores.ranks.add(first)
                scores.wrongly_flagged += int(result.no_match)
                found = {h.chunk.entry_id for h in result.hits if h.chunk.entry_id in relevant}
                scores.recall10 += len(found) / min(len(relevant), 10) if relevant else 0.0
            report.details.append(
                {
                    "q": question.q,
                    "language": question.language,
                    "oos": question.oos,
                    "no_match": result.no_match,
                    "first_relevant_rank": first,
                    "best_dense": round(result.best_dense, 4),
                    "best_lexical": round(result.best_lexical, 4),
                    "margin": round(result.margin, 4),
                    "top": [h.chunk.entry_id for h in result.hits[:5]],
                }
            )
    return [reports[m] for m in modes]


@dataclass(frozen=True)
class Calibration:
    """A no-match threshold chosen from labelled score distributions."""

    min_margin: float
    oos_recall: float
    answerable_flagged: float
    answerable: int
    out_of_scope: int
    answerable_margins: list[float]
    oos_margins: list[float]


def calibrate_no_match(
    searcher: Searcher, questions: Iterable[EvalQuestion], max_answerable_flagged: float = 0.03
) -> Calibration:
    """Choose the margin threshold that flags most out-of-scope questions while wrongly flagging
    at most ``max_answerable_flagged`` of the answerable ones.

    Questions already matched lexically (strong own-word BM25 evidence) are never flagged,
    so they do not constrain the threshold. Among equally good thresholds the midpoint of
    the widest gap is taken, for robustness on unseen questions.
    """
    answerable: list[float] = []
    oos: list[float] = []
    lexical_floor = searcher.ranking.min_lexical
    for question in questions:
        result = searcher.search(question.q, k=1)
        margin = result.margin if result.best_lexical < lexical_floor else float("inf")
        (oos if question.oos else answerable).append(margin)
    if not answerable or not oos:
        raise CorpusError([Problem(file="<questions>", message="calibration needs answerable and oos questions")])
    finite = sorted({m for m in answerable + oos if m != float("inf")})
    candidates = [finite[0] - 1e-3] + [(a + b) / 2 for a, b in itertools.pairwise(finite)]
    candidates.append(finite[-1] + 1e-3)
    best: tuple[float, float, float] | None = None  # (recall, -flagged, threshold)
    for threshold in candidates:
        flagged = sum(m < threshold for m in answerable) / len(answerable)
        if flagged > max_answerable_flagged:
            continue
        recall = sum(m < threshold for m in oos) / len(oos)
        key = (recall, -flagged, threshold)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None  # the lowest candidate flags nothing, so one always qualifies
    # widen: the highest threshold with the same recall and flag rate, then take the middle of that band
    same = [
        t
        for t in candidates
        if sum(m < t for m in oos) / len(oos) == best[0]
        and -sum(m < t for m in answerable) / len(answerable) == best[1]
    ]
    threshold = (min(same) + max(same)) / 2
    return Calibration(
        min_margin=round(threshold, 4),
        oos_recall=sum(m < threshold for m in oos) / len(oos),
        answerable_flagged=sum(m < threshold for m in answerable) / len(answerable),
        answerable=len(answerable),
        out_of_scope=len(oos),
        answerable_margins=sorted(m for m in answerable if m != float("inf")),
        oos_margins=sorted(oos),
    )
