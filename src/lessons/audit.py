"""The audit log: who did what, when, to which entry, with the entry before and after.

One append-only SQLite table under ``settings.data_dir`` (``audit.sqlite3``;
triggers refuse updates and deletes). Curator actions from the app and the CLI, and
account changes, are recorded by :mod:`lessons.workflow` and the ``lessons users``
commands; sign-ins, failed sign-ins, lock-outs and sign-outs by :mod:`lessons.signin`
(:func:`record_sign_in`, which caps what a flood of failures can add). Passwords never
reach it. Editors and admins read it in the app; ``lessons audit`` prints it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from lessons.accounts import Clock, utc_now
from lessons.database import Schema, check_regular, sqlite_session
from lessons.errors import LessonsError
from lessons.roles import Actor

__all__ = [
    "DB_NAME",
    "AuditError",
    "AuditEvent",
    "Change",
    "events",
    "parse_since",
    "record",
    "record_sign_in",
    "writable",
]

DB_NAME = "audit.sqlite3"
SCHEMA_VERSION = 1
MAX_DETAIL_CHARS = 2000
MAX_ROWS = 10_000

_SCHEMA = Schema(
    version=SCHEMA_VERSION,
    script="""
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    entry_id TEXT,
    before TEXT,
    after TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_entry ON audit (entry_id, at);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
""",
)


class AuditError(LessonsError):
    """The audit log cannot be opened, written or read."""


@dataclass(frozen=True)
class Change:
    """One field that differs between before and after."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditEvent:
    """One recorded action."""

    id: int
    at: datetime
    actor: str
    role: str
    source: str
    action: str
    entry_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: str | None

    def changes(self) -> list[Change]:
        """The fields that differ between before and after (history and timestamps left out)."""
        old, new = self.before or {}, self.after or {}
        skip = {"history", "created_at", "approved_at", "retired_at", "revision"}
        return [
            Change(name, old.get(name), new.get(name))
            for name in sorted(set(old) | set(new))
            if name not in skip and old.get(name) != new.get(name)
        ]


def db_path(data_dir: Path) -> Path:
    """Where the audit log lives."""
    return data_dir / DB_NAME


def _connect(data_dir: Path) -> AbstractContextManager[sqlite3.Connection]:
    return sqlite_session(db_path(data_dir), _SCHEMA, AuditError, what="db_audit")


def writable(data_dir: Path) -> None:
    """Open (creating) the audit log, so an action is refused before it happens when it could not be recorded."""
    with _connect(data_dir):
        pass


def _json(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), ensure_ascii=False, sort_keys=True, default=str)


def record(
    data_dir: Path,
    actor: Actor,
    action: str,
    *,
    entry_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    detail: str | None = None,
    clock: Clock = utc_now,
) -> None:
    """Append one event."""
    text = " ".join(detail.split())[:MAX_DETAIL_CHARS] if detail else None
    with _connect(data_dir) as conn:
        conn.execute(
            "INSERT INTO audit (at, actor, role, source, action, entry_id, before, after, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                clock().astimezone(UTC).isoformat(timespec="seconds"),
                str(actor),
                actor.role.value,
                actor.source,
                action,
                entry_id,
                _json(before),
                _json(after),
                text,
            ),
        )


_INSERT = (
    "INSERT INTO audit (at, actor, role, source, action, entry_id, before, after, detail) "
    "VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?)"
)


def record_sign_in(
    data_dir: Path,
    action: str,
    *,
    name: str,
    role: str,
    source: str,
    detail: str | None = None,
    limit: int | None = None,
    window: timedelta | None = None,
    clock: Clock = utc_now,
) -> bool:
    """Append a sign-in event (never with a password); True when it was written.

    With ``limit`` and ``window``: at most ``limit`` events of this action for this
    name within any ``window``, plus one ``<action>-not-recorded`` event saying that
    more came and were left out; further ones in the window are not written. So a flood
    of failed sign-ins adds no more than the lock-out itself lets through.
    """
    now = clock().astimezone(UTC)
    at = now.isoformat(timespec="seconds")
    text = " ".join(detail.split())[:MAX_DETAIL_CHARS] if detail else None
    with _connect(data_dir) as conn:
        if limit is not None and window is not None:
            since = (now - window).isoformat(timespec="seconds")
            count = "SELECT COUNT(*) FROM audit WHERE at >= ? AND actor = ? AND action = ?"
            if conn.execute(count, (since, name, action)).fetchone()[0] >= limit:
                capped = f"{action}-not-recorded"
                if conn.execute(count, (since, name, capped)).fetchone()[0]:
                    return False
                minutes = round(window.total_seconds() / 60)
                note = f"more than {limit} within {minutes} minute(s); further ones in that time are not recorded"
                conn.execute(_INSERT, (at, name, role, source, capped, note))
                return False
        conn.execute(_INSERT, (at, name, role, source, action, text))
    return True


def parse_since(text: str) -> datetime:
    """A date (2026-11-30) or ISO date-time as an aware UTC time, else an error naming the value."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(f"--since {text[:40]!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"unreadable": text[:200]}
    return value if isinstance(value, dict) else None


def events(
    data_dir: Path, *, entry_id: str | None = None, since: datetime | None = None, limit: int = 500
) -> list[AuditEvent]:
    """The newest ``limit`` events (for one entry, since a time), oldest first. No log yet: none."""
    limit = max(1, min(limit, MAX_ROWS))
    where, params = [], []
    if entry_id:
        where.append("entry_id = ?")
        params.append(entry_id)
    if since is not None:
        where.append("at >= ?")
        params.append(since.astimezone(UTC).isoformat(timespec="seconds"))
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    # the clause is built from fixed strings; the values are parameters
    query = f"SELECT id, at, actor, role, source, action, entry_id, before, after, detail FROM audit {clause} ORDER BY id DESC LIMIT ?"  # noqa: S608, E501
    path = db_path(data_dir)
    check_regular(path, "db_audit", AuditError)
    if not path.exists():
        return []
    with _connect(data_dir) as conn:
        rows = conn.execute(query, (*params, limit)).fetchall()
    return [
        AuditEvent(
            id=row[0],
            at=datetime.fromisoformat(row[1]),
            actor=row[2],
            role=row[3],
            source=row[4],
            action=row[5],
            entry_id=row[6],
            before=_load(row[7]),
            after=_load(row[8]),
            detail=row[9],
        )
        for row in reversed(rows)
    ]
