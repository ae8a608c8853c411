"""Scaling: query latency and index size at 1x, 10x, 100x the corpus, and which FAISS index should
take over from flat search when flat stops being cheap.

The extra chunks are SYNTHETIC and labelled so (``entry_id`` ``synthetic-N``, ``meta.synthetic``).
Each is made from two real chunks of the same kind:

* text: their sentences, shuffled together, cut to the length of the first (so BM25 sees real
  Danish vocabulary with realistic document lengths);
* vector: the two real vectors mixed in the same proportion as their sentences, plus Gaussian
  noise, normalised. The noise (norm 0.3) is chosen so that at 10x a synthetic vector's nearest
  neighbour is as close as a real chunk's (median cosine about 0.94 for both; measured and
  reported in each run). The vectors are not embeddings of the shuffled text, but they lie where
  real e5 vectors lie, which is what matters for search cost and approximate-search recall.
  Embedding 13,000 chunks with the model would take about half an hour here and measure nothing
  more about search.

FAISS runs single-query searches with OpenMP threads. On this 2-core machine, with other work
on it, two threads make one flat search over 13,000 vectors 10-20x slower than one thread, so
every search here is timed with FAISS's default thread count (what lessons does today) and with
one thread.
"""

from __future__ import annotations

import contextlib
import math
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt
import psutil

from benchmarks.common import dir_size, ratio, summary_ms
from lessons.chunking import Chunk
from lessons.search import Searcher
from lessons.store import IndexData, load_index, write_version

__all__ = ["ann_comparison", "measure_scaling", "synthesize", "synthetic_vectors"]

Vectors = npt.NDArray[np.float32]
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
NOISE = 0.3


