"""Reading, validating and writing the curated corpus (one YAML file per entry)."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from lessons.errors import CorpusError, LessonsError, Problem, StorageError, UnsafeFileError
from lessons.files import atomic_write, file_kind, read_regular_file, storage_error
from lessons.models import Entry
from lessons.yamlio import MAX_YAML_BYTES, YamlError, dump_yaml, key_lines, load_yaml

__all__ = [
    "Corpus",
    "corpus_files_digest",
    "corpus_hash",
    "entry_hash",
    "entry_path",
    "load_corpus",
    "parse_entry",
    "read_entry_file",
    "superseded_problems",
    "validate_entry",
    "write_entry",
]

ENTRIES_DIR = "entries"
REPORTS_DIR = "reports"


@dataclass(frozen=True)
class Corpus:
    """All entries of a corpus folder, in a stable order (by id)."""

    root: Path
    entries: tuple[Entry, ...]
    files: dict[str, Path]

    def by_id(self) -> dict[str, Entry]:
        """Entries keyed by id."""
        return {e.id: e for e in self.entries}

    def retrievable(self) -> list[Entry]:
        """The entries users may be shown: approved ones."""
        return [e for e in self.entries if e.retrievable]

    def content_hash(self) -> str:
        """A hash over the retrievable entries' content, to detect a stale index."""
        return corpus_hash(self.retrievable())


def entry_hash(entry: Entry) -> str:
    """sha256 of an entry's canonical JSON (its curation history and pending revision excluded: neither is served)."""
    return hashlib.sha256(entry.model_dump_json(exclude={"history", "revision"}).encode("utf-8")).hexdigest()


