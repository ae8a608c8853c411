"""Per-language cut-offs of the no-match model, and the fold benchmark's yardsticks (fake vectors, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.abstention_folds import VARIANTS, Features, UnspentSetError, leave_one_set_out, load_spent
from lessons.abstention import SPENT_BLIND_SETS, Confidence, NoMatchModel, TrainingQuestion, train_model

from .conftest import ROOT


def _two_languages(seed: int = 4) -> tuple[np.ndarray, list[TrainingQuestion]]:
    """Unit vectors: in-domain categories in Danish (tight) and English (looser: lower scores), off-topic apart."""
    rng = np.random.default_rng(seed)
    dim = 24
    centre = np.zeros(dim)
    centre[0] = 1.0
    vectors, questions = [], []
    for language, spread in (("da", 0.12), ("en", 0.35)):
        for c in range(6):
            offset = rng.normal(scale=0.2, size=dim)
            for i in range(14):
                vectors.append(centre + offset + rng.normal(scale=spread, size=dim))
                questions.append(TrainingQuestion(f"in {language} {c} {i}", True, f"in:{language}{c}", language))
    for c in range(12):
        direction = rng.normal(size=dim)
        direction[0] = -1.0 - abs(direction[0])
        for i in range(12):
            language = "da" if i % 2 else "en"
            vectors.append(direction / np.linalg.norm(direction) + rng.normal(scale=0.2, size=dim))
            questions.append(TrainingQuestion(f"off {c} {i}", False, f"off:c{c}", language))
    matrix = np.asarray(vectors, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True), questions


def test_per_language_cut_offs_are_calibrated_on_each_language_and_picked_by_it() -> None:
    """A looser language gets its own, lower match cut-off; an unknown language falls back to the pooled one."""
    vectors, questions = _two_languages()
    lexical = [0.0] * len(questions)
    pooled, pooled_report = train_model(vectors, questions, lexical, folds=4, repeats=1, off_topic_match=None)
    mondrian, report = train_model(
        vectors, questions, lexical, folds=4, repeats=1, off_topic_match=None, language_cutoffs=("match",)
    )
    assert pooled.language_cutoffs == {} and pooled_report.language_cutoffs == []
    assert set(mondrian.language_cutoffs) == {"da", "en"} and report.language_cutoffs == ["match"]
    da, en = (mondrian.language_cutoffs[lang]["combined"] for lang in ("da", "en"))
    assert en[1] < da[1], "the looser language's answerable questions set a lower match cut-off"
    assert da[0] == en[0] == pooled.cutoffs["combined"][0], "only the match cut-off is per language"
    between = (en[1] + da[1]) / 2
    assert mondrian.confidence(between, language="en") is Confidence.MATCH
    assert mondrian.confidence(between, language="da") is not Confidence.MATCH
    assert mondrian.cutoffs_for("fr") == mondrian.cutoffs == mondrian.cutoffs_for(None)
    # the report's detail: per written language, on the spread and whole-theme folds
    assert set(report.held_out_detail) == {"spread", "whole_theme"}
    assert set(report.held_out_detail["spread"]) == {"all", "da", "en", "short"}
    assert report.held_out_detail["spread"]["short"] == {}  # no very short questions here
    with pytest.raises(ValueError, match="language cut-offs"):
        train_model(vectors, questions, lexical, folds=4, repeats=1, language_cutoffs=("weak",))
    with pytest.raises(ValueError, match="one language per"):
        train_model(vectors, questions, lexical, folds=4, repeats=1, languages=["da"])


def test_per_language_cut_offs_follow_the_detected_language_and_round_trip() -> None:
    """``languages`` (as the search detects them) groups the calibration; the cut-offs survive arrays + JSON."""
    vectors, questions = _two_languages()
    lexical = [0.0] * len(questions)
    detected = ["xx" if q.in_domain else "yy" for q in questions]  # one made-up language for all answerable
    model, _ = train_model(
        vectors, questions, lexical, folds=4, repeats=1, language_cutoffs=CUTOFFS, languages=detected
    )
    assert set(model.language_cutoffs) == {"xx"}  # the languages of the answerable questions only
    again = NoMatchModel.from_parts(model.arrays(), json.loads(json.dumps(model.params())))
    assert again.language_cutoffs == model.language_cutoffs
    plain = train_model(vectors, questions, lexical, folds=4, repeats=1)[0]
    assert "language_cutoffs" not in plain.params()
    with pytest.raises(ValueError, match="cut-offs for"):
        NoMatchModel.from_parts(model.arrays(), {**model.params(), "language_cutoffs": {"da": {"combined": [0, 1]}}})


CUTOFFS = ("no_match", "match")


@pytest.mark.parametrize("name", ["blind14.yaml", "blind15.yaml", "questions.yaml", "../eval/blind14.yaml", "x"])
def test_the_fold_benchmark_refuses_any_set_that_is_not_spent(name: str, tmp_path: Path) -> None:
    """Only the spent blind sets can be loaded: an unspent one is refused by name, before any file is opened."""
    assert name not in SPENT_BLIND_SETS
    with pytest.raises(UnspentSetError, match="not a spent blind set"):
        load_spent(name)
    with pytest.raises(UnspentSetError):
        load_spent(name, tmp_path)


def test_the_fold_benchmark_refuses_a_spent_name_that_links_elsewhere(tmp_path: Path) -> None:
    """A spent set's name that is a link (say to an unspent set) or missing is refused; the real spent sets load."""
    other = tmp_path / "elsewhere.yaml"
    other.write_text("questions:\n  - q: x\n    lang: da\n    oos: true\n", encoding="utf-8")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "blind5.yaml").symlink_to(other)
    with pytest.raises(UnspentSetError, match="not the regular file"):
        load_spent("blind5.yaml", tmp_path / "eval")
    with pytest.raises(UnspentSetError, match="not the regular file"):
        load_spent("blind4.yaml", tmp_path / "eval")
    assert len(load_spent("blind.yaml")) > 100 and (ROOT / "eval" / "blind.yaml").is_file()


