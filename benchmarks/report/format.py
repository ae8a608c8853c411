"""Shared pieces of the report: system names, targets, number formatting, Markdown tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["COMPARATORS", "LATENCY_TARGET", "PEER_SPEED_TARGET", "SYSTEM_LABELS", "fmt", "get", "table"]

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


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return "\n".join(lines)


def get(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]…``, or None where a level is missing."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data
