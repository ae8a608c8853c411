"""Retrieval with the fake embedder: exact rankings, filters, diversification, bad input."""

from __future__ import annotations

import pytest

from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.errors import QuestionError
from lessons.search import Filters, Mode, Searcher, detect_language, expand_query
from lessons.settings import Settings


@pytest.fixture
def searcher(settings: Settings, fake: FakeEmbedder) -> Searcher:
    """A searcher over the tiny corpus."""
    build_index(settings, fake)
    return open_searcher(settings, fake)[0]


def test_hybrid_finds_the_mdr_handling_first(searcher: Searcher) -> None:
    """A Danish MDR question ranks the MDR handling example first."""
    result = searcher.search("Skal vores algoritme CE-mærkes efter MDR?")
    assert result.hits[0].chunk.entry_id == "handling-mdr-ce"
    assert result.language == "da"
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))


def test_glossary_bridges_english_to_danish(searcher: Searcher) -> None:
    """'medical device' expands to the Danish terms, so the lexical side finds the MDR entry."""
    assert "CE-mærkning" in expand_query("Is our tool a medical device?")
    result = searcher.search("Is our tool a medical device?", mode=Mode.LEXICAL)
    assert result.hits[0].chunk.entry_id == "handling-mdr-ce"


def test_one_chunk_per_entry_unless_asked(searcher: Searcher) -> None:
    """Results are diversified by entry."""
    result = searcher.search("projektet data algoritmen", k=10)
    ids = [h.chunk.entry_id for h in result.hits]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters.parse(kinds=["project"]), {"project-kol", "project-energi"}),
        (Filters.parse(sectors=["municipality"]), {"handling-api-data", "project-energi"}),
        (Filters.parse(areas=["law"]), {"handling-mdr-ce"}),
        (Filters.parse(domains=["climate"]), {"project-energi"}),
        (Filters.parse(statuses=["completed"]), {"project-energi"}),
    ],
)
def test_filters_restrict_results(searcher: Searcher, filters: Filters, allowed: set[str]) -> None:
    """Each filter keeps exactly the entries whose metadata match."""
    result = searcher.search("algoritmen data projektet", k=10, filters=filters)
    assert {h.chunk.entry_id for h in result.hits} == allowed
    assert result.to_json()["filters"]


def test_unknown_filter_value_lists_valid_ones() -> None:
    """An unknown area is rejected with the list of valid areas."""
    with pytest.raises(QuestionError, match="unknown area 'weather'; valid values: data, infrastructure"):
        Filters.parse(areas=["weather"])


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_an_error(searcher: Searcher, question: str) -> None:
    """Empty or whitespace questions get a clear error."""
    with pytest.raises(QuestionError, match="empty"):
        searcher.search(question)


def test_too_long_question_is_an_error(searcher: Searcher) -> None:
    """A 10,000-character question is refused with the limit named."""
    with pytest.raises(QuestionError, match="limit is 2,000"):
        searcher.search("data " * 2000)


def test_punctuation_only_question_is_no_match(searcher: Searcher) -> None:
    """A question of only punctuation answers 'no match' rather than crashing."""
    result = searcher.search("?!... ---")
    assert result.no_match and result.hits == []


def test_decomposed_unicode_equals_composed(searcher: Searcher) -> None:
    """'å' typed as a + combining ring gives the same ranking as 'å'."""
    composed = searcher.search("Hvordan får vi adgang til data?")
    decomposed = searcher.search("Hvordan fa\u030ar vi adgang til data?")
    assert [h.chunk.id for h in composed.hits] == [h.chunk.id for h in decomposed.hits]
    assert composed.question == decomposed.question


def test_control_characters_and_mixed_scripts_do_not_crash(searcher: Searcher) -> None:
    """NUL, control characters, RTL and CJK text are handled."""
    result = searcher.search("data\x00\x07 API \u202eمرحبا 数据")
    assert "\x00" not in result.question
    assert isinstance(result.no_match, bool)


def test_json_contract(searcher: Searcher) -> None:
    """The JSON object has the agreed shape."""
    payload = searcher.search("API adgang til data", k=3).to_json()
    assert set(payload) >= {"question", "no_match", "hits"}
    hit = payload["hits"][0]
    assert set(hit) == {"rank", "score", "entry_id", "kind", "title", "text", "source"}
    assert set(hit["source"]) == {"report", "section", "page"}
    assert isinstance(hit["score"], float) and isinstance(hit["rank"], int)
    assert hit["text"].startswith("[")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hvordan håndterer vi MDR?", "da"),
        ("How do we handle the Medical Device Regulation?", "en"),
        ("skal vores algoritme CE-mærkes?", "da"),
        ("what did it cost", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    """Danish and English questions are told apart."""
    assert detect_language(text) == language


def test_k_is_bounded(searcher: Searcher) -> None:
    """k outside 1..100 is refused."""
    with pytest.raises(QuestionError):
        searcher.search("data", k=0)
