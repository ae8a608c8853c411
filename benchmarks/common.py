"""Shared helpers: statistics, machine facts, questions, scoring of ranked passages, measured subprocesses."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.worker import RESULT_MARKER
from lessons.evaluation import EvalQuestion, RankMetrics, is_relevant, load_questions

ROOT = Path(__file__).resolve().parent.parent
REPORT_TEXT = ROOT / "corpus" / "reports" / "status-paa-signaturprojekterne-2022.txt"

# The question files used when none are given: the shared dev set, and the project's own set.
# Question files inside the repository only, so a run is reproducible from a checkout.
DEFAULT_QUESTION_FILES = (
    ROOT / "eval" / "questions.yaml",
    ROOT / "eval" / "holdout.yaml",
)


# --- statistics ----------------------------------------------------------------------------------


def shown_path(path: str | Path) -> str:
    """A path as a report shows it: relative to its checkout of this repository, else its name, marked as outside.

    Reports never carry absolute paths (they would name the machine and the user they ran under).
    A checkout is the nearest folder above the path that holds a ``pyproject.toml``.
    """
    candidate = Path(path)
    if not candidate.is_absolute():
        return candidate.as_posix()
    for parent in candidate.parents:
        if (parent / "pyproject.toml").is_file():
            return candidate.relative_to(parent).as_posix()
    return f"{candidate.name} (outside the repository)"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """Median, p95, mean, min and count of durations given in seconds, reported in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    if not ms:
        return {
            "n": 0,
            "p10_ms": float("nan"),
            "median_ms": float("nan"),
            "p95_ms": float("nan"),
            "mean_ms": float("nan"),
            "min_ms": float("nan"),
        }
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "min_ms": round(min(ms), 3),
        "p10_ms": round(percentile(ms, 10), 3),
    }


def summary_s(seconds: Sequence[float]) -> dict[str, float | int]:
    """Median, min and max of durations in seconds."""
    if not seconds:
        return {"n": 0, "median_s": float("nan"), "min_s": float("nan"), "max_s": float("nan")}
    return {
        "n": len(seconds),
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
    }


def ratio(a: float, b: float) -> float | None:
    """a / b rounded, or None when b is zero or either is NaN."""
    if not b or math.isnan(a) or math.isnan(b):
        return None
    return round(a / b, 3)


class Stopwatch:
    """Collects named durations: ``with watch("x"): ...`` adds the elapsed seconds to ``watch.times["x"]``."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def add(self, name: str, seconds: float) -> None:
        """Record one duration."""
        self.times.setdefault(name, []).append(seconds)

    def time(self, name: str, fn: Callable[[], Any]) -> Any:
        """Call fn, record how long it took under name, return its value."""
        started = time.perf_counter()
        value = fn()
        self.add(name, time.perf_counter() - started)
        return value


# --- machine facts -------------------------------------------------------------------------------


def pin_cores(cores: int) -> list[int]:
    """Restrict this process (and its children) to the first ``cores`` CPUs it may use; return them."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return []
    chosen = allowed[:cores]
    if len(chosen) < len(allowed):
        os.sched_setaffinity(0, chosen)
    return chosen


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (how busy the shared machine was)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


def machine_facts() -> dict[str, Any]:
    """CPU, memory, OS and library versions, for the report."""
    import psutil

    packages = [
        "lessons",
        "torch",
        "sentence-transformers",
        "transformers",
        "faiss-cpu",
        "bm25s",
        "numpy",
        "streamlit",
        "selenium",
        "llama-index-core",
        "llama-index-embeddings-huggingface",
    ]
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cpus_used": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": {name: _version(name) for name in packages},
        "load_average_at_start": load_average(),
    }


# --- questions and scoring -----------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSet:
    """One question file, labelled by its file name."""

    label: str
    path: Path
    questions: list[EvalQuestion]


