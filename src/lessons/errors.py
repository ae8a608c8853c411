"""Domain errors. The core raises these; the CLI and the app turn them into messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

__all__ = [
    "BuildLockedError",
    "CorpusError",
    "IndexUnusableError",
    "IngestError",
    "LessonsError",
    "ModelNotFoundError",
    "Problem",
    "ProblemsError",
    "QuestionError",
    "StorageError",
    "UnsafeFileError",
]


class LessonsError(Exception):
    """Base of every error meant for a user: its message says what is wrong and what to do."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a corpus file: where, which field, what."""

    file: str
    message: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class ProblemsError(LessonsError):
    """An input with problems, each naming where; every one is listed, not only the first.

    A subclass names the input in ``subject`` ("the corpus", "the briefing rules").
    """

    subject: ClassVar[str] = "the input"
    problems: list[Problem]

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = problems

    def __str__(self) -> str:
        lines = [f"{len(self.problems)} problem(s) in {self.subject}:"]
        lines += [f"  {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class CorpusError(ProblemsError):
    """The corpus has problems; every one is listed, not only the first."""

    subject: ClassVar[str] = "the corpus"
    problems: list[Problem] = field(default_factory=list)


class IndexUnusableError(LessonsError):
    """The index is missing, damaged or does not match the corpus or model."""


class ModelNotFoundError(LessonsError):
    """The embedding model cannot be loaded from the configured name or folder."""


class QuestionError(LessonsError):
    """A question (or its filters) cannot be answered as given."""


class BuildLockedError(LessonsError):
    """Another build holds the lock."""


class IngestError(LessonsError):
    """A report upload cannot be ingested."""


class StorageError(LessonsError):
    """The operating system refused a read or write (disk full, no permission, a folder in the way).

    The message names the path and what to do; the operation left nothing half-written.
    """


class UnsafeFileError(LessonsError):
    """A file that is not read: a symbolic link, FIFO, device or folder, one outside our folders, or too large."""

    def __init__(self, path: str, reason: str, size: int | None = None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.size = size  # set when the file was refused for its size
