"""Shared pieces of the report: system names, targets, number formatting, Markdown tables, section openings."""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from benchmarks.records import Results, SectionError

R = TypeVar("R", bound=BaseModel)
SectionWriter = Callable[[Results], list[str]]

__all__ = [
    "COMPARATORS",
    "LATENCY_TARGET",
    "PEER_SPEED_TARGET",
    "SYSTEM_LABELS",
    "fmt",
    "median",
    "paragraphs",
    "reports",
    "section",
    "table",
    "unmeasured",
]

LATENCY_TARGET = 1.5
PEER_SPEED_TARGET = 2.0
SYSTEM_LABELS = {
    "hybrid": "**lessons (hybrid)**",
    "dense": "lessons, dense only",
    "bm25": "lessons, BM25 only",
    "hybrid-body-only": "lessons (hybrid), judged without the curated header line",
    "naive": "naive: 500-char chunks, dense",
    "llamaindex-defaults": "LlamaIndex, defaults",
    "llamaindex-e5-prefixes": "LlamaIndex + e5 prefixes",
}
COMPARATORS = ("naive", "llamaindex-defaults", "llamaindex-e5-prefixes")


def fmt(value: Any, digits: int = 2) -> str:
    """A figure as the report prints it: floats with ``digits`` decimals, '–' for none or NaN."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values given (None ignored), or None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return "\n".join(lines)


def paragraphs(*texts: str) -> list[str]:
    """Report lines for paragraphs (or tables), each followed by a blank line."""
    return [line for text in texts for line in (text, "")]


def section(title: str, *texts: str) -> list[str]:
    """A section's heading and its opening paragraphs."""
    return paragraphs(f"## {title}", *texts)


def unmeasured(title: str, record: SectionError | None) -> list[str]:
    """A section that has no figures: why (its error, or that it did not run)."""
    why = record.error if record is not None else "section not run"
    return section(title, f"Not measured: {why}.")


def reports(field: str, kind: type[R], title: str) -> Callable[[Callable[[Results, R], list[str]]], SectionWriter]:
    """Decorate a section writer ``(results, record)``: it runs only when ``results.<field>`` is a ``kind``.

    Otherwise the section says it was not measured, and why (the section's error, or that it did not run).
    """

    def wrap(write: Callable[[Results, R], list[str]]) -> SectionWriter:
        @functools.wraps(write)
        def run(results: Results) -> list[str]:
            record = getattr(results, field)
            if isinstance(record, kind):
                return write(results, record)
            return unmeasured(title, record if isinstance(record, SectionError) else None)

        return run

    return wrap