def _normalise(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (matrix / norms).astype(np.float32)
    return out


@dataclass(frozen=True)
class _Plan:
    """Which real chunks each synthetic chunk is mixed from, and in what proportion."""

    first: npt.NDArray[np.int64]
    second: npt.NDArray[np.int64]


def _plan(kinds: Sequence[str], extra: int, rng: np.random.Generator) -> _Plan:
    n = len(kinds)
    first = np.arange(extra, dtype=np.int64) % n  # round-robin keeps the mix of kinds
    by_kind: dict[str, npt.NDArray[np.int64]] = {}
    for kind in set(kinds):
        by_kind[kind] = np.array([i for i, k in enumerate(kinds) if k == kind], dtype=np.int64)
    second = np.array([rng.choice(by_kind[kinds[int(i)]]) for i in first], dtype=np.int64)
    return _Plan(first=first, second=second)


def _mix(
    vectors: Vectors, plan: _Plan, weights: npt.NDArray[np.float32], noise: float, rng: np.random.Generator
) -> Vectors:
    w = weights.reshape(-1, 1)
    mixed = w * vectors[plan.first] + (1.0 - w) * vectors[plan.second]
    jitter = np.asarray(rng.standard_normal(mixed.shape), dtype=np.float32) * (noise / math.sqrt(vectors.shape[1]))
    return _normalise(mixed + jitter)


def synthetic_vectors(
    vectors: Vectors, kinds: Sequence[str], factor: int, *, seed: int = 0, noise: float = NOISE
) -> Vectors:
    """The real vectors followed by (factor - 1) x as many synthetic ones (vectors only, for FAISS)."""
    rng = np.random.default_rng(seed)
    extra = len(vectors) * (factor - 1)
    if extra <= 0:
        return vectors.copy()
    plan = _plan(kinds, extra, rng)
    weights = rng.uniform(0.3, 0.7, size=extra).astype(np.float32)
    return np.concatenate([vectors, _mix(vectors, plan, weights, noise, rng)])


def synthesize(
    chunks: Sequence[Chunk], vectors: Vectors, factor: int, *, seed: int = 0, noise: float = NOISE
) -> tuple[list[Chunk], Vectors]:
    """The real chunks and vectors followed by (factor - 1) x as many synthetic ones (see the module doc)."""
    rng = np.random.default_rng(seed)
    real = list(chunks)
    extra = len(real) * (factor - 1)
    if extra <= 0:
        return real, vectors.copy()
    kinds = [c.meta.kind.value for c in real]
    plan = _plan(kinds, extra, rng)
    sentences = [[s for s in _SENTENCES.split(c.body.replace("\n", " ")) if s.strip()] or [c.body] for c in real]
    out = list(real)
    weights = np.empty(extra, dtype=np.float32)
    for s in range(extra):
        i, j = int(plan.first[s]), int(plan.second[s])
        pool = [(0, x) for x in sentences[i]] + [(1, x) for x in sentences[j]]
        order = rng.permutation(len(pool))
        budget = len(real[i].body.split())
        taken: list[tuple[int, str]] = []
        words = 0
        for position in order:
            taken.append(pool[int(position)])
            words += len(pool[int(position)][1].split())
            if words >= budget:
                break
        weights[s] = sum(1 for origin, _ in taken if origin == 0) / len(taken)
        meta = real[i].meta.model_copy(update={"title": f"(synthetic) {real[i].meta.title}"})
        out.append(
            Chunk(
                id=f"synthetic-{s}#0",
                entry_id=f"synthetic-{s}",
                ordinal=0,
                header=f"[synthetic] {real[i].header}",
                body=" ".join(text for _, text in taken),
                fields=real[i].fields,
                meta=meta,
            )
        )
    return out, np.concatenate([vectors, _mix(vectors, plan, weights, noise, rng)])


def _scaled_searcher(base: Searcher, data: IndexData, index: Any | None = None) -> Searcher:
    if index is not None:
        data = replace(data, index=index)
    return Searcher(data, base.embedder, ranking=base.ranking, max_question_chars=base.max_question_chars)


@contextlib.contextmanager
def faiss_threads(threads: int | None) -> Iterator[int]:
    """Run with FAISS limited to ``threads`` OpenMP threads (None: leave the default); yields the count used."""
    before = faiss.omp_get_max_threads()
    if threads is not None:
        faiss.omp_set_num_threads(threads)
    try:
        yield faiss.omp_get_max_threads()
    finally:
        faiss.omp_set_num_threads(before)


def _time_searches(
    searcher: Searcher, questions: Sequence[tuple[str, Vectors]], repetitions: int
) -> tuple[dict[str, Any], list[list[str]]]:
    """Hybrid searches with precomputed vectors: total and phases (dense, BM25, the rest), and the top 5s."""
    from benchmarks.latency import instrumented

    timed, sink = instrumented(searcher)
    totals: list[float] = []
    phases: dict[str, list[float]] = {"dense": [], "bm25": [], "fusion": []}
    tops: list[list[str]] = []
    for question, vector in questions[:3]:
        timed.search(question, 5, vector=vector)  # warm-up
    for rep in range(repetitions):
        for question, vector in questions:
            sink.clear()
            started = time.perf_counter()
            result = timed.search(question, 5, vector=vector)
            total = time.perf_counter() - started
            totals.append(total)
            phases["dense"].append(sink.get("dense", 0.0))
            phases["bm25"].append(sink.get("bm25", 0.0))
            phases["fusion"].append(max(0.0, total - sink.get("dense", 0.0) - sink.get("bm25", 0.0)))
            if rep == 0:
                tops.append([h.chunk.id for h in result.hits])
    return {"search": summary_ms(totals), "phases": {k: summary_ms(v) for k, v in phases.items()}}, tops


def nearest_neighbour_cosine(vectors: Vectors, sample: Sequence[int] | npt.NDArray[np.int64]) -> dict[str, float]:
    """Median and 10th/90th percentile of the cosine between sampled vectors and their nearest other vector."""
    rows = np.asarray(sample, dtype=np.int64)
    sims = vectors[rows] @ vectors.T
    sims[np.arange(len(rows)), rows] = -2.0
    best = sims.max(axis=1)
    return {
        "median": round(float(np.median(best)), 4),
        "p10": round(float(np.percentile(best, 10)), 4),
        "p90": round(float(np.percentile(best, 90)), 4),
    }


def hnsw_index(vectors: Vectors, m: int = 32, ef_construction: int = 80) -> Any:
    """An HNSW graph over the vectors (inner product)."""
    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(np.ascontiguousarray(vectors))
    return index


def measure_scaling(
    searcher: Searcher,
    questions: Sequence[tuple[str, Vectors]],
    factors: Sequence[int],
    *,
    repetitions: int = 1,
    measured_median_ms: float | None = None,
    floor_median_ms: float | None = None,
    hnsw_at: int | None = None,
    ef_search: int = 128,
    work: Path | None = None,
) -> dict[str, Any]:
    """For each factor: synthesise, write the index to disk (size), load it (time, memory), and time
    hybrid searches with precomputed question vectors (the embedding does not change with size),
    with FAISS's default thread count and with one thread.

    ``measured_median_ms`` (our end-to-end median at 1x, from the latency section) turns the extra
    search time at each size into an estimated end-to-end median and its ratio to the floor.
    At ``hnsw_at`` the hybrid search also runs over an HNSW index instead of the flat one.
    """
    base_chunks = searcher.chunks
    base_vectors = searcher.data.vectors()
    process = psutil.Process()
    rng = np.random.default_rng(1)
    out: dict[str, Any] = {
        "factors": {},
        "synthetic": True,
        "noise": NOISE,
        "real_nearest_neighbour_cosine": nearest_neighbour_cosine(base_vectors, np.arange(len(base_vectors))),
    }
    baseline: float | None = None
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        for factor in factors:
            chunks, vectors = synthesize(base_chunks, base_vectors, factor)
            folder = Path(tmp) / f"x{factor}"
            started = time.perf_counter()
            manifest = write_version(
                folder,
                vectors,
                chunks,
                model=searcher.data.manifest.model,
                model_fingerprint=searcher.data.manifest.model_fingerprint,
                corpus_hash=f"synthetic-x{factor}",
                entry_count=len({c.entry_id for c in chunks}),
                chunk_words=searcher.data.manifest.chunk_words,
                package_version=searcher.data.manifest.package_version,
                background=searcher.data.background,
            )
            written = time.perf_counter() - started
            rss_before = process.memory_info().rss
            started = time.perf_counter()
            data = load_index(folder)
            loaded = time.perf_counter()
            scaled = _scaled_searcher(searcher, data)
            ready = time.perf_counter()
            rss_after = process.memory_info().rss
            entry: dict[str, Any] = {
                "chunks": len(chunks),
                "synthetic_chunks": len(chunks) - len(base_chunks),
                "index_bytes": dir_size(folder / "versions" / manifest.version),
                "vectors_bytes": (folder / "versions" / manifest.version / "vectors.faiss").stat().st_size,
                "write_s": round(written, 3),
                "load_index_s": round(loaded - started, 3),
                "searcher_init_s": round(ready - loaded, 3),
                "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
            }
            if factor > 1:
                synthetic_rows = rng.choice(
                    np.arange(len(base_chunks), len(chunks)),
                    size=min(500, len(chunks) - len(base_chunks)),
                    replace=False,
                )
                entry["synthetic_nearest_neighbour_cosine"] = nearest_neighbour_cosine(vectors, synthetic_rows)
            tops: list[list[str]] = []
            for label, threads in (("faiss_default_threads", None), ("faiss_1_thread", 1)):
                with faiss_threads(threads) as used:
                    timing, tops = _time_searches(scaled, questions, repetitions)
                entry[label] = {"threads": used, **timing}
            if baseline is None:
                baseline = entry["faiss_default_threads"]["search"]["median_ms"]
            if measured_median_ms is not None and floor_median_ms:
                for label in ("faiss_default_threads", "faiss_1_thread"):
                    extra = entry[label]["search"]["median_ms"] - baseline
                    entry[label]["estimated_total_median_ms"] = round(measured_median_ms + extra, 3)
                    entry[label]["estimated_ratio_to_floor"] = ratio(measured_median_ms + extra, floor_median_ms)
            if hnsw_at == factor:
                started = time.perf_counter()
                hnsw = hnsw_index(vectors)
                hnsw.hnsw.efSearch = ef_search
                built = time.perf_counter() - started
                ann = _scaled_searcher(searcher, data, index=hnsw)
                with faiss_threads(1):
                    ann_timing, ann_tops = _time_searches(ann, questions, repetitions)
                same = [len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(ann_tops, tops, strict=True)]
                entry["hybrid_with_hnsw"] = {
                    "ef_search": ef_search,
                    "build_s": round(built, 3),
                    **ann_timing,
                    "top5_overlap_with_flat": round(float(np.mean(same)), 4) if same else None,
                }
                del ann, hnsw
            out["factors"][str(factor)] = entry
            del scaled, data, chunks, vectors
    return out


def _recall(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float:
    hits = [len(set(f[f >= 0].tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth, strict=True)]
    return round(float(np.mean(hits)), 4)


def _time_single(
    index: Any, queries: Vectors, k: int, repetitions: int
) -> tuple[dict[str, Any], npt.NDArray[np.int64]]:
    times: list[float] = []
    ids = np.zeros((len(queries), k), dtype=np.int64)
    for q in queries[:3]:
        index.search(q.reshape(1, -1), k)
    for _ in range(repetitions):
        for row, q in enumerate(queries):
            started = time.perf_counter()
            _d, found = index.search(q.reshape(1, -1), k)
            times.append(time.perf_counter() - started)
            ids[row] = found[0]
    return summary_ms(times), ids


def _probe(
    index: Any,
    kind: str,
    label: str,
    build_s: float,
    *,
    queries: Vectors,
    truth: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    depth: int,
    repetitions: int,
) -> dict[str, Any]:
    """One approximate index's row: single-thread latency at k=10 and k=``depth``, recall against flat."""
    with faiss_threads(1):
        t10, ids10 = _time_single(index, queries, 10, repetitions)
        t100, ids100 = _time_single(index, queries, depth, repetitions)
    return {
        "kind": kind,
        "index": label,
        "build_s": round(build_s, 3),
        "bytes": int(faiss.serialize_index(index).nbytes),
        "k10": t10,
        "k100": t100,
        "recall@10": _recall(ids10, truth[0]),
        "recall@100": _recall(ids100, truth[1]),
    }


def ann_comparison(
    base_vectors: Vectors,
    kinds: Sequence[str],
    queries: Vectors,
    factors: Sequence[int],
    *,
    repetitions: int = 1,
    hnsw_ef: Sequence[int] = (64, 128, 256, 512),
    ivf_nprobe: Sequence[int] = (16, 32, 64),
) -> dict[str, Any]:
    """Flat vs HNSW vs IVF on synthetic vectors: per-query latency (k=10 and k=100, one query at a
    time, as the app asks) and recall@10 / recall@100 against flat search, plus build time and size.

    Searches run with one FAISS thread (flat also with FAISS's default, to show what that costs);
    the HNSW and IVF builds use the default threads."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    out: dict[str, Any] = {}
    for factor in factors:
        vectors = np.ascontiguousarray(synthetic_vectors(base_vectors, kinds, factor))
        n, d = vectors.shape
        rows: list[dict[str, Any]] = []
        flat = faiss.IndexFlatIP(d)
        flat.add(vectors)
        depth = min(100, n)
        with faiss_threads(None) as default_threads:
            default10, _ = _time_single(flat, queries, 10, repetitions)
            default100, _ = _time_single(flat, queries, depth, repetitions)
        with faiss_threads(1):
            flat10, truth10 = _time_single(flat, queries, 10, repetitions)
            flat100, truth100 = _time_single(flat, queries, depth, repetitions)
        for kind, label, t10, t100 in (
            ("flat", "Flat (1 thread)", flat10, flat100),
            ("flat-default", f"Flat ({default_threads} threads, FAISS default)", default10, default100),
        ):
            rows.append(
                {
                    "kind": kind,
                    "index": label,
                    "build_s": 0.0,
                    "bytes": int(vectors.nbytes),
                    "k10": t10,
                    "k100": t100,
                    "recall@10": 1.0,
                    "recall@100": 1.0,
                }
            )

        truth = (truth10, truth100)
        started = time.perf_counter()
        hnsw = hnsw_index(vectors)
        hnsw_build = time.perf_counter() - started
        for ef in hnsw_ef:
            hnsw.hnsw.efSearch = ef
            rows.append(
                _probe(
                    hnsw,
                    "hnsw",
                    f"HNSW32 efSearch={ef}",
                    hnsw_build,
                    queries=queries,
                    truth=truth,
                    depth=depth,
                    repetitions=repetitions,
                )
            )
        del hnsw
        nlist = max(1, round(2 * math.sqrt(n)))
        if n >= 39 * nlist:  # FAISS wants about 39 training points per list
            started = time.perf_counter()
            quantizer = faiss.IndexFlatIP(d)
            ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.train(vectors)
            ivf.add(vectors)
            ivf_build = time.perf_counter() - started
            for nprobe in ivf_nprobe:
                ivf.nprobe = nprobe
                label = f"IVF{nlist},Flat nprobe={nprobe}"
                rows.append(
                    _probe(
                        ivf, "ivf", label, ivf_build, queries=queries, truth=truth, depth=depth, repetitions=repetitions
                    )
                )
            del ivf
        out[str(factor)] = {"vectors": n, "rows": rows}
        del flat, vectors
    return out
