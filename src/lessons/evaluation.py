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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lessons.abstention import RULES, conformal_cutoff
from lessons.errors import CorpusError, IndexUnusableError, Problem, UnsafeFileError
from lessons.files import read_regular_file
from lessons.search import Confidence, Mode, Searcher, SearchResult, detect_language
from lessons.text import match_key
from lessons.yamlio import MAX_YAML_BYTES, YamlError, load_yaml

__all__ = ["EvalQuestion", "ModeReport", "RankMetrics", "Scores", "evaluate", "is_relevant", "load_questions"]


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
        raise CorpusError([exc.problem(str(path))]) from None
    except UnsafeFileError as exc:
        raise CorpusError([exc.problem(str(path))]) from None
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
    weak: int = 0  # answerable questions answered `weak`
    oos_matched: int = 0  # out-of-scope questions answered `match`
    decided: int = 0  # answerable questions whose state was counted (rule reports count no ranks)

    def add_state(self, oos: bool, state: Confidence) -> None:
        """Count one question's decision."""
        no_match = state is Confidence.NO_MATCH
        self.flagged += int(no_match)
        if oos:
            self.oos += 1
            self.flagged_oos += int(no_match)
            self.oos_matched += int(state is Confidence.MATCH)
        else:
            self.decided += 1
            self.wrongly_flagged += int(no_match)
            self.weak += int(state is Confidence.WEAK)

    @property
    def answerable(self) -> int:
        """How many answerable questions were counted."""
        return self.ranks.n

    def as_dict(self) -> dict[str, float | int | None]:
        """Averages, with None where a metric has no questions."""
        n = self.answerable
        d = self.decided
        return {
            "questions": max(n, d) + self.oos,
            "answerable": max(n, d),
            "out_of_scope": self.oos,
            **self.ranks.averages(),
            "recall@10": round(self.recall10 / n, 4) if n else None,
            "no_match_precision": round(self.flagged_oos / self.flagged, 4) if self.flagged else None,
            "no_match_recall": round(self.flagged_oos / self.oos, 4) if self.oos else None,
            "answerable_flagged": round(self.wrongly_flagged / d, 4) if d else None,
            "weak_share": round(self.weak / d, 4) if d else None,
            "oos_as_match": round(self.oos_matched / self.oos, 4) if self.oos else None,
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
    return evaluate_all(searcher, questions, modes)[0]


def _rule_state(searcher: Searcher, result: SearchResult, rule: str) -> Confidence:
    """The state a decision rule gives a hybrid result: today's margin rule, or one of the no-match model's."""
    if rule == "margin":
        matched = result.margin >= searcher.ranking.min_margin or result.best_lexical >= searcher.ranking.min_lexical
        return Confidence.MATCH if matched and result.hits else Confidence.NO_MATCH
    model = searcher.data.no_match_model
    if model is None or rule not in result.rule_scores:
        return result.confidence
    if result.reason in ("no_words", "too_short"):
        return Confidence.NO_MATCH
    return model.confidence(result.rule_scores[rule], rule, result.language, coverage=result.coverage)


def evaluate_all(
    searcher: Searcher, questions: Iterable[EvalQuestion], modes: Sequence[Mode] = tuple(Mode)
) -> tuple[list[ModeReport], list[ModeReport]]:
    """Ranking modes side by side, and the no-match decision rules side by side (on the hybrid ranking).

    The rules are today's margin rule (``margin``, two states) and the no-match model's
    ``knn``, ``probe`` and ``combined`` scores, each under its own calibrated cut-offs;
    ``combined`` is the one that answers.
    """
    reports = {mode: ModeReport(mode=mode.value) for mode in modes}
    rules = ["margin", *RULES] if searcher.data.no_match_model is not None else ["margin"]
    rule_reports = {rule: ModeReport(mode=rule) for rule in rules}
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
                scores.add_state(question.oos, result.confidence)
                if question.oos:
                    continue
                scores.ranks.add(first)
                found = {h.chunk.entry_id for h in result.hits if h.chunk.entry_id in relevant}
                scores.recall10 += len(found) / min(len(relevant), 10) if relevant else 0.0
            report.details.append(
                {
                    "q": question.q,
                    "language": question.language,
                    "oos": question.oos,
                    "no_match": result.no_match,
                    "confidence": result.confidence.value,
                    "first_relevant_rank": first,
                    "best_dense": round(result.best_dense, 4),
                    "best_lexical": round(result.best_lexical, 4),
                    "margin": round(result.margin, 4),
                    "coverage": round(result.coverage, 4),
                    "subject": round(result.subject, 4),
                    "rule_scores": {k: round(v, 4) for k, v in result.rule_scores.items()},
                    "top": [h.chunk.entry_id for h in result.hits[:5]],
                }
            )
            if mode is not Mode.HYBRID:
                continue
            for rule, rule_report in rule_reports.items():
                state = _rule_state(searcher, result, rule)
                for scores in (rule_report.overall, rule_report.by_language.setdefault(question.language, Scores())):
                    scores.add_state(question.oos, state)
    return [reports[m] for m in modes], list(rule_reports.values())


@dataclass(frozen=True)
class Calibration:
    """Cut-offs of the combined no-match score fitted on some questions, measured on others."""

    no_match_below: float
    match_from: float
    fitted_on: int  # answerable questions whose scores set the cut-offs
    built: tuple[float, float]  # the cut-offs the index was built with (calibrated on held-out training folds)
    reports: dict[str, dict[str, dict[str, float | int | None]]]  # "fitted"/"built" -> language -> figures


def calibrate_no_match(
    searcher: Searcher,
    fit: Iterable[EvalQuestion],
    report: Iterable[EvalQuestion],
    *,
    false_no_match: float = 0.02,
    false_weak: float = 0.10,
) -> Calibration:
    """Split-conformal cut-offs from the answerable questions in ``fit``; figures only on ``report``.

    The no-match model never trains on these files, so their scores are honest calibration
    data. No figure is computed on the questions the cut-offs were fitted on.
    """
    model = searcher.data.no_match_model
    if model is None:
        raise IndexUnusableError("the index has no no-match model (built before it existed). Run `lessons build`.")
    fit_scores = []
    for question in fit:
        if question.oos:
            continue
        result = searcher.search(question.q, k=1)
        if result.decision_score is not None:
            fit_scores.append(result.decision_score)
    if not fit_scores:
        raise CorpusError([Problem(file="<fit questions>", message="calibration needs answerable questions")])
    no_below = conformal_cutoff(fit_scores, false_no_match)
    match_from = max(no_below, conformal_cutoff(fit_scores, false_weak))
    built = model.cutoffs["combined"]
    figures: dict[str, dict[str, Scores]] = {"fitted": {}, "built": {}}
    for question in report:
        result = searcher.search(question.q, k=1)
        score = result.decision_score
        for name, (low, high) in (("fitted", (no_below, match_from)), ("built", built)):
            if score is None:
                state = result.confidence
            else:
                state = Confidence.NO_MATCH if score < low else Confidence.WEAK if score < high else Confidence.MATCH
            for group in ("overall", question.language):
                figures[name].setdefault(group, Scores()).add_state(question.oos, state)
    return Calibration(
        no_match_below=round(no_below, 4),
        match_from=round(match_from, 4),
        fitted_on=len(fit_scores),
        built=(round(built[0], 4), round(built[1], 4)),
        reports={name: {g: sc.as_dict() for g, sc in groups.items()} for name, groups in figures.items()},
    )
