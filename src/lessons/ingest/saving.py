"""Saving recognised entries as drafts: skipping text the corpus has, all files moved into place together."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from lessons.corpus import Corpus, entry_hash, entry_path, write_entry
from lessons.curation import Thresholds, checked_corpus, curation_lock, prepare_entry
from lessons.errors import (
    CorpusError,
    DraftsNotSavedError,
    IngestError,
    Problem,
    StorageError,
    UnsafeFileError,
    UploadError,
)
from lessons.files import read_regular_file, storage_error
from lessons.ingest.dedupe import Deadline, TextIndex
from lessons.ingest.parsing import Candidate, candidate_id
from lessons.ingest.upload import IngestLimits, check_upload
from lessons.ingest.worker import parse_in_subprocess
from lessons.models import Entry
from lessons.words import label, t

__all__ = ["IngestResult", "SkipCause", "Skipped", "ingest_bytes", "ingest_file"]


class SkipCause(StrEnum):
    """Why a recognised entry was not saved; each has its words (``skip_<value>``) in both languages."""

    ALREADY_INGESTED = "already_ingested"  # an entry with its id exists (the same report ingested before)
    ALREADY_INGESTED_MEANWHILE = "already_ingested_meanwhile"  # ... saved by someone else while this one ran
    INVALID = "invalid"  # it does not make a valid entry (``problem`` says why)
    REPEAT = "repeat"  # its text is already in ``existing`` (``share`` of the words)
    REPEAT_MEANWHILE = "repeat_meanwhile"  # ... which was added while this one ran


@dataclass(frozen=True)
class Skipped:
    """A recognised entry that was not saved, and why (typed: the edges word it in their language)."""

    title: str
    page: int | None
    cause: SkipCause
    existing: str | None = None
    share: float | None = None  # for a repeat: the part of its words already in ``existing``
    problem: Problem | None = None  # for an invalid entry: the first validation problem

    def describe(self, lang: str, share: str | None = None) -> str:
        """The reason in ``lang``; ``share`` is the percentage as the caller writes it (default: '73%')."""
        if share is None:
            share = f"{self.share or 0:.0%}"
        problem = self.problem.describe(lang) if self.problem else ""
        return t(f"skip_{self.cause.value}", lang, existing=self.existing or "", share=share, problem=problem)

    @property
    def reason(self) -> str:
        """The reason in English (the CLI's language)."""
        return self.describe("en")


@dataclass(frozen=True)
class IngestResult:
    """What an ingest found and saved."""

    report: str
    pages: int
    created: list[Entry]
    skipped: list[Skipped]
    dry_run: bool = False

    def counts(self) -> dict[str, int]:
        """Created drafts per kind."""
        return dict(Counter(e.kind.value for e in self.created))

    def skip_counts(self) -> dict[SkipCause, int]:
        """How many recognised entries were skipped for each cause, in SkipCause's order (causes with none left out)."""
        counted = Counter(s.cause for s in self.skipped)
        return {cause: counted[cause] for cause in SkipCause if counted[cause]}

    def skip_summary(self, lang: str) -> str:
        """The skips counted by cause in ``lang``, as the CLI and the app both say it: '2 already ingested,
        1 invalid' ('' for none)."""
        return ", ".join(f"{n} {label('skip', cause, lang)}" for cause, n in self.skip_counts().items())


def _write_all(root: Path, entries: list[Entry]) -> None:
    """Write every draft to a temporary folder, then move them all into place; undo on failure."""
    if not entries:
        return
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".ingest-"))
    moved: list[Path] = []
    try:
        staged = [(write_entry(staging, e), entry_path(root, e)) for e in entries]
        clash = [str(target) for _, target in staged if target.exists()]
        if clash:
            raise IngestError.worded("ingest_clash", files=", ".join(clash[:3]))
        for source, target in staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            _move(source, target)
            moved.append(target)
    except BaseException as exc:
        for target in moved:
            target.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise storage_error(exc, root, "save_drafts", "unsaved", error=DraftsNotSavedError) from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move(source: Path, target: Path) -> None:
    """Move one staged file into the corpus (same file system: an atomic rename)."""
    os.replace(source, target)


