"""Added cost of the no-match model per question: search with it vs the old margin rule, same vectors.

Embedding is excluded (both sides get the same precomputed question vectors: the real
training questions stored in the index), so the difference is the decision alone: the
probe's dot product, two single-threaded FAISS kNN searches, the coverage and subject-similarity
features and the combination.
Run: ``python -m benchmarks.no_match_cost [INDEX_DIR] [N]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from lessons.embedding import FakeEmbedder
from lessons.search import Searcher
from lessons.store import load_index

__all__ = ["measure"]


def measure(index_dir: Path, questions: int = 400, rounds: int = 3) -> dict[str, float]:
    """Median seconds per question with and without the model, their difference and ratio."""
    data = load_index(index_dir)
    model = data.no_match_model
    if model is None:
        raise SystemExit(f"the index in {index_dir} has no no-match model; run `lessons build`")
    embedder = FakeEmbedder(dimension=data.manifest.dimension)  # never called: vectors are given
    with_model = Searcher(data, embedder)
    without = Searcher(replace(data, no_match_model=None), embedder)
    step = max(1, len(data.no_match_texts) // questions)
    picks = list(range(0, len(data.no_match_texts), step))[:questions]
    times: dict[str, list[float]] = {"model": [], "margin": []}
    for _ in range(rounds):
        for i in picks:
            text, vector = data.no_match_texts[i], model.reference[i]
            for name, searcher in (("model", with_model), ("margin", without)):
                started = time.perf_counter()
                searcher.search(text, vector=vector)
                times[name].append(time.perf_counter() - started)
    median_model = statistics.median(times["model"])
    median_margin = statistics.median(times["margin"])
    return {
        "questions": float(len(picks)),
        "median_ms_with_model": round(median_model * 1000, 3),
        "median_ms_margin_rule": round(median_margin * 1000, 3),
        "added_ms": round((median_model - median_margin) * 1000, 3),
        "ratio": round(median_model / median_margin, 3),
    }


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("index")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    for key, value in measure(folder, count).items():
        print(f"{key}: {value:g}")
