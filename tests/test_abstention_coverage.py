"""The no-match decision's coverage feature: is the question's subject in the passages it retrieved?"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lessons.abstention import FEATURES, NoMatchModel, train_model
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.search import COVERAGE_PASSAGES, _Coverage, passage_coverage_scores
from lessons.settings import Settings
from lessons.store import load_index

from .conftest import near_and_far_categories

PASSAGES = [
    "Sønderborg Kommune: leverandøren ville ikke åbne en API til data fra fagsystemet.",
    "Regionshospitalet Randers brugte realtidsprognoser til klinikerne på akutafdelingen.",
    "Datakvalitet: uensartede registreringer på tværs af afdelinger gjorde træningsdata dårlige.",
]


def test_a_question_whose_subject_is_in_the_passages_is_covered() -> None:
    """Every subject word found in the passages: coverage 1; none found: 0."""
    coverage = _Coverage(PASSAGES)
    assert coverage.share("Hvad gjorde Sønderborg med leverandøren og API'en?", [0]) == pytest.approx(1.0)
    assert coverage.share("Hvornår er der loppemarked med bagekonkurrence?", [0, 1, 2]) == 0.0
    assert coverage.share("مرحبا بالعالم، كيف حالك؟ שלום", [0, 1, 2]) == 0.0  # words of any script count


def test_a_corpus_place_asked_about_something_else_is_partly_covered() -> None:
    """Naming a corpus place does not cover a question about parking: the missing subject word weighs most."""
    coverage = _Coverage(PASSAGES)
    share = coverage.share("Hvor kan man parkere ved Regionshospitalet Randers?", [1])
    assert 0.0 < share < 2 / 3  # two of three subject words found, but the unseen one weighs most
    assert coverage.share("Hvor kan man parkere ved Regionshospitalet Randers?", [0]) < share  # other passage


def test_framing_words_alone_leave_nothing_uncovered() -> None:
    """A question of framing words only (municipality, project, data) has no subject missing: coverage 1."""
    coverage = _Coverage(PASSAGES)
    assert _Coverage.subject("Hvordan har andre kommuner brugt data i projekter?") == set()
    assert coverage.share("Hvordan har andre kommuner brugt data i projekter?", [2]) == 1.0
    assert coverage.share("How did other municipalities use data in projects?", []) == 1.0


def test_a_glossary_form_of_a_word_covers_it() -> None:
    """An English word counts as covered when a Danish form of its glossary group is in the passages."""
    coverage = _Coverage(PASSAGES)
    assert coverage.share("vendor", [0]) == 1.0  # glossary: vendor ~ leverandøren
    assert coverage.share("vendor", [1]) == 0.0


def test_coverage_of_a_question_of_maximum_size_is_bounded() -> None:
    """A 2,000-character question of distinct words, or one unbroken word, gets a share in [0, 1]."""
    coverage = _Coverage(PASSAGES)
    many = " ".join(f"ord{i}" for i in range(400))[:2000]
    one = "ø" * 2000
    for question in (many, one, "data " * 400):
        share = coverage.share(question, range(len(PASSAGES)))
        assert 0.0 <= share <= 1.0


def test_the_build_and_the_search_compute_the_same_coverage(settings: Settings, fake: FakeEmbedder) -> None:
    """The batch scores that train the model equal a search's own coverage of the same question."""
    build_index(settings, fake)
    searcher = open_searcher(settings, fake)[0]
    questions = ["Hvordan fik projekterne adgang til data via API?", "Hvor parkerer man ved rådhuset?", "GDPR"]
    vectors = fake.embed_queries(questions)
    texts = [c.text for c in searcher.chunks]
    batch = passage_coverage_scores(texts, searcher.data.vectors(), questions, vectors)
    searched = [searcher.search(q).coverage for q in questions]
    assert batch == pytest.approx(searched)
    assert COVERAGE_PASSAGES == 5


def test_the_built_model_weighs_coverage_and_an_old_model_still_loads(settings: Settings, fake: FakeEmbedder) -> None:
    """A new index's combination has a coverage weight; a model stored before coverage existed is read as before."""
    build_index(settings, fake)
    model = load_index(settings.index_dir).no_match_model
    assert model is not None and model.features == FEATURES and len(model.combine) == len(FEATURES)
    vector = fake.embed_queries(["data"])[0]
    a, b = model.rule_scores(vector, 1.0, 0.0)["combined"], model.rule_scores(vector, 1.0, 1.0)["combined"]
    assert b - a == pytest.approx(model.combine[3])
    params = json.loads(json.dumps(model.params()))
    before = [*params["combine"][:3], params["combine"][-1]]  # three weights and a bias: the earlier format
    old = NoMatchModel.from_parts(model.arrays(), {**params, "combine": before})
    assert old.features == FEATURES[:3]
    assert old.rule_scores(vector, 1.0, 0.0) == old.rule_scores(vector, 1.0, 1.0)
    with pytest.raises(ValueError, match="weights"):
        NoMatchModel.from_parts(model.arrays(), {**params, "combine": [1.0, 2.0]})


def test_coverage_catches_held_out_categories_the_vectors_cannot_tell_apart() -> None:
    """Off-topic categories that look in-domain to the vectors but lack coverage are caught once coverage is weighed."""
    rng = np.random.default_rng(5)
    coverage: list[float] = []
    x, questions = near_and_far_categories(
        rng, lambda inside: coverage.append(float(rng.uniform(0.6, 1.0) if inside else rng.uniform(0.0, 0.4)))
    )
    lexical = [0.0] * len(questions)
    _, without = train_model(x, questions, lexical, folds=4, repeats=1)
    model, with_coverage = train_model(x, questions, lexical, coverage, folds=4, repeats=1)
    assert model.combine[3] > 0
    assert with_coverage.held_out["combined"]["off_topic_no_match"] > without.held_out["combined"]["off_topic_no_match"]
    with pytest.raises(ValueError, match="coverage"):
        train_model(x, questions, lexical, coverage[:-1])
