"""Corrupt or foreign index: every damage gives a clear message and the fix, never a crash or a wrong answer.

Each file of an index version (vectors.faiss, chunks.jsonl, background.npy, manifest.json)
is truncated, bit-flipped, replaced with random bytes or deleted; versions of another
model (same and other dimension) are put in place; CURRENT is damaged. Where a previous
good version exists it serves, with a warning naming the problem and `lessons build`;
where none does, the error says the same. FAISS never reads a file whose checksum failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest
from typer.testing import CliRunner

from lessons import store
from lessons.build import build_index
from lessons.cli import app
from lessons.embedding import FakeEmbedder
from lessons.engine import index_status, open_searcher
from lessons.errors import IndexUnusableError
from lessons.settings import Settings
from tests.conftest import record_first_arguments
from tests.reliability_report import record

pytestmark = pytest.mark.heavy

AREA = "Corrupt or foreign index"
runner = CliRunner()
FILES = ("vectors.faiss", "chunks.jsonl", "background.npy", "manifest.json")


def _flip(position: float, bit: int = 0) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        out = bytearray(data)
        at = min(len(out) - 1, int(len(out) * position))
        out[at] ^= 1 << bit
        return bytes(out)

    return damage


def _random_bytes(size: int | None) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        return random.Random(size or len(data)).randbytes(size if size is not None else len(data))

    return damage


DAMAGES: dict[str, Callable[[bytes], bytes] | None] = {
    "truncated to 0 bytes": lambda data: b"",
    "truncated to half": lambda data: data[: len(data) // 2],
    "last byte cut": lambda data: data[:-1],
    "bit flipped in the first byte": _flip(0.0, 7),
    "bit flipped in the middle": _flip(0.5, 0),
    "bit flipped in the last byte": _flip(1.0, 3),
    "replaced by random bytes of the same length": _random_bytes(None),
    "replaced by 4 KB of random bytes": _random_bytes(4096),
    "replaced by deeply nested JSON": lambda data: b"[" * 100_000 + b"]" * 100_000,
    "deleted": None,
}


def _version_dir(index_dir: Path, version: str | None = None) -> Path:
    name = version or store.read_current(index_dir)
    assert name
    return index_dir / "versions" / name


def _damage(path: Path, damage: Callable[[bytes], bytes] | None) -> None:
    if damage is None:
        path.unlink()
    else:
        path.write_bytes(damage(path.read_bytes()))


@pytest.fixture
def faiss_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every path FAISS is asked to read (as given: a string)."""
    yield record_first_arguments(monkeypatch, faiss, "read_index")


def _two_versions(settings: Settings, fake: FakeEmbedder) -> tuple[str, str]:
    build_index(settings, fake)
    older = store.read_current(settings.index_dir)
    build_index(settings, fake, full=True)
    current = store.read_current(settings.index_dir)
    assert older and current and older != current
    return older, current


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("name", FILES)
def test_damaged_file_falls_back_or_says_rebuild(
    settings: Settings, fake: FakeEmbedder, faiss_reads: list[str], name: str, damage: str
) -> None:
    """A damaged file of the current version: the previous version serves with a warning; alone, a clear error."""
    older, current = _two_versions(settings, fake)
    broken = _version_dir(settings.index_dir, current)
    _damage(broken / name, DAMAGES[damage])
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == older
    (warning,) = warnings
    assert current in warning and f"serving the previous good version {older}" in warning
    assert "lessons build" in warning
    assert name in warning or "manifest" in warning
    assert searcher.search("KOL-patienter hjemmemålinger").hits[0].chunk.entry_id == "project-kol"
    # integrity first: FAISS never opened a file of the damaged version
    assert all(broken not in Path(path).parents for path in faiss_reads)
    # without the previous version: a clear error naming the problem and the fix, no crash
    shutil.rmtree(_version_dir(settings.index_dir, older))
    with pytest.raises(IndexUnusableError) as info:
        open_searcher(settings, fake)
    message = str(info.value)
    assert "no usable index" in message and "lessons build" in message
    assert name in message or "manifest" in message
    status = index_status(settings)
    assert status.manifest is None and status.problem == message
    record(
        AREA,
        f"{name}: truncated (3 ways), bit-flipped (3 places), random bytes (2 sizes), nested JSON, or deleted",
        1,
        "detected before FAISS read it; previous version served with a warning naming the file and "
        "`lessons build`; with no previous version IndexUnusableError naming the problem and the fix",
    )


