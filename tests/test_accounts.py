"""Local accounts: Argon2id hashes, sign-in, lock-out, idle sessions, a missing or damaged database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from lessons.accounts import (
    AccountError,
    AccountsMissingError,
    AccountStore,
    AccountsUnavailableError,
    Policy,
    SessionExpiredError,
    SignInError,
    db_path,
)
from lessons.roles import Role

PASSWORD = "correct horse battery"
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # still Argon2id, cheap for tests


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """A hand-moved clock."""
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> AccountStore:
    """A new accounts database with one curator."""
    accounts = AccountStore(tmp_path, clock=clock, hasher=FAST, create=True, policy=Policy())
    accounts.add("karen", Role.CURATOR, PASSWORD)
    return accounts


def test_password_is_stored_only_as_an_argon2id_hash(store: AccountStore, tmp_path: Path) -> None:
    """The database holds an $argon2id$ hash and no trace of the password itself."""
    raw = db_path(tmp_path).read_bytes()
    assert PASSWORD.encode() not in raw
    with sqlite3.connect(db_path(tmp_path)) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM users WHERE name = 'karen'").fetchone()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in repr(store.get("karen"))


def test_sign_in_with_the_right_password(store: AccountStore, clock: Clock) -> None:
    """The right password signs in and records when."""
    account = store.authenticate("Karen", PASSWORD)
    assert account.name == "karen" and account.role is Role.CURATOR
    assert account.last_sign_in == clock.now


@pytest.mark.parametrize(
    ("name", "password"), [("karen", "wrong password!"), ("nobody", PASSWORD), ("", ""), ("karen", "")]
)
def test_wrong_password_and_unknown_user_get_the_same_message(store: AccountStore, name: str, password: str) -> None:
    """Wrong password, unknown user and empty input are refused alike, without saying which."""
    with pytest.raises(SignInError, match=r"\Awrong user name or password\Z"):
        store.authenticate(name, password)


def test_five_failures_lock_the_account_for_a_while(store: AccountStore, clock: Clock) -> None:
    """The fifth wrong password locks; even the right one is refused until the lock-out ends."""
    for _ in range(4):
        with pytest.raises(SignInError, match="wrong"):
            store.authenticate("karen", "wrong password!")
    assert store.get("karen").failed_attempts == 4
    with pytest.raises(SignInError, match="wrong"):
        store.authenticate("karen", "wrong password!")
    assert store.get("karen").locked(clock.now)
    with pytest.raises(SignInError, match="locked after 5 failed sign-ins; try again in 15 minute"):
        store.authenticate("karen", PASSWORD)
    clock.advance(minutes=14)
    with pytest.raises(SignInError, match="locked"):
        store.authenticate("karen", PASSWORD)
    clock.advance(minutes=2)
    assert store.authenticate("karen", PASSWORD).name == "karen"
    assert store.get("karen").failed_attempts == 0


def test_a_success_resets_the_failure_count(store: AccountStore) -> None:
    """Four failures, a success, four more failures: not locked (failures must be in a row)."""
    for _ in range(4):
        with pytest.raises(SignInError):
            store.authenticate("karen", "wrong password!")
    store.authenticate("karen", PASSWORD)
    for _ in range(4):
        with pytest.raises(SignInError):
            store.authenticate("karen", "wrong password!")
    store.authenticate("karen", PASSWORD)


def test_unlock_and_new_password_lift_a_lock(store: AccountStore, clock: Clock) -> None:
    """An admin's unlock, or a new password, ends a lock-out at once."""
    for _ in range(5):
        with pytest.raises(SignInError):
            store.authenticate("karen", "wrong password!")
    store.unlock("karen")
    store.authenticate("karen", PASSWORD)


def test_session_expires_after_idle_time_and_activity_extends_it(store: AccountStore, clock: Clock) -> None:
    """Each use counts as activity; 30 idle minutes end the session, and it stays ended."""
    token = store.start_session(store.authenticate("karen", PASSWORD))
    for _ in range(3):
        clock.advance(minutes=29)
        assert store.resume(token).name == "karen"
    clock.advance(minutes=31)
    with pytest.raises(SessionExpiredError, match="expired after 30 minute"):
        store.resume(token)
    with pytest.raises(SessionExpiredError, match="ended"):
        store.resume(token)


def test_sign_out_and_unknown_tokens(store: AccountStore) -> None:
    """A signed-out token and a made-up token resume nothing."""
    token = store.start_session(store.authenticate("karen", PASSWORD))
    store.end_session(token)
    with pytest.raises(SessionExpiredError):
        store.resume(token)
    with pytest.raises(SessionExpiredError, match="not known"):
        store.resume(token + "x")