def test_leave_one_set_out_trains_without_each_set_and_judges_it(tmp_path: Path) -> None:
    """LOBO holds each named set's questions out of training, judges them, and reports pooled, per language, per set."""
    vectors, questions = _two_languages()
    n = len(questions)
    features = Features(
        questions=tuple(questions),
        vectors=vectors,
        lexical=np.zeros(n),
        coverage=np.ones(n),
        subject=np.zeros(n),
        detected=tuple(q.language for q in questions),
    )
    picked = [q for q in questions if q.group in ("in:da1", "in:en2", "off:c3")]
    lines = ["questions:"]
    for q in picked:
        lines += [f"  - q: {json.dumps(q.text)}", f"    lang: {q.language}"]
        lines += ['    gold: [["x"]]'] if q.in_domain else ["    oos: true"]
    (tmp_path / "blind2.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    variant = VARIANTS["landed"]
    rates = leave_one_set_out(features, variant, sets=["blind2.yaml"], eval_dir=tmp_path)
    assert set(rates) == {"all", "da", "en", "short", "blind2.yaml"}
    assert rates["short"] == {}  # no very short questions here
    assert rates["all"] == rates["blind2.yaml"]
    assert set(rates["all"]) == {"answerable_no_match", "answerable_weak", "off_topic_no_match", "off_topic_match"}
    assert rates["all"]["answerable_no_match"] <= 0.1 and rates["all"]["off_topic_no_match"] >= 0.5
    with pytest.raises(UnspentSetError):
        leave_one_set_out(features, variant, sets=["blind14.yaml"], eval_dir=tmp_path)


def test_each_round_data_variant_leaves_out_the_sets_spent_after_its_round() -> None:
    """A round's data variant drops its round's yardstick and every set spent later; the newest drops the last alone."""
    rounds = {name: VARIANTS[name].drop_sets for name in VARIANTS if name.endswith("_round_data")}
    assert rounds["twelfth_round_data"][0] == "blind13.yaml"
    assert rounds["eleventh_round_data"][:2] == ("blind12.yaml", "blind13.yaml")
    assert min(rounds.values(), key=len) == SPENT_BLIND_SETS[-1:]  # a round is measured against the one before
    for drop_sets in rounds.values():
        assert drop_sets and set(drop_sets) <= set(SPENT_BLIND_SETS)
        assert drop_sets == SPENT_BLIND_SETS[len(SPENT_BLIND_SETS) - len(drop_sets) :]  # a tail of the spent sets
