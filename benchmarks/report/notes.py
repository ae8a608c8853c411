"""How the run was measured, and how long each section took under what load."""

from __future__ import annotations

from benchmarks.records import Results
from benchmarks.report.format import section, table


def notes_section(results: Results) -> list[str]:
    """The method in a few lines, and each section's duration with the load average around it."""
    rows = [
        [
            name,
            seconds,
            str(window.before) if (window := results.load_average.get(name)) else "–",
            str(window.after) if window else "–",
        ]
        for name, seconds in results.section_seconds.items()
    ]
    return section(
        "How this was measured",
        "- One command: `make bench` (= `.venv/bin/python benchmarks/run.py`); `--only issue13` for the issue-13 "
        "sections alone; `--quick` for a smoke run. Options in `benchmarks/README.md`.\n"
        "- The real corpus and index are never touched: the corpus is copied to a temporary folder, built there, "
        "and every section queries that copy.\n"
        "- The naive pipeline and LlamaIndex read the same report text "
        "(`corpus/reports/status-paa-signaturprojekterne-2022.txt`) with the same model folder, in the same "
        "process as lessons, with 2 torch threads; LlamaIndex runs with `HF_HUB_OFFLINE=1` and `Settings.llm = None`.\n"
        "- *LlamaIndex, defaults*: `HuggingFaceEmbedding(model_name=<folder>)` replaces the model's prompts with "
        "empty ones, so e5 gets no `query: `/`passage: ` prefixes. *LlamaIndex + e5 prefixes* passes them "
        "(`query_instruction`, `text_instruction`). Latency and start-up use the defaults.",
        table(["section", "seconds", "load before", "load after"], rows),
    )
