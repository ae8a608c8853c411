"""The corpus covers the source report."""

from __future__ import annotations

import pytest

from lessons.corpus import load_corpus
from lessons.coverage import measure_coverage
from lessons.models import Entry

from .conftest import REAL_CORPUS, REPORT

pytestmark = pytest.mark.heavy


def test_corpus_covers_at_least_95_percent_of_the_report() -> None:
    """Most words of each 8+-word report sentence appear in some entry, for 95% of sentences."""
    corpus = load_corpus(REAL_CORPUS)
    cov = measure_coverage(REPORT.read_text(encoding="utf-8"), corpus.entries)
    print(f"\nreport coverage: {cov.covered}/{cov.total} sentences = {cov.share:.1%}")
    for sentence in cov.missing:
        print(f"  not covered: {sentence[:150]}")
    assert cov.total > 400
    assert cov.share >= 0.95


def test_coverage_detects_a_missing_sentence() -> None:
    """An empty corpus covers nothing; one copied sentence covers exactly that one."""
    report = (
        "Dette er en lang sætning med mange ord om kunstig intelligens. Kort. "
        "Endnu en lang sætning om data og jura i kommunerne."
    )
    assert measure_coverage(report, []).covered == 0
    entry = Entry.model_validate(
        {
            "id": "advice-x",
            "kind": "advice",
            "title": "T",
            "source": {"report": "R"},
            "body": "Dette er en lang sætning med mange ord om kunstig intelligens.",
        }
    )
    cov = measure_coverage(report, [entry])
    assert (cov.covered, cov.total) == (1, 2)
