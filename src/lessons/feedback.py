"""Feedback on answers and the gap log, in one SQLite file under ``settings.data_dir``.

- **Feedback**: thumbs up or down on an answer, optionally with a comment. One row
  per answer: rating again, or adding a comment, updates it.
- **Gaps**: questions the corpus could not answer, so curators can see what is missing.

The file is created on demand, in WAL mode so the app's sessions can write while a
curator reads. Every query is parameterised. Failures raise :class:`FeedbackStoreError`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lessons.database import Schema, sqlite_session
from lessons.errors import LessonsError
from lessons.text import question_key

__all__ = [
    "DB_NAME",
    "FeedbackRecord",
    "FeedbackStoreError",
    "Gap",
    "db_path",
    "list_feedback",
    "list_gaps",
    "list_negative_feedback",
    "record_feedback",
    "record_gap",
]

DB_NAME = "lessons.sqlite3"
SCHEMA_VERSION = 2  # 2: gaps.state ('weak' or 'no_match')
GAP_STATES = ("weak", "no_match")
MAX_COMMENT_CHARS = 4000
MAX_TEXT_CHARS = 10_000

_SCRIPT = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    answer_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    question TEXT NOT NULL,
    query TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT,
    entry_ids TEXT NOT NULL,
    index_version TEXT,
    language TEXT
);
CREATE INDEX IF NOT EXISTS feedback_rating ON feedback (rating, updated_at);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    question TEXT NOT NULL,
    normalised TEXT NOT NULL,
    query TEXT NOT NULL,
    language TEXT,
    filters TEXT NOT NULL,
    index_version TEXT
);
CREATE INDEX IF NOT EXISTS gaps_normalised ON gaps (normalised);
"""


class FeedbackStoreError(LessonsError):
    """The feedback database cannot be opened, read or written."""


@dataclass(frozen=True)
class FeedbackRecord:
    """One rated answer."""

    answer_id: str
    created_at: str
    updated_at: str
    question: str
    query: str
    rating: int
    comment: str | None
    entry_ids: list[str]
    index_version: str | None
    language: str | None

    @property
    def positive(self) -> bool:
        """Thumbs up."""
        return self.rating > 0


@dataclass(frozen=True)
class Gap:
    """A question (grouped with its near-identical repeats) the corpus could not answer."""

    question: str
    count: int
    first_asked: str
    last_asked: str
    languages: list[str]
    states: list[str] = field(default_factory=lambda: ["no_match"])  # 'weak' and/or 'no_match'

    @property
    def weak_only(self) -> bool:
        """Every time it was asked, the nearest experiences were shown under a caution (never 'no answer')."""
        return self.states == ["weak"]


def db_path(data_dir: Path) -> Path:
    """Where the database lives."""
    return data_dir / DB_NAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _add_gap_state(conn: sqlite3.Connection) -> None:
    columns = {row[1] for row in conn.execute("PRAGMA table_info(gaps)")}
    if "state" not in columns:  # schema 1 logged only no-match questions
        conn.execute("ALTER TABLE gaps ADD COLUMN state TEXT NOT NULL DEFAULT 'no_match'")


_SCHEMA = Schema(version=SCHEMA_VERSION, script=_SCRIPT, upgrade=_add_gap_state)


def _connect(data_dir: Path) -> AbstractContextManager[sqlite3.Connection]:
    """An open connection with the schema in place; commits on success, always closes."""
    return sqlite_session(db_path(data_dir), _SCHEMA, FeedbackStoreError, what="db_feedback", wal=True)


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text[:limit] if text else None


