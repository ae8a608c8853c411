"""Opening the index for questions, and telling whether it matches the corpus and the model.

This is what the CLI and the app call: they get a :class:`Searcher` or a domain
error with a message that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from lessons.corpus import Corpus, corpus_files_digest, entry_hash, load_corpus
from lessons.embedding import Embedder, load_embedder, model_fingerprint
from lessons.errors import CorpusError, Count, Ids, IndexUnusableError, Messages, Said
from lessons.models import Entry
from lessons.query_encoder import select_query_embedder
from lessons.settings import Settings, SettingsError
from lessons.store import IndexData, Manifest, load_index, read_current

if TYPE_CHECKING:  # search pulls in bm25s and scipy: only `ask` and the app need them, not `status`
    from lessons.search import Ranking, Searcher

__all__ = [
    "CorpusChanges",
    "IndexStatus",
    "change_texts",
    "corpus_changes",
    "corpus_differences",
    "index_status",
    "open_searcher",
    "served_entries",
]


@dataclass(frozen=True)
class CorpusChanges:
    """Entry ids that differ between what the index was built from and the corpus now, each list sorted."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # removed or retired
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


@dataclass
class IndexStatus:
    """What the index on disk is, and whether it is stale against the corpus."""

    exists: bool
    manifest: Manifest | None = None
    stale: bool = False
    differences: list[str] = field(default_factory=list)
    changes: CorpusChanges = field(default_factory=CorpusChanges)
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def version(self) -> str | None:
        """The version served, if any."""
        return self.manifest.version if self.manifest else None


def corpus_changes(manifest: Manifest, corpus: Corpus) -> CorpusChanges:
    """Which entries were added, removed (or retired) and changed since the index was built."""
    now = {e.id: entry_hash(e) for e in corpus.retrievable()}
    then = manifest.entry_hashes
    return CorpusChanges(
        added=tuple(sorted(set(now) - set(then))),
        removed=tuple(sorted(set(then) - set(now))),
        changed=tuple(sorted(k for k in set(now) & set(then) if now[k] != then[k])),
    )


def change_texts(changes: CorpusChanges) -> list[Said]:
    """What was added, removed (or retired) and changed since the build, one message each, the first five ids
    named ('2 entries added since the build: a, b'); English as str(), either language through say()."""
    out = []
    for what, ids in (("added", changes.added), ("removed", changes.removed), ("changed", changes.changed)):
        if ids:
            out.append(Said(f"stale_{what}_{'one' if len(ids) == 1 else 'many'}", n=len(ids), ids=Ids(ids)))
    return out


def corpus_differences(manifest: Manifest, corpus: Corpus) -> list[str]:
    """The differences between the index and the corpus as messages (English as str(), for the CLI and logs)."""
    return list(change_texts(corpus_changes(manifest, corpus)))


def _unchanged(manifest: Manifest, settings: Settings) -> bool:
    """Whether the entry files are byte for byte those the version was built from (no parsing needed)."""
    return bool(manifest.corpus_files_sha256) and manifest.corpus_files_sha256 == corpus_files_digest(
        settings.corpus_dir
    )


def served_entries(settings: Settings, data: IndexData) -> dict[str, Entry]:
    """The approved entries, by id, that answers from index version ``data`` draw their cards from.

    While the entry files are byte for byte those the version was built from, these are the version's own
    parsed copy (``entries.json``: JSON, no YAML to parse; about 0.4–0.6 s less to open the index). After any
    edit (a curator's, or by hand), they are the corpus as it is now, parsed and validated as ``lessons
    validate`` does, exactly as before the copy existed. Raises CorpusError when that corpus does not validate.
    """
    if _unchanged(data.manifest, settings):
        snapshot = data.entry_snapshot()
        if snapshot is not None:
            try:
                return {entry.id: entry for entry in (Entry.model_validate(item) for item in snapshot)}
            except ValidationError:
                pass  # written by another version of lessons: read the files
    return {entry.id: entry for entry in load_corpus(settings.corpus_dir).retrievable()}