def test_every_single_bit_flip_of_the_manifest_is_detected(settings: Settings, fake: FakeEmbedder) -> None:
    """Flipping any one bit anywhere in manifest.json never lets that version serve unnoticed."""
    older, current = _two_versions(settings, fake)
    manifest = _version_dir(settings.index_dir, current) / "manifest.json"
    original = manifest.read_bytes()
    outcomes: Counter[str] = Counter()
    for position in range(len(original)):
        data = bytearray(original)
        data[position] ^= 1 << (position % 8)
        manifest.write_bytes(bytes(data))
        loaded = store.load_index(settings.index_dir)
        assert loaded.manifest.version == older, f"flip at byte {position} went unnoticed"
        problem = loaded.warnings[0]
        outcomes["checksum" if "checksum" in problem else "unreadable" if "unreadable" in problem else "other"] += 1
    manifest.write_bytes(original)
    assert store.load_index(settings.index_dir).manifest.version == current
    record(
        AREA,
        "manifest.json: every single-bit flip (one per byte position)",
        len(original),
        "all detected, previous version served; " + ", ".join(f"{n} as {kind}" for kind, n in sorted(outcomes.items())),
    )


def test_random_bit_flips_in_data_files_never_reach_faiss(
    settings: Settings, fake: FakeEmbedder, faiss_reads: list[str]
) -> None:
    """200 random single-bit flips per data file are all caught by the checksum, before FAISS reads anything."""
    older, current = _two_versions(settings, fake)
    folder = _version_dir(settings.index_dir, current)
    rng = random.Random(6)
    total = 0
    for name in FILES[:3]:
        path = folder / name
        original = path.read_bytes()
        for _ in range(200):
            data = bytearray(original)
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(data))
            faiss_reads.clear()
            loaded = store.load_index(settings.index_dir)
            assert loaded.manifest.version == older
            assert "checksum mismatch" in loaded.warnings[0] and name in loaded.warnings[0]
            assert all(folder not in Path(p).parents for p in faiss_reads)
            total += 1
        path.write_bytes(original)
    record(
        AREA,
        "random single-bit flips in vectors.faiss, chunks.jsonl, background.npy",
        total,
        "all caught by sha256 before FAISS read the file; previous version served",
    )


class OtherModel(FakeEmbedder):
    """A different model: other vectors for the same texts."""

    def _vector(self, text: str) -> np.ndarray:  # type: ignore[type-arg]
        return super()._vector(text[::-1])


def _foreign_version(settings: Settings, embedder: FakeEmbedder, tmp: Path) -> Path:
    """A complete version folder built with another model, from the same corpus."""
    other = settings.model_copy(update={"index_dir": tmp})
    build_index(other, embedder)
    return _version_dir(tmp)


@pytest.mark.parametrize("dimension", [64, 32], ids=["same-dimension", "other-dimension"])
def test_vectors_file_of_another_model_is_refused(
    settings: Settings, fake: FakeEmbedder, faiss_reads: list[str], tmp_path: Path, dimension: int
) -> None:
    """vectors.faiss copied from another model's index is caught by the checksum; the previous version serves."""
    older, current = _two_versions(settings, fake)
    foreign = _foreign_version(settings, OtherModel(dimension, name="other-model"), tmp_path / "other")
    target = _version_dir(settings.index_dir, current)
    shutil.copy(foreign / "vectors.faiss", target / "vectors.faiss")
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == older
    assert "vectors.faiss" in warnings[0] and "checksum mismatch" in warnings[0] and "lessons build" in warnings[0]
    assert all(target not in Path(p).parents for p in faiss_reads)
    record(
        AREA,
        f"vectors.faiss of another model, {'same' if dimension == 64 else 'other'} dimension",
        1,
        "checksum mismatch named; previous version served with a warning and the fix",
    )


