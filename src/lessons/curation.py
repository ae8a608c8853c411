"""Curating the corpus without a developer: add, edit, approve and retire entries.

Every change goes through :class:`~lessons.models.Entry` validation and
:func:`~lessons.corpus.write_entry` (atomic), records who and when in the entry,
and appends one line to its ``history``. New entries start as drafts: curators
see them, users do not, until someone approves them.

An edit to an approved entry does not change the served text: it is kept as the
entry's pending :class:`~lessons.models.Revision` (in the same file, under
``revision:``) until an editor who is none of its authors approves it, which applies
it in one atomic write. A second edit amends the same revision; its authors may
withdraw it. Drafts and retired entries are edited directly, as before.

Near-duplicates are found lexically (content-word sets, so it works without the
model) and, when an index and embedder are at hand, densely as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from filelock import FileLock, Timeout
from pydantic import ValidationError

from lessons.chunking import chunk_entry
from lessons.corpus import Corpus, entry_path, load_corpus, superseded_problems, validate_entry, write_entry
from lessons.errors import CorpusError, Count, LessonsError, Problem, said_value
from lessons.files import read_regular_file, storage_error
from lessons.models import REVISABLE_FIELDS, Entry, ReviewState, Revision, slugify
from lessons.roles import person
from lessons.text import content_stems, markdown_heading, normalise, words
from lessons.words import labels, t
from lessons.yamlio import MAX_YAML_BYTES, YamlError, key_lines, load_yaml, path_lines

if TYPE_CHECKING:
    from lessons.embedding import Embedder
    from lessons.store import IndexData

__all__ = [
    "CURATION_FIELDS",
    "CorpusInvalidError",
    "CurationError",
    "CurationProblemsError",
    "DenseScorer",
    "EntryError",
    "FieldChange",
    "FourEyesError",
    "Match",
    "NearDuplicateError",
    "NotYourRevisionError",
    "NothingToChangeError",
    "RevisionError",
    "Thresholds",
    "add_entry",
    "approve_entry",
    "authors",
    "awaiting_review",
    "checked_corpus",
    "closest_entries",
    "content_tokens",
    "curation_lock",
    "dense_scorer",
    "drafts",
    "edit_entry",
    "find_entry",
    "new_entry_id",
    "parse_entry_file",
    "prepare_entry",
    "read_entry_upload",
    "retire_entry",
    "revision_changes",
    "revision_file_problems",
    "revision_problems",
    "withdraw_revision",
]

# Fields lessons sets itself when an entry is added, approved or retired.
CURATION_FIELDS = ("state", "created_by", "created_at", "approved_by", "approved_at", "retired_at", "history")
LOCK_NAME = ".curation.lock"
LOCK_TIMEOUT = 30.0


class CurationError(LessonsError):
    """A curation step cannot be done as asked (unknown id, wrong state, another curator saving).

    ``code`` names its words, ``curation_<code>`` in :mod:`lessons.words`, filled with ``values``
    (ids, names, paths); ``str()`` is the English (the CLI's), :meth:`describe` either language.
    """

    def __init__(self, code: str, **values: str | Count) -> None:
        self.code = code
        self.values = values
        super().__init__(self.describe("en"))

    def describe(self, lang: str) -> str:
        """The refusal in ``lang`` (a :class:`~lessons.errors.Count` written as the language writes numbers)."""
        return t(f"curation_{self.code}", lang, **{k: said_value(v, lang) for k, v in self.values.items()})


class NothingToChangeError(CurationError):
    """An edit whose values are what the entry already holds."""

    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__("nothing_to_change", id=entry_id)


class CurationProblemsError(CurationError):
    """A refusal that lists problems (each after its file, line and field) between a head and a foot line."""

    foot: ClassVar[str] = ""

    def __init__(self, code: str, problems: list[Problem], **values: str) -> None:
        self.problems = problems
        super().__init__(code, **values)

    def head(self, lang: str) -> str:
        """The line before the problems, in ``lang``."""
        return t(f"curation_{self.code}", lang, n=len(self.problems), **self.values)

    def tail(self, lang: str) -> str:
        """The line after the problems (what to do), in ``lang``; empty when there is none."""
        return t(self.foot, lang, **self.values) if self.foot else ""

    def describe(self, lang: str) -> str:
        """The head, every problem in ``lang`` (the CLI's English: the validator's own words), and the tail."""
        lines = [self.head(lang)]
        lines += [f"  {p}" if lang == "en" else f"  {p.where()}: {p.describe(lang)}" for p in self.problems]
        return "\n".join([*lines, self.tail(lang)] if self.foot else lines)


class CorpusInvalidError(CurationProblemsError):
    """The corpus does not validate, so no curation step may change it; lists every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("corpus_invalid", problems)


class FourEyesError(CurationError):
    """An editor tried to approve a draft they wrote or changed themselves."""


class RevisionError(CurationProblemsError):
    """A pending revision cannot be approved or amended: it no longer applies to its entry."""

    foot = "curation_revision_withdraw"

    def __init__(self, entry_id: str, problems: list[Problem]) -> None:
        super().__init__("revision_stale", problems, id=entry_id)


class NotYourRevisionError(CurationError):
    """A curator tried to withdraw a revision they did not write (an editor may withdraw any)."""


class EntryError(CorpusError):
    """A new or edited entry does not validate; each problem names its field (and line, from a file)."""

    subject: ClassVar[str] = "the entry"
    subject_key: ClassVar[str] = "subject_entry"


def _validated(data: Mapping[str, Any], file: str, lines: Mapping[str, int] | None = None) -> Entry:
    """validate_entry, raising :class:`EntryError`."""
    try:
        return validate_entry(dict(data), file, dict(lines or {}))
    except CorpusError as exc:
        raise EntryError(exc.problems) from None


@dataclass(frozen=True)
class Match:
    """An existing entry close to a new or edited one, and how close."""

    entry: Entry
    jaccard: float  # shared content words / all content words of both
    contained: float  # share of the new text's content words found in the existing entry
    covers: float  # share of the existing entry's content words found in the new text
    dense: float | None = None  # best cosine between their chunks, when an index was consulted
    near_duplicate: bool = False
    reason: str = ""

    @property
    def score(self) -> float:
        """One number to sort by: the strongest of the overlaps."""
        return max(self.jaccard, self.contained, self.covers, self.dense or 0.0)


class NearDuplicateError(LessonsError):
    """A new entry looks like one that exists; saving it needs confirmation (``force``)."""

    def __init__(self, matches: list[Match]) -> None:
        self.matches = matches
        lines = [f"the entry looks like {len(matches)} existing entr{'y' if len(matches) == 1 else 'ies'}:"]
        lines += [f"  {m.entry.id} ({m.entry.state.value}): {m.entry.title} [{m.reason}]" for m in matches]
        lines.append("Edit the existing entry instead, or save anyway with --force.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Thresholds:
    """When two texts count as near-duplicates.

    Overlaps are over sets of stemmed content words (stop words removed). A pair
    is a near-duplicate when the word sets largely coincide (``jaccard``), when
    the new text is almost wholly contained in an existing entry (``contained``:
    its text already exists), or when it almost wholly contains one (``covers``).
    Texts with fewer than ``min_tokens`` content words are compared by jaccard only,
    so a one-line entry is not a duplicate of every long one that uses its words.
    """

    jaccard: float = 0.6
    contained: float = 0.85
    covers: float = 0.85
    dense: float = 0.97
    min_tokens: int = 8


# --- who and when -------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _history_line(when: datetime, action: str, who: str, detail: str | None = None) -> str:
    line = f"{when.isoformat().replace('+00:00', 'Z')} {action} by {who}"
    if detail:
        line += f": {' '.join(detail.split())}"
    return line


@contextmanager
def curation_lock(root: Path, timeout: float | None = None) -> Iterator[None]:
    """Serialise curators' read-modify-write steps on one corpus folder (an OS lock)."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    lock = FileLock(str(root / LOCK_NAME), timeout=timeout)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise CurationError("busy", folder=str(root), seconds=Count(timeout)) from None
    except OSError as exc:
        raise storage_error(exc, root / LOCK_NAME, "lock", "unchanged") from None
    try:
        yield
    finally:
        lock.release()


# --- similarity -------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def content_tokens(text: str) -> frozenset[str]:
    """Stemmed content words of a text: lower case, stop words and one-letter words removed."""
    return frozenset(content_stems(words(text)))


def _entry_text(entry: Entry) -> str:
    return "\n".join(text for _, text in entry.text_fields())


def _overlap(new: frozenset[str], old: frozenset[str]) -> tuple[float, float, float]:
    if not new or not old:
        return 0.0, 0.0, 0.0
    shared = len(new & old)
    return shared / len(new | old), shared / len(new), shared / len(old)


def _judge(jaccard: float, contained: float, covers: float, sizes: tuple[int, int], limits: Thresholds) -> str:
    """Why a pair is a near-duplicate, or '' when it is not."""
    if jaccard >= limits.jaccard:
        return f"{jaccard:.0%} of their words shared"
    small = min(sizes) < limits.min_tokens
    if not small and contained >= limits.contained:
        return f"{contained:.0%} of its words are in the existing entry"
    if not small and covers >= limits.covers:
        return f"it contains {covers:.0%} of the existing entry's words"
    return ""


DenseScorer = Callable[[Entry], Mapping[str, float]]


def dense_scorer(index: IndexData, embedder: Embedder, chunk_words: int = 160) -> DenseScorer:
    """Best cosine between a candidate's chunks and each indexed entry's chunks (needs the index's model)."""
    stored = index.vectors()
    owners = [chunk.entry_id for chunk in index.chunks]

    def score(entry: Entry) -> dict[str, float]:
        texts = [chunk.text for chunk in chunk_entry(entry, chunk_words)]
        if not texts or not len(stored):
            return {}
        sims = embedder.embed_documents(texts) @ stored.T
        best = sims.max(axis=0)
        out: dict[str, float] = {}
        for owner, value in zip(owners, best.tolist(), strict=True):
            out[owner] = max(out.get(owner, -1.0), float(value))
        return out

    return score


def closest_entries(
    entries: Iterable[Entry],
    candidate: Entry,
    *,
    k: int = 5,
    exclude: str | None = None,
    thresholds: Thresholds | None = None,
    dense: DenseScorer | None = None,
) -> list[Match]:
    """The ``k`` existing entries closest to ``candidate``, closest first, near-duplicates flagged.

    Drafts and retired entries are compared too: a draft waiting for review and a
    retired entry are both reasons to think twice.
    """
    limits = thresholds or Thresholds()
    new = content_tokens(_entry_text(candidate))
    dense_scores = dict(dense(candidate)) if dense is not None else {}
    matches: list[Match] = []
    for entry in entries:
        if entry.id in (exclude, candidate.id):
            continue
        old = content_tokens(_entry_text(entry))
        jaccard, contained, covers = _overlap(new, old)
        reason = _judge(jaccard, contained, covers, (len(new), len(old)), limits)
        cosine = dense_scores.get(entry.id)
        if not reason and cosine is not None and cosine >= limits.dense:
            reason = f"meaning nearly identical (cosine {cosine:.3f})"
        matches.append(
            Match(
                entry=entry,
                jaccard=jaccard,
                contained=contained,
                covers=covers,
                dense=cosine,
                near_duplicate=bool(reason),
                reason=reason or f"{max(jaccard, contained, covers):.0%} word overlap",
            )
        )
    matches.sort(key=lambda m: (not m.near_duplicate, -m.score, m.entry.id))
    return [m for m in matches if m.score > 0][:k]


# --- reading an entry from a file or a form -------------------------------------------------------

_SECTION_ALIASES: dict[str, str] = {
    "eksempel på håndtering": "handling",
    "result": "outcome",
    "resultater": "outcome",
    "brødtekst": "body",
    "text": "body",
    "resumé": "summary",
    "resume": "summary",
    "opsummering": "summary",
    "summary": "summary",
}


@cache
def _section_fields() -> dict[str, str]:
    table = dict(_SECTION_ALIASES)
    for name, (danish, english) in labels("field").items():
        for label in (name, name.replace("_", " "), danish, english):
            table[label.lower()] = name
    return table


_ENTRY_ID = re.compile(r"[a-z0-9-]{1,120}")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?$\n?", re.DOTALL | re.MULTILINE)


def _decode(data: bytes, file: str) -> str:
    if len(data) > MAX_YAML_BYTES:
        raise EntryError([Problem(file=file, message=f"file is {len(data):,} bytes; the limit is {MAX_YAML_BYTES:,}")])
    if b"\x00" in data:
        raise EntryError([Problem(file=file, message="file contains NUL bytes; it looks binary, not text")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EntryError([Problem(file=file, message=f"file is not UTF-8 text (byte {exc.start})")]) from None


def _front_matter(text: str, file: str) -> tuple[dict[str, Any], dict[str, int], str, int]:
    """Split YAML front matter off a Markdown text: (fields, their lines, the rest, lines consumed)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, {}, text, 0
    front = match.group(1)
    try:
        loaded = load_yaml(front)
    except YamlError as exc:
        where = exc.line + 1 if exc.line is not None else None
        raise EntryError([Problem(file=file, message=f"front matter: {exc.message}", line=where)]) from None
    if loaded is not None and not isinstance(loaded, dict):
        raise EntryError([Problem(file=file, message="front matter must be a mapping of fields", line=2)])
    lines = {key: number + 1 for key, number in key_lines(front).items()}
    return dict(loaded or {}), lines, text[match.end() :], text[: match.end()].count("\n")


def _parse_markdown(text: str, file: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Front matter (YAML) plus '## Udfordring'-style sections mapped to fields.

    A leading '# Heading' is the title when the front matter has none; text before
    the first section is the body.
    """
    raw, lines, text, offset = _front_matter(text, file)
    problems: list[Problem] = []
    current = "body"
    parts: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=offset + 1):
        level, heading = markdown_heading(line, max_level=2) or (0, "")
        if level == 1 and "title" not in raw and not any(parts.values()):
            raw["title"], lines["title"] = heading, number
            continue
        if level == 2:
            label = heading.rstrip(":")
            name = _section_fields().get(label.lower())
            if name is None:
                known = ", ".join(sorted({danish for danish, _ in labels("field").values()}))
                message = f"unknown section heading; use one of: {known}"
                problems.append(Problem(file=file, field=label, line=number, message=message))
            elif name in raw or any(parts.get(name, [])):
                problems.append(Problem(file=file, field=name, line=number, message="given twice"))
            current = name or ""
            lines.setdefault(current, number)
            continue
        if line.strip() and current == "body":
            lines.setdefault("body", number)
        parts.setdefault(current, []).append(line)
    if problems:
        raise EntryError(problems)
    for name, body in parts.items():
        value = "\n".join(body).strip()
        if name and value:
            raw[name] = value
    return raw, lines


def read_entry_upload(path: Path) -> bytes:
    """A new entry's file as named by a curator: a regular file (no link, FIFO or device) within the size limit."""
    return read_regular_file(path, max_bytes=MAX_YAML_BYTES)


def parse_entry_file(data: bytes, name: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Read a new entry's fields from a YAML file or a Markdown file with YAML front matter.

    Returns the raw fields and the line of each (for error messages); validation
    happens in :func:`prepare_entry`. Markdown sections ``## Udfordring``,
    ``## Håndtering``, ``## Resultat`` (and the other field labels, Danish or
    English) become the text fields; text before the first section is the body.
    """
    text = _decode(data, name)
    suffix = Path(name).suffix.lower()
    if suffix in {".md", ".markdown"} or (suffix not in {".yaml", ".yml"} and text.lstrip().startswith("---")):
        return _parse_markdown(text, name)
    try:
        raw = load_yaml(text)
    except YamlError as exc:
        raise EntryError([exc.problem(name)]) from None
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else type(raw).__name__
        raise EntryError([Problem(file=name, message=f"expected a mapping of fields, got {kind}")])
    return raw, key_lines(text)


def _clean(value: Any) -> Any:
    """Normalise text (NFC, no control characters); empty strings and lists become None."""
    if isinstance(value, str):
        value = normalise(value).strip()
        return value or None
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        items = [v for v in items if v is not None]
        return items or None
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v is not None} or None
    return value


def new_entry_id(kind: str, title: str, taken: Iterable[str]) -> str:
    """A readable id from kind and title, unique among ``taken``: 'handling-adgang-til-data', '-2', ..."""
    used = taken if isinstance(taken, set | frozenset | dict) else set(taken)
    base = f"{slugify(kind, 20)}-{slugify(title)}"
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def prepare_entry(
    raw: Mapping[str, Any],
    taken: Iterable[str],
    *,
    by: str,
    file: str = "<input>",
    lines: Mapping[str, int] | None = None,
    now: datetime | None = None,
    note: str | None = None,
) -> Entry:
    """Validate a new entry's fields and make it a draft with who/when, without saving it.

    Raises :class:`CorpusError` naming each bad field. The curation fields (state,
    who, when, history) are set here and may not be given.
    """
    data = {k: _clean(v) for k, v in raw.items()}
    data = {k: v for k, v in data.items() if v is not None}
    used = taken if isinstance(taken, set | frozenset | dict) else set(taken)
    problems = [
        Problem(
            file=file,
            field=name,
            line=(lines or {}).get(name),
            message="set by lessons; remove it",
            code="set_by_lessons",
        )
        for name in CURATION_FIELDS
        if name in data
    ]
    if "id" in data and data["id"] in used:
        problems.append(
            Problem(
                file=file,
                field="id",
                line=(lines or {}).get("id"),
                message=f"id {data['id']!r} is taken; choose another or edit that entry",
                code="id_taken",
                values=(("id", repr(data["id"])),),
            )
        )
    if problems:
        raise EntryError(problems)
    if "id" not in data:
        kind = data.get("kind") if isinstance(data.get("kind"), str) else "entry"
        title = data.get("title") if isinstance(data.get("title"), str) else "new"
        data["id"] = new_entry_id(str(kind), str(title), used)
    when = now or _now()
    data.update(
        state=ReviewState.DRAFT.value,
        created_by=by,
        created_at=when,
        history=[_history_line(when, "created", by, "draft" + (f"; {note}" if note else ""))],
    )
    return _validated(data, file, lines)


# --- the steps ---------------------------------------------------------------------------------


def checked_corpus(root: Path) -> Corpus:
    """The corpus, if it validates; else :class:`CorpusInvalidError` listing its problems.

    Every curation step starts here: a step on a corpus with, say, a file whose id
    differs from its name could write the wrong file.
    """
    try:
        return load_corpus(root)
    except CorpusError as exc:
        raise CorpusInvalidError(exc.problems) from None


def find_entry(root: Path, entry_id: str, corpus: Corpus | None = None) -> tuple[Path, Entry]:
    """The file and entry with this id (any state), from the validated corpus."""
    if not _ENTRY_ID.fullmatch(entry_id):
        raise CurationError("bad_id", id=repr(entry_id[:200]))
    corpus = corpus if corpus is not None else checked_corpus(root)
    entry = corpus.by_id().get(entry_id)
    if entry is None:
        raise CurationError("no_entry", id=repr(entry_id), folder=str(root / "entries"))
    return corpus.files[entry_id], entry


def _check_superseded(corpus: Corpus, entry: Entry, file: str) -> None:
    """Refuse an entry whose ``superseded_by`` names no entry or closes a loop (the corpus was valid before).

    Checked twice: against the entries as served, and as they will be once every pending
    revision is approved, so two revisions cannot each go live and close a loop together.
    """
    files: dict[str, str] = {k: str(v.relative_to(corpus.root)) for k, v in corpus.files.items()}
    files[entry.id] = file
    served = {**corpus.by_id(), entry.id: entry}
    pending = {key: _proposed_or_live(value) for key, value in served.items()}
    pending[entry.id] = _proposed_or_live(entry)
    for view in (served, pending):
        problems = superseded_problems(view, files)
        if problems:
            raise EntryError(problems)


def _proposed_or_live(entry: Entry) -> Entry:
    """The entry as its pending revision would make it; as it is when it has none or the revision no longer fits."""
    if entry.revision is None:
        return entry
    try:
        return entry.proposed()
    except ValidationError:
        return entry


def add_entry(
    root: Path,
    raw: Mapping[str, Any],
    *,
    by: str,
    force: bool = False,
    file: str = "<input>",
    lines: Mapping[str, int] | None = None,
    thresholds: Thresholds | None = None,
    dense: DenseScorer | None = None,
) -> tuple[Entry, list[Match]]:
    """Validate and save a new draft entry; return it and its closest existing entries.

    Raises :class:`NearDuplicateError` (nothing saved) when it looks like an
    existing entry, unless ``force``.
    """
    with curation_lock(root):
        corpus = checked_corpus(root)
        entry = prepare_entry(raw, corpus.by_id(), by=by, file=file, lines=lines)
        _check_superseded(corpus, entry, file)
        matches = closest_entries(corpus.entries, entry, thresholds=thresholds, dense=dense)
        near = [m for m in matches if m.near_duplicate]
        if near and not force:
            raise NearDuplicateError(near)
        if near:
            ids = ", ".join(m.entry.id for m in near)
            entry = entry.model_copy(
                update={"history": [*entry.history, _history_line(_now(), "saved as near-duplicate", by, ids)]}
            )
        write_entry(root, entry)
    return entry, matches


def _save_changed(root: Path, old_path: Path, entry: Entry) -> Path:
    """Write the entry over its own file; if its kind changed, the file moves (atomically: never two files)."""
    path = entry_path(root, entry)
    if path.name != old_path.name:  # find_entry only returns files named after their id; never write another
        raise CurationError("not_holding", path=str(old_path), id=repr(entry.id))
    if path == old_path:
        return write_entry(root, entry)
    if path.exists() or path.is_symlink():
        raise CurationError("move_clash", id=entry.id, path=str(path))
    return write_entry(root, entry, replacing=old_path)


def _pending(entry: Entry, file: str) -> Entry:
    """The entry as its pending revision would make it; :class:`RevisionError` when that no longer fits."""
    problems = revision_problems(entry, file)
    if problems:
        raise RevisionError(entry.id, problems)
    return entry.proposed()


def edit_entry(
    root: Path,
    entry_id: str,
    changes: Mapping[str, Any],
    *,
    by: str,
    reason: str | None = None,
) -> Entry:
    """Change fields of an entry (None clears one). The id and the curation fields cannot be edited.

    A draft or retired entry is changed in place. An approved entry is not: the
    change becomes (or amends) its pending :class:`~lessons.models.Revision`, and the
    approved text stays what builds serve until another editor approves the revision
    (:func:`approve_entry`). Either way the result is validated as a whole entry first,
    and a bad field raises :class:`EntryError` naming it; nothing is written then.
    Returns the entry as saved (for an approved one: the approved text with its revision).
    """
    locked = [name for name in ("id", *CURATION_FIELDS, "revision") if name in changes]
    if locked:
        hint = "ids are permanent; retire the entry and add a new one" if "id" in locked else "use approve or retire"
        if "revision" in locked:
            hint = "edit the fields themselves; an edit of an approved entry becomes its revision"
        raise EntryError([Problem(file=entry_id, field=name, message=f"cannot be edited ({hint})") for name in locked])
    with curation_lock(root):
        corpus = checked_corpus(root)
        path, entry = find_entry(root, entry_id, corpus)
        file = str(path.relative_to(root))
        revising = entry.state is ReviewState.APPROVED
        start = _pending(entry, file) if revising else entry
        data = start.model_dump(mode="json", exclude_none=True, exclude={"revision"})
        changed: list[str] = []
        for name, given in changes.items():
            target, key = (data, name)
            if name.startswith("source."):  # source.report, source.section, source.page
                target, key = data.setdefault("source", {}), name.removeprefix("source.")
            value = _clean(given)
            if value is None:
                if target.pop(key, None) is not None:
                    changed.append(name)
            elif target.get(key) != value:
                target[key] = value
                changed.append(name)
        if not changed:
            raise NothingToChangeError(entry_id)
        when = _now()
        detail = ", ".join(changed) + (f" ({reason})" if reason and reason.strip() else "")
        if revising:
            proposed = _validated(data, file)  # the entry as it would be: every field checked, as for a draft
            _check_superseded(corpus, proposed, file)
            updated = _revised(entry, proposed, by=by, when=when, detail=detail, file=file)
        else:
            data["history"] = [*entry.history, _history_line(when, "edited", by, detail)]
            updated = _validated(data, file)
            _check_superseded(corpus, updated, file)
        _save_changed(root, path, updated)
    return updated


def _revised(live: Entry, proposed: Entry, *, by: str, when: datetime, detail: str, file: str) -> Entry:
    """``live`` with a pending revision that makes it ``proposed`` (amending the one it has), or without one
    when ``proposed`` is the approved text again."""
    old, new = live.content(), proposed.content()
    changes = {name: new[name] for name in REVISABLE_FIELDS if name in new and new[name] != old.get(name)}
    cleared = [name for name in REVISABLE_FIELDS if name in old and name not in new]
    previous = live.revision
    if not changes and not cleared:  # the edit restores the approved text: nothing is pending any more
        line = _history_line(when, "revision withdrawn", by, "the edit restores the approved text")
        return _validated(
            {**live.model_dump(mode="json", exclude_none=True, exclude={"revision"}), "history": [*live.history, line]},
            file,
        )
    names = [*(previous.authors if previous else []), by]
    people: dict[str, str] = {}
    for name in names:
        people.setdefault(person(name), name)
    revision = Revision(
        base=live.content_digest(),
        changes=changes,
        cleared=cleared,
        authors=list(people.values()),
        proposed_at=previous.proposed_at if previous else when,
        updated_at=when,
    )
    action = "revision amended" if previous else "revision proposed"
    data = live.model_dump(mode="json", exclude_none=True, exclude={"revision"})
    data["history"] = [*live.history, _history_line(when, action, by, detail)]
    data["revision"] = revision.model_dump(mode="json")
    return _validated(data, file)


@dataclass(frozen=True)
class FieldChange:
    """One field a pending revision changes: its approved value and its proposed value (None: empty)."""

    field: str
    before: Any
    after: Any


def revision_changes(entry: Entry) -> list[FieldChange]:
    """What the entry's pending revision changes, field by field in the entry's order (empty when none).

    Raises :class:`RevisionError` when the revision no longer applies.
    """
    if entry.revision is None:
        return []
    proposed = _pending(entry, entry.id)
    old, new = entry.content(), proposed.content()
    return [
        FieldChange(name, old.get(name), new.get(name)) for name in REVISABLE_FIELDS if old.get(name) != new.get(name)
    ]


def revision_problems(
    entry: Entry, file: str, lines: Mapping[tuple[str | int, ...], int] | None = None
) -> list[Problem]:
    """Why the entry's pending revision no longer applies (empty when it does, or when there is none).

    It no longer applies when the approved entry changed since the revision was made
    (its ``base`` differs), or when the entry it would make does not validate.
    ``lines`` (from :func:`lessons.yamlio.path_lines`) gives each problem its line.
    """
    revision = entry.revision
    if revision is None:
        return []
    where = dict(lines or {})
    problems: list[Problem] = []
    if revision.base != entry.content_digest():
        problems.append(
            Problem(
                file=file,
                field="revision.base",
                line=where.get(("revision", "base")),
                message=(
                    "the approved entry changed after this revision was proposed "
                    f"(by {', '.join(revision.authors)}), so it may undo that change; "
                    f"withdraw it (`lessons withdraw {entry.id}`) and edit again"
                ),
                code="revision_base",
                values=(("authors", ", ".join(revision.authors)),),
            )
        )
    try:
        entry.proposed()
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(part) for part in err["loc"]]
            line = where.get(("revision", "changes", loc[0])) if loc else None
            problems.append(
                Problem(
                    file=file,
                    field=".".join(["revision", "changes", *loc]) if loc else "revision",
                    line=line or where.get(("revision",)),
                    message=f"the entry this revision would make is not valid: {err['msg']}",
                    code="revision_invalid",
                    values=(("message", str(err["msg"])),),
                )
            )
    return problems


HISTORY_HEAD = 600
_HISTORY = re.compile(
    r"\A\S{1,40} (created|edited|approved|self-approved|reinstated|retired|saved as near-duplicate) by (.{1,400}?)"
    r"(?:: .*)?\Z",
    re.DOTALL,
)


def authors(entry: Entry) -> set[str]:
    """The people who wrote the entry's current unapproved text: its creator and its editors since the last approval.

    Names are compared as people (:func:`lessons.roles.person`): 'alice (via root)' is alice.
    """
    who = {person(entry.created_by)} if entry.created_by and entry.state is ReviewState.DRAFT else set()
    for line in entry.history:
        match = _HISTORY.match(line[:HISTORY_HEAD])  # who and what sit at the start; the detail may be long
        if not match:
            continue
        action, name = match.groups()
        if action in {"approved", "self-approved", "reinstated"}:
            who = set()
        elif action in {"created", "edited"}:
            who.add(person(name))
    who.discard("")
    return who


def approve_entry(root: Path, entry_id: str, *, by: str, allow_self: bool = False) -> Entry:
    """Approve a draft, reinstate a retired entry, or approve an approved entry's pending revision.

    Served to users after the next build. Four-eyes: the approver must not be one of
    the draft's :func:`authors` (or of the revision's authors), unless ``allow_self``
    (a setting for one-person teams); the history then says self-approved. Approving
    a revision applies it, records it in the history, and removes it, in one write.
    """
    with curation_lock(root):
        corpus = checked_corpus(root)
        path, entry = find_entry(root, entry_id, corpus)
        if entry.state is ReviewState.APPROVED:
            if entry.revision is None:
                raise CurationError("already_approved", id=entry_id)
            updated = _apply_revision(corpus, path, entry, by=by, allow_self=allow_self)
            _save_changed(root, path, updated)
            return updated
        own = person(by) in authors(entry)
        if own and not allow_self:
            raise FourEyesError("four_eyes", id=entry_id, by=by)
        when = _now()
        action = "reinstated" if entry.state is ReviewState.RETIRED else "approved"
        if own:
            action = "self-approved"
        updated = entry.model_copy(
            update={
                "state": ReviewState.APPROVED,
                "approved_by": by,
                "approved_at": when,
                "retired_at": None,
                "history": [*entry.history, _history_line(when, action, by)],
            }
        )
        updated = _validated(updated.model_dump(mode="json", exclude_none=True), str(path.relative_to(root)))
        _save_changed(root, path, updated)
    return updated


def _apply_revision(corpus: Corpus, path: Path, entry: Entry, *, by: str, allow_self: bool) -> Entry:
    """The approved entry with its pending revision applied (four-eyes checked), not yet written."""
    if entry.revision is None:
        raise CurationError("no_revision", id=entry.id)
    file = str(path.relative_to(corpus.root))
    proposed = _pending(entry, file)
    writers = entry.revision.authors
    own = person(by) in {person(name) for name in writers}
    if own and not allow_self:
        raise FourEyesError("four_eyes_revision", id=entry.id, by=", ".join(writers))
    when = _now()
    fields = ", ".join(change.field for change in revision_changes(entry))
    action = "revision self-approved" if own else "revision approved"
    data = proposed.model_dump(mode="json", exclude_none=True)
    data.update(
        state=ReviewState.APPROVED.value,
        approved_by=by,
        approved_at=when.isoformat(),
        history=[*entry.history, _history_line(when, action, by, f"{fields}; written by {', '.join(writers)}")],
    )
    updated = _validated(data, file)
    _check_superseded(corpus, updated, file)
    return updated


def withdraw_revision(
    root: Path, entry_id: str, *, by: str, reason: str | None = None, authors_only: bool = True
) -> Entry:
    """Drop an approved entry's pending revision; the approved text stays as it is.

    With ``authors_only`` (a curator) only one of the revision's authors may withdraw it;
    an editor, reviewing it, may withdraw anyone's (:class:`NotYourRevisionError` otherwise).
    """
    with curation_lock(root):
        path, entry = find_entry(root, entry_id)
        revision = entry.revision
        if revision is None:
            raise CurationError("nothing_to_withdraw", id=entry_id)
        if authors_only and person(by) not in {person(name) for name in revision.authors}:
            raise NotYourRevisionError("not_your_revision", id=entry_id, by=", ".join(revision.authors))
        when = _now()
        detail = normalise(reason).strip() if reason else None
        data = entry.model_dump(mode="json", exclude_none=True, exclude={"revision"})
        data["history"] = [*entry.history, _history_line(when, "revision withdrawn", by, detail)]
        updated = _validated(data, str(path.relative_to(root)))
        _save_changed(root, path, updated)
    return updated


def retire_entry(root: Path, entry_id: str, *, reason: str, by: str) -> Entry:
    """Retire an entry: kept in the corpus with its history, no longer retrieved after the next build.

    A pending revision is dropped (the history says so): a retired entry is edited directly.
    """
    if not reason or not reason.strip():
        raise EntryError(
            [Problem(file=entry_id, field="reason", message="say why the entry is retired", code="reason")]
        )
    with curation_lock(root):
        path, entry = find_entry(root, entry_id)
        if entry.state is ReviewState.RETIRED:
            raise CurationError("already_retired", id=entry_id)
        when = _now()
        detail = normalise(reason)
        if entry.revision is not None:
            detail += f"; its pending revision by {', '.join(entry.revision.authors)} was dropped"
        updated = entry.model_copy(
            update={
                "state": ReviewState.RETIRED,
                "retired_at": when,
                "revision": None,
                "history": [*entry.history, _history_line(when, "retired", by, detail)],
            }
        )
        updated = _validated(updated.model_dump(mode="json", exclude_none=True), str(path.relative_to(root)))
        _save_changed(root, path, updated)
    return updated


def drafts(corpus: Corpus) -> list[Entry]:
    """Entries waiting for review, oldest first."""
    waiting = [e for e in corpus.entries if e.state is ReviewState.DRAFT]
    return sorted(waiting, key=lambda e: (e.created_at or datetime.min.replace(tzinfo=UTC), e.id))


def _waiting_since(entry: Entry) -> datetime:
    if entry.revision is not None:
        return entry.revision.proposed_at
    return entry.created_at or datetime.min.replace(tzinfo=UTC)


def awaiting_review(corpus: Corpus) -> list[Entry]:
    """What an editor has to review, oldest first: drafts, and approved entries with a pending revision."""
    waiting = [e for e in corpus.entries if e.state is ReviewState.DRAFT or e.revision is not None]
    return sorted(waiting, key=lambda e: (_waiting_since(e), e.id))


def revision_file_problems(corpus: Corpus) -> list[Problem]:
    """Every pending revision of the corpus that no longer applies, with file, field and line (for validate)."""
    problems: list[Problem] = []
    for entry in corpus.entries:
        if entry.revision is None:
            continue
        path = corpus.files[entry.id]
        try:
            lines = path_lines(read_regular_file(path, max_bytes=MAX_YAML_BYTES, inside=corpus.root))
        except (OSError, LessonsError):
            lines = {}
        problems.extend(revision_problems(entry, str(path.relative_to(corpus.root)), lines))
    return problems
