"""Building the index: chunk the approved entries, embed what changed, write a new version atomically."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout
from threadpoolctl import threadpool_limits

from lessons import __version__
from lessons.abstention import NoMatchModel, TrainingQuestion, train_model, training_hash, training_questions
from lessons.chunking import Chunk, chunk_entries
from lessons.corpus import Corpus, corpus_files_digest, corpus_hash, entry_hash, load_corpus
from lessons.embedding import Embedder
from lessons.errors import BuildLockedError, Count, IndexUnusableError
from lessons.files import storage_error
from lessons.lexicon import background_topics
from lessons.query_encoder import light_runtime_for
from lessons.search import detect_language, own_lexical_scores, passage_coverage_scores, passage_subject_scores
from lessons.settings import Settings
from lessons.store import IndexData, Manifest, list_versions, load_index, prune_versions, write_version

__all__ = ["BuildReport", "build_index", "build_lock"]

# progress(phase, done, total): phases are "chunk", "embed", "train", "write".
BuildProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    manifest: Manifest
    embedded: int
    reused: int
    seconds: float
    full: bool


def build_lock(index_dir: Path, timeout: float) -> FileLock:
    """The build lock. It is an OS lock (flock): a build that dies releases it, so it never goes stale."""
    index_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_dir / "build.lock"), timeout=timeout)


def _previous(index_dir: Path, embedder: Embedder) -> IndexData | None:
    """The previous good version, if it was built with this model."""

    def other_model(manifest: Manifest) -> str | None:
        return None if manifest.model_fingerprint == embedder.fingerprint else "built with another model"

    try:
        return load_index(index_dir, expect=other_model)
    except IndexUnusableError:
        return None


def _reusable_vectors(previous: IndexData | None) -> dict[str, np.ndarray]:
    """Vectors of the previous version by chunk content hash."""
    if previous is None:
        return {}
    vectors = previous.vectors()
    return {chunk.content_hash: vectors[i] for i, chunk in enumerate(previous.chunks)}


def _background(previous: IndexData | None, embedder: Embedder) -> tuple[np.ndarray, str]:
    """Vectors of the off-topic background phrases, reused from the previous version when the phrases are unchanged."""
    topics = list(background_topics())
    digest = hashlib.sha256("\n".join(topics).encode("utf-8")).hexdigest()
    if previous is not None and previous.manifest.background_hash == digest:
        return previous.background, digest
    return embedder.embed_queries(topics), digest


def _training_set(corpus_entries: list[Any]) -> list[TrainingQuestion]:
    """The no-match model's training questions for these entries (package questions + corpus-derived)."""
    return training_questions(
        titles=[e.title for e in corpus_entries],
        summaries=[e.summary for e in corpus_entries if e.summary],
        projects=sorted({e.project for e in corpus_entries if e.project}),
        background=background_topics(),
    )


