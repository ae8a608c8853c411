"""The match cut-off's other calibrations (issue 10, seventh round): whole off-topic categories, a coverage gate."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lessons.abstention import (
    Confidence,
    NoMatchModel,
    _Calibration,
    _category_index,
    conformal_cutoff,
    train_model,
)
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.evaluation import _rule_state
from lessons.search import Searcher
from lessons.settings import Settings

from .conftest import near_and_far_categories, near_and_far_with_feature


def test_the_off_topic_bound_counts_each_category_by_its_highest_held_out_score() -> None:
    """With the category unit the bound sees one score per off-topic category: that category's highest."""
    _vectors, questions = near_and_far_categories(np.random.default_rng(2), lambda _in_domain: None)
    off = np.array([not q.in_domain for q in questions])
    category = _category_index(questions, off)
    assert set(category[off]) == set(range(8)) and (category[~off] == -1).all()
    scores = np.arange(len(questions), dtype=np.float64)
    everyone = np.ones(len(questions), dtype=bool)
    common = {
        "results": [],
        "second": [],
        "calib_in": ~off,
        "calib_off": off,
        "language": np.array([""] * len(questions)),
        "per_language": (),
        "false_no_match": 0.02,
        "false_weak": 0.1,
        "off_topic_match": 0.1,
        "off_category": category,
    }
    per_question = _Calibration(**common)._off_topic(scores, everyone)
    per_category = _Calibration(**common, off_topic_unit="category")._off_topic(scores, everyone)
    assert len(per_question) == off.sum() and len(per_category) == 8
    last_of_each = [max(i for i, q in enumerate(questions) if q.group == f"off:c{c}") for c in range(8)]
    assert sorted(per_category.tolist()) == [float(i) for i in last_of_each]
    # a category whose questions are all left out of ``keep`` is not counted
    keep = everyone & (category != 0)
    assert len(_Calibration(**common, off_topic_unit="category")._off_topic(scores, keep)) == 7


def test_training_can_bound_off_topic_categories_at_match() -> None:
    """Bounding whole categories raises the match cut-off over no bound, named in the report; bad units refused."""
    vectors, questions = near_and_far_categories(np.random.default_rng(2), lambda _in_domain: None)
    lexical = [0.0] * len(questions)
    free, _ = train_model(vectors, questions, lexical, folds=4, repeats=1, off_topic_match=None)
    bound, report = train_model(
        vectors, questions, lexical, folds=4, repeats=1, off_topic_match=0.2, off_topic_unit="category"
    )
    assert bound.cutoffs["combined"][0] == free.cutoffs["combined"][0]
    assert bound.cutoffs["combined"][1] > free.cutoffs["combined"][1]
    assert report.to_json()["off_topic_unit"] == "category"
    with pytest.raises(ValueError, match="off-topic unit"):
        train_model(vectors, questions, lexical, folds=4, repeats=1, off_topic_unit="theme")


def _with_coverage() -> tuple[np.ndarray, list, list[float]]:
    """The near-and-far data with a coverage per question: answerable mostly covered, near off-topic mostly not."""
    return near_and_far_with_feature(2, (0.5, 1.0), (0.0, 0.6))


def test_the_coverage_gate_keeps_uncovered_questions_from_match() -> None:
    """The gate is the answerable coverage quantile; a high score with too little coverage is weak, not match."""
    vectors, questions, coverage = _with_coverage()
    lexical = [0.0] * len(questions)
    plain, _ = train_model(vectors, questions, lexical, coverage, folds=4, repeats=1)
    gated, report = train_model(vectors, questions, lexical, coverage, folds=4, repeats=1, coverage_gate=0.05)
    assert plain.match_coverage is None and report.to_json()["coverage_gate"] == 0.05
    answerable = [c for c, q in zip(coverage, questions, strict=True) if q.in_domain]
    assert gated.match_coverage == conformal_cutoff(answerable, 0.05)
    high = gated.cutoffs["combined"][1] + 1.0
    below = gated.match_coverage - 0.01
    assert gated.confidence(high, coverage=below) is Confidence.WEAK
    assert gated.confidence(high, coverage=gated.match_coverage) is Confidence.MATCH
    assert gated.confidence(high) is Confidence.MATCH, "no coverage given: the gate is not applied"
    probe_high = gated.cutoffs["probe"][1] + 1.0
    assert gated.confidence(probe_high, "probe", coverage=below) is Confidence.MATCH, "only the combined rule is gated"
    # the held-out figures apply the gate: fewer off-topic questions at match, at most the gate's share more weak
    assert report.held_out["combined"]["off_topic_match"] <= plain_report_match(vectors, questions, coverage)
    with pytest.raises(ValueError, match="coverage gate"):
        train_model(vectors, questions, lexical, folds=4, repeats=1, coverage_gate=0.05)
    with pytest.raises(ValueError, match="coverage gate"):
        train_model(vectors, questions, lexical, coverage, folds=4, repeats=1, coverage_gate=1.5)