def ingest_bytes(
    root: Path,
    data: bytes,
    name: str,
    *,
    by: str,
    report: str | None = None,
    limits: IngestLimits | None = None,
    dry_run: bool = False,
    keep_near_duplicates: bool = False,
) -> IngestResult:
    """Check, parse (in a subprocess) and save a report's recognised entries as drafts.

    Skips entries already ingested (same id) and entries whose text already exists
    in the corpus or earlier in this report; with ``dry_run`` nothing is written.
    All of it, parsing included, must finish within ``limits.seconds``. The work is
    done on a snapshot of the corpus without the curation lock; the lock is taken
    only to check what changed meanwhile and write, so other curators are not blocked.
    """
    limits = limits or IngestLimits()
    deadline = Deadline(limits.seconds, Path(name).name)
    fmt = check_upload(data, name, limits)
    answer = parse_in_subprocess(data, fmt, name, report, limits, seconds=deadline.remaining())
    title = str(answer["report"])
    candidates = [Candidate.from_json(c) for c in answer["candidates"]]
    snapshot = checked_corpus(root)
    created, skipped = _plan(
        snapshot,
        candidates,
        title=title,
        name=name,
        by=by,
        keep_near_duplicates=keep_near_duplicates,
        deadline=deadline,
    )
    if not dry_run and created:
        with curation_lock(root):
            current = checked_corpus(root)
            created, late = _recheck(snapshot, current, created, keep_near_duplicates)
            skipped += late
            _write_all(root, created)
    return IngestResult(report=title, pages=int(answer["pages"]), created=created, skipped=skipped, dry_run=dry_run)


def _plan(
    corpus: Corpus,
    candidates: list[Candidate],
    *,
    title: str,
    name: str,
    by: str,
    keep_near_duplicates: bool,
    deadline: Deadline,
) -> tuple[list[Entry], list[Skipped]]:
    """The drafts to save and the candidates skipped, against a snapshot of the corpus (no lock held)."""
    threshold = Thresholds().contained
    index = TextIndex()
    for number, entry in enumerate(corpus.entries):
        if number % 256 == 0:
            deadline.check("indexing")
        index.add(entry)
    taken: set[str] = set(corpus.by_id())
    created: list[Entry] = []
    skipped: list[Skipped] = []
    for candidate in candidates:
        deadline.check("comparing", n=len(candidates))
        raw = dict(candidate.raw)
        raw["id"] = candidate_id(title, candidate)
        label = str(raw.get("title", "?"))
        if raw["id"] in taken:
            skipped.append(Skipped(label, candidate.page, SkipCause.ALREADY_INGESTED, raw["id"]))
            continue
        where = f"{Path(name).name}" + (f" p. {candidate.page}" if candidate.page else "")
        note = f"ingested from {where} as a {candidate.reason}"
        try:
            entry = prepare_entry(raw, taken, by=by, file=where, note=note)
        except CorpusError as exc:
            skipped.append(Skipped(label, candidate.page, SkipCause.INVALID, problem=exc.problems[0]))
            continue
        tokens = TextIndex.tokens(entry)
        if not keep_near_duplicates and (repeat := index.repeat_of(tokens, threshold)):
            share = repeat.contained
            skipped.append(Skipped(label, candidate.page, SkipCause.REPEAT, repeat.entry.id, share))
            continue
        created.append(entry)
        taken.add(entry.id)
        index.add(entry, tokens)
    return created, skipped


def _recheck(
    snapshot: Corpus, current: Corpus, created: list[Entry], keep_near_duplicates: bool
) -> tuple[list[Entry], list[Skipped]]:
    """Under the lock: drop drafts whose id or text appeared in the corpus since the snapshot was taken."""
    before = {entry.id: entry_hash(entry) for entry in snapshot.entries}
    changed = [entry for entry in current.entries if before.get(entry.id) != entry_hash(entry)]
    if not changed:
        return created, []
    index = TextIndex(changed)
    ids = set(current.by_id())
    threshold = Thresholds().contained
    kept: list[Entry] = []
    late: list[Skipped] = []
    for entry in created:
        page = entry.source.page
        if entry.id in ids:
            late.append(Skipped(entry.title, page, SkipCause.ALREADY_INGESTED_MEANWHILE, entry.id))
        elif not keep_near_duplicates and (repeat := index.repeat_of(TextIndex.tokens(entry), threshold)):
            late.append(Skipped(entry.title, page, SkipCause.REPEAT_MEANWHILE, repeat.entry.id, repeat.contained))
        else:
            kept.append(entry)
    return kept, late


def ingest_file(root: Path, path: Path, *, by: str, limits: IngestLimits | None = None, **options: Any) -> IngestResult:
    """:func:`ingest_bytes` for a file on disk: a regular file (no link, FIFO, device), size checked before reading."""
    limits = limits or IngestLimits()
    try:
        data = read_regular_file(path, max_bytes=limits.max_bytes)
    except UnsafeFileError as exc:
        if exc.size is not None:
            raise UploadError("too_large", path.name, size=exc.size, limit=limits.max_bytes) from None
        raise IngestError(f"{path}: {exc.reason}") from None
    except StorageError as exc:
        raise IngestError(str(exc)) from None
    return ingest_bytes(root, data, path.name, by=by, limits=limits, **options)