def default_question_files() -> list[Path]:
    """The default question files (inside the repository) that exist."""
    out: list[Path] = []
    seen: set[str] = set()
    for path in DEFAULT_QUESTION_FILES:
        if path.is_file() and path.name not in seen:
            out.append(path)
            seen.add(path.name)
    return out


def load_question_sets(paths: Iterable[Path]) -> list[QuestionSet]:
    """Load each question file (validated by lessons.evaluation.load_questions)."""
    sets: list[QuestionSet] = []
    for path in paths:
        label = path.stem
        if any(s.label == label for s in sets):
            label = f"{path.parent.name}/{path.stem}"
        sets.append(QuestionSet(label=label, path=path, questions=load_questions(path)))
    return sets


def first_relevant_rank(texts: Sequence[str], gold: Sequence[Sequence[str]], depth: int = 10) -> int | None:
    """1-based rank of the first passage that evaluation.is_relevant accepts, within depth; else None."""
    for rank, text in enumerate(texts[:depth], start=1):
        if is_relevant(text, gold):
            return rank
    return None


@dataclass
class QualityScores:
    """hit@1, hit@5 and MRR@10 over answerable questions, plus how much text the top five hand the reader."""

    ranks: RankMetrics = field(default_factory=RankMetrics)
    top5_chars: float = 0.0

    def add(self, rank: int | None, top5_chars: int) -> None:
        """Account one answerable question."""
        self.ranks.add(rank)
        self.top5_chars += top5_chars

    def as_dict(self) -> dict[str, float | int | None]:
        """Averages (None without questions)."""
        n = self.ranks.n
        return {"n": n, **self.ranks.averages(), "top5_chars": round(self.top5_chars / n) if n else None}


# --- measured subprocesses -----------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """A finished subprocess: exit code, output, wall time and peak resident memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float
    cpu_s: float = 0.0  # user + system CPU of the child: what its work costs, whatever else the machine runs

    def result(self) -> dict[str, Any]:
        """The JSON object a benchmark worker printed after RESULT_MARKER (raises if none)."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(RESULT_MARKER):
                value: dict[str, Any] = json.loads(line[len(RESULT_MARKER) :])
                return value
        raise RuntimeError(f"no result from worker (exit {self.returncode}): {self.stderr[-2000:]}")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for measured children: offline, two threads, no tokenizer fork warnings."""
    env = dict(os.environ)
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "LESSONS_THREADS": "2",
            "OMP_NUM_THREADS": "2",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        }
    )
    env.update(extra or {})
    return env


def run_measured(
    args: Sequence[str], *, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 1800
) -> Measured:
    """Run a command to completion; wall time and the child's own peak RSS (VmHWM polled every 5 ms)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin.encode("utf-8"))
            inp.seek(0)
        started = time.perf_counter()
        proc = subprocess.Popen(list(args), stdin=inp, stdout=out, stderr=err, env=env or child_env(), cwd=ROOT)
        deadline = started + timeout
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            seconds=seconds,
            max_rss_mb=round(peak, 1),
            cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        )


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM, the peak resident set of a live process, in MB (None when it has exited).

    Not ``ru_maxrss``: on Linux a child inherits its parent's high-water mark across fork and
    exec, so a child of a big benchmark process would report the parent's memory.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        return None
    return None


def run_worker(task: str, args: dict[str, Any], *, timeout: float = 1800) -> tuple[dict[str, Any], Measured]:
    """Run ``python -m benchmarks.worker TASK JSON`` measured; return its result object and the measurement."""
    measured = run_measured([sys.executable, "-m", "benchmarks.worker", task, json.dumps(args)], timeout=timeout)
    result = measured.result()
    own = result.get("peak_rss_mb")
    if own:  # the worker's own reading at its end is exact; polling may miss the last milliseconds
        measured = dataclasses.replace(measured, max_rss_mb=round(max(own, measured.max_rss_mb), 1))
    return result, measured


def dir_size(path: Path) -> int:
    """Total bytes of the files below path."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
