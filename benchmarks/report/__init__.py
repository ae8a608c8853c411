"""The Markdown report (benchmarks/RESULTS.md) and the target verdicts, from typed results; a module a section."""

from __future__ import annotations

from benchmarks.records import Results
from benchmarks.report.builds import build_section
from benchmarks.report.fastquery import process_latency_section, query_runtime_section, serve_section
from benchmarks.report.header import header, targets_section
from benchmarks.report.latency import latency_section
from benchmarks.report.notes import notes_section
from benchmarks.report.quality import quality_section
from benchmarks.report.scaling import ann_section, scaling_section
from benchmarks.report.startup import memory_section, startup_section
from benchmarks.report.targets import targets

__all__ = ["render", "targets"]

SECTIONS = (
    header,
    targets_section,
    process_latency_section,
    query_runtime_section,
    serve_section,
    latency_section,
    startup_section,
    memory_section,
    quality_section,
    build_section,
    scaling_section,
    ann_section,
    notes_section,
)


def render(results: Results) -> str:
    """The whole Markdown report."""
    return "\n".join(line for part in SECTIONS for line in part(results)).rstrip() + "\n"
