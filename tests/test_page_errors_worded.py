"""Errors the chat, briefing and index-loading code can show are said in the page's language (AppTest, Danish)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lessons import embedding, engine
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.errors import LessonsError
from lessons.feedback import db_path
from lessons.settings import Settings
from tests.conftest import open_app
from tests.test_app import OFF_TOPIC, ask
from tests.test_app_edges import assert_danish
from tests.test_briefing_page import app_env, fill, state_profile

pytestmark = [pytest.mark.heavy, pytest.mark.usefixtures("fresh_streamlit")]
__all__ = ["app_env"]  # the briefing page's fixture, used here too

OS_ENGLISH = ("is not a regular file", "cannot", "the configured model", "Run `lessons build`")


def _no_english(text: str, where: str) -> None:
    said = re.sub(r"/\S+", "", text.replace("\\", ""))  # paths (the tests' folders have English names) left out
    assert not any(english in said for english in OS_ENGLISH), f"{where}: {text}"


@pytest.mark.usefixtures("scripted_states")
def test_a_gap_that_cannot_be_logged_is_said_in_danish_on_the_chat_page(built: Settings) -> None:
    """An off-topic question whose gap cannot be written (a folder where the feedback database belongs) is still
    answered, and the toast says why in Danish, naming the database, not in SQLite's or our English."""
    db_path(built.data_dir).mkdir(parents=True)
    at = ask(open_app(), OFF_TOPIC)
    [toast] = [str(t.value) for t in at.toast if "kunne ikke logges" in str(t.value)]
    assert "feedbackdatabasen" in toast and "er ikke en almindelig fil" in toast, toast
    _no_english(toast, "chat toast")
    assert_danish(at, "chat with a failed gap log")


def test_a_briefing_gap_that_cannot_be_logged_is_said_in_danish(app_env: Settings) -> None:
    """A state profile's gap that cannot be logged: the briefing is shown, with a Danish warning naming the database."""
    db_path(app_env.data_dir).mkdir(parents=True)
    at = state_profile(open_app(page="briefing"))
    [warning] = [str(w.value) for w in at.warning if "Hullerne kunne ikke logges" in str(w.value)]
    assert "feedbackdatabasen" in warning and "er ikke en almindelig fil" in warning, warning
    _no_english(warning, "briefing gap warning")


