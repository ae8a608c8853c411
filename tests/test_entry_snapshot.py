"""The index version's own copy of its entries (entries.json), read instead of YAML while the files are unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from lessons import build as build_module
from lessons import engine
from lessons.build import build_index
from lessons.corpus import load_corpus
from lessons.embedding import FakeEmbedder
from lessons.errors import CorpusError, IndexUnusableError
from lessons.settings import Settings
from lessons.store import ENTRIES, MANIFEST, VERSIONS, Manifest, load_index, read_current

from .conftest import REAL_CORPUS, record_first_arguments

ENTRY = Path("entries") / "handling" / "handling-mdr-ce.yaml"


def _from_files(settings: Settings) -> dict[str, Any]:
    return {entry.id: entry for entry in load_corpus(settings.corpus_dir).retrievable()}


def _no_yaml(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every corpus parse on the query path (the snapshot must make them unnecessary)."""
    return record_first_arguments(monkeypatch, engine, "load_corpus")


def _version(settings: Settings) -> Path:
    return settings.index_dir / VERSIONS / str(read_current(settings.index_dir))


def test_build_records_the_approved_entries_and_the_query_path_reads_them(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build writes entries.json under a checksum; with the files unchanged it is served without parsing YAML."""
    build_index(settings, fake)
    data = load_index(settings.index_dir)
    assert data.manifest.entries_snapshot and ENTRIES in data.manifest.checksums
    calls = _no_yaml(monkeypatch)
    served = engine.served_entries(settings, data)
    assert calls == []
    assert served == _from_files(settings) and len(served) == 5


def test_the_real_corpus_comes_back_from_json_as_from_yaml(real_fake_index: Settings) -> None:
    """Every approved entry of the real corpus, every field, is the same read from entries.json as from its file."""
    data = load_index(real_fake_index.index_dir)
    snapshot = data.entry_snapshot()
    assert snapshot is not None and len(snapshot) > 100
    served = engine.served_entries(real_fake_index, data)
    assert served == {entry.id: entry for entry in load_corpus(REAL_CORPUS).retrievable()}


def test_an_edit_before_a_rebuild_is_served_from_the_files(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit and before a rebuild the cards show the files as they are now, as before the snapshot existed."""
    build_index(settings, fake)
    data = load_index(settings.index_dir)
    file = settings.corpus_dir / ENTRY
    file.write_text(
        file.read_text(encoding="utf-8").replace("CE-mærkning af algoritmen", "CE-mærkning, rettet"), encoding="utf-8"
    )
    calls = _no_yaml(monkeypatch)
    served = engine.served_entries(settings, data)
    assert calls == [settings.corpus_dir]
    assert served["handling-mdr-ce"].title == "CE-mærkning, rettet efter MDR"
    assert engine.index_status(settings).stale
    file.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(CorpusError):  # a corpus that does not validate is reported, as before
        engine.served_entries(settings, data)


def test_a_damaged_snapshot_makes_the_version_unusable(settings: Settings, fake: FakeEmbedder) -> None:
    """A byte changed in entries.json is a damaged index file, named as such, like any other."""
    build_index(settings, fake)
    file = _version(settings) / ENTRIES
    raw = bytearray(file.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    file.write_bytes(bytes(raw))
    with pytest.raises(IndexUnusableError, match=r"entries\.json .* is damaged"):
        load_index(settings.index_dir)


def test_a_snapshot_changed_after_the_load_is_not_trusted(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """entries.json altered after the version was loaded no longer matches its checksum: the files are read."""
    build_index(settings, fake)
    data = load_index(settings.index_dir)
    file = _version(settings) / ENTRIES
    file.write_text(file.read_text(encoding="utf-8").replace("CE-mærkning", "Forfalsket"), encoding="utf-8")
    assert data.entry_snapshot() is None
    calls = _no_yaml(monkeypatch)
    assert engine.served_entries(settings, data) == _from_files(settings) and calls == [settings.corpus_dir]


def test_files_changed_during_the_build_get_no_snapshot(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the entry files' digest differs before and after the build parsed them, no snapshot is written."""
    digests = iter(["before", "after"])
    monkeypatch.setattr(build_module, "corpus_files_digest", lambda root: next(digests))
    build_index(settings, fake)
    data = load_index(settings.index_dir)
    assert not data.manifest.entries_snapshot and not (_version(settings) / ENTRIES).exists()
    assert data.entry_snapshot() is None


def test_a_snapshot_this_version_cannot_validate_falls_back_to_the_files(
    settings: Settings, fake: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A well-formed snapshot with a field this version does not know (another release wrote it): the files are read."""
    build_index(settings, fake)
    folder = _version(settings)
    items = json.loads((folder / ENTRIES).read_text(encoding="utf-8"))
    items[0]["field_from_the_future"] = 1
    raw = json.dumps(items).encode("utf-8")
    (folder / ENTRIES).write_bytes(raw)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["checksums"][ENTRIES] = hashlib.sha256(raw).hexdigest()
    (folder / MANIFEST).write_text(json.dumps(Manifest.model_validate(manifest).to_json()), encoding="utf-8")
    data = load_index(settings.index_dir)
    calls = _no_yaml(monkeypatch)
    assert engine.served_entries(settings, data) == _from_files(settings) and calls == [settings.corpus_dir]
