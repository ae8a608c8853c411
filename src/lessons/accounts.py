"""Local accounts and sign-in sessions, in one SQLite file under ``settings.data_dir``.

Passwords are hashed with Argon2id (``argon2-cffi``) and never stored, logged or
returned in clear. Five failed sign-ins in a row (a setting) lock an account for a
while (a setting); a sign-in on a locked account is refused without checking the
password. A session is a random token the app keeps in its server-side session
state; only its SHA-256 is stored, and it ends after a configurable idle time, on
sign-out, when the password changes or when the account is removed. Organisation
sign-ins (OIDC) get a session record too, keyed by their token's identity, so they
expire after the same idle time and cannot be revived by replaying the cookie.

Every time is taken from an injectable ``clock`` so tests can move time forward.
The app never creates this database: a missing or damaged one means curation is
unavailable (readers are still served) until ``lessons users add`` creates it.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lessons.database import Schema, check_regular, ensure_schema
from lessons.errors import Count, LessonsError, Said, Term
from lessons.roles import Actor, Role, check_name

__all__ = [
    "DB_NAME",
    "MAX_PASSWORD_CHARS",
    "MIN_PASSWORD_CHARS",
    "Account",
    "AccountError",
    "AccountLockedError",
    "AccountStore",
    "AccountsMissingError",
    "AccountsUnavailableError",
    "Clock",
    "IdleSession",
    "Policy",
    "SessionExpiredError",
    "SignInError",
    "check_password",
    "db_path",
    "utc_now",
]

DB_NAME = "accounts.sqlite3"
SCHEMA_VERSION = 1
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
MAX_DB_BYTES = 256 * 1024 * 1024

Clock = Callable[[], datetime]

_SCHEMA = Schema(
    version=SCHEMA_VERSION,
    script="""
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('reader', 'curator', 'editor', 'admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_sign_in TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('app', 'oidc')),
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name);
""",
)


def utc_now() -> datetime:
    """The current time in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str) -> datetime:
    """A stored time; one written without a zone (by hand, or by SQLite's datetime()) is taken as UTC."""
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise AccountsUnavailableError.worded("acc_db_bad_time", value=repr(str(text)[:40])) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _parse(text: str | None) -> datetime | None:
    return _time(text) if text else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class AccountsUnavailableError(LessonsError):
    """The accounts database is missing or cannot be read; curation is unavailable, reading is not."""


class AccountsMissingError(AccountsUnavailableError):
    """No accounts database yet (a fresh install): nobody has been given an account."""


class AccountError(LessonsError):
    """An account cannot be added or changed as asked (name taken, unknown, weak password)."""


class SignInError(LessonsError):
    """A sign-in is refused: wrong name or password, or a locked account.

    ``account`` is the account's name when the name is known (for the audit log; the
    message is the same either way), and ``locked_now`` says this failure locked it.
    """

    def __init__(self, message: str, *, account: str | None = None, locked_now: bool = False) -> None:
        super().__init__(message)
        self.account = account
        self.locked_now = locked_now


class AccountLockedError(SignInError):
    """A sign-in on a locked account; ``minutes`` until it may be tried again."""

    def __init__(self, message: str, minutes: int, *, account: str | None = None) -> None:
        super().__init__(message, account=account)
        self.minutes = minutes


@dataclass(frozen=True)
class IdleSession:
    """A session ended because it was idle too long: whose, from where, its last activity and when it was ended."""

    name: str
    source: str
    role: str
    last_seen: datetime
    ended_at: datetime


class SessionExpiredError(LessonsError):
    """A session ended: idle too long, signed out, or its account changed.

    ``idle`` is the session this check found idle too long and ended (for the audit log); None
    for a session that had ended before (signed out, password changed) or is unknown.
    """

    def __init__(self, message: str, *, idle: IdleSession | None = None) -> None:
        super().__init__(message)
        self.idle = idle


