"""The question sets in eval/: valid, gold keywords that occur in the corpus, the blind set frozen."""

from __future__ import annotations

import hashlib
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from lessons.chunking import chunk_entries
from lessons.corpus import load_corpus
from lessons.evaluation import EvalQuestion, is_relevant, load_questions

from .conftest import REAL_CORPUS, ROOT

pytestmark = pytest.mark.heavy

EVAL = ROOT / "eval"
BLIND = EVAL / "blind.yaml"
# sha256 of eval/blind.yaml as frozen for issue 10. The blind set must never change;
# if this fails, the file was edited: revert it instead of updating the hash.
BLIND_SHA256 = "63654b3876cb54eabcdac1accfbe45a068e5e8ffd41d4eb876e822a4c48ae09a"


@cache
def _corpus_texts() -> tuple[str, ...]:
    entries = load_corpus(REAL_CORPUS).retrievable()
    return tuple(chunk.text for chunk in chunk_entries(entries))


def _questions(path: Path) -> list[EvalQuestion]:
    return load_questions(path)


@pytest.mark.parametrize("path", sorted(EVAL.glob("*.yaml")), ids=lambda p: p.name)
def test_every_gold_alternative_occurs_in_some_corpus_chunk(path: Path) -> None:
    """Each gold alternative of each answerable question matches at least one served chunk."""
    texts = _corpus_texts()
    missing = [
        (q.q, alternative)
        for q in _questions(path)
        if not q.oos
        for alternative in q.gold
        if not any(is_relevant(text, [alternative]) for text in texts)
    ]
    assert missing == []


def test_blind_set_is_frozen() -> None:
    """eval/blind.yaml is byte-for-byte the file frozen before the issue 10 method changed."""
    assert hashlib.sha256(BLIND.read_bytes()).hexdigest() == BLIND_SHA256


def test_blind_set_shape() -> None:
    """The blind set has enough answerable questions in each language and off-topic ones in both."""
    questions = _questions(BLIND)
    answerable = Counter(q.lang for q in questions if not q.oos)
    off_topic = Counter(q.lang for q in questions if q.oos)
    assert all(q.lang in {"da", "en"} for q in questions)
    assert answerable["da"] >= 32 and answerable["en"] >= 32
    assert abs(answerable["da"] - answerable["en"]) <= 2
    assert sum(off_topic.values()) >= 72 and min(off_topic["da"], off_topic["en"]) >= 30


def test_blind_set_shares_no_question_with_other_sets() -> None:
    """No blind question repeats a question of the other eval sets or the shared dev set."""
    blind = {q.q.strip().lower() for q in _questions(BLIND)}
    others = [p for p in EVAL.glob("*.yaml") if p != BLIND]
    dev = ROOT.parent / "shared" / "eval" / "dev_questions.yaml"
    seen = {q.q.strip().lower() for p in others for q in _questions(p)}
    assert len(blind) == len(_questions(BLIND))
    assert blind.isdisjoint(seen)
    if dev.is_file():
        assert blind.isdisjoint({q.q.strip().lower() for q in _questions(dev)})
