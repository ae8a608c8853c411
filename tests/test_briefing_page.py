"""The "Projektbriefing" page, driven headless through AppTest (fake embedder, real corpus and rules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lessons.embedding import FakeEmbedder
from lessons.feedback import list_gaps
from lessons.settings import Settings
from tests.conftest import open_app

pytestmark = [pytest.mark.heavy, pytest.mark.usefixtures("fresh_streamlit")]


@pytest.fixture
def app_env(
    real_fake_index: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_fake_embedder: FakeEmbedder
) -> Settings:
    """The app over the real corpus and its shared fake-embedder index, with its own gap log."""
    settings = real_fake_index.model_copy(update={"data_dir": tmp_path / "var"})
    monkeypatch.setenv("LESSONS_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("LESSONS_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("LESSONS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LESSONS_MODEL", settings.model)
    return settings


def fill(at: AppTest, *, sector: str, domain: str, data: list[str], decision: bool, vendor: bool) -> AppTest:
    """Fill in the form and submit it."""
    at.text_input(key="brief_title").set_value("Øjenscreening med fundusfotos")
    at.text_area(key="brief_description").set_value(
        "Vi vil udvikle en algoritme, der ud fra fundusfotos vurderer, hvilke patienter med diabetes der skal "
        "ses af en øjenlæge først."
    )
    at.selectbox(key="brief_sector").set_value(sector)
    at.selectbox(key="brief_domain").set_value(domain)
    at.multiselect(key="brief_data").set_value(data)
    at.checkbox(key="brief_decision_support").set_value(decision)
    at.checkbox(key="brief_vendor").set_value(vendor)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def state_profile(at: AppTest) -> AppTest:
    """The briefing form filled in for a state project (a sector no signature project had), and submitted."""
    return fill(at, sector="state", domain="administration", data=["free_text"], decision=False, vendor=False)


def shown(at: AppTest) -> str:
    """Everything the page shows as text."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "warning", "info", "error", "caption"):
        parts.extend(str(element.value) for element in getattr(at, kind))
    return "\n".join(parts)


def test_a_health_decision_support_profile_gets_its_briefing(app_env: Settings) -> None:
    """The form makes a briefing on screen: MDR with its why, examples, advice, projects, questions, 2022 note."""
    at = fill(
        open_app(page="briefing"),
        sector="region",
        domain="health",
        data=["health_records", "images"],
        decision=True,
        vendor=True,
    )
    text = shown(at)
    assert at.title[0].value == "Projektbriefing"
    assert "Projektbriefing: Øjenscreening med fundusfotos" in text
    for expected in (
        "Medicinsk udstyr (MDR) og CE-mærkning",
        "Fordi jeres profil siger",
        "Sådan gjorde andre",
        "Gode råd, der gælder for jer",
        "Projekter som jeres",
        "Spørgsmål, I bør afklare, før I starter",
        "Som beskrevet i 2022",
    ):
        assert expected in text, expected
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Hent som Markdown", "Hent som PDF"]


def test_a_state_profile_shows_and_logs_the_gap(app_env: Settings) -> None:
    """A state project is told the corpus has no state projects, and the gap is logged for curators."""
    at = state_profile(open_app(page="briefing"))
    assert "Ingen af signaturprojekterne blev drevet af staten" in shown(at)
    assert "Medicinsk udstyr" not in shown(at)
    assert any("sector: state" in gap.question for gap in list_gaps(app_env.data_dir))


def test_an_incomplete_form_names_what_is_missing(app_env: Settings) -> None:
    """Without a description or data, the page lists the problems by key instead of failing."""
    at = open_app(page="briefing")
    at.text_input(key="brief_title").set_value("Et projekt")
    at.button[0].click().run()
    assert not at.exception
    errors = " ".join(str(e.value) for e in at.error)
    assert "description" in errors and "data" in errors
    assert "Sådan gjorde andre" not in shown(at)


def test_an_incomplete_form_is_said_in_danish(app_env: Settings) -> None:
    """An empty form: each missing answer is named by its Danish label in a Danish sentence, nothing marked English."""
    at = open_app(page="briefing")
    at.button[0].click().run()
    errors = " ".join(str(e.value) for e in at.error)
    for said in ("Titel mangler", "Beskrivelse mangler", "Data skal have mindst 1 værdi(er)"):
        assert said in errors, errors
    assert "på engelsk" not in errors and "required key" not in errors and "Tuple should" not in errors, errors


def test_a_curator_marks_an_entry_superseded_on_the_curator_page(
    env_settings: Settings, use_fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The curator page's edit form sets superseded_by to another entry; the change lands in the file and history."""
    from lessons.build import build_index
    from lessons.curation import find_entry
    from tests.conftest import account_session

    build_index(env_settings, use_fake_embedder)
    at = open_app(account_session(env_settings, "karen", "curator"), "kurator")
    at.radio(key="cur_section").set_value("edit").run()
    at.selectbox(key="cur_edit_id").set_value("handling-api-data").run()
    at.selectbox(key="cur_e_handling-api-data_superseded_by").set_value("handling-mdr-ce")
    at.button(key="cur_save_edit_handling-api-data").click().run()
    assert not at.exception, at.exception
    _, entry = find_entry(env_settings.corpus_dir, "handling-api-data")
    assert entry.revision is not None and entry.revision.changes == {"superseded_by": "handling-mdr-ce"}
    assert entry.history[-1].endswith("revision proposed by karen: superseded_by")  # an approved entry: for review
