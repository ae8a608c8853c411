"""The Markdown report (benchmarks/RESULTS.md) and the target verdicts, from the results dict; a module a section."""

from __future__ import annotations

from typing import Any

from benchmarks.report.builds import build_section
from benchmarks.report.fastquery import query_runtime_section, serve_section
from benchmarks.report.header import header, targets_section
from benchmarks.report.latency import latency_section
from benchmarks.report.notes import notes_section
from benchmarks.report.quality import quality_section
from benchmarks.report.scaling import ann_section, scaling_section
from benchmarks.report.startup import memory_section, startup_section
from benchmarks.report.targets import targets

__all__ = ["render", "targets"]


def render(results: dict[str, Any]) -> str:
    """The whole Markdown report."""
    lines = header(results)
    lines += targets_section(results)
    lines += quality_section(results)
    lines += latency_section(results)
    lines += build_section(results)
    lines += startup_section(results)
    lines += memory_section(results)
    lines += query_runtime_section(results)
    lines += serve_section(results)
    lines += scaling_section(results)
    lines += ann_section(results)
    lines += notes_section(results)
    return "\n".join(lines).rstrip() + "\n"
