"""Concurrency: threads keep asking while another process adds, approves and rebuilds.

The writer is a separate process running the real curator commands (`lessons add`,
`lessons approve`, `lessons build`, with the fake embedder and only two versions kept,
so old versions are pruned under the readers' feet). Reader threads share a searcher
that reloads when CURRENT changes (as the app does) and also open fresh searchers (as
each `lessons ask` process does). Every answer is checked against the one version that
produced it: its chunks exist in that version, and its dense scores match vectors
computed from those very chunk texts, so vectors and texts cannot come from different
versions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from lessons import store
from lessons.build import build_index
from lessons.embedding import FakeEmbedder
from lessons.engine import index_status, open_searcher
from lessons.search import Searcher, SearchResult
from lessons.settings import Settings
from tests.reliability_report import record

pytestmark = pytest.mark.heavy


AREA = "Concurrency"
ROUNDS = 6
READERS = 4
QUESTIONS = [
    "Skal algoritmen CE-mærkes efter MDR?",
    "Hvordan får man adgang til data via API?",
    "KOL-patienter hjemmemålinger",
    "erfaring nummer fem med datadeling",
    "How did the projects handle vendors?",
]

_WRITER = r"""
import sys
from typer.testing import CliRunner
from lessons import embedding, engine
from lessons.embedding import FakeEmbedder
from lessons.cli import app

fake = FakeEmbedder()
embedding.load_embedder = lambda settings: fake
engine.load_embedder = lambda settings: fake
runner = CliRunner()
words = "data jura etik leverandør kompetencer borgere algoritme kommune region model drift".split()
for n in range(int(sys.argv[1])):
    entry_id = f"advice-concurrent-{n:02d}"
    body = f"Erfaring nummer {n} med datadeling: " + " ".join(words[(n + i) % len(words)] for i in range(40 + n))
    steps = (
        ["add", "--id", entry_id, "--kind", "advice", "--title", f"Erfaring {n}", "--body", body,
         "--source-report", "Indsendt", "--force"],
        ["approve", entry_id],
        ["build"],
    )
    for argv, curator in zip(steps, ("writer", "reviewer", "reviewer")):  # four-eyes: another approves
        result = runner.invoke(app, argv, env={"LESSONS_CURATOR": curator})
        if result.exit_code != 0:
            print(f"FAILED {argv[0]}: {result.output}", flush=True)
            sys.exit(1)
    print(f"round {n} done", flush=True)