def test_password_change_and_removal_end_sessions_and_role_changes_apply(store: AccountStore) -> None:
    """A new password or a removed account ends sessions; a new role applies to an open session."""
    token = store.start_session(store.authenticate("karen", PASSWORD))
    store.set_role("karen", Role.EDITOR)
    assert store.resume(token).role is Role.EDITOR
    store.set_password("karen", "another good password")
    with pytest.raises(SessionExpiredError):
        store.resume(token)
    with pytest.raises(SignInError):
        store.authenticate("karen", PASSWORD)
    token = store.start_session(store.authenticate("karen", "another good password"))
    store.remove("karen")
    with pytest.raises(SessionExpiredError):
        store.resume(token)
    with pytest.raises(AccountError, match="no account named 'karen'"):
        store.get("karen")


def test_oidc_sessions_expire_and_cannot_be_revived(store: AccountStore, clock: Clock) -> None:
    """An organisation sign-in idle too long stays ended even if its cookie is presented again."""
    store.oidc_session("issuer|sub|1700000000", "a@example.org", Role.EDITOR)
    clock.advance(minutes=20)
    store.oidc_session("issuer|sub|1700000000", "a@example.org", Role.EDITOR)
    clock.advance(minutes=31)
    with pytest.raises(SessionExpiredError, match="expired"):
        store.oidc_session("issuer|sub|1700000000", "a@example.org", Role.EDITOR)
    with pytest.raises(SessionExpiredError, match="ended"):
        store.oidc_session("issuer|sub|1700000000", "a@example.org", Role.EDITOR)
    store.oidc_session("issuer|sub|1700009999", "a@example.org", Role.EDITOR)  # a new sign-in starts afresh
    store.end_oidc_session("issuer|sub|1700009999")
    with pytest.raises(SessionExpiredError):
        store.oidc_session("issuer|sub|1700009999", "a@example.org", Role.EDITOR)


@pytest.mark.parametrize("password", ["Tr0ub4dor", " leading space ok?", "x" * 1025])
def test_weak_or_odd_passwords_are_refused_without_echoing_them(store: AccountStore, password: str) -> None:
    """Too short, too long or padded passwords are refused; the message never contains the password."""
    with pytest.raises(AccountError) as info:
        store.add("ole", Role.READER, password)
    assert password not in str(info.value)


def test_names_are_unique(store: AccountStore) -> None:
    """A second account with the same name (any case) is refused."""
    with pytest.raises(AccountError, match="already an account named 'karen'"):
        store.add("KAREN", Role.ADMIN, PASSWORD)


def test_missing_database_is_not_created_by_the_app(tmp_path: Path) -> None:
    """Without create, a missing database is 'unavailable' with the command that makes one, and no file appears."""
    with pytest.raises(AccountsMissingError, match="lessons users add NAME --role editor"):
        AccountStore(tmp_path)
    assert not db_path(tmp_path).exists()


@pytest.mark.parametrize(
    "content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 5000, b""]
)
def test_damaged_database_is_unavailable_with_a_message(tmp_path: Path, content: bytes) -> None:
    """Garbage, a truncated header or an empty file: 'unavailable', never a traceback."""
    db_path(tmp_path).write_bytes(content)
    with pytest.raises(AccountsUnavailableError, match=str(tmp_path)) as caught:
        store = AccountStore(tmp_path)
        store.check()
        store.authenticate("karen", PASSWORD)
    assert not isinstance(caught.value, AccountsMissingError), "damaged is not 'no accounts yet'"


def test_a_folder_or_symlink_is_refused(tmp_path: Path) -> None:
    """The database must be a regular file of ours, not a link elsewhere."""
    target = tmp_path / "elsewhere.sqlite3"
    target.write_bytes(b"")
    db_path(tmp_path).symlink_to(target)
    with pytest.raises(AccountsUnavailableError, match="not a regular file"):
        AccountStore(tmp_path)


def test_default_hasher_is_argon2id_with_library_defaults(tmp_path: Path) -> None:
    """Without a test hasher the store uses argon2-cffi's Argon2id defaults (RFC 9106 profile)."""
    store = AccountStore(tmp_path, create=True)
    store.add("admin", Role.ADMIN, PASSWORD)
    with sqlite3.connect(db_path(tmp_path)) as conn:
        (stored,) = conn.execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
