"""The naive pipeline a team might write in an afternoon: fixed 500-character chunks of the raw
report text, the same embedding model, a flat FAISS index, dense search only. No curation, no
BM25, no fusion, no no-match detection."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from lessons.embedding import Embedder

__all__ = ["NaivePipeline", "fixed_chunks"]


def fixed_chunks(text: str, size: int = 500) -> list[str]:
    """Consecutive, non-overlapping pieces of ``size`` characters (the last one shorter); blank ones dropped."""
    return [piece for start in range(0, len(text), size) if (piece := text[start : start + size]).strip()]


@dataclass
class NaivePipeline:
    """Dense retrieval over fixed-size character chunks."""

    embedder: Embedder
    chunks: list[str]
    index: faiss.IndexFlatIP
    build_seconds: float

    @classmethod
    def build(cls, embedder: Embedder, report: Path | str, size: int = 500) -> NaivePipeline:
        """Chunk the report (a path or its text), embed every chunk, index the vectors; timed."""
        started = time.perf_counter()
        text = report.read_text(encoding="utf-8") if isinstance(report, Path) else report
        chunks = fixed_chunks(text, size)
        vectors = embedder.embed_documents(chunks)
        index = faiss.IndexFlatIP(embedder.dimension)
        if len(chunks):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(embedder=embedder, chunks=chunks, index=index, build_seconds=time.perf_counter() - started)

    def retrieve(self, question: str, k: int = 10) -> list[str]:
        """The texts of the k nearest chunks, best first."""
        vector = self.embedder.embed_queries([question])
        _scores, ids = self.index.search(np.ascontiguousarray(vector, dtype=np.float32), min(k, len(self.chunks)))
        return [self.chunks[int(i)] for i in ids[0] if i >= 0]  # FAISS returns -1 for missing results
