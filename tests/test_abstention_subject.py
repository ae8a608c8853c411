"""The no-match decision's subject similarity: is some passage about the question's subject, domain aside?"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lessons.abstention import FEATURES, NoMatchModel, train_model
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.search import _SubjectSimilarity, passage_subject_scores
from lessons.settings import Settings
from lessons.store import load_index

from .conftest import near_and_far_categories

DIM = 12


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _corpus() -> np.ndarray:
    """Six passages that share one strong domain direction (axis 0), each with its own subject (axes 1..6)."""
    eye = np.eye(DIM)
    return _unit(np.stack([3.0 * eye[0] + eye[i] for i in range(1, 7)]))


def test_a_question_on_a_passage_subject_scores_high_and_a_new_subject_low() -> None:
    """Domain aside, a question on passage 2's subject is close to it; an unseen subject is not (raw cosine is high)."""
    passages = _corpus()
    subject = _SubjectSimilarity(passages)
    eye = np.eye(DIM)
    on_topic = _unit(3.0 * eye[0] + eye[2])
    new_subject = _unit(3.0 * eye[0] + eye[9])
    raw = float((passages @ new_subject).max())
    assert raw > 0.85  # the raw space cannot tell it apart: the shared domain dominates
    on, off = subject.scores(np.stack([on_topic, new_subject]))
    assert on > 0.8 and off < 0.3


def test_degenerate_vectors_get_a_finite_score() -> None:
    """A question along the shared direction only, a zero vector, or an empty corpus give finite scores."""
    passages = _corpus()
    subject = _SubjectSimilarity(passages)
    mean = passages.mean(axis=0)
    scores = subject.scores(np.stack([mean, np.zeros(DIM)]))
    assert np.isfinite(scores).all()
    assert passage_subject_scores(np.zeros((0, DIM)), np.ones((2, DIM))) == [0.0, 0.0]


def test_the_build_and_the_search_compute_the_same_subject_similarity(settings: Settings, fake: FakeEmbedder) -> None:
    """The batch scores that train the model equal a search's own subject similarity, up to float rounding."""
    build_index(settings, fake)
    searcher = open_searcher(settings, fake)[0]
    questions = ["Hvordan fik projekterne adgang til data via API?", "Hvor parkerer man ved rådhuset?", "GDPR"]
    batch = passage_subject_scores(searcher.data.vectors(), fake.embed_queries(questions))
    searched = [searcher.search(q).subject for q in questions]
    assert batch == pytest.approx(searched, abs=1e-6)
    assert all(-1.0 <= s <= 1.0 for s in searched)


def test_a_maximum_size_mixed_script_question_gets_a_subject_score(settings: Settings, fake: FakeEmbedder) -> None:
    """A 2,000-character question mixing Latin, Arabic, Cyrillic and Han script is decided with a finite score."""
    build_index(settings, fake)
    searcher = open_searcher(settings, fake)[0]
    question = ("data مرحبا привет 数据 æøå " * 200)[:2000]
    result = searcher.search(question)
    assert len(result.question) <= 2000
    assert np.isfinite(result.subject) and -1.0 <= result.subject <= 1.0
    assert result.decision_score is not None and np.isfinite(result.decision_score)


def test_the_built_model_weighs_subject_and_older_models_still_load(settings: Settings, fake: FakeEmbedder) -> None:
    """A new index's combination weighs subject similarity; a four-weight model (before it) ignores the feature."""
    build_index(settings, fake)
    model = load_index(settings.index_dir).no_match_model
    assert model is not None and model.features == FEATURES and FEATURES[-1] == "subject"
    vector = fake.embed_queries(["data"])[0]
    a = model.rule_scores(vector, 1.0, 1.0, 0.0)["combined"]
    b = model.rule_scores(vector, 1.0, 1.0, 1.0)["combined"]
    assert b - a == pytest.approx(model.combine[4])
    params = json.loads(json.dumps(model.params()))
    before = [*params["combine"][:4], params["combine"][-1]]  # four weights and a bias: the third round's format
    old = NoMatchModel.from_parts(model.arrays(), {**params, "combine": before})
    assert old.features == FEATURES[:4]
    assert old.rule_scores(vector, 1.0, 1.0, 0.0) == old.rule_scores(vector, 1.0, 1.0, 1.0)


def test_subject_similarity_catches_held_out_categories_the_other_features_cannot() -> None:
    """Off-topic categories that look in-domain to vectors and coverage but lack subject similarity are caught."""
    rng = np.random.default_rng(7)
    coverage: list[float] = []
    subject: list[float] = []

    def draw(inside: bool) -> None:
        coverage.append(float(rng.uniform(0.3, 1.0)))
        subject.append(float(rng.uniform(0.5, 0.9) if inside else rng.uniform(0.0, 0.4)))

    x, questions = near_and_far_categories(rng, draw)
    lexical = [0.0] * len(questions)
    _, without = train_model(x, questions, lexical, coverage, folds=4, repeats=1)
    model, with_subject = train_model(x, questions, lexical, coverage, subject, folds=4, repeats=1)
    assert model.combine[4] > 0
    caught = with_subject.held_out["combined"]["off_topic_no_match"]
    assert caught > without.held_out["combined"]["off_topic_no_match"]
    with pytest.raises(ValueError, match="subject"):
        train_model(x, questions, lexical, None, subject)
    with pytest.raises(ValueError, match="subject"):
        train_model(x, questions, lexical, coverage, subject[:-1])
