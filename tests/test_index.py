"""Building and loading the index: atomic versions, checksums, fallback, mismatch messages."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from lessons import store
from lessons.build import build_index, build_lock
from lessons.embedding import FakeEmbedder
from lessons.engine import index_status, open_searcher
from lessons.errors import BuildLockedError, IndexUnusableError, StorageError
from lessons.settings import Settings


def _version_dir(settings: Settings) -> Path:
    current = store.read_current(settings.index_dir)
    assert current
    return settings.index_dir / "versions" / current


def test_build_writes_manifest_and_serves(settings: Settings, fake: FakeEmbedder) -> None:
    """A build writes a manifest with model, counts and corpus hash, and the index answers."""
    report = build_index(settings, fake)
    manifest = json.loads((_version_dir(settings) / "manifest.json").read_text())
    assert manifest["model"] == "fake-embedder"
    assert manifest["entry_count"] == 5
    assert manifest["chunk_count"] == report.manifest.chunk_count >= 5
    assert manifest["dimension"] == 64
    assert {"corpus_hash", "package_version", "built_at", "checksums"} <= set(manifest)
    searcher, warnings = open_searcher(settings, fake)
    assert warnings == []
    assert searcher.search("KOL-patienter hjemmemålinger").hits[0].chunk.entry_id == "project-kol"


@pytest.mark.heavy
def test_rebuild_reuses_unchanged_vectors(settings: Settings, fake: FakeEmbedder, tiny_corpus: Path) -> None:
    """A second build embeds only the chunks whose text changed."""
    first = build_index(settings, fake)
    assert (first.embedded, first.reused) == (first.manifest.chunk_count, 0)
    path = tiny_corpus / "entries" / "advice" / "advice-data.yaml"
    path.write_text(path.read_text().replace("inden projektet starter", "før start"), encoding="utf-8")
    before = fake.documents_embedded
    second = build_index(settings, fake)
    assert second.embedded == 1
    assert fake.documents_embedded - before == 1
    assert second.reused == second.manifest.chunk_count - 1
    full = build_index(settings, fake, full=True)
    assert full.embedded == full.manifest.chunk_count


def test_failed_build_leaves_previous_index_serving(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception while writing leaves CURRENT on the previous good version and no temp folder."""
    build_index(settings, fake)
    good = store.read_current(settings.index_dir)

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "_write_file", explode)
    with pytest.raises(StorageError, match="disk is full"):
        build_index(settings, fake, full=True)
    monkeypatch.undo()
    assert store.read_current(settings.index_dir) == good
    assert not list((settings.index_dir / "versions").glob(".tmp-*"))
    searcher, _ = open_searcher(settings, fake)
    assert searcher.version == good


def test_damaged_index_falls_back_to_previous_version(settings: Settings, fake: FakeEmbedder) -> None:
    """A bit-flipped current index is detected by checksum and the previous version serves."""
    build_index(settings, fake)
    older = store.read_current(settings.index_dir)
    build_index(settings, fake, full=True)
    vectors = _version_dir(settings) / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    data[len(data) // 2] ^= 0xFF
    vectors.write_bytes(bytes(data))
    searcher, warnings = open_searcher(settings, fake)
    assert searcher.version == older
    assert any("checksum mismatch" in w for w in warnings)


def test_missing_index_says_run_build(settings: Settings, fake: FakeEmbedder) -> None:
    """No index at all gives a message naming the fix."""
    with pytest.raises(IndexUnusableError, match="lessons build"):
        open_searcher(settings, fake)


def test_index_of_another_model_is_refused(settings: Settings, fake: FakeEmbedder) -> None:
    """An index built with one model is not queried with another; the message names both."""
    build_index(settings, fake)
    other = FakeEmbedder(dimension=64, name="other-model")
    with pytest.raises(IndexUnusableError, match=r"fake-embedder.*other-model.*lessons build"):
        open_searcher(settings, other)


def test_stale_index_names_the_changed_entries(settings: Settings, fake: FakeEmbedder, tiny_corpus: Path) -> None:
    """Changing an entry after the build makes the status say exactly which entry changed."""
    build_index(settings, fake)
    path = tiny_corpus / "entries" / "project" / "project-kol.yaml"
    path.write_text(path.read_text().replace("3.9", "4.2"), encoding="utf-8")
    status = index_status(settings)
    assert status.stale
    assert status.differences == ["1 entry changed since the build: project-kol"]
    _, warnings = open_searcher(settings, fake)
    assert any("stale" in w and "project-kol" in w for w in warnings)


def test_lock_held_by_another_build(settings: Settings, fake: FakeEmbedder) -> None:
    """A build waits for the lock and gives up with a clear message."""
    held = build_lock(settings.index_dir, timeout=0)
    held.acquire()
    try:
        quick = settings.model_copy(update={"build_lock_timeout": 0.2})
        with pytest.raises(BuildLockedError, match="another build holds"):
            build_index(quick, fake)
    finally:
        held.release()
    assert build_index(settings, fake).manifest.chunk_count > 0


@pytest.mark.heavy
def test_old_versions_are_pruned(settings: Settings, fake: FakeEmbedder) -> None:
    """Only the configured number of versions stays on disk, the current one among them."""
    for _ in range(settings.keep_versions + 2):
        build_index(settings, fake, full=True)
    versions = store.list_versions(settings.index_dir)
    assert len(versions) == settings.keep_versions
    assert store.read_current(settings.index_dir) == versions[0]