@pytest.mark.parametrize("dimension", [64, 32], ids=["same-dimension", "other-dimension"])
def test_whole_version_of_another_model(
    settings: Settings, use_fake_embedder: FakeEmbedder, tmp_path: Path, dimension: int
) -> None:
    """A consistent version folder of another model as CURRENT: our previous version serves; alone, both are named."""
    fake = use_fake_embedder
    build_index(settings, fake)
    own = store.read_current(settings.index_dir)
    foreign = _foreign_version(settings, FakeEmbedder(dimension, name="other-model"), tmp_path / "other")
    shutil.copytree(foreign, settings.index_dir / "versions" / foreign.name)
    (settings.index_dir / "CURRENT").write_text(foreign.name)
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == own
    assert len(warnings) == 1
    assert "other-model" in warnings[0] and "fake-embedder" in warnings[0] and "lessons build" in warnings[0]
    assert searcher.search("KOL-patienter hjemmemålinger").hits[0].chunk.entry_id == "project-kol"
    assert own is not None
    shutil.rmtree(settings.index_dir / "versions" / own)
    with pytest.raises(IndexUnusableError, match=r"other-model.*fake-embedder.*lessons build"):
        open_searcher(settings, fake)
    result = runner.invoke(app, ["ask", "CE-mærkning"], env=_env(settings))
    assert result.exit_code == 1 and "other-model" in result.output and "Traceback" not in result.output
    record(
        AREA,
        f"whole index version of another model, {'same' if dimension == 64 else 'other'} dimension",
        1,
        "previous own version served with a warning naming both models; alone: error naming both models and "
        "`lessons build` (CLI exit 1, no traceback)",
    )


