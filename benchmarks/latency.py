"""Query latency, measured interleaved: for each question every system runs once, in rotating order,
so a burst of load on the shared machine hits all of them alike.

The phases inside ``Searcher.search`` are timed without touching the library: a second
searcher over the same index gets thin timing proxies around its embedder, its FAISS index
and its BM25 index. Whatever is not embedding, dense search or BM25 scoring is reported as
"fusion and the rest" (question normalisation, language detection, glossary expansion, the
candidate pool, min-max fusion, ranking, one chunk per entry, the no-match margin).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.common import ratio, summary_ms
from lessons.embedding import Embedder, Progress
from lessons.search import Searcher
from lessons.store import IndexData

__all__ = ["PHASES", "floor_query", "instrumented", "measure_latency", "process_latency"]

PHASES = ("embedding", "dense", "bm25", "fusion")


class _TimedEmbedder:
    """An Embedder that adds the time of embed_queries to sink['embedding']."""

    def __init__(self, inner: Embedder, sink: dict[str, float]) -> None:
        self.inner = inner
        self.sink = sink
        self.name = inner.name
        self.dimension = inner.dimension
        self.fingerprint = inner.fingerprint

    def embed_queries(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        started = time.perf_counter()
        try:
            return self.inner.embed_queries(texts)
        finally:
            self.sink["embedding"] = self.sink.get("embedding", 0.0) + time.perf_counter() - started

    def embed_documents(self, texts: Sequence[str], progress: Progress | None = None) -> npt.NDArray[np.float32]:
        return self.inner.embed_documents(texts, progress)


class _TimedMethod:
    """Forwards every attribute to ``inner``; one method's time is added to sink[key]."""

    def __init__(self, inner: Any, method: str, sink: dict[str, float], key: str) -> None:
        self._inner = inner
        self._method = getattr(inner, method)
        self._name = method
        self._sink = sink
        self._key = key

    def __getattr__(self, name: str) -> Any:
        if name == self._name:
            return self._timed
        return getattr(self._inner, name)

    def _timed(self, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self._method(*args, **kwargs)
        finally:
            self._sink[self._key] = self._sink.get(self._key, 0.0) + time.perf_counter() - started


def _timed(function: Callable[..., Any], sink: dict[str, float], key: str) -> Callable[..., Any]:
    """``function``, adding the seconds each call takes to ``sink[key]``."""

    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sink[key] = sink.get(key, 0.0) + time.perf_counter() - started

    return run


def instrumented(searcher: Searcher) -> tuple[Searcher, dict[str, float]]:
    """A searcher over the same index whose phases add their seconds to the returned dict.

    Relies on ``Searcher._lexical`` (a private attribute): the hook we would like instead is
    a ``timings`` dict on ``SearchResult``.
    """
    sink: dict[str, float] = {}
    data = dataclasses.replace(searcher.data)
    data.search = _timed(searcher.data.search, sink, "dense")  # type: ignore[method-assign]
    timed = Searcher(
        data,
        _TimedEmbedder(searcher.embedder, sink),
        ranking=searcher.ranking,
        max_question_chars=searcher.max_question_chars,
    )
    timed._lexical = _TimedMethod(timed._lexical, "scores", sink, "bm25")  # type: ignore[assignment]
    return timed, sink


def floor_query(embedder: Embedder, index: IndexData, k: int = 5) -> Callable[[str], Any]:
    """The floor: the model embeds the question, FAISS searches the same index. Nothing else."""

    def run(question: str) -> Any:
        return index.search(embedder.embed_queries([question]), k)

    return run


def measure_latency(
    questions: Sequence[str],
    systems: dict[str, Callable[[str], Any]],
    *,
    repetitions: int = 2,
    warmup: int = 5,
    phased: tuple[Searcher, dict[str, float]] | None = None,
    k: int = 5,
) -> dict[str, Any]:
    """Time every system on every question ``repetitions`` times, interleaved and rotating.

    ``phased`` is an instrumented searcher (see :func:`instrumented`); it runs as one more
    system, "lessons (phases)", and its phase times are summarised.
    """
    runners = dict(systems)
    phase_samples: dict[str, list[float]] = {p: [] for p in PHASES}
    if phased is not None:
        searcher, sink = phased

        def run_phased(question: str) -> Any:
            sink.clear()
            started = time.perf_counter()
            result = searcher.search(question, k)
            total = time.perf_counter() - started
            for phase in PHASES[:3]:
                phase_samples[phase].append(sink.get(phase, 0.0))
            phase_samples["fusion"].append(max(0.0, total - sum(sink.get(p, 0.0) for p in PHASES[:3])))
            return result

        runners["lessons (phases)"] = run_phased
    for run in runners.values():
        for question in list(questions)[:warmup]:
            run(question)
    for samples in phase_samples.values():
        samples.clear()
    times: dict[str, list[float]] = {name: [] for name in runners}
    names = list(runners)
    step = 0
    for _ in range(repetitions):
        for question in questions:
            order = names[step % len(names) :] + names[: step % len(names)]
            step += 1
            for name in order:
                started = time.perf_counter()
                runners[name](question)
                times[name].append(time.perf_counter() - started)
    out: dict[str, Any] = {
        "questions": len(questions),
        "repetitions": repetitions,
        "k": k,
        "systems": {name: summary_ms(samples) for name, samples in times.items()},
    }
    if phased is not None:
        out["phases"] = {phase: summary_ms(samples) for phase, samples in phase_samples.items()}
    if "floor" in times:
        out["paired_ratio_to_floor"] = {name: _paired(times[name], times["floor"]) for name in times if name != "floor"}
    if "lessons" in times:
        # ours over each peer's, question by question: the issue-13 target reads this (at most 0.5)
        out["paired_ratio_lessons_to"] = {
            name: _paired(times["lessons"], times[name]) for name in times if name.startswith("llamaindex")
        }
    out["ratios"] = _ratios(out["systems"])
    return out


def _paired(a: Sequence[float], b: Sequence[float]) -> dict[str, float | None]:
    """Median and p95 of the per-question ratio a_i / b_i (robust to slow drifts in machine load)."""
    ratios = sorted(x / y for x, y in zip(a, b, strict=True) if y > 0)
    if not ratios:
        return {"median": None, "p95": None}
    p95 = ratios[min(len(ratios) - 1, round(0.95 * (len(ratios) - 1)))]
    return {"median": round(statistics.median(ratios), 3), "p95": round(p95, 3)}


def _ratios(systems: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    ours = systems.get("lessons")
    floor = systems.get("floor")
    if ours and floor:
        out["lessons/floor median"] = ratio(ours["median_ms"], floor["median_ms"])
        out["lessons/floor p95"] = ratio(ours["p95_ms"], floor["p95_ms"])
    for name, stats in systems.items():
        if name.startswith("llamaindex") and ours:
            out[f"{name}/lessons median"] = ratio(stats["median_ms"], ours["median_ms"])
            out[f"{name}/lessons p95"] = ratio(stats["p95_ms"], ours["p95_ms"])
    return out


class _Stream:
    """A worker process answering questions one at a time (``benchmarks.worker answer-stream``)."""

    def __init__(self, args: dict[str, Any], timeout: float) -> None:
        import json
        import subprocess
        import sys

        from benchmarks.common import ROOT, child_env

        self._json = json
        self.timeout = timeout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", "answer-stream", json.dumps(args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=child_env(),
        )
        self._expect("READY")

    def _expect(self, prefix: str) -> str:
        assert self.process.stdout is not None
        deadline = time.perf_counter() + self.timeout
        while time.perf_counter() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the worker exited ({self.process.poll()}) before {prefix!r}")
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        raise TimeoutError(f"no {prefix!r} from the worker within {self.timeout:.0f} s")

    def ask(self, question: str) -> float:
        """Seconds the worker took to answer, timed inside it (no pipe overhead)."""
        assert self.process.stdin is not None
        self.process.stdin.write(self._json.dumps(question) + "\n")
        self.process.stdin.flush()
        return float(self._expect(TIME_MARKER))

    def close(self) -> None:
        """Ask the worker to stop; kill it if it does not."""
        import subprocess

        try:
            if self.process.stdin is not None:
                self.process.stdin.write("\n")
                self.process.stdin.close()
            self.process.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(timeout=10)


TIME_MARKER = "BENCH-TIME "


def process_latency(
    questions: Sequence[str],
    workers: dict[str, dict[str, Any]],
    *,
    repetitions: int = 2,
    warmup: int = 5,
    timeout: float = 900,
) -> dict[str, Any]:
    """Every system in its own process, as it runs in production, asked the same questions interleaved.

    In one process, torch's OpenMP threads (the peer, the floor) and the light engine compete for the
    cores and distort each other's times; here each system has only its own runtime loaded. Each
    question goes to every worker in rotating order; the time is measured inside the worker.
    """
    streams: dict[str, _Stream] = {}
    try:
        for name, args in workers.items():
            streams[name] = _Stream(args, timeout)
        for stream in streams.values():
            for question in list(questions)[:warmup]:
                stream.ask(question)
        times: dict[str, list[float]] = {name: [] for name in streams}
        names = list(streams)
        step = 0
        for _ in range(repetitions):
            for question in questions:
                for name in names[step % len(names) :] + names[: step % len(names)]:
                    times[name].append(streams[name].ask(question))
                step += 1
    finally:
        for stream in streams.values():
            stream.close()
    out: dict[str, Any] = {
        "questions": len(questions),
        "repetitions": repetitions,
        "systems": {name: summary_ms(samples) for name, samples in times.items()},
    }
    if "lessons" in times:
        out["paired_ratio_lessons_to"] = {
            name: _paired(times["lessons"], samples) for name, samples in times.items() if name != "lessons"
        }
    return out
