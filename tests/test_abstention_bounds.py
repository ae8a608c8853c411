"""The match leaks (issue 10, eighth round): bounded features and an agreement gate for match."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lessons.abstention import Confidence, NoMatchModel, train_model

from .conftest import near_and_far_with_feature


def _with_lexical() -> tuple[np.ndarray, list, list[float]]:
    """The near-and-far data with a lexical score per question: answerable questions mostly higher."""
    return near_and_far_with_feature(2, (2.0, 8.0), (0.0, 4.0))


def test_clipped_features_cannot_carry_a_question_past_their_training_range() -> None:
    """With feature_clip each weighed feature is bounded by its held-out quantiles; beyond them the score stays."""
    vectors, questions, lexical = _with_lexical()
    plain, _ = train_model(vectors, questions, lexical, folds=4, repeats=1)
    clipped, _ = train_model(vectors, questions, lexical, folds=4, repeats=1, feature_clip=0.01)
    assert plain.feature_bounds is None
    assert clipped.feature_bounds is not None and len(clipped.feature_bounds) == len(clipped.combine) == 3
    assert all(low <= high for low, high in clipped.feature_bounds)
    low, high = clipped.feature_bounds[2]
    assert 0.0 <= low < high <= 8.0  # within the lexical scores drawn
    vector = vectors[0]
    at_bound = clipped.score(vector, high)
    assert clipped.score(vector, 1e6) == pytest.approx(at_bound)
    assert clipped.score(vector, -1e6) == pytest.approx(clipped.score(vector, low))
    assert plain.score(vector, 1e6) > plain.score(vector, 8.0) + 100  # unbounded, a huge lexical score carries it
    with pytest.raises(ValueError, match="feature_clip"):
        train_model(vectors, questions, lexical, folds=4, repeats=1, feature_clip=0.5)


def test_the_agreement_gate_holds_a_question_short_of_probe_or_knn_under_match() -> None:
    """match_agreement: probe and kNN each need the answerable low quantile; short of either, weak at most."""
    vectors, questions, lexical = _with_lexical()
    plain, plain_report = train_model(vectors, questions, lexical, folds=4, repeats=1)
    gated, report = train_model(vectors, questions, lexical, folds=4, repeats=1, match_agreement=0.05)
    assert plain.match_agreement is None and gated.match_agreement is not None
    probe_gate, knn_gate = gated.match_agreement
    states = []
    for vector, lex in zip(vectors, lexical, strict=True):
        scores = gated.rule_scores(vector, lex)
        state = gated.confidence(scores["combined"])
        states.append(state)
        if scores["probe"] < probe_gate or scores["knn"] < knn_gate:
            assert state is not Confidence.MATCH
            assert scores["combined"] < gated.cutoffs["combined"][1]
    assert Confidence.MATCH in states
    # a gate nothing reaches leaves no match; a gate everything passes changes no score
    closed = replace(gated, match_agreement=(1e9, 1e9))
    opened = replace(gated, match_agreement=(-1e9, -1e9))
    for vector, lex in zip(vectors[:20], lexical[:20], strict=True):
        assert closed.confidence(closed.score(vector, lex)) is not Confidence.MATCH
        assert opened.score(vector, lex) == replace(gated, match_agreement=None).score(vector, lex)
    # the held-out figures apply the gate: no more off-topic questions at match, no fewer answerable weak
    assert report.held_out["combined"]["off_topic_match"] <= plain_report.held_out["combined"]["off_topic_match"]
    assert report.held_out["combined"]["answerable_weak"] >= plain_report.held_out["combined"]["answerable_weak"]
    with pytest.raises(ValueError, match="match_agreement"):
        train_model(vectors, questions, lexical, folds=4, repeats=1, match_agreement=0.0)


def test_bounds_and_agreement_round_trip_and_older_models_load_without_them() -> None:
    """Both are stored in the params (JSON); params without them (older indexes) load unbounded and ungated."""
    vectors, questions, lexical = _with_lexical()
    model, _ = train_model(vectors, questions, lexical, folds=4, repeats=1, feature_clip=0.01, match_agreement=0.05)
    params = json.loads(json.dumps(model.params()))
    again = NoMatchModel.from_parts(model.arrays(), params)
    assert again.feature_bounds == model.feature_bounds and again.match_agreement == model.match_agreement
    assert again.score(vectors[3], 50.0) == model.score(vectors[3], 50.0)
    older = {k: v for k, v in params.items() if k not in ("feature_bounds", "match_agreement")}
    old = NoMatchModel.from_parts(model.arrays(), older)
    assert old.feature_bounds is None and old.match_agreement is None
    for bad, message in (
        ({"feature_bounds": [[0.0, 1.0]]}, "one \\[low, high\\] pair"),
        ({"feature_bounds": [[1.0, 0.0]] * 3}, "low <= high"),
        ({"feature_bounds": [[0.0, float("nan")]] * 3}, "finite"),
        ({"match_agreement": [0.0]}, "probe and a kNN"),
        ({"feature_bounds": [[0.0]] * 3}, "one \\[low, high\\] pair"),
        ({"cutoffs": {**params["cutoffs"], "combined": [0.0]}}, "cut-offs of 'combined' need a pair"),
        ({"match_agreement": [0.0, float("inf")]}, "non-finite"),
    ):
        with pytest.raises(ValueError, match=message):
            NoMatchModel.from_parts(model.arrays(), {**params, **bad})