def plain_report_match(vectors: np.ndarray, questions: list, coverage: list[float]) -> float:
    """The held-out off-topic-at-match rate without a gate, on the same data and folds."""
    _, report = train_model(vectors, questions, [0.0] * len(questions), coverage, folds=4, repeats=1)
    return report.held_out["combined"]["off_topic_match"]


def test_the_coverage_gate_round_trips_and_older_models_load_without_it() -> None:
    """The gate is stored in the params (JSON); params without it (older indexes) load with no gate."""
    vectors, questions, coverage = _with_coverage()
    gated, _ = train_model(vectors, questions, [0.0] * len(questions), coverage, folds=4, repeats=1, coverage_gate=0.05)
    params = json.loads(json.dumps(gated.params()))
    assert NoMatchModel.from_parts(gated.arrays(), params).match_coverage == gated.match_coverage
    older = {k: v for k, v in params.items() if k != "match_coverage"}
    assert NoMatchModel.from_parts(gated.arrays(), older).match_coverage is None
    with pytest.raises(ValueError, match="non-finite"):
        NoMatchModel.from_parts(gated.arrays(), {**params, "match_coverage": float("nan")})


def test_the_whole_theme_folds_are_reported_even_when_they_do_not_set_the_no_match_cut_off() -> None:
    """Without the whole-theme bound the no_match cut-off is the spread one; the report still judges whole themes."""
    vectors, questions = near_and_far_categories(np.random.default_rng(2), lambda _in_domain: None)
    lexical = [0.0] * len(questions)
    bounded, bounded_report = train_model(vectors, questions, lexical, folds=4, repeats=1, no_match_holdout="category")
    spread, report = train_model(vectors, questions, lexical, folds=4, repeats=1)  # the default since the seventh round
    assert report.no_match_holdout is None and bounded_report.no_match_holdout == "category"
    assert spread.cutoffs["combined"][0] >= bounded.cutoffs["combined"][0]
    assert set(report.held_out_detail) == {"spread", "whole_theme"}
    # the same whole-theme folds, judged under the spread cut-off: at least as many answerable flagged
    flagged = report.held_out_detail["whole_theme"]["all"]["answerable_no_match"]
    assert flagged >= bounded_report.held_out_detail["whole_theme"]["all"]["answerable_no_match"]


def test_the_search_applies_a_coverage_gate_to_match(settings: Settings, fake: FakeEmbedder) -> None:
    """A searcher whose model has a coverage gate no question reaches says weak where it said match; eval agrees."""
    build_index(settings, fake)
    searcher = open_searcher(settings, fake)[0]
    question = "Skal algoritmen CE-mærkes efter MDR?"
    model = searcher.data.no_match_model
    assert model is not None and model.match_coverage is None  # the build trains without a gate
    low_score = searcher.search(question).decision_score
    assert low_score is not None
    pinned = replace(model, cutoffs={**model.cutoffs, "combined": (low_score - 2.0, low_score - 1.0)})
    open_gate = Searcher(replace(searcher.data, no_match_model=pinned), fake)
    shut_gate = Searcher(replace(searcher.data, no_match_model=replace(pinned, match_coverage=1.01)), fake)
    assert open_gate.search(question).confidence is Confidence.MATCH
    gated = shut_gate.search(question)
    assert gated.confidence is Confidence.WEAK and gated.coverage < 1.01
    assert _rule_state(shut_gate, gated, "combined") is Confidence.WEAK
