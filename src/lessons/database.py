"""Our SQLite files: opened, brought to their schema and closed one way.

The feedback database, the audit log and the accounts database each name their file, their
schema and their domain error; this module opens the file (a regular file only), checks the
schema version (a newer one is refused, an older one migrated), and turns SQLite's failures
into that error with the file named.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lessons.errors import LessonsError, Said, Term
from lessons.files import os_reason

__all__ = ["Schema", "check_regular", "ensure_schema", "sqlite_session"]


@dataclass(frozen=True)
class Schema:
    """One database's schema: its version (SQLite's ``user_version``), the script and later steps.

    ``script`` must be safe to run again (``IF NOT EXISTS``); ``upgrade`` runs after it, for changes
    a script cannot state that way (a column added to an older table).
    """

    version: int
    script: str
    upgrade: Callable[[sqlite3.Connection], None] | None = None


def check_regular(path: Path, what: str, error: type[LessonsError]) -> None:
    """Raise ``error`` when ``path`` is a link or exists as something other than a regular file.

    ``what`` names the database: a key of :mod:`lessons.words` (``db_audit``, ``db_feedback``, ``db_accounts``).
    """
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise error.worded("db_not_regular", what=Term(what), path=str(path))


def ensure_schema(
    conn: sqlite3.Connection,
    schema: Schema,
    what: str,
    path: Path,
    error: type[LessonsError],
    *,
    missing: str | None = None,
) -> None:
    """Refuse a newer schema than ours and bring an older one up to it.

    ``what`` (a key of :mod:`lessons.words`) and ``path`` name the file in messages. With ``missing`` set, an
    older schema is not migrated but refused with that message (a database only one command may create).
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > schema.version:
        raise error.worded("db_newer", what=Term(what), path=str(path), found=version, ours=schema.version)
    if version < schema.version:
        if isinstance(missing, Said):  # kept with its words: said in the page's language
            raise error.worded(missing.key, **missing.values)
        if missing is not None:
            raise error(missing)
        conn.executescript(schema.script)
        if schema.upgrade is not None:
            schema.upgrade(conn)
        conn.execute(f"PRAGMA user_version={schema.version}")


def _said_reason(reason: str) -> Said:
    """An OS refusal to make or open one of our databases, in the words of a refused write."""
    return Said(f"storage_{reason}", doing=Term("storage_doing_write"))


@contextmanager
def sqlite_session(
    path: Path,
    schema: Schema,
    error: type[LessonsError],
    *,
    what: str,
    wal: bool = False,
) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` (created with its folder on demand) with the schema in place.

    Commits when the block ends, rolls back on an SQLite error and always closes. ``what`` names the
    database in messages (a key of :mod:`lessons.words`: ``db_audit``); every failure is raised as
    ``error``. ``wal`` puts the file in write-ahead-log mode, so readers and one writer do not wait on
    each other.
    """
    check_regular(path, what, error)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=10)
    except (OSError, sqlite3.Error) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else None
        if reason is not None:  # the folder cannot be made or the file opened: said in our words, with the fix
            raise error.worded(
                "db_cannot_open_os", what=Term(what), path=str(path), reason=_said_reason(reason)
            ) from None
        raise error.worded("db_cannot_open", what=Term(what), path=str(path), detail=str(exc)) from None
    try:
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=10000")
        ensure_schema(conn, schema, what, path, error)
        yield conn
        conn.commit()
    except sqlite3.Error as exc:
        conn.rollback()
        raise error.worded("db_unusable", what=Term(what), path=str(path), detail=str(exc)) from None
    finally:
        conn.close()
