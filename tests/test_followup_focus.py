"""Follow-ups move the answer the way the question asks: to handling and outcomes, to projects, to a sector."""

from __future__ import annotations

import time

import pytest

from lessons.answering import Answerer
from lessons.answering.followups import contextualise, detect_focus
from lessons.answering.overview import text_sentences
from lessons.build import build_index
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.models import Entry, Kind
from lessons.search import Filters, Searcher
from lessons.settings import Settings

MDR_QUESTION = "Skal algoritmen CE-mærkes efter MDR?"


@pytest.fixture
def searcher(settings: Settings, fake: FakeEmbedder, scripted_states: None) -> Searcher:
    """A searcher over the tiny corpus, its no-match decision pinned to match (these tests are about focus)."""
    build_index(settings, fake)
    return open_searcher(settings, fake)[0]


@pytest.fixture
def entries(settings: Settings) -> dict[str, Entry]:
    """The tiny corpus's entries by id."""
    return load_corpus(settings.corpus_dir).by_id()


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("Hvad gjorde de konkret?", "handling"),
        ("Hvordan håndterede de det?", "handling"),
        ("What did they do?", "handling"),
        ("How did they handle it in practice?", "handling"),
        ("Hvilke projekter?", "projects"),
        ("Which projects did that?", "projects"),
        ("Hvad kom der ud af det?", "outcome"),
        ("What were the results?", "outcome"),
        ("Hvad med i kommunerne?", None),
        ("og hvad kostede det?", None),
    ],
)
def test_a_follow_up_names_its_focus(question: str, focus: str | None) -> None:
    """'what did they do' → handling, 'which projects' → projects, 'what came of it' → outcome; else none."""
    found = detect_focus(question)
    assert (found.name if found else None) == focus


def test_a_short_question_with_a_focus_is_a_follow_up() -> None:
    """'Hvilke projekter har gjort det?' leans on the previous turn; a long question with the same words does not."""
    context = contextualise("Hvilke projekter har gjort det?", MDR_QUESTION)
    assert context.followup and context.focus is not None and context.focus.kinds == {Kind.PROJECT, Kind.EVALUATION}
    long = "Hvilke projekter brugte sprogmodeller til at anonymisere aktindsigtssager i kommunerne i 2022?"
    assert not contextualise(long, MDR_QUESTION).followup


def test_focus_patterns_are_fast_on_the_longest_allowed_question() -> None:
    """The focus patterns scan a maximum-size hostile question in well under a second."""
    hostile = ("hvad gjorde " * 200 + "konkret" * 100 + "x" * 100)[:2000]
    started = time.perf_counter()
    for _ in range(20):
        detect_focus(hostile)
        detect_focus("a" * 2000)
    assert time.perf_counter() - started < 1.0


def test_how_did_they_handle_it_moves_to_handling_and_quotes_no_challenge(
    searcher: Searcher, entries: dict[str, Entry]
) -> None:
    """'Hvordan håndterede de det?' after the MDR question: handling/outcome cards, no challenge re-quoted."""
    first = Answerer(searcher).answer(MDR_QUESTION, entries=entries)
    second = Answerer(searcher).answer("Hvordan håndterede de det?", entries=entries, previous=first)
    assert second.followup and second.kinds_from_question == {Kind.HANDLING, Kind.EVALUATION}
    assert second.cards and {c.kind for c in second.cards} <= {Kind.HANDLING, Kind.EVALUATION}
    assert second.cards[0].entry_id == "handling-mdr-ce"
    challenges = {s for e in entries.values() if e.challenge for s in text_sentences(e.challenge)}
    quoted = {s.text for s in second.overview}
    assert quoted and not quoted & challenges
    assert not quoted & {s.text for s in first.overview}
    assert any("Lægemiddelstyrelsen" in s for s in quoted)
    assert (second.entry_ids, quoted) != (first.entry_ids, {s.text for s in first.overview})


def test_which_projects_moves_to_project_cards(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """'Hvilke projekter?' after a question a project answers shows project cards only."""
    first = Answerer(searcher).answer("Hvordan forebygger vi forværringer hos KOL-patienter?", entries=entries)
    second = Answerer(searcher).answer("Hvilke projekter?", entries=entries, previous=first)
    assert second.cards and {c.kind for c in second.cards} <= {Kind.PROJECT, Kind.EVALUATION}
    assert second.filters.kinds == {Kind.PROJECT, Kind.EVALUATION}


def test_which_projects_without_a_fitting_project_keeps_topic(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """When no project fits the topic (none in the tiny corpus is about API access), the focus is dropped."""
    first = Answerer(searcher).answer("Hvordan fik kommunen adgang til data via API?", entries=entries)
    second = Answerer(searcher).answer("Hvilke projekter?", entries=entries, previous=first)
    assert second.cards and second.cards[0].entry_id == "handling-api-data"
    assert not second.filters.kinds


def test_a_kind_chosen_in_the_filters_wins_over_the_focus(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """A user's own kind filter is kept; the follow-up's focus does not replace it."""
    first = Answerer(searcher).answer(MDR_QUESTION, entries=entries)
    advice = Filters(kinds=frozenset({Kind.ADVICE}))
    second = Answerer(searcher).answer("Hvilke projekter?", entries=entries, previous=first, filters=advice)
    assert second.filters.kinds == {Kind.ADVICE} and not second.kinds_from_question


def test_the_focus_is_shown_as_focus_not_again_as_a_filter(searcher: Searcher, entries: dict[str, Entry]) -> None:
    """A focused follow-up's kinds are not repeated in the 'Filtre:' caption; a user's own filter still is."""
    from lessons.ui.render import filters_caption

    first = Answerer(searcher).answer(MDR_QUESTION, entries=entries)
    focused = Answerer(searcher).answer("Hvordan håndterede de det?", entries=entries, previous=first)
    assert focused.kinds_from_question and filters_caption(focused, "da") is None
    own = Answerer(searcher).answer(MDR_QUESTION, entries=entries, filters=Filters(kinds=frozenset({Kind.HANDLING})))
    assert filters_caption(own, "da") == "Filtre: Håndteringseksempel"