def _no_match_model(
    previous: IndexData | None,
    embedder: Embedder,
    chunks: list[Chunk],
    chunk_vectors: np.ndarray,
    questions: list[TrainingQuestion],
    *,
    progress: BuildProgress | None,
) -> tuple[NoMatchModel, list[str], dict[str, Any]]:
    """Train the no-match model, embedding only training texts the previous version did not hold."""
    texts = [q.text for q in questions]
    known: dict[str, np.ndarray] = {}
    if previous is not None and previous.no_match_model is not None:
        known = dict(zip(previous.no_match_texts, previous.no_match_model.reference, strict=True))
    todo = [t for t in texts if t not in known]
    for start in range(0, len(todo), 64):
        batch = todo[start : start + 64]
        known.update(zip(batch, embedder.embed_queries(batch), strict=True))
        if progress:
            progress("train", start + len(batch), len(todo) + 1)
    vectors = np.stack([known[t] for t in texts]).astype(np.float32)
    chunk_texts = [c.text for c in chunks]
    lexical = own_lexical_scores(chunk_texts, texts)
    with threadpool_limits(limits=1):  # a few small dense fits: BLAS threads only contend on a shared machine
        coverage = passage_coverage_scores(chunk_texts, chunk_vectors, texts, vectors)
        subject = passage_subject_scores(chunk_vectors, vectors)
        languages = [detect_language(t) for t in texts]
        model, report = train_model(vectors, questions, lexical, coverage, subject, languages=languages)
    if progress:
        progress("train", len(todo) + 1, len(todo) + 1)
    info = {"training_hash": training_hash(questions), "report": report.to_json()}
    return model, texts, info


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool = False,
    corpus: Corpus | None = None,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Build a new index version from the corpus. Only changed chunks are embedded unless ``full``.

    Takes the build lock (waiting up to ``settings.build_lock_timeout`` seconds), so
    concurrent builds take turns. Readers keep the version they loaded; the new one
    becomes current with one atomic rename.
    """
    try:
        return _build(settings, embedder, full=full, corpus=corpus, progress=progress)
    except OSError as exc:  # disk full, no permission, a file where a folder should be
        raise storage_error(exc, settings.index_dir, "write_index", _kept(settings.index_dir)) from None


def _kept(index_dir: Path) -> str:
    """What a failed build leaves serving: the previous version (``index_kept``), or nothing to say when there was
    none (a first build)."""
    try:
        return "index_kept" if list_versions(index_dir) else ""
    except OSError:
        return "index_kept"


def _build(
    settings: Settings,
    embedder: Embedder,
    *,
    full: bool,
    corpus: Corpus | None,
    progress: BuildProgress | None,
) -> BuildReport:
    started = time.perf_counter()
    lock = build_lock(settings.index_dir, settings.build_lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        raise BuildLockedError.worded(
            "build_locked", lock=str(settings.index_dir / "build.lock"), seconds=Count(settings.build_lock_timeout)
        ) from None
    try:
        files_digest = None
        if corpus is None:  # the digest first: files changed after it make it differ, never hide a change
            files_digest = corpus_files_digest(settings.corpus_dir)
            corpus = load_corpus(settings.corpus_dir)
        entries = corpus.retrievable()
        # the entries as parsed, for query processes to read instead of the YAML, when the files did not change
        # while they were read (the digest before the parse and after it agree)
        snapshot = None
        if files_digest is not None and corpus_files_digest(settings.corpus_dir) == files_digest:
            snapshot = [entry.model_dump(mode="json") for entry in entries]
        chunks = chunk_entries(entries, settings.chunk_words)
        if progress:
            progress("chunk", len(chunks), len(chunks))
        previous = None if full else _previous(settings.index_dir, embedder)
        cache = _reusable_vectors(previous)
        todo = [i for i, c in enumerate(chunks) if c.content_hash not in cache]
        vectors = np.zeros((len(chunks), embedder.dimension), dtype=np.float32)
        for i, chunk in enumerate(chunks):
            cached = cache.get(chunk.content_hash)
            if cached is not None:
                vectors[i] = cached

        def embed_progress(done: int, total: int) -> None:
            if progress:
                progress("embed", done, total)

        if todo:
            fresh = embedder.embed_documents([chunks[i].text for i in todo], progress=embed_progress)
            vectors[todo] = fresh
        elif progress:
            progress("embed", 0, 0)
        background, background_hash = _background(previous, embedder)
        no_match = _no_match_model(previous, embedder, chunks, vectors, _training_set(entries), progress=progress)
        light = light_runtime_for(embedder.name)
        manifest = write_version(
            settings.index_dir,
            vectors,
            chunks,
            model=embedder.name,
            model_fingerprint=embedder.fingerprint,
            corpus_hash=corpus_hash(entries),
            entry_count=len(entries),
            chunk_words=settings.chunk_words,
            package_version=__version__,
            entry_hashes={e.id: entry_hash(e) for e in entries},
            background=background,
            background_hash=background_hash,
            no_match=no_match,
            query_runtime=light.name if light else "",
            query_weights=light.weights if light else "",
            query_weights_stamps=light.stamps if light else None,
            corpus_files_sha256=files_digest or "",
            entries=snapshot,
        )
        if progress:
            progress("write", 1, 1)
        prune_versions(settings.index_dir, settings.keep_versions)
    finally:
        lock.release()
    return BuildReport(
        manifest=manifest,
        embedded=len(todo),
        reused=len(chunks) - len(todo),
        seconds=time.perf_counter() - started,
        full=full or not cache,
    )
