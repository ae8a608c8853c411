"""Projects like mine: the nearest signature projects, with their outcome and attached lessons."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessons.build import build_index
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.engine import open_searcher
from lessons.errors import QuestionError
from lessons.models import Domain, Entry, Kind, ProjectStatus, Sector
from lessons.search import Searcher
from lessons.settings import Settings
from lessons.similar import find_similar_projects, project_key

SOURCE = "source:\n  report: Testrapport\n  section: Afsnit\n"

EXTRA = {
    "evaluation/evaluation-energi.yaml": """id: evaluation-energi
kind: evaluation
title: "Afsluttet projekt: Energioptimering af bygninger"
project: Energioptimering af bygninger
sector: municipality
domain: climate
project_status: completed
organisations: [Testrup Kommune]
description: Algoritmen styrer varme og el i bygningerne og blev sat i drift i kommunens skoler.
direct_gains: Energiforbruget faldt med ti procent.
""",
    "handling/handling-energi-data.yaml": """id: handling-energi-data
kind: handling
title: Målerdata fra bygningerne
areas: [data]
sector: municipality
domain: climate
project: Energioptimering af bygninger
challenge: Målerdata fra bygningerne var ufuldstændige.
handling: Projektet satte nye målere op i bygningerne.
""",
    "handling/handling-energi-leverandoer.yaml": """id: handling-energi-leverandoer
kind: handling
title: Leverandørens styringssystem
areas: [vendors]
sector: municipality
domain: climate
project: Energioptimering af bygninger
challenge: Styringssystemet i bygningerne var lukket.
handling: Kommunen aftalte et API med leverandøren.
""",
}

ENERGY = "Vi vil styre varme og el i kommunens bygninger efter den faktiske brug og spare energi."


@pytest.fixture
def corpus(settings: Settings, tiny_corpus: Path) -> dict[str, Entry]:
    """The tiny corpus plus an evaluation and two lessons of the energy project."""
    for rel, text in EXTRA.items():
        path = tiny_corpus / "entries" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + SOURCE, encoding="utf-8")
    return {e.id: e for e in load_corpus(tiny_corpus).retrievable()}


@pytest.fixture
def searcher(settings: Settings, fake: FakeEmbedder, corpus: dict[str, Entry]) -> Searcher:
    """A searcher over that corpus."""
    build_index(settings, fake)
    return open_searcher(settings, fake)[0]


def test_the_nearest_project_comes_with_its_evaluation_and_lessons(
    searcher: Searcher, corpus: dict[str, Entry]
) -> None:
    """An energy description finds the energy project, completed, with its evaluation and both handling lessons."""
    first = find_similar_projects(searcher, ENERGY, corpus)[0]
    assert first.rank == 1 and first.title == "Energioptimering af bygninger"
    assert first.description is not None and first.description.id == "project-energi"
    assert first.evaluation is not None and first.evaluation.id == "evaluation-energi"
    assert first.status is ProjectStatus.COMPLETED
    assert [lesson.id for lesson in first.lessons] == ["handling-energi-data", "handling-energi-leverandoer"]
    assert first.sector is Sector.MUNICIPALITY and first.domain is Domain.CLIMATE
    assert first.organisations == ["Testrup Kommune"]
    assert first.main.id == "project-energi"


def test_each_project_appears_once_and_only_projects_appear(searcher: Searcher, corpus: dict[str, Entry]) -> None:
    """Description and evaluation of one project make one result; advice and handling entries are never results."""
    results = find_similar_projects(searcher, ENERGY, corpus, k=10)
    titles = [p.title for p in results]
    assert len(titles) == len(set(titles))
    assert set(titles) == {"Energioptimering af bygninger", "Forværring hos KOL-patienter"}
    assert all(p.main.kind in (Kind.PROJECT, Kind.EVALUATION) for p in results)
    kol = next(p for p in results if p.title == "Forværring hos KOL-patienter")
    assert kol.status is ProjectStatus.ONGOING and kol.evaluation is None and kol.lessons == ()
    assert [p.rank for p in results] == list(range(1, len(results) + 1))


def test_domain_filter_and_k_restrict_the_results(searcher: Searcher, corpus: dict[str, Entry]) -> None:
    """A domain restricts the projects considered; k caps how many come back."""
    health = find_similar_projects(searcher, ENERGY, corpus, domains=[Domain.HEALTH])
    assert [p.title for p in health] == ["Forværring hos KOL-patienter"]
    assert len(find_similar_projects(searcher, ENERGY, corpus, k=1)) == 1


def test_project_key_links_entries_to_their_project(corpus: dict[str, Entry]) -> None:
    """A project description is its own key; an evaluation or lesson names its project."""
    assert project_key(corpus["project-energi"]) == "Energioptimering af bygninger"
    assert project_key(corpus["evaluation-energi"]) == "Energioptimering af bygninger"
    assert project_key(corpus["handling-energi-data"]) == "Energioptimering af bygninger"


def test_an_empty_description_is_a_question_error(searcher: Searcher, corpus: dict[str, Entry]) -> None:
    """An empty description raises the domain error the page shows."""
    with pytest.raises(QuestionError):
        find_similar_projects(searcher, "  ", corpus)


def test_a_refused_description_is_worded_about_the_description_in_both_languages(
    searcher: Searcher, corpus: dict[str, Entry]
) -> None:
    """Empty and over-long descriptions are refused in the description's own words, Danish and English."""
    with pytest.raises(QuestionError) as empty:
        find_similar_projects(searcher, " \n ", corpus)
    assert empty.value.said("da").startswith("beskrivelsen er tom") and "spørgsmål" not in empty.value.said("da")
    assert str(empty.value).startswith("the description is empty")
    with pytest.raises(QuestionError) as long:
        find_similar_projects(searcher, "x" * (searcher.max_question_chars + 1), corpus)
    limit = searcher.max_question_chars
    assert long.value.said("da").startswith(f"beskrivelsen har {limit + 1:,} tegn".replace(",", "."))
    assert str(long.value).startswith(f"the description is {limit + 1:,} characters; the limit is {limit:,}")