@dataclass(frozen=True)
class Policy:
    """Sign-in limits: failures before a lock-out, its length, and the idle time that ends a session."""

    max_attempts: int = 5
    lockout: timedelta = timedelta(minutes=15)
    idle: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Account:
    """A local account as listed (never with its hash)."""

    name: str
    role: Role
    created_at: datetime
    password_changed_at: datetime
    failed_attempts: int
    locked_until: datetime | None
    last_sign_in: datetime | None

    def locked(self, now: datetime) -> bool:
        """Whether the account is locked at ``now``."""
        return self.locked_until is not None and self.locked_until > now

    def actor(self) -> Actor:
        """The actor an app session of this account acts as."""
        return Actor(name=self.name, role=self.role, source="app")


def db_path(data_dir: Path) -> Path:
    """Where the accounts database lives."""
    return data_dir / DB_NAME


def check_password(password: str) -> str:
    """A password that meets the length rules, else :class:`AccountError` (the password is never echoed)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError.worded("acc_password_short", n=MIN_PASSWORD_CHARS)
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError.worded("acc_password_long", n=MAX_PASSWORD_CHARS)
    if password.strip() != password or not password.strip():
        raise AccountError.worded("acc_password_spaces")
    return password


class AccountStore:
    """The accounts database. ``create=False`` (the app) refuses to create a missing one."""

    def __init__(
        self,
        data_dir: Path,
        *,
        policy: Policy | None = None,
        clock: Clock = utc_now,
        hasher: PasswordHasher | None = None,
        create: bool = False,
    ) -> None:
        self.path = db_path(data_dir)
        self.policy = policy or Policy()
        self.clock = clock
        self.hasher = hasher or PasswordHasher()  # Argon2id with the library's (RFC 9106) defaults
        self._dummy_hash: str | None = None
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._check_file(create)
        missing = None if create else Said("acc_db_no_tables", path=str(self.path))
        with self._connect() as conn:
            ensure_schema(conn, _SCHEMA, "db_accounts", self.path, AccountsUnavailableError, missing=missing)

    # --- the file ---------------------------------------------------------------------------------

    def _check_file(self, create: bool) -> None:
        path = self.path
        check_regular(path, "db_accounts", AccountsUnavailableError)
        if not path.exists():
            if create:
                return
            raise AccountsMissingError.worded("acc_db_missing", path=str(path))
        size = path.stat().st_size
        if size > MAX_DB_BYTES:
            raise AccountsUnavailableError.worded(
                "acc_db_too_large", path=str(path), size=Count(size), limit=Count(MAX_DB_BYTES)
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction: committed on success, rolled back on error, always closed."""
        try:
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise AccountsUnavailableError.worded(
                "db_cannot_open", what=Term("db_accounts"), path=str(self.path), detail=str(exc)
            ) from None
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            if conn.in_transaction:  # executescript (the schema) commits by itself
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise AccountsUnavailableError.worded(
                "db_unusable", what=Term("db_accounts"), path=str(self.path), detail=str(exc)
            ) from None
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def check(self) -> None:
        """Raise :class:`AccountsUnavailableError` when the database is damaged (SQLite's quick check)."""
        with self._connect() as conn:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise AccountsUnavailableError.worded(
                    "db_damaged", what=Term("db_accounts"), path=str(self.path), detail=str(result)
                )

    # --- accounts ----------------------------------------------------------------------------------

    def _hash(self, password: str) -> str:
        return self.hasher.hash(check_password(password))

    @staticmethod
    def _account(row: tuple[str, str, str, str, int, str | None, str | None]) -> Account:
        name, role, created, changed, failed, locked, last = row
        return Account(
            name=name,
            role=Role(role),
            created_at=_time(created),
            password_changed_at=_time(changed),
            failed_attempts=failed,
            locked_until=_parse(locked),
            last_sign_in=_parse(last),
        )

    _COLUMNS = "name, role, created_at, password_changed_at, failed_attempts, locked_until, last_sign_in"

    def add(self, name: str, role: Role, password: str) -> Account:
        """Create an account; the name must be free."""
        name = check_name(name)
        hashed = self._hash(password)
        now = _iso(self.clock())
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise AccountError.worded("acc_name_taken", name=repr(name), plain=name)
            conn.execute(
                "INSERT INTO users (name, role, password_hash, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?)",
                (name, role.value, hashed, now, now),
            )
        return self.get(name)

    def get(self, name: str) -> Account:
        """One account, or :class:`AccountError` naming the unknown name."""
        key = name.strip().lower()
        with self._connect() as conn:
            row = conn.execute(f"SELECT {self._COLUMNS} FROM users WHERE name = ?", (key,)).fetchone()  # noqa: S608
        if row is None:
            raise AccountError.worded("acc_no_account", name=repr(name[:120]))
        return self._account(row)

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {self._COLUMNS} FROM users ORDER BY name").fetchall()  # noqa: S608
        return [self._account(row) for row in rows]

    def set_password(self, name: str, password: str) -> None:
        """Change a password; this unlocks the account and ends its sessions."""
        account = self.get(name)
        hashed = self._hash(password)
        now = _iso(self.clock())
        with self._connect() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ?, failed_attempts = 0, locked_until = NULL "
                "WHERE name = ?",
                (hashed, now, account.name),
            )
            self._end_sessions(conn, account.name, now)

    def set_role(self, name: str, role: Role) -> Account:
        """Change an account's role; open sessions take the new role at their next step."""
        account = self.get(name)
        with self._connect() as conn:
            conn.execute("UPDATE users SET role = ? WHERE name = ?", (role.value, account.name))
        return self.get(account.name)

    def unlock(self, name: str) -> None:
        """Lift a lock-out and reset the failure count."""
        account = self.get(name)
        with self._connect() as conn:
            conn.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE name = ?", (account.name,))

    def remove(self, name: str) -> None:
        """Delete an account and end its sessions."""
        account = self.get(name)
        with self._connect() as conn:
            conn.execute("DELETE FROM users WHERE name = ?", (account.name,))
            self._end_sessions(conn, account.name, _iso(self.clock()))

    # --- signing in ----------------------------------------------------------------------------------

    def _burn_time(self, password: str) -> None:
        """Verify against a throwaway hash, so an unknown name takes as long as a wrong password."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        with suppress(VerificationError):
            self.hasher.verify(self._dummy_hash, password)

    def authenticate(self, name: str, password: str) -> Account:
        """The account, if the password is right and the account not locked; else :class:`SignInError`.

        The message for an unknown name and a wrong password is the same. Each wrong
        password counts; the ``max_attempts``-th locks the account for ``lockout``.
        """
        wrong = SignInError("wrong user name or password")
        if not name or len(name) > 200 or not password or len(password) > MAX_PASSWORD_CHARS:
            raise wrong
        key = name.strip().lower()
        now = self.clock()
        with self._connect() as conn:
            row = conn.execute(
                "SELECT password_hash, failed_attempts, locked_until FROM users WHERE name = ?", (key,)
            ).fetchone()
        if row is None:
            self._burn_time(password)
            raise wrong
        stored, _failed, locked = row
        locked_until = _parse(locked)
        if locked_until is not None and locked_until > now:
            minutes = max(1, round((locked_until - now).total_seconds() / 60))
            raise AccountLockedError(self._locked_message(minutes), minutes, account=key)
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            locked_now = self._failed(key, now)
            raise SignInError(str(wrong), account=key, locked_now=locked_now) from None
        with self._connect() as conn:
            conn.execute(
                "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in = ? WHERE name = ?",
                (_iso(now), key),
            )
            if self.hasher.check_needs_rehash(stored):
                conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (self.hasher.hash(password), key))
        return self.get(key)

    def _locked_message(self, minutes: int) -> str:
        return (
            f"the account is locked after {self.policy.max_attempts} failed sign-ins; "
            f"try again in {minutes} minute(s), or ask an admin to run `lessons users unlock`"
        )

    def _failed(self, name: str, now: datetime) -> bool:
        """Count a failed sign-in; the last allowed one locks the account (counted in one transaction).

        True when this failure locked the account.
        """
        with self._connect() as conn:
            row = conn.execute("SELECT failed_attempts FROM users WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            failed = row[0] + 1
            if failed >= self.policy.max_attempts:
                conn.execute(
                    "UPDATE users SET failed_attempts = 0, locked_until = ? WHERE name = ?",
                    (_iso(now + self.policy.lockout), name),
                )
                return True
            conn.execute("UPDATE users SET failed_attempts = ? WHERE name = ?", (failed, name))
            return False

    # --- sessions ------------------------------------------------------------------------------------

    def start_session(self, account: Account) -> str:
        """A new session token for a signed-in account (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = _iso(self.clock())
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, name, source, role, created_at, last_seen) "
                "VALUES (?, ?, 'app', ?, ?, ?)",
                (_token_hash(token), account.name, account.role.value, now, now),
            )
        return token

    def _live(self, conn: sqlite3.Connection, key: str, now: datetime) -> tuple[str, str, str] | None:
        """(name, source, role) of a live session, touching it; raises SessionExpiredError for an ended one."""
        row = conn.execute(
            "SELECT name, source, role, last_seen, ended_at FROM sessions WHERE token_hash = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        name, source, role, last_seen, ended = row
        if ended is not None:
            raise SessionExpiredError("the session has ended; sign in again")
        if now - _time(last_seen) > self.policy.idle:
            conn.execute("UPDATE sessions SET ended_at = ? WHERE token_hash = ?", (_iso(now), key))
            minutes = round(self.policy.idle.total_seconds() / 60)
            raise SessionExpiredError(
                f"the session expired after {minutes} minute(s) without activity; sign in again",
                idle=IdleSession(name, source, role, _time(last_seen), now),
            )
        conn.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (_iso(now), key))
        return name, source, role

    def resume(self, token: str) -> Account:
        """The account of a live local session, which counts as activity; else :class:`SessionExpiredError`.

        The role is read from the account, so a role change applies at once.
        """
        now = self.clock()
        expired = None
        with self._connect() as conn:
            try:
                live = self._live(conn, _token_hash(token), now)
            except SessionExpiredError as exc:  # commit the ended_at, then raise
                expired, live = exc, None
        if expired is not None:
            raise expired
        if live is None or live[1] != "app":
            raise SessionExpiredError("the session is not known (the server may have restarted); sign in again")
        try:
            return self.get(live[0])
        except AccountError:
            raise SessionExpiredError("the account no longer exists") from None

    def oidc_session(self, identity: str, name: str, role: Role) -> bool:
        """Record activity of an organisation sign-in, identified by issuer, subject and issue time.

        A new identity starts a session (True: a new sign-in); a known one must not have been
        idle longer than the policy allows (else :class:`SessionExpiredError`, and that sign-in
        stays ended: the cookie cannot revive it).
        """
        key = _token_hash("oidc:" + identity)
        now = self.clock()
        expired = None
        with self._connect() as conn:
            try:
                live = self._live(conn, key, now)
            except SessionExpiredError as exc:
                expired, live = exc, None
            if expired is None and live is None:
                conn.execute(
                    "INSERT INTO sessions (token_hash, name, source, role, created_at, last_seen) "
                    "VALUES (?, ?, 'oidc', ?, ?, ?)",
                    (key, name, role.value, _iso(now), _iso(now)),
                )
        if expired is not None:
            raise expired
        return live is None

    def end_idle_sessions(self, limit: int = 1000) -> list[IdleSession]:
        """End the sessions idle longer than the policy allows that nobody came back to (at most ``limit``,
        the longest idle first); the ones ended now. A session is ended once: by this or by its own resume."""
        now = self.clock()
        ended: list[IdleSession] = []
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT token_hash, name, source, role, last_seen FROM sessions WHERE ended_at IS NULL "
                "ORDER BY last_seen LIMIT ?",
                (limit,),
            ).fetchall()
            for key, name, source, role, last_seen in rows:
                seen = _time(last_seen)
                if now - seen > self.policy.idle:
                    conn.execute("UPDATE sessions SET ended_at = ? WHERE token_hash = ?", (_iso(now), key))
                    ended.append(IdleSession(name, source, role, seen, now))
        return ended

    def end_oidc_session(self, identity: str) -> bool:
        """End an organisation sign-in's session (on sign-out); True when one was open."""
        return self.end_session("oidc:" + identity)

    def end_session(self, token: str) -> bool:
        """Sign out: the token no longer resumes. True when a live session ended."""
        with self._connect() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                (_iso(self.clock()), _token_hash(token)),
            )
            return cursor.rowcount > 0

    @staticmethod
    def _end_sessions(conn: sqlite3.Connection, name: str, now: str) -> None:
        conn.execute("UPDATE sessions SET ended_at = ? WHERE name = ? AND ended_at IS NULL", (now, name))
