"""The density gate for match (issue 10, tenth round): far from every in-domain class, a question is weak at most."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lessons import abstention
from lessons.abstention import Confidence, NoMatchModel, train_model

from .conftest import near_and_far_with_feature, record_first_arguments


def _data() -> tuple[np.ndarray, list, list[float], list[float], list[float]]:
    """The near-and-far data with a lexical score, a constant coverage and a subject score per question."""
    vectors, questions, lexical = near_and_far_with_feature(3, (2.0, 8.0), (0.0, 4.0))
    n = len(questions)
    return vectors, questions, lexical, [1.0] * n, [0.1] * n


def _state(model: NoMatchModel, vector: np.ndarray, lexical: float) -> Confidence:
    return model.confidence(model.score(vector, lexical, 1.0, 0.1))


def test_the_gate_holds_a_question_far_from_the_in_domain_classes_at_weak() -> None:
    """A question the plain model calls match, but farther out than the calibrated limit, is weak with the gate."""
    vectors, questions, lexical, coverage, subject = _data()
    plain, _ = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1)
    gated, report = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density_gate=0.05)
    assert gated.match_density is not None and report.density_gate == 0.05
    gaussians, limit = gated.match_density
    assert gaussians.kind == "in" and np.isfinite(limit) and limit > 0
    inside = [i for i, q in enumerate(questions) if q.in_domain and q.group.startswith("in:")]
    # the gate changes nothing else: the same weights and cut-offs as the plain model
    assert gated.combine == plain.combine and gated.cutoffs == plain.cutoffs
    near = next(i for i in inside if _state(plain, vectors[i], lexical[i]) is Confidence.MATCH)
    assert gated.density_distance(vectors[near]) <= limit  # an ordinary answerable question stays match
    assert _state(gated, vectors[near], lexical[near]) is Confidence.MATCH
    far = 6.0 * vectors[near]  # the same direction, far out: the probe and the kNN margin only grow
    assert _state(plain, far, lexical[near]) is Confidence.MATCH
    assert gated.density_distance(far) > limit
    assert _state(gated, far, lexical[near]) is Confidence.WEAK
    # a closed gate holds every match back, an open one changes no score
    closed = replace(gated, match_density=(gaussians, -1.0))
    opened = replace(gated, match_density=(gaussians, float("inf")))
    for i in inside:
        assert _state(closed, vectors[i], lexical[i]) is not Confidence.MATCH
        assert opened.score(vectors[i], lexical[i], 1.0, 0.1) == plain.score(vectors[i], lexical[i], 1.0, 0.1)
    with pytest.raises(ValueError, match="no density gate"):
        plain.density_distance(far)


def test_the_held_out_states_only_move_from_match_to_weak() -> None:
    """In the cross-fitting the gate keeps the no_match rates and can only turn held-out matches into weak."""
    vectors, questions, lexical, coverage, subject = _data()
    _, plain = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1)
    _, gated = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density_gate=0.2)
    for scheme, subsets in plain.held_out_detail.items():
        before, after = subsets["all"], gated.held_out_detail[scheme]["all"]
        assert after["answerable_no_match"] == before["answerable_no_match"]
        assert after["off_topic_no_match"] == before["off_topic_no_match"]
        assert after["answerable_weak"] >= before["answerable_weak"]
        assert after["off_topic_match"] <= before["off_topic_match"]
    # at 20 % some held-out answerable questions lie beyond the limit set without them
    assert (
        gated.held_out_detail["spread"]["all"]["answerable_weak"]
        > plain.held_out_detail["spread"]["all"]["answerable_weak"]
    )


def test_each_fold_s_distances_come_from_gaussians_fitted_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gate's held-out distances use Gaussians fitted on the other folds; the model's on every question."""
    vectors, questions, lexical, coverage, subject = _data()
    calls = record_first_arguments(monkeypatch, abstention, "fit_density")
    train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density_gate=0.05)
    # 4 folds x 2 cross-fittings (spread and whole-theme), then the model's own fit on every question
    assert len(calls) == 9 and len(calls[-1]) == len(questions)
    assert all(len(fitted) < len(questions) for fitted in calls[:-1])


def test_the_gate_is_off_by_default_and_changes_nothing() -> None:
    """Without density_gate the model, its params and its figures are those of a build before the option."""
    vectors, questions, lexical, coverage, subject = _data()
    plain, report = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1)
    again, again_report = train_model(
        vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density_gate=None
    )
    assert plain.match_density is None and "match_density" not in plain.params()
    assert plain.params() == again.params() and report.to_json() == again_report.to_json()
    assert report.density_gate is None
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="density_gate"):
            train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density_gate=bad)


def test_the_gate_round_trips_and_params_without_it_load_as_before() -> None:
    """The gate is stored as plain JSON (limit and Gaussians); older params load ungated; bad ones are refused."""
    vectors, questions, lexical, coverage, subject = _data()
    gated, _ = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density_gate=0.05)
    params = json.loads(json.dumps(gated.params()))
    again = NoMatchModel.from_parts(gated.arrays(), params)
    assert again.match_density is not None and gated.match_density is not None
    assert again.match_density[1] == gated.match_density[1]
    for vector, lex in zip(vectors[:10], lexical[:10], strict=True):
        assert again.score(vector, lex, 1.0, 0.1) == pytest.approx(gated.score(vector, lex, 1.0, 0.1), abs=1e-9)
        assert again.density_distance(vector) == pytest.approx(gated.density_distance(vector))
    older = {k: v for k, v in params.items() if k != "match_density"}
    old = NoMatchModel.from_parts(gated.arrays(), older)
    assert old.match_density is None and "match_density" not in old.params()
    gate = params["match_density"]
    for bad in (
        {**gate, "limit": "far"},
        {**gate, "limit": float("nan")},
        {"limit": gate["limit"]},
        {**gate, "gaussians": {**gate["gaussians"], "kind": "relative"}},
        {**gate, "gaussians": {**gate["gaussians"], "transform": [[1.0, 2.0]]}},
        [gate["limit"]],
    ):
        with pytest.raises(ValueError, match=r"density|non-finite"):
            NoMatchModel.from_parts(gated.arrays(), {**params, "match_density": bad})
