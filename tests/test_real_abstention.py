"""The no-match decision with the real model and corpus (slow): off-topic by category, dev questions, short ones.

The off-topic questions here are written for this test and are not in the training data
(`src/lessons/data/off_topic.yaml`); a test checks that, so they stay unseen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.abstention import Confidence, package_questions
from lessons.engine import open_searcher
from lessons.evaluation import load_questions
from lessons.search import Filters, Searcher
from lessons.settings import DEFAULT_MODEL_DIR, Settings

from .conftest import ROOT

MODEL = ROOT / DEFAULT_MODEL_DIR
DEV = ROOT.parent.parent / "shared" / "eval" / "dev_questions.yaml"
pytestmark = pytest.mark.slow

if not (MODEL / "lessons-model.json").is_file():
    pytest.skip(f"the real model is not set up at {MODEL}; run `lessons setup-model`", allow_module_level=True)

# A handful per category the issue names, in both languages; none is in the training data.
OFF_TOPIC: dict[str, list[str]] = {
    "other public-sector topics": [
        "Hvordan søger jeg om hjælp til briller som pensionist?",
        "Hvornår skal kommunen have budgettet for næste år vedtaget?",
        "How do I register a newborn baby's name in Denmark?",
        "Who decides where new schools are built in a municipality?",
    ],
    "other AI and IT topics": [
        "Hvordan skriver man gode prompts til ChatGPT?",
        "Hvilken grafikkort skal jeg bruge til at træne en sprogmodel derhjemme?",
        "How do I set up a Raspberry Pi as a home media server?",
        "Can an AI compose a symphony in the style of Mozart?",
    ],
    "Danish places, organisations and professions": [
        "Hvad koster en billet til Aarhus Ø's havnebad?",
        "Hvornår er der loppemarked i Sønderborg?",
        "What is the best beach near Aalborg for families?",
        "How long is the waiting list for a dentist in Odense?",
    ],
    "everyday life": [
        "Hvordan får jeg min surdej til at hæve bedre?",
        "Hvad skal jeg give min nevø i fødselsdagsgave?",
        "How do I get red wine out of a white carpet?",
        "What's a good name for a golden retriever puppy?",
    ],
}


@pytest.fixture(scope="module")
def searcher(real_model_index: Settings) -> Searcher:
    """A searcher over the session's fresh index of the real corpus, built with the real model."""
    return open_searcher(real_model_index)[0]


def test_the_test_questions_are_not_training_questions() -> None:
    """The off-topic questions below are unseen by the model: none is in the package's training data."""
    training = {q.text.lower() for q in package_questions()}
    assert not [q for questions in OFF_TOPIC.values() for q in questions if q.lower() in training]


@pytest.mark.parametrize("category", sorted(OFF_TOPIC))
def test_off_topic_questions_are_no_match(searcher: Searcher, category: str) -> None:
    """Unseen off-topic questions of each category are no_match, and none is answered as a match."""
    states = {q: searcher.search(q).confidence for q in OFF_TOPIC[category]}
    assert all(state is not Confidence.MATCH for state in states.values()), states
    assert sum(state is Confidence.NO_MATCH for state in states.values()) >= len(states) - 1, states


def test_the_shared_dev_questions_stay_match(searcher: Searcher) -> None:
    """The answerable shared dev questions are answered as a match, the off-topic ones as no_match."""
    if not DEV.is_file():
        pytest.skip(f"no shared dev questions at {DEV}")
    states = {q.q: (q.oos, searcher.search(q.q).confidence) for q in load_questions(Path(DEV))}
    assert all(state is Confidence.MATCH for oos, state in states.values() if not oos), states
    assert all(state is Confidence.NO_MATCH for oos, state in states.values() if oos), states


@pytest.mark.parametrize("question", ["GDPR?", "API", "MDR", "SmartMail", "Prædiktion af forværring af KOL"])
def test_short_and_unusual_questions_are_answered(searcher: Searcher, question: str) -> None:
    """Acronyms and a lone project name are not turned away."""
    assert searcher.search(question).confidence is not Confidence.NO_MATCH


def test_mixed_script_small_talk_is_no_match(searcher: Searcher) -> None:
    """A greeting in Arabic and Hebrew is no_match, not a crash or a confident answer."""
    assert searcher.search("مرحبا بالعالم، كيف حالك؟ שלום").no_match


def test_filters_that_exclude_the_answer_say_so(searcher: Searcher) -> None:
    """An MDR question filtered to the climate domain is 'nothing inside the filters'; without them it matches."""
    question = "Skal vores algoritme CE-mærkes som medicinsk udstyr?"
    assert searcher.search(question).confidence is Confidence.MATCH
    filtered = searcher.search(question, filters=Filters.parse(domains=["climate"]))
    assert filtered.no_match and filtered.reason == "filters"
