"""How the run was measured, and how long each section took."""

from __future__ import annotations

from typing import Any

from benchmarks.report.format import get, table


def notes_section(results: dict[str, Any]) -> list[str]:
    seconds = results.get("section_seconds", {})
    load = results.get("load_average", {})
    rows = [
        [name, seconds.get(name), str(get(load, name, "before")), str(get(load, name, "after"))] for name in seconds
    ]
    return [
        "## How this was measured",
        "",
        "- One command: `make bench` (= `.venv/bin/python benchmarks/run.py`); `--quick` for a smoke run. "
        "Options in `benchmarks/README.md`.",
        "- The real corpus and index are never touched: the corpus is copied to a temporary folder, built there "
        "(that build is the *full build* measurement), and every section queries that copy.",
        "- The naive pipeline and LlamaIndex read the same report text "
        "(`corpus/reports/status-paa-signaturprojekterne-2022.txt`) with the same model folder, in the same "
        "process as lessons, with 2 torch threads; LlamaIndex runs with `HF_HUB_OFFLINE=1` and `Settings.llm = None`.",
        "- *LlamaIndex, defaults*: `HuggingFaceEmbedding(model_name=<folder>)` replaces the model's prompts with "
        "empty ones, so e5 gets no `query: `/`passage: ` prefixes. *LlamaIndex + e5 prefixes* passes them "
        "(`query_instruction`, `text_instruction`) - the fairest peer. Latency and start-up use the defaults.",
        "- Wanted in the library: (1) a per-phase timing on `SearchResult` (e.g. `timings: dict[str, float]` "
        "filled by `Searcher.search`); the benchmark now wraps the searcher's private `_lexical` index to time "
        "BM25, which a refactor could silently break. (2) `faiss.omp_set_num_threads(1)` for query-time search "
        "(see the FAISS threads note above).",
        "",
        table(["section", "seconds", "load before", "load after"], rows),
        "",
    ]