def test_a_failed_pdf_is_said_in_danish_with_the_libraries_english_marked(
    app_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PDF layout failure (ReportLab's own English) is shown in a Danish sentence that marks the detail as English."""
    from lessons.briefing import render_pdf

    def fail(*_args: object, **_kwargs: object) -> bytes:
        raise ValueError("Flowable too large on page 3")

    monkeypatch.setattr(render_pdf, "render_pdf", fail)
    at = fill(open_app(page="briefing"), sector="region", domain="health", data=["images"], decision=True, vendor=False)
    [warning] = [str(w.value) for w in at.warning if "PDF'en kunne ikke laves" in str(w.value)]
    assert "Flowable too large on page 3 (teknisk besked på engelsk)" in warning, warning


def test_an_index_built_with_another_model_is_said_in_danish(
    env_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index built with one model, opened with another: the chat page says so in Danish, with the fix."""
    build_index(env_settings, FakeEmbedder(dimension=32, name="old-model"))
    other = FakeEmbedder(dimension=64, name="new-model")
    monkeypatch.setattr(embedding, "load_embedder", lambda settings: other)
    monkeypatch.setattr(engine, "load_embedder", lambda settings: other)
    at = open_app()
    [error] = [str(e.value) for e in at.error if "Indekset kan ikke bruges" in str(e.value)]
    assert "bygget med modellen 'old-model' (dimension 32, fingeraftryk old-model/32)" in error.replace("\\", ""), error
    assert "den valgte model er 'new-model' (dimension 64, fingeraftryk new-model/64)" in error.replace("\\", ""), error
    _no_english(error, "index error")


def test_an_error_without_words_is_marked_as_english_in_danish_only() -> None:
    """said(): an error with no words of its own keeps its English in English, and is marked as English in Danish."""
    error = LessonsError("FAISS cannot read vectors.faiss")
    assert error.said("en") == "FAISS cannot read vectors.faiss"
    assert error.said("da") == "FAISS cannot read vectors.faiss (teknisk besked på engelsk)"
    worded = LessonsError.worded("model_timeout", seconds="60")
    assert worded.said("da") == "ingen model efter 60 s" and worded.said("en") == "no model after 60 s"


def _damage_current(settings: Settings) -> str:
    """Break the current version's chunks file; return the version's name."""
    from lessons.store import CHUNKS, read_current

    version = read_current(settings.index_dir)
    assert version
    (settings.index_dir / "versions" / version / CHUNKS).write_bytes(b"{}")
    return version


@pytest.mark.usefixtures("use_fake_embedder")
def test_a_damaged_only_index_is_said_in_danish_on_the_chat_page(env_settings: Settings) -> None:
    """The only index version damaged: the chat page says so in Danish, naming file and version, with the fix."""
    build_index(env_settings, FakeEmbedder())
    version = _damage_current(env_settings)
    at = open_app()
    [error] = [str(e.value) for e in at.error if "Indekset kan ikke bruges" in str(e.value)]
    plain = error.replace("\\", "")
    assert f"indeksfilen chunks.jsonl i version {version} er beskadiget" in plain, error
    assert "Kør `lessons build`" in plain and "teknisk besked på engelsk" not in plain, error
    _no_english(error, "damaged index")


@pytest.mark.usefixtures("use_fake_embedder")
def test_an_older_version_serving_is_said_in_danish_on_the_overview(env_settings: Settings) -> None:
    """A damaged current version with a good older one: the overview's warning is Danish, naming both versions."""
    build_index(env_settings, FakeEmbedder())
    from lessons.store import read_current

    older = read_current(env_settings.index_dir)
    build_index(env_settings, FakeEmbedder(), full=True)
    damaged = _damage_current(env_settings)
    at = open_app(page="overblik")
    warnings = [str(w.value).replace("\\", "") for w in at.warning]
    [warning] = [w for w in warnings if "bruges" in w]
    assert f"den forrige gode version {older} bruges" in warning and damaged in warning, warnings
    assert "serving the previous" not in " ".join(warnings) and "teknisk besked" not in warning
    assert_danish(at, "overview with an older version serving")


def test_a_missing_model_folder_is_said_in_danish(
    env_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """LESSONS_MODEL naming a folder that is not there: the chat page says so in Danish, naming the folder."""
    build_index(env_settings, FakeEmbedder())
    monkeypatch.setenv("LESSONS_MODEL", str(tmp_path / "ingen-model"))
    at = open_app()
    [error] = [str(e.value).replace("\\", "") for e in at.error if "Sprogmodellen kan ikke" in str(e.value)]
    assert "ingen-model findes ikke" in error and "teknisk besked" not in error, error
    assert "LESSONS_ALLOW_DOWNLOAD" not in error, error  # a folder is not fetched from a hub
    _no_english(error, "missing model")


def test_a_setting_out_of_range_is_said_in_danish_on_every_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """LESSONS_TOP_K=500: each page stops with a Danish message naming the variable, the limit and the value."""
    monkeypatch.setenv("LESSONS_TOP_K", "500")
    for page in ("sporg", "projekter", "briefing", "overblik"):
        at = open_app(page=page)
        errors = [str(e.value).replace("\\", "") for e in at.error]
        assert any("LESSONS_TOP_K: må højst være 50 (angivet: '500')" in e for e in errors), (page, errors)
        assert not any("Input should be" in e for e in errors), (page, errors)


@pytest.mark.usefixtures("use_fake_embedder")
def test_a_corpus_without_entries_is_said_in_danish_on_first_start(
    env_settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """First start with LESSONS_CORPUS_DIR lacking entries/: the failed first build names the folder, in Danish."""
    monkeypatch.setenv("LESSONS_CORPUS_DIR", str(tmp_path / "tomt-korpus"))
    at = open_app()
    [error] = [str(e.value).replace("\\", "") for e in at.error if "Indekset kunne ikke bygges" in str(e.value)]
    assert "tomt-korpus/entries" in error and "ingen entries/-mappe" in error and "på engelsk" not in error, error
    _no_english(error, "corpus without entries")


def test_an_error_without_danish_words_is_marked_as_english_on_the_projects_page(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that has no words of its own (the embedder's NaN vector) is shown marked as technical English, inside
    the page's own Danish sentence, not passed off as the page's text."""
    from lessons.errors import QuestionError
    from lessons.ui import projects

    def fail(*_args: object, **_kwargs: object) -> object:
        raise QuestionError("the question could not be embedded (non-finite vector)")

    monkeypatch.setattr(projects, "find_similar_projects", fail)
    at = open_app(page="projekter")
    at.text_area(key="projects_description").set_value("Vi vil forudsige genindlæggelser af ældre borgere.")
    at.button[0].click().run()
    [warning] = [str(w.value) for w in at.warning if "Beskrivelsen kan ikke bruges" in str(w.value)]
    assert "(non-finite vector) (teknisk besked på engelsk)" in warning, warning
