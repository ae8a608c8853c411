"""Embedders: the real sentence-transformers model, and a deterministic fake for tests."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from lessons.errors import LessonsError, ModelNotFoundError
from lessons.files import read_regular_file
from lessons.settings import DEFAULT_MODEL_DIR, Settings

__all__ = ["Embedder", "FakeEmbedder", "SentenceTransformerEmbedder", "load_embedder"]

Vectors = npt.NDArray[np.float32]
Progress = Callable[[int, int], None]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int
    fingerprint: str

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for questions."""
        ...

    def embed_documents(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        """Vectors for passages (chunks)."""
        ...


def _normalise(matrix: Vectors) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Vectors = (matrix / norms).astype(np.float32)
    return out


_FAKE_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Deterministic bag-of-hashed-words vectors: texts that share words are similar.

    Fast and dependency-free, for tests. ``calls`` counts embedded documents so
    tests can check what a build re-embedded.
    """

    def __init__(self, dimension: int = 64, name: str = "fake-embedder") -> None:
        self.name = name
        self.dimension = dimension
        self.fingerprint = f"{name}/{dimension}"
        self.documents_embedded = 0
        self.queries_embedded = 0

    def _vector(self, text: str) -> Vectors:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for word in _FAKE_WORD.findall(text.lower()):
            digest = hashlib.blake2b(word[:6].encode("utf-8"), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "little") % self.dimension
            sign = 1.0 if digest[4] % 2 else -1.0
            vec[slot] += sign
        return vec

    def _embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for questions."""
        self.queries_embedded += len(texts)
        return self._embed(texts)

    def embed_documents(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        """Vectors for passages."""
        self.documents_embedded += len(texts)
        out = self._embed(texts)
        if progress:
            progress(len(texts), len(texts))
        return out


class SentenceTransformerEmbedder:
    """A sentence-transformers model, run in float32 on the CPU with a fixed thread count."""

    batch_size = 16

    def __init__(self, model: str, *, threads: int = 2, allow_download: bool = False) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if not allow_download:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
        transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        torch.set_num_threads(threads)
        try:
            self._model = SentenceTransformer(
                model,
                device="cpu",
                local_files_only=not allow_download,
                model_kwargs={"dtype": torch.float32},
            )
        except (OSError, ValueError) as exc:
            raise _missing_model(model, allow_download, exc) from None
        self.name = model
        get_dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        dim = get_dimension()
        if not dim:
            raise ModelNotFoundError.worded("model_no_dimension", model=repr(model))
        self.dimension = int(dim)
        self.fingerprint = model_fingerprint(model, self.dimension)
        prompts = getattr(self._model, "prompts", {}) or {}
        self._has_prompts = "query" in prompts and "document" in prompts

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Vectors for questions (with the model's query prompt, e.g. 'query: ')."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode_query(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        """Vectors for passages (with the model's document prompt, e.g. 'passage: '), in batches."""
        parts: list[Vectors] = []
        total = len(texts)
        for start in range(0, total, self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            vectors = self._model.encode_document(
                batch, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            parts.append(np.asarray(vectors, dtype=np.float32))
            if progress:
                progress(min(start + len(batch), total), total)
        if not parts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate(parts)


MAX_MODEL_CONFIG_BYTES = 4 << 20
"""A model folder's config files are read for its fingerprint up to this size (they are a few kB)."""


def model_fingerprint(model: str, dimension: int) -> str:
    """Identify a model independently of where its folder lies: config, modules and weight sizes.

    The config files are read as regular files (a link, as in a Hugging Face snapshot, followed to one), size
    checked first; one over :data:`MAX_MODEL_CONFIG_BYTES` raises :class:`ModelNotFoundError` naming it."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return f"{model}/{dimension}"
    digest = hashlib.sha256(str(dimension).encode())
    for name in ("config.json", "modules.json", "config_sentence_transformers.json"):
        file = path / name
        if file.is_file():
            try:
                digest.update(read_regular_file(file, max_bytes=MAX_MODEL_CONFIG_BYTES, follow_symlinks=True))
            except LessonsError as exc:
                raise ModelNotFoundError.worded("model_file_refused", problem=exc) from None
    for weights in sorted(path.glob("*.safetensors")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
        with weights.open("rb") as fh:
            digest.update(fh.read(1 << 20))
    return f"{path.name}/{dimension}/{digest.hexdigest()[:16]}"


def _missing_model(model: str, allow_download: bool, exc: Exception) -> ModelNotFoundError:
    path = Path(model).expanduser()
    if path == DEFAULT_MODEL_DIR or path.resolve() == DEFAULT_MODEL_DIR.resolve():
        return ModelNotFoundError.worded("model_default_missing", model=model)
    if path.exists():
        return ModelNotFoundError.worded("model_folder_unloadable", model=model, detail=str(exc))
    if model.startswith((".", "/", "~")):  # a folder, not a hub name: downloading would not help
        return ModelNotFoundError.worded("model_folder_missing", model=model)
    key = "model_not_found_download" if allow_download else "model_not_found"
    return ModelNotFoundError.worded(key, model=repr(model))


def load_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The configured real embedder. Raises ModelNotFoundError with a fix when it is missing."""
    path = settings.model_path()
    if path is not None and not path.exists():
        raise _missing_model(settings.model, settings.allow_download, FileNotFoundError())
    model = str(path) if path is not None else settings.model
    return SentenceTransformerEmbedder(model, threads=settings.threads, allow_download=settings.allow_download)