def record_feedback(
    data_dir: Path,
    *,
    answer_id: str,
    question: str,
    rating: int,
    query: str | None = None,
    comment: str | None = None,
    entry_ids: Sequence[str] = (),
    index_version: str | None = None,
    language: str | None = None,
) -> None:
    """Store a rating (+1 up, -1 down) of one answer; rating the same answer again replaces it.

    A ``comment`` of None keeps an earlier comment; an empty one clears it.
    """
    if rating not in (-1, 1):
        raise ValueError(f"rating must be 1 (up) or -1 (down), not {rating!r}")
    now = _now()
    keep_comment = comment is None
    with _connect(data_dir) as conn:
        conn.execute(
            """
            INSERT INTO feedback (answer_id, created_at, updated_at, question, query, rating, comment,
                                  entry_ids, index_version, language)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (answer_id) DO UPDATE SET
                updated_at = excluded.updated_at,
                rating = excluded.rating,
                comment = CASE WHEN ? THEN feedback.comment ELSE excluded.comment END
            """,
            (
                answer_id,
                now,
                now,
                _clip(question, MAX_TEXT_CHARS) or "",
                _clip(query if query is not None else question, MAX_TEXT_CHARS) or "",
                rating,
                _clip(comment, MAX_COMMENT_CHARS),
                json.dumps(list(entry_ids)),
                index_version,
                language,
                keep_comment,
            ),
        )


def record_gap(
    data_dir: Path,
    question: str,
    *,
    query: str | None = None,
    language: str | None = None,
    filters: dict[str, list[str]] | None = None,
    index_version: str | None = None,
    state: str = "no_match",
) -> None:
    """Log a question the corpus answered weakly or not at all (with how it was searched and filtered)."""
    if state not in GAP_STATES:
        raise ValueError(f"gap state must be one of {', '.join(GAP_STATES)}, not {state!r}")
    text = _clip(question, MAX_TEXT_CHARS) or ""
    with _connect(data_dir) as conn:
        conn.execute(
            "INSERT INTO gaps (created_at, question, normalised, query, language, filters, index_version, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _now(),
                text,
                question_key(text),
                _clip(query if query is not None else question, MAX_TEXT_CHARS) or "",
                language,
                json.dumps(filters or {}, sort_keys=True),
                index_version,
                state,
            ),
        )


def list_gaps(data_dir: Path, limit: int = 50) -> list[Gap]:
    """Weakly or not answered questions, grouped by normalised wording, most frequent first (then most recent)."""
    if not db_path(data_dir).exists():
        return []
    with _connect(data_dir) as conn:
        rows = conn.execute(
            """
            SELECT (SELECT g2.question FROM gaps g2 WHERE g2.normalised = g.normalised
                    ORDER BY g2.created_at DESC, g2.id DESC LIMIT 1),
                   COUNT(*), MIN(created_at), MAX(created_at), GROUP_CONCAT(DISTINCT language),
                   GROUP_CONCAT(DISTINCT state)
            FROM gaps g
            GROUP BY normalised
            ORDER BY COUNT(*) DESC, MAX(created_at) DESC, MAX(id) DESC
            LIMIT ?
            """,
            (limit,),
        ).fetchall()
    return [
        Gap(
            question=row[0],
            count=int(row[1]),
            first_asked=row[2],
            last_asked=row[3],
            languages=sorted((row[4] or "").split(",")) if row[4] else [],
            states=sorted((row[5] or "no_match").split(",")),
        )
        for row in rows
    ]


def _feedback_rows(data_dir: Path, *, negative_only: bool, limit: int) -> list[FeedbackRecord]:
    if not db_path(data_dir).exists():
        return []
    with _connect(data_dir) as conn:
        rows = conn.execute(
            """
            SELECT answer_id, created_at, updated_at, question, query, rating, comment, entry_ids,
                   index_version, language
            FROM feedback
            WHERE (? = 0 OR rating < 0)
            ORDER BY updated_at DESC, id DESC
            LIMIT ?
            """,
            (int(negative_only), limit),
        ).fetchall()
    return [
        FeedbackRecord(
            answer_id=row[0],
            created_at=row[1],
            updated_at=row[2],
            question=row[3],
            query=row[4],
            rating=int(row[5]),
            comment=row[6],
            entry_ids=[str(x) for x in json.loads(row[7] or "[]")],
            index_version=row[8],
            language=row[9],
        )
        for row in rows
    ]


def list_negative_feedback(data_dir: Path, limit: int = 50) -> list[FeedbackRecord]:
    """Thumbs-down answers, newest first, with their comments and cited entries."""
    return _feedback_rows(data_dir, negative_only=True, limit=limit)


def list_feedback(data_dir: Path, limit: int = 200) -> list[FeedbackRecord]:
    """All rated answers, newest first."""
    return _feedback_rows(data_dir, negative_only=False, limit=limit)
