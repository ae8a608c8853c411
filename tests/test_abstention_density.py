"""The density feature (issue 10, ninth round): Mahalanobis distance to the written in-domain questions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lessons import abstention
from lessons.abstention import DENSITY_KINDS, FEATURES, DensityModel, NoMatchModel, fit_density, train_model

from .conftest import near_and_far_with_feature, record_first_arguments


def _data() -> tuple[np.ndarray, list, list[float], list[float], list[float]]:
    """The near-and-far data with a lexical score, a constant coverage and a subject score per question."""
    vectors, questions, lexical = near_and_far_with_feature(3, (2.0, 8.0), (0.0, 4.0))
    n = len(questions)
    return vectors, questions, lexical, [1.0] * n, [0.1] * n


def test_a_question_near_the_in_domain_classes_is_closer_than_one_far_from_them() -> None:
    """The least distance to an in-domain class grows away from it; the relative kind also falls towards it."""
    rng = np.random.default_rng(0)
    dim = 8
    home, away = 4.0 * np.eye(dim)[0], 4.0 * np.eye(dim)[1]
    x = np.vstack([home + rng.normal(size=(40, dim)), away + rng.normal(size=(40, dim))])
    classes = np.repeat([0, 1], 40)
    labels = classes == 0
    inside = fit_density(x, np.where(labels, 0, -1), labels, "in")
    relative = fit_density(x, classes, labels, "relative")
    near, middle, far = home, 0.5 * (home + away), away
    values = inside.values(np.vstack([near, middle, far]))
    assert values[0] < values[1] < values[2]
    assert values[0] < dim  # the class mean itself: distance of the mean (about 0), well under d
    rel = relative.values(np.vstack([near, middle, far]))
    assert rel[0] < 0 < rel[2] and rel[0] < rel[1] < rel[2]


def test_the_shrinkage_keeps_the_covariance_invertible_with_fewer_questions_than_dimensions() -> None:
    """Five questions in 32 dimensions: Ledoit-Wolf shrinkage makes a finite whitening; more data shrinks less."""
    rng = np.random.default_rng(1)
    few = rng.normal(size=(5, 32))
    model = fit_density(few, np.zeros(5, dtype=np.int64), np.ones(5, dtype=bool), "in")
    assert np.isfinite(model.transform).all() and np.isfinite(model.values(rng.normal(size=(3, 32)))).all()
    with pytest.raises(ValueError, match="density kind"):
        fit_density(few, np.zeros(5, dtype=np.int64), np.ones(5, dtype=bool), "outer")
    with pytest.raises(ValueError, match="both classes"):
        fit_density(few, np.zeros(5, dtype=np.int64), np.ones(5, dtype=bool), "relative")


def test_the_option_is_off_by_default_and_changes_nothing() -> None:
    """Without density the model and its figures are exactly those of a build before the option existed."""
    vectors, questions, lexical, coverage, subject = _data()
    plain, report = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1)
    again, again_report = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density=None)
    assert plain.density is None and "density" not in plain.params() and plain.features == FEATURES
    assert plain.params() == again.params() and report.to_json() == again_report.to_json()
    assert report.density is None


@pytest.mark.parametrize("kind", DENSITY_KINDS)
def test_a_density_model_weighs_a_sixth_feature_fitted_without_the_held_out_fold(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With density the combination weighs six features; each fold's Gaussians never saw that fold."""
    vectors, questions, lexical, coverage, subject = _data()
    calls = record_first_arguments(monkeypatch, abstention, "fit_density")
    model, report = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density=kind)
    assert model.density is not None and model.density.kind == kind and report.density == kind
    assert model.features == (*FEATURES, "density") and len(model.combine) == 6
    # 4 folds x 2 cross-fittings (spread and whole-theme), then the model's own fit on every question
    assert len(calls) == 9 and len(calls[-1]) == len(questions)
    assert all(len(fitted) < len(questions) for fitted in calls[:-1])
    # the written questions only: in-domain classes are those of the 8 in-domain categories
    assert int(model.density.in_class.sum()) == 8
    assert len(model.density.in_class) == (16 if kind == "relative" else 8)
    scores = [model.rule_scores(v, lex, 1.0, 0.1)["combined"] for v, lex in zip(vectors, lexical, strict=True)]
    assert all(np.isfinite(scores))
    with pytest.raises(ValueError, match="density must be one of"):
        train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density="far")
    with pytest.raises(ValueError, match="density must be one of"):
        train_model(vectors, questions, lexical, coverage, None, folds=4, repeats=1, density="in")


def test_density_params_round_trip_and_older_params_load_as_before() -> None:
    """The Gaussians are stored as plain lists in the params; params without them load a five-feature model."""
    vectors, questions, lexical, coverage, subject = _data()
    model, _ = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1, density="relative")
    params = json.loads(json.dumps(model.params()))
    again = NoMatchModel.from_parts(model.arrays(), params)
    assert again.density is not None
    assert np.array_equal(again.density.transform, model.density.transform)  # type: ignore[union-attr]
    for vector, lex in zip(vectors[:10], lexical[:10], strict=True):
        assert again.score(vector, lex, 1.0, 0.1) == pytest.approx(model.score(vector, lex, 1.0, 0.1), abs=1e-9)
    plain, _ = train_model(vectors, questions, lexical, coverage, subject, folds=4, repeats=1)
    older = json.loads(json.dumps(plain.params()))
    old = NoMatchModel.from_parts(plain.arrays(), older)
    assert old.density is None and old.features == FEATURES
    assert old.score(vectors[0], 3.0, 1.0, 0.1) == plain.score(vectors[0], 3.0, 1.0, 0.1)
    without = {k: v for k, v in params.items() if k != "density"}  # six weights but no Gaussians
    with pytest.raises(ValueError, match="density"):
        NoMatchModel.from_parts(model.arrays(), without)
    with pytest.raises(ValueError, match="density"):
        NoMatchModel.from_parts(plain.arrays(), {**older, "density": params["density"]})  # five weights
    for bad in (
        {**params["density"], "kind": "outer"},
        {**params["density"], "transform": [[1.0, 2.0]]},
        {**params["density"], "in_class": [True]},
        {**params["density"], "means": [[float("nan")] * 16] * len(params["density"]["means"])},
    ):
        with pytest.raises(ValueError, match="density"):
            NoMatchModel.from_parts(model.arrays(), {**params, "density": bad})
    assert isinstance(DensityModel.from_json(params["density"], 16), DensityModel)
