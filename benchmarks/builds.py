"""Index builds on temporary copies of the corpus: full, incremental after adding one entry, and
incremental with nothing changed. Each build runs in its own process (`benchmarks.worker build`),
so its peak resident memory is measured; the real corpus and index are never touched."""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, dir_size, ratio, run_worker, summary_s

__all__ = ["added_entry", "copy_corpus", "measure_builds"]


def copy_corpus(target: Path, source: Path | None = None) -> Path:
    """Copy the corpus folder (entries and report) to target; return target."""
    shutil.copytree(source or ROOT / "corpus", target)
    return target


def added_entry(number: int) -> tuple[str, str]:
    """A new, valid handling entry (relative path, YAML text) whose text no other entry has."""
    entry_id = f"handling-benchmark-added-{number}"
    text = f"""id: {entry_id}
kind: handling
title: Deling af træningsdata mellem kommuner, eksempel {number}
areas: [data, law]
sector: municipality
domain: administration
challenge: |-
  Projekt nummer {number} skulle dele træningsdata med {number + 2} nabokommuner, men manglede en fælles
  databehandleraftale og et klart hjemmelsgrundlag for videregivelsen.
handling: |-
  Kommunerne udarbejdede en fælles skabelon for databehandleraftaler og fik den vurderet af
  en jurist, før de første {number * 10} sager blev delt.
outcome: Delingen kom i gang efter {number + 3} måneder.
source:
  report: Benchmark
  section: Tilføjet af benchmarks/builds.py
"""
    return f"entries/handling/{entry_id}.yaml", text


def _build(corpus: Path, index: Path, model: str, *, full: bool) -> dict[str, Any]:
    result, measured = run_worker(
        "build", {"corpus_dir": str(corpus), "index_dir": str(index), "model": model, "full": full}
    )
    result["process_wall_s"] = round(measured.seconds, 3)
    result["max_rss_mb"] = measured.max_rss_mb
    return result


def measure_builds(work: Path, model: str, repetitions: int = 3, serve: Path | None = None) -> dict[str, Any]:
    """Full builds, then incremental builds each after adding one entry, then one with no change.

    With ``serve``, a pristine copy of the corpus and of the fully built index is left there
    (``serve/corpus``, ``serve/index``) for the other sections to query.
    """
    corpus = copy_corpus(work / "corpus")
    index = work / "index"
    full = [_build(corpus, index, model, full=True) for _ in range(repetitions)]
    version = (index / "CURRENT").read_text(encoding="utf-8").strip()
    index_bytes = dir_size(index / "versions" / version)
    if serve is not None:
        copy_corpus(serve / "corpus", corpus)
        shutil.copytree(index, serve / "index", ignore=shutil.ignore_patterns("build.lock"))
    incremental = []
    for number in range(1, repetitions + 1):
        rel, text = added_entry(number)
        (corpus / rel).write_text(text, encoding="utf-8")
        incremental.append(_build(corpus, index, model, full=False))
    unchanged = _build(corpus, index, model, full=False)
    full_s = statistics.median(r["build_s"] for r in full)
    incremental_s = statistics.median(r["build_s"] for r in incremental)
    return {
        "repetitions": repetitions,
        "chunks": full[0]["chunks"],
        "entries": full[0]["entries"],
        "index_bytes": index_bytes,
        "full": {"build": summary_s([r["build_s"] for r in full]), "runs": full},
        "incremental_one_entry": {"build": summary_s([r["build_s"] for r in incremental]), "runs": incremental},
        "incremental_no_change": unchanged,
        "full/incremental": ratio(full_s, incremental_s),
        "model_load": summary_s([r["model_load_s"] for r in full + incremental]),
        "max_rss_mb": max(r["max_rss_mb"] for r in full + incremental + [unchanged]),
    }
