"""The peer a team would reach for instead: LlamaIndex's default retrieval pipeline.

``llama-index-core`` with ``llama-index-embeddings-huggingface``, pointed at the same local model
folder, over the same report text: SimpleDirectoryReader, the default SentenceSplitter
(1,024 tokens, 200 overlap), an in-memory VectorStoreIndex and its retriever. No LLM
(``Settings.llm = None``) and no network (``HF_HUB_OFFLINE=1``).

Two configurations are measured:

* ``defaults``: exactly what the wrapper does with a local folder. It replaces the model's
  own prompts with empty ones, so e5 gets no ``query: `` / ``passage: `` prefixes.
* ``e5-prefixes``: the same, plus ``query_instruction="query: "`` and
  ``text_instruction="passage: "`` as the model card asks: the fair, tuned peer.

Install with ``.venv/bin/pip install -e '.[bench]'`` (pin ``torch==2.13.0`` in the same command).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["PEER_CONFIGS", "LlamaIndexPeer", "llamaindex_missing"]

PEER_CONFIGS: dict[str, dict[str, str]] = {
    "defaults": {},
    "e5-prefixes": {"query_instruction": "query: ", "text_instruction": "passage: "},
}
INSTALL_HINT = "pip install -e '.[bench]' torch==2.13.0 (llama-index-core, llama-index-embeddings-huggingface)"


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def llamaindex_missing() -> str | None:
    """None when LlamaIndex and its HuggingFace embedding wrapper import; else why not, with the fix."""
    _offline()
    try:
        import llama_index.core
        import llama_index.embeddings.huggingface  # noqa: F401
    except ImportError as exc:
        return f"LlamaIndex is not installed ({exc}); {INSTALL_HINT}"
    return None


def _embed_model(model_dir: Path, config: str, threads: int) -> Any:
    _offline()
    import torch
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    torch.set_num_threads(threads)
    return HuggingFaceEmbedding(model_name=str(model_dir), device="cpu", **PEER_CONFIGS[config])


@dataclass
class LlamaIndexPeer:
    """One LlamaIndex VectorStoreIndex over the report, with timings of how it was made."""

    config: str
    index: Any
    nodes: int
    chars_embedded: int
    model_load_seconds: float
    build_seconds: float
    _retrievers: dict[int, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, report: Path, model_dir: Path, config: str = "defaults", threads: int = 2) -> LlamaIndexPeer:
        """Load the model, read the report, split, embed and index it the default way (timed)."""
        started = time.perf_counter()
        embed = _embed_model(model_dir, config, threads)
        from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex

        Settings.llm = None
        loaded = time.perf_counter()
        documents = SimpleDirectoryReader(input_files=[str(report)]).load_data()
        index = VectorStoreIndex.from_documents(documents, embed_model=embed)
        return cls._of(config, index, model_load_seconds=loaded - started, build_seconds=time.perf_counter() - loaded)

    @classmethod
    def load(cls, persist_dir: Path, model_dir: Path, config: str = "defaults", threads: int = 2) -> LlamaIndexPeer:
        """Load a persisted index (as a restarted app would) and the model (timed together)."""
        started = time.perf_counter()
        embed = _embed_model(model_dir, config, threads)
        from llama_index.core import Settings, StorageContext, load_index_from_storage

        Settings.llm = None
        storage = StorageContext.from_defaults(persist_dir=str(persist_dir))
        index = load_index_from_storage(storage, embed_model=embed)
        return cls._of(config, index, model_load_seconds=time.perf_counter() - started, build_seconds=0.0)

    @classmethod
    def _of(cls, config: str, index: Any, *, model_load_seconds: float, build_seconds: float) -> LlamaIndexPeer:
        nodes = list(index.docstore.docs.values())
        return cls(
            config=config,
            index=index,
            nodes=len(nodes),
            chars_embedded=sum(len(n.get_content()) for n in nodes),
            model_load_seconds=model_load_seconds,
            build_seconds=build_seconds,
        )

    def persist(self, persist_dir: Path) -> None:
        """Write the index the LlamaIndex way (JSON files)."""
        self.index.storage_context.persist(persist_dir=str(persist_dir))

    def retrieve(self, question: str, k: int = 10) -> list[str]:
        """The texts of the top-k nodes, best first (the retriever's default is k=2; we ask for k)."""
        retriever = self._retrievers.get(k)
        if retriever is None:
            retriever = self._retrievers[k] = self.index.as_retriever(similarity_top_k=k)
        return [hit.node.get_content() for hit in retriever.retrieve(question)]


def vector_store_search_ms(vectors: Any, queries: Any, k: int = 5) -> list[float]:
    """Milliseconds per query of LlamaIndex's default in-memory vector store (SimpleVectorStore) over
    the given vectors: the peer's retrieval cost without embedding, for the scaling comparison."""
    _offline()
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores import SimpleVectorStore, VectorStoreQuery

    store = SimpleVectorStore()
    store.add([TextNode(text="", id_=str(i), embedding=[float(x) for x in v]) for i, v in enumerate(vectors)])
    times = []
    for q in queries:
        query = VectorStoreQuery(query_embedding=[float(x) for x in q], similarity_top_k=k)
        started = time.perf_counter()
        store.query(query)
        times.append((time.perf_counter() - started) * 1000.0)
    return times