def _rewrite_checksums(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for name in FILES[:3]:
        manifest["checksums"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    manifest.pop("manifest_sha256", None)
    body = json.dumps(manifest, sort_keys=True, ensure_ascii=False)
    manifest["manifest_sha256"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _tamper_vectors(folder: Path, tmp: Path, settings: Settings) -> str:
    foreign = _foreign_version(settings, FakeEmbedder(32, name="fake-embedder"), tmp)
    shutil.copy(foreign / "vectors.faiss", folder / "vectors.faiss")
    return "vectors of dimension 64 take"


def _tamper_chunks(folder: Path, tmp: Path, settings: Settings) -> str:
    lines = (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "chunks.jsonl").write_text("".join(lines[1:]), encoding="utf-8")
    return "chunks, the manifest says"


def _tamper_chunks_json(folder: Path, tmp: Path, settings: Settings) -> str:
    (folder / "chunks.jsonl").write_text('{"id": 1}\nnot json\n', encoding="utf-8")
    return "unreadable"


def _tamper_chunks_nested(folder: Path, tmp: Path, settings: Settings) -> str:
    (folder / "chunks.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    return "unreadable"


def _tamper_background_pickle(folder: Path, tmp: Path, settings: Settings) -> str:
    marker = tmp / "unpickled"

    class Bomb:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return (open, (str(marker), "w"))  # unpickling this would create the marker file

    with (folder / "background.npy").open("wb") as fh:
        np.save(fh, np.array([Bomb()], dtype=object), allow_pickle=True)
    return "background.npy"


def _tamper_background_shape(folder: Path, tmp: Path, settings: Settings) -> str:
    with (folder / "background.npy").open("wb") as fh:
        np.save(fh, np.zeros((3, 5), dtype=np.float64), allow_pickle=False)
    return "wrong shape"


TAMPERING = {
    "vectors.faiss of another dimension": _tamper_vectors,
    "chunks.jsonl with a chunk removed": _tamper_chunks,
    "chunks.jsonl with invalid lines": _tamper_chunks_json,
    "chunks.jsonl with a deeply nested line": _tamper_chunks_nested,
    "background.npy holding a pickled object (pickle bomb)": _tamper_background_pickle,
    "background.npy of the wrong shape and type": _tamper_background_shape,
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_consistent_tampering_is_still_refused(
    settings: Settings, fake: FakeEmbedder, tmp_path: Path, tampering: str
) -> None:
    """Files replaced *and* the manifest's checksums updated to match: the content checks still refuse them."""
    older, current = _two_versions(settings, fake)
    folder = _version_dir(settings.index_dir, current)
    expected = TAMPERING[tampering](folder, tmp_path, settings)
    _rewrite_checksums(folder)
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == older
    assert expected in warnings[0] and "lessons build" in warnings[0]
    assert not (tmp_path / "unpickled").exists()
    record(
        AREA,
        f"consistent tampering (checksums rewritten): {tampering}",
        1,
        f"refused by the content checks ('{expected}'); previous version served; nothing unpickled",
    )


HUGE = 1 << 36  # 2^36 vectors of dimension 64: one terabyte, if anything believed it


def _huge_header(folder: Path) -> None:
    """Make vectors.faiss's header claim HUGE vectors (the file keeps its size)."""
    data = bytearray((folder / "vectors.faiss").read_bytes())
    dim = int.from_bytes(data[4:8], "little")
    data[8:16] = HUGE.to_bytes(8, "little")  # ntotal
    data[37:45] = (HUGE * dim).to_bytes(8, "little")  # the float array's length
    (folder / "vectors.faiss").write_bytes(bytes(data))


def _huge_manifest(folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["chunk_count"] = HUGE
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _huge_background(folder: Path) -> None:
    """A background.npy whose header claims HUGE rows of the right width, followed by a few bytes."""
    dim = json.loads((folder / "manifest.json").read_text())["dimension"]
    header = {"descr": "<f4", "fortran_order": False, "shape": (HUGE, dim)}
    with (folder / "background.npy").open("wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(b"\0" * 64)


def _huge_header_and_manifest(folder: Path) -> None:
    _huge_header(folder)
    _huge_manifest(folder)


HUGE_CLAIMS: dict[str, tuple[Callable[[Path], None], str]] = {
    "vectors.faiss header claiming 2^36 vectors": (_huge_header, "does not hold a flat inner-product index"),
    "vectors.faiss header and manifest both claiming 2^36 vectors": (
        _huge_header_and_manifest,
        "vectors of dimension 64 take",
    ),
    "background.npy header claiming 2^36 rows": (_huge_background, "not the size its header claims"),
}


@pytest.mark.parametrize("case", list(HUGE_CLAIMS))
def test_size_claims_are_checked_before_anything_allocates(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """A tampered header or count (checksums rewritten) is refused by size before FAISS or numpy read the file."""
    older, current = _two_versions(settings, fake)
    folder = _version_dir(settings.index_dir, current)
    tamper, expected = HUGE_CLAIMS[case]
    tamper(folder)
    _rewrite_checksums(folder)
    reads: list[str] = []
    real_index, real_load = faiss.read_index, np.load

    def index_spy(path: str, *args: object) -> object:
        if Path(path).parent == folder:  # never hand the tampered file to FAISS (it would allocate a terabyte)
            reads.append(path)
            raise MemoryError("FAISS was asked to read the tampered vectors")
        return real_index(path, *args)

    def load_spy(file: object, *args: object, **kwargs: object) -> object:
        if Path(str(file)).parent == folder:
            reads.append(str(file))
            raise MemoryError("numpy was asked to load the tampered background")
        return real_load(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(faiss, "read_index", index_spy)
    monkeypatch.setattr(np, "load", load_spy)
    searcher, warnings = open_searcher(settings, fake)
    assert reads == []
    assert searcher.version == older
    assert expected in warnings[0] and "lessons build" in warnings[0]
    record(
        AREA,
        f"consistent tampering (checksums rewritten): {case}",
        1,
        f"refused by comparing the file size with the manifest's counts ('{expected}') before FAISS or numpy "
        "read it; previous version served",
    )


CURRENT_DAMAGE: dict[str, bytes | None] = {
    "deleted": None,
    "empty": b"",
    "garbage text": b"not a version\n",
    "names a version that does not exist": b"20990101T000000000000Z-deadbeef",
    "path traversal (../../etc)": b"../../etc",
    "binary bytes": bytes(range(256)),
    "NUL bytes": b"\x00" * 16,
}


@pytest.mark.parametrize("damage", list(CURRENT_DAMAGE))
def test_damaged_current_pointer_serves_newest_good_version(
    settings: Settings, fake: FakeEmbedder, damage: str
) -> None:
    """A missing or garbled CURRENT: the newest complete version serves, with a warning and the fix."""
    _older, current = _two_versions(settings, fake)
    pointer = settings.index_dir / "CURRENT"
    content = CURRENT_DAMAGE[damage]
    if content is None:
        pointer.unlink()
    else:
        pointer.write_bytes(content)
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == current
    assert "CURRENT" in warnings[0] and "lessons build" in warnings[0]
    result = runner.invoke(app, ["status"], env=_env(settings))
    assert result.exit_code == 0 and "warning: CURRENT" in result.output
    record(AREA, f"CURRENT {damage}", 1, "newest complete version served with a warning naming CURRENT and the fix")


def _env(settings: Settings) -> dict[str, str]:
    return {
        "LESSONS_CORPUS_DIR": str(settings.corpus_dir),
        "LESSONS_INDEX_DIR": str(settings.index_dir),
        "LESSONS_DATA_DIR": str(settings.data_dir),
        "LESSONS_MODEL": settings.model,
    }


def test_cli_with_damaged_and_with_no_usable_index(settings: Settings, use_fake_embedder: FakeEmbedder) -> None:
    """`lessons ask` and `status` warn and use the previous version; with nothing usable: exit 1, no traceback."""
    older, current = _two_versions(settings, use_fake_embedder)
    (_version_dir(settings.index_dir, current) / "vectors.faiss").write_bytes(b"\x00" * 10)
    result = runner.invoke(app, ["ask", "--json", "KOL-patienter hjemmemålinger"], env=_env(settings))
    assert result.exit_code == 0, result.output
    assert "checksum mismatch" in result.output and f"serving the previous good version {older}" in result.output
    assert '"entry_id": "project-kol"' in result.output
    (_version_dir(settings.index_dir, older) / "manifest.json").unlink()
    for command in (["ask", "CE-mærkning"], ["status"]):
        result = runner.invoke(app, command, env=_env(settings))
        assert result.exit_code == 1
        assert "error: no usable index" in result.output and "lessons build" in result.output
        assert "no manifest" in result.output and "checksum mismatch" in result.output
        assert "Traceback" not in result.output
    record(
        AREA,
        "CLI ask/status with a damaged current version, then with no usable version",
        3,
        "ask answered from the previous version with a warning; with none usable: one 'error:' line listing "
        "each version's problem and `lessons build`, exit 1, no traceback",
    )


def test_manifest_deleted_and_versions_folder_garbage(settings: Settings, fake: FakeEmbedder) -> None:
    """Stray files and half-deleted folders in versions/ are skipped with a reason, never loaded."""
    _older, current = _two_versions(settings, fake)
    versions = settings.index_dir / "versions"
    (versions / "zzzz-not-a-folder").write_bytes(b"junk")
    (versions / "zzzz-empty-folder").mkdir()
    (versions / ".tmp-leftover").mkdir()
    (settings.index_dir / "CURRENT").unlink()
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == current
    assert any("zzzz-empty-folder has no manifest" in w for w in warnings)
    record(
        AREA,
        "stray file, empty folder and .tmp-* folder in versions/ with CURRENT deleted",
        1,
        "skipped with a reason; newest complete version served",
    )


def test_format_1_manifest_without_self_checksum_still_loads(settings: Settings, fake: FakeEmbedder) -> None:
    """An index written before manifests carried their own checksum (format 1) still serves, without warnings."""
    build_index(settings, fake)
    manifest_path = _version_dir(settings.index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.pop("manifest_sha256")
    manifest["format_version"] = 1
    manifest_path.write_text(json.dumps(manifest, indent=2))
    searcher, warnings = open_searcher(settings, fake)
    assert warnings == [] and searcher.version == manifest["version"]
    manifest["format_version"] = 2  # a format-2 manifest must carry its checksum
    manifest_path.write_text(json.dumps(manifest, indent=2))
    with pytest.raises(IndexUnusableError, match=r"manifest\.json is damaged"):
        open_searcher(settings, fake)
    record(
        AREA,
        "manifest of the previous format (1, no self-checksum); format 2 without its checksum",
        2,
        "format 1 still served without warnings; format 2 without a checksum refused as damaged",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("checksums", []), ("dimension", "64"), ("entry_hashes", None), ("chunk_count", [1])],
)
def test_manifest_fields_of_the_wrong_type_are_refused(
    settings: Settings, fake: FakeEmbedder, field: str, value: object
) -> None:
    """A manifest with a field of the wrong type (its own checksum recomputed) is refused, not crashed on."""
    older, current = _two_versions(settings, fake)
    path = _version_dir(settings.index_dir, current) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest[field] = value
    manifest.pop("manifest_sha256")
    body = json.dumps(manifest, sort_keys=True, ensure_ascii=False)
    manifest["manifest_sha256"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    path.write_text(json.dumps(manifest))
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == older
    assert f"field {field} is not" in warnings[0] and "lessons build" in warnings[0]
    record(
        AREA,
        "manifest fields of the wrong type, its checksum recomputed",
        1,
        "refused as an unreadable manifest naming the field; previous version served",
    )


VERSION_FILES = ("manifest.json", "chunks.jsonl", "vectors.faiss", "nomatch_params.json", "nomatch_texts.json")


@pytest.mark.parametrize("kind", ["symlink", "fifo", "folder"])
@pytest.mark.parametrize("name", VERSION_FILES)
def test_a_version_file_that_is_not_a_regular_file_is_refused_unread(
    settings: Settings, fake: FakeEmbedder, tmp_path: Path, name: str, kind: str
) -> None:
    """A link (even to an identical copy), a FIFO or a folder in a file's place: the version is refused, naming it."""
    older, current = _two_versions(settings, fake)
    broken = _version_dir(settings.index_dir, current)
    target = broken / name
    outside = tmp_path / f"outside-{name}"
    shutil.copyfile(target, outside)
    target.unlink()
    if kind == "symlink":
        target.symlink_to(outside)
    elif kind == "fifo":
        os.mkfifo(target)  # a read would block forever: it must not be opened for reading
    else:
        target.mkdir()
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == older
    (warning,) = warnings
    assert name in warning and "not a regular file" in warning and "lessons build" in warning
    record(AREA, f"{name} replaced by a {kind}", 1, "refused before reading, naming the file; previous version served")


@pytest.mark.parametrize("name", VERSION_FILES)
def test_an_oversized_version_file_is_refused_before_it_is_read(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A version file over its size limit (a sparse file, so no disk is used) is refused before it is read or hashed."""
    _older, current = _two_versions(settings, fake)
    target = _version_dir(settings.index_dir, current) / name
    os.truncate(target, store.MAX_DATA_FILE_BYTES + 1)
    hashed = record_first_arguments(monkeypatch, store, "sha256_file")
    with pytest.raises(IndexUnusableError) as info:
        store._load_version(target.parent)
    message = str(info.value)
    assert name in message and f"{store.MAX_DATA_FILE_BYTES + 1:,} bytes; the limit is" in message
    assert name not in {path.name for path in hashed}


def test_current_pointer_that_is_a_fifo_or_huge_is_ignored(settings: Settings, fake: FakeEmbedder) -> None:
    """A FIFO or an oversized CURRENT is not read: the newest complete version serves, with a warning."""
    _older, current = _two_versions(settings, fake)
    pointer = settings.index_dir / "CURRENT"
    pointer.unlink()
    os.mkfifo(pointer)
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == current and "CURRENT" in warnings[0]
    pointer.unlink()
    pointer.write_bytes(current.encode() + b" " * store.MAX_CURRENT_BYTES)
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == current and "CURRENT" in warnings[0]