def index_status(settings: Settings, corpus: Corpus | None = None) -> IndexStatus:
    """Inspect the index without loading the model."""
    try:
        data = load_index(settings.index_dir)
    except IndexUnusableError as exc:
        return IndexStatus(exists=read_current(settings.index_dir) is not None, problem=exc.text())
    status = IndexStatus(exists=True, manifest=data.manifest, warnings=list(data.warnings))
    if corpus is None and _unchanged(data.manifest, settings):
        return status
    try:
        corpus = corpus if corpus is not None else load_corpus(settings.corpus_dir)
    except CorpusError as exc:
        status.warnings.append(Said("ix_corpus_invalid", n=len(exc.problems)))
        return status
    status.changes = corpus_changes(data.manifest, corpus)
    status.differences = corpus_differences(data.manifest, corpus)
    status.stale = bool(status.differences)
    return status


def _query_embedder(settings: Settings, manifest: Manifest) -> tuple[Embedder, str | None]:
    """The light query engine when the index records one this machine can run, else the configured model.

    Raises IndexUnusableError when the index expects a runtime or weights that are not installed
    (see lessons.query_encoder), and ModelNotFoundError when the model folder is missing.
    """
    path = settings.model_path()
    if path is not None and not path.exists():
        return load_embedder(settings), None  # raises ModelNotFoundError with the fix
    choice = select_query_embedder(settings, manifest, model_fingerprint=model_fingerprint)
    if choice.embedder is not None:
        return choice.embedder, None
    return load_embedder(settings), choice.notice


def open_searcher(
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    ranking: Ranking | None = None,
    index_path: Path | None = None,
) -> tuple[Searcher, list[str]]:
    """Load the current index and the model; return a searcher and warnings for the user.

    Raises IndexUnusableError when there is no usable index or it was built with another
    model (if an older version was built with the configured model, that one serves, with
    a warning), and ModelNotFoundError when the model is missing.
    """
    from lessons.search import Ranking, Searcher

    folder = index_path or settings.index_dir
    data = load_index(folder)  # before the model, so a missing index is reported at once
    notices: list[str] = []
    if embedder is None:
        embedder, notice = _query_embedder(settings, data.manifest)
        notices += [notice] if notice else []
    model = embedder  # the narrowed type, for the closure

    def models(manifest: Manifest) -> dict[str, object]:  # the values of both messages about another model
        return {
            "built": repr(manifest.model),
            "built_dimension": manifest.dimension,
            "built_fingerprint": manifest.model_fingerprint,
            "model": repr(model.name),
            "dimension": model.dimension,
            "fingerprint": model.fingerprint,
        }

    def mismatch(manifest: Manifest) -> str | None:
        if manifest.dimension == model.dimension and manifest.model_fingerprint == model.fingerprint:
            return None
        return Said("ix_version_other_model", version=manifest.version, **models(manifest))

    if mismatch(data.manifest):  # an older version built with the configured model may still serve
        first = data.manifest
        try:
            data = load_index(folder, expect=mismatch)
        except IndexUnusableError:
            raise IndexUnusableError.worded("index_other_model", **models(first)) from None
    warnings = notices + list(data.warnings)
    manifest = data.manifest
    try:
        differences = (
            [] if _unchanged(manifest, settings) else corpus_differences(manifest, load_corpus(settings.corpus_dir))
        )
    except CorpusError as exc:
        differences = [Said("ix_corpus_invalid", n=len(exc.problems))]
    if differences:
        warnings.append(Said("ix_stale", differences=Messages(tuple(differences))))
    ranking = ranking or Ranking()
    if settings.no_match_margin is not None:
        ranking = replace(ranking, min_margin=settings.no_match_margin)
    if data.no_match_model is None:
        warnings.append(Said("ix_no_match_missing"))
    elif settings.no_match_cutoffs is not None:
        low, high = settings.no_match_cutoffs
        if low > high:
            raise SettingsError.worded("settings_cutoffs_order", low=Count(low), high=Count(high))
        cutoffs = {**data.no_match_model.cutoffs, "combined": (low, high)}
        # explicit cut-offs apply to every language
        data = replace(data, no_match_model=replace(data.no_match_model, cutoffs=cutoffs, language_cutoffs={}))
    searcher = Searcher(data, embedder, ranking=ranking, max_question_chars=settings.max_question_chars)
    return searcher, warnings