def corpus_hash(entries: Iterable[Entry]) -> str:
    """sha256 over the entries' hashes, independent of their order."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.id):
        digest.update(f"{entry.id}:{entry_hash(entry)}\n".encode())
    return digest.hexdigest()


def corpus_files_digest(root: Path) -> str | None:
    """sha256 over the entry files' names and bytes: a cheap way to tell that nothing changed since a build.

    It changes with any edit, also one that does not matter to the index (a draft); callers
    then fall back to comparing parsed entries. None when any file is not a plain, readable,
    size-limited file inside the corpus (the full load then reports it).
    """
    entries_dir = root / ENTRIES_DIR
    if not entries_dir.is_dir():
        return None
    digest = hashlib.sha256()
    try:
        for path in sorted(entries_dir.rglob("*")):
            if path.name.startswith(".") or path.is_dir():
                continue
            data = read_regular_file(path, max_bytes=MAX_YAML_BYTES, inside=root)
            digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    except (OSError, LessonsError):
        return None
    return digest.hexdigest()


def _problems_from_validation(file: str, exc: ValidationError, lines: dict[str, int]) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err["loc"]]
        field = ".".join(loc) if loc else None
        line = lines.get(loc[0]) if loc else None
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see docs for the fields of each kind)"
        values = tuple(
            (key, value) for key, value in (err.get("ctx") or {}).items() if isinstance(value, str | int | float)
        )
        problems.append(Problem(file=file, field=field, line=line, message=message, code=err["type"], values=values))
    return problems


def parse_entry(data: bytes | str, file: str = "<input>") -> Entry:
    """Validate one entry from YAML text; raise :class:`CorpusError` naming file, field and line."""
    try:
        raw = load_yaml(data)
    except YamlError as exc:
        raise CorpusError([exc.problem(file)]) from None
    return validate_entry(raw, file, key_lines(data))


def validate_entry(raw: object, file: str = "<input>", lines: dict[str, int] | None = None) -> Entry:
    """Validate one entry from already-parsed data; raise :class:`CorpusError` naming file, field and line."""
    if not isinstance(raw, dict):
        kind = "empty" if raw is None else type(raw).__name__
        raise CorpusError([Problem(file=file, message=f"expected a mapping of fields, got {kind}")])
    try:
        return Entry.model_validate(raw)
    except ValidationError as exc:
        raise CorpusError(_problems_from_validation(file, exc, lines or {})) from None


def _walk(folder: Path, root: Path, problems: list[Problem], depth: int = 0) -> Iterator[Path]:
    """Regular files below ``folder``, in name order, never following a link; anything else is a problem."""
    try:
        with os.scandir(folder) as listing:
            items = sorted(listing, key=lambda item: item.name)
    except OSError as exc:
        problems.append(storage_error(exc, folder, "list").problem(str(folder.relative_to(root))))
        return
    for item in items:
        if item.name.startswith("."):  # temporary files of an atomic write, editors' swap files
            continue
        path = Path(item.path)
        rel = str(path.relative_to(root))
        try:
            mode = item.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            detail = str(exc.strerror or exc)
            problems.append(
                Problem(file=rel, message=f"cannot read: {detail}", code="unreadable", values=(("detail", detail),))
            )
            continue
        if stat.S_ISDIR(mode):
            if path.suffix in {".yaml", ".yml"}:
                problems.append(
                    Problem(
                        file=rel, message="a folder named like an entry file; move or rename the folder", code="folder"
                    )
                )
            elif depth < 8:
                yield from _walk(path, root, problems, depth + 1)
            else:
                problems.append(
                    Problem(file=rel, message="folders nested too deep; entries live in entries/<kind>/", code="deep")
                )
            continue
        if not stat.S_ISREG(mode):
            what = file_kind(mode)
            fix = "replace the link by a copy of the file" if stat.S_ISLNK(mode) else "remove it"
            kind = "link" if stat.S_ISLNK(mode) else "fifo" if stat.S_ISFIFO(mode) else "other"
            problems.append(
                Problem(
                    file=rel,
                    message=f"is {what}, not a regular file; only regular files are read ({fix})",
                    code=f"not_regular_{kind}",
                )
            )
            continue
        yield path


def read_entry_file(root: Path, path: Path) -> bytes:
    """The bytes of an entry file: a regular file inside the corpus, not larger than the YAML limit."""
    return read_regular_file(path, max_bytes=MAX_YAML_BYTES, inside=root)


def load_corpus(root: Path) -> Corpus:
    """Load and validate every entry file below ``root/entries``; report all problems at once.

    Only regular files inside the corpus are read, and only up to the size limit:
    symbolic links, FIFOs, devices and folders named like entry files are problems.
    """
    entries_dir = root / ENTRIES_DIR
    if entries_dir.is_symlink() or not entries_dir.is_dir():
        message = "corpus folder has no entries/ folder"
        raise CorpusError([Problem(file=str(entries_dir), message=message, code="no_entries_folder")])
    problems: list[Problem] = []
    entries: dict[str, Entry] = {}
    files: dict[str, Path] = {}
    for path in _walk(entries_dir, root, problems):
        rel = str(path.relative_to(root))
        if path.suffix not in {".yaml", ".yml"}:
            problems.append(Problem(file=rel, message="not a .yaml entry file; move or delete it", code="not_yaml"))
            continue
        try:
            entry = parse_entry(read_entry_file(root, path), rel)
        except CorpusError as exc:
            problems.extend(exc.problems)
            continue
        except (UnsafeFileError, StorageError) as exc:  # not a regular file inside, too large, or the OS refused
            problems.append(exc.problem(rel))
            continue
        if entry.id in entries:
            problems.append(
                Problem(
                    file=rel,
                    field="id",
                    message=f"duplicate id {entry.id!r}, also used in {files[entry.id]}",
                    code="duplicate_id",
                    values=(("id", repr(entry.id)), ("other", str(files[entry.id]))),
                )
            )
            continue
        if path.stem != entry.id:
            problems.append(
                Problem(
                    file=rel,
                    field="id",
                    message=f"id {entry.id!r} must match the file name",
                    code="id_not_file_name",
                    values=(("id", repr(entry.id)),),
                )
            )
            continue
        entries[entry.id] = entry
        files[entry.id] = path.relative_to(root)
    problems.extend(superseded_problems(entries, files))
    if problems:
        raise CorpusError(problems)
    ordered = tuple(entries[k] for k in sorted(entries))
    return Corpus(root=root, entries=ordered, files={k: root / v for k, v in files.items()})


def superseded_problems(entries: Mapping[str, Entry], files: Mapping[str, Path | str]) -> list[Problem]:
    """Each ``superseded_by`` must name an existing entry, and following them must not loop."""
    problems = []
    for entry_id, entry in entries.items():
        target = entry.superseded_by
        if target is None:
            continue
        if target not in entries:
            problems.append(
                Problem(
                    file=str(files[entry_id]),
                    field="superseded_by",
                    message=f"names {target!r}, which is not an entry in the corpus",
                    code="superseded_unknown",
                    values=(("target", repr(target)),),
                )
            )
            continue
        seen = {entry_id}
        while target is not None and target in entries and target not in seen and len(seen) <= len(entries):
            seen.add(target)
            target = entries[target].superseded_by
        if target in seen:
            problems.append(
                Problem(
                    file=str(files[entry_id]),
                    field="superseded_by",
                    message=f"entries supersede each other in a loop ({' -> '.join(sorted(seen))})",
                    code="superseded_loop",
                    values=(("ids", " → ".join(sorted(seen))),),
                )
            )
    return problems


def entry_path(root: Path, entry: Entry) -> Path:
    """Where an entry's file lives: entries/<kind>/<id>.yaml."""
    return root / ENTRIES_DIR / entry.kind.value / f"{entry.id}.yaml"


def write_entry(root: Path, entry: Entry, *, replacing: Path | None = None) -> Path:
    """Write an entry atomically (temp file, fsync, rename), so a crash never leaves half a file.

    The file gets the mode the umask implies. ``replacing``: the entry's current file
    when it moves (its kind changed); it is moved, not copied, so a crash at any
    moment leaves one file with the id. Raises StorageError when the OS refuses.
    """
    path = entry_path(root, entry)
    data = entry.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    for key in ("tags", "areas", "organisations", "history"):
        if not data.get(key):
            data.pop(key, None)
    if data.get("state") == "approved" and not entry.approved_at:
        data.pop("state")
    atomic_write(path, dump_yaml(data).encode("utf-8"), replacing=replacing)
    return path