"""


class SharedSearcher:
    """A searcher shared by threads, reloaded when CURRENT changes (as the app's cache keyed on CURRENT)."""

    def __init__(self, settings: Settings, embedder: FakeEmbedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.lock = threading.Lock()
        self.seen: str | None = None
        self.searcher: Searcher | None = None
        self.reloads = 0

    def get(self) -> Searcher:
        """The searcher for the current version."""
        current = store.read_current(self.settings.index_dir)
        with self.lock:
            if self.searcher is None or current != self.seen:
                self.searcher, _ = open_searcher(self.settings, self.embedder)
                self.seen = current
                self.reloads += 1
            return self.searcher


def _check(searcher: Searcher, result: SearchResult, embedder: FakeEmbedder) -> None:
    """The answer comes from one consistent version: its chunks exist there and its vectors match their texts."""
    data = searcher.data
    assert data.manifest.version == data.path.name
    assert len(data.vectors()) == len(data.chunks) == data.manifest.chunk_count
    ids = {c.id for c in data.chunks}
    query = embedder.embed_queries([result.question])[0]
    for hit in result.hits:
        assert hit.chunk.id in ids
        assert hit.chunk.entry_id in data.manifest.entry_hashes
        expected = float(embedder.embed_documents([hit.chunk.text])[0] @ query)
        assert abs(hit.dense - expected) < 1e-4, (hit.chunk.id, hit.dense, expected)


def test_readers_during_add_approve_build_cycles(settings: Settings, tmp_path: Path) -> None:
    """Readers never fail and never see a chunk or vector of another version while a writer rebuilds."""
    fake = FakeEmbedder()
    settings = settings.model_copy(update={"keep_versions": 2})
    build_index(settings, fake)
    shared = SharedSearcher(settings, fake)
    env = {
        **os.environ,
        "LESSONS_CORPUS_DIR": str(settings.corpus_dir),
        "LESSONS_INDEX_DIR": str(settings.index_dir),
        "LESSONS_DATA_DIR": str(settings.data_dir),
        "LESSONS_MODEL": "fake-embedder",
        "LESSONS_KEEP_VERSIONS": "2",
        "LESSONS_BUILD_LOCK_TIMEOUT": "60",
    }
    errors: list[str] = []
    counts: Counter[str] = Counter()
    versions: set[str] = set()
    stop = threading.Event()
    guard = threading.Lock()

    def reader(number: int) -> None:
        own = FakeEmbedder()
        i = 0
        while not stop.is_set():
            i += 1
            question = QUESTIONS[(number + i) % len(QUESTIONS)]
            try:
                if i % 4 == 0:  # a fresh process's view: load from disk, as `lessons ask` does
                    searcher, _warnings = open_searcher(settings, own)
                    kind = "fresh"
                    status = index_status(settings)
                    assert status.manifest is not None and status.problem is None
                else:
                    searcher, kind = shared.get(), "shared"
                result = searcher.search(question, 5)
                _check(searcher, result, own)
            except Exception as exc:
                with guard:
                    errors.append(f"reader {number}: {type(exc).__name__}: {exc}")
                return
            with guard:
                counts[kind] += 1
                versions.add(searcher.version)

    threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(READERS)]
    for thread in threads:
        thread.start()
    with (tmp_path / "writer.out").open("w") as log:
        writer = subprocess.run(
            [sys.executable, "-c", _WRITER, str(ROUNDS)], env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    final = store.read_current(settings.index_dir)
    deadline = time.monotonic() + 30
    while final not in versions and not errors and time.monotonic() < deadline:
        time.sleep(0.05)  # let the readers reach the last version
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert writer.returncode == 0, (tmp_path / "writer.out").read_text()
    assert errors == []
    assert final in versions
    assert len(versions) >= 2  # the readers really did span rebuilds
    answers = counts["shared"] + counts["fresh"]
    assert answers > 0
    record(
        AREA,
        f"{READERS} reader threads while another process ran {ROUNDS} add + approve + build rounds "
        "(2 versions kept, so old ones were pruned meanwhile)",
        answers,
        f"0 errors; {counts['shared']} answers from the shared searcher ({shared.reloads} reloads on CURRENT change) "
        f"and {counts['fresh']} from freshly loaded indexes, over {len(versions)} versions; every hit's chunk "
        "existed in its version and every dense score matched that version's own chunk text",
    )


def test_version_pruned_while_being_loaded(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A version deleted by a concurrent build in the middle of loading it: loading restarts from the new CURRENT."""
    fake = FakeEmbedder()
    settings = settings.model_copy(update={"keep_versions": 2})
    build_index(settings, fake)
    first = store.read_current(settings.index_dir)
    real_sha256 = store.sha256_file
    fired: list[str] = []

    def concurrent_builds(path: Path) -> str:
        if not fired and first in path.parts:
            fired.append(path.name)
            build_index(settings, fake, full=True)
            build_index(settings, fake, full=True)  # the second build prunes `first`
            assert not (settings.index_dir / "versions" / str(first)).exists()
        return real_sha256(path)

    monkeypatch.setattr(store, "sha256_file", concurrent_builds)
    data = store.load_index(settings.index_dir)
    assert fired
    assert data.manifest.version == store.read_current(settings.index_dir) != first
    assert data.warnings == []
    record(
        AREA,
        "index version pruned by a concurrent build while a reader was loading it",
        1,
        "loading restarted from the new CURRENT and served it without warnings (before the fix: FileNotFoundError)",
    )


def test_readers_see_complete_versions_only(settings: Settings) -> None:
    """Between builds CURRENT always names a complete version: sampled continuously during 20 builds."""
    fake = FakeEmbedder()
    build_index(settings, fake)
    seen: Counter[str] = Counter()
    problems: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            current = store.read_current(settings.index_dir)
            if current is None:
                problems.append("CURRENT unreadable")
                continue
            folder = settings.index_dir / "versions" / current
            try:
                names = {p.name for p in folder.iterdir()}
            except FileNotFoundError:
                names = set()
            complete = {"manifest.json", "vectors.faiss", "chunks.jsonl", "background.npy"} <= names
            if not complete and store.read_current(settings.index_dir) == current:  # not pruned after a switch
                problems.append(f"CURRENT names incomplete {current}: {sorted(names)}")
            seen[current] += 1

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    for _ in range(20):
        build_index(settings, fake, full=True)
    stop.set()
    watcher.join(timeout=30)
    assert problems == []
    assert len(seen) >= 2
    record(
        AREA,
        "CURRENT sampled continuously during 20 builds",
        sum(seen.values()),
        f"always named a complete version ({len(seen)} versions seen); never empty, torn or dangling",
    )


def test_npy_headers_are_parsed_one_thread_at_a_time(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """numpy parses a .npy header with ast.literal_eval, and CPython 3.11 shares the AST converter's recursion count
    between threads (gh-106905: a reader thread once failed with an AST recursion error under load), so the index
    loader parses headers under one lock: four threads loading at once never parse two headers together."""
    import ast

    build_index(settings, FakeEmbedder())
    state = {"now": 0, "most": 0, "calls": 0}
    guard = threading.Lock()

    def literal_eval(text: str) -> object:
        with guard:
            state["now"] += 1
            state["calls"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.005)  # long enough for another thread to start a parse of its own
        with guard:
            state["now"] -= 1
        return real(text)

    real = ast.literal_eval
    monkeypatch.setattr(ast, "literal_eval", literal_eval)  # numpy imports ast inside its header reader
    errors: list[BaseException] = []

    def load() -> None:
        try:
            for _ in range(3):
                store.load_index(settings.index_dir)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and state["calls"] >= 4 * 3
    assert state["most"] == 1, state
