"""Signing in and out as the app does it: checked by :mod:`lessons.accounts`, recorded in :mod:`lessons.audit`.

Every outcome is an audit event: ``sign-in`` (local or organisation), ``sign-in-failed``, ``lock-out``
(the failure that locked the account), ``sign-in-refused`` (a try on a locked account),
``sign-out`` and ``session-expired`` (a session ended after the idle time without activity: found
when its user came back, or when any sign-in step next ran). The password never reaches the log, nor
does a name that is not an account's (people type their password into the name field): those
failures are recorded under one ``(unknown name)``. Failures are capped per name
(:func:`lessons.audit.record_sign_in`) at what the lock-out lets through in its period, so a flood
of wrong passwords or made-up names cannot grow the log faster than that. A sign-in whose event
cannot be written is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from lessons import audit
from lessons.accounts import (
    Account,
    AccountLockedError,
    AccountStore,
    Clock,
    IdleSession,
    SessionExpiredError,
    SignInError,
    utc_now,
)
from lessons.roles import Actor

__all__ = ["UNKNOWN_NAME", "end_idle", "oidc_refused", "oidc_signed_in", "resume", "sign_in", "sign_out"]

UNKNOWN_NAME = "(unknown name)"
NO_ROLE = "-"


def sign_in(data_dir: Path, accounts: AccountStore, name: str, password: str) -> tuple[Account, str]:
    """Check a local sign-in and start a session: (account, session token); every outcome is audited.

    Raises what :meth:`AccountStore.authenticate` raises (:class:`SignInError`,
    :class:`AccountLockedError`) after recording it, and :class:`lessons.audit.AuditError`
    when the audit log cannot be written (then nobody is signed in).
    """
    audit.writable(data_dir)
    end_idle(data_dir, accounts)
    policy = accounts.policy
    try:
        account = accounts.authenticate(name, password)
    except AccountLockedError as exc:
        detail = f"the account is locked for {exc.minutes} more minute(s)"
        _failure(data_dir, accounts, "sign-in-refused", exc, detail=detail, limit=1)
        raise
    except SignInError as exc:
        detail = "wrong password" if exc.account is not None else "no account has that name"
        _failure(data_dir, accounts, "sign-in-failed", exc, detail=detail, limit=policy.max_attempts)
        if exc.locked_now and exc.account is not None:
            minutes = round(policy.lockout.total_seconds() / 60)
            detail = f"locked for {minutes} minute(s) after {policy.max_attempts} failed sign-ins in a row"
            _failure(data_dir, accounts, "lock-out", exc, detail=detail)
        raise
    token = accounts.start_session(account)
    audit.record_sign_in(
        data_dir, "sign-in", name=account.name, role=account.role.value, source="app", clock=accounts.clock
    )
    return account, token


def resume(data_dir: Path, accounts: AccountStore, token: str) -> Account:
    """The account of a live local session (which counts as activity), else :class:`SessionExpiredError`.

    A session this finds idle too long is ended and audited as ``session-expired``; so are
    other sessions idle too long (:func:`end_idle`). Raises :class:`lessons.audit.AuditError`
    when that event cannot be written (the session has ended either way).
    """
    with _expiry_audited(data_dir, accounts):
        account = accounts.resume(token)
    end_idle(data_dir, accounts)
    return account


@contextmanager
def _expiry_audited(data_dir: Path, accounts: AccountStore) -> Iterator[None]:
    """Audit a session the block found idle too long (and ended), then let its SessionExpiredError go on."""
    try:
        yield
    except SessionExpiredError as exc:
        if exc.idle is not None:
            _expired(data_dir, accounts, exc.idle)
        raise


def end_idle(data_dir: Path, accounts: AccountStore) -> int:
    """End and audit the sessions idle too long that nobody came back to; how many were ended."""
    ended = accounts.end_idle_sessions()
    for session in ended:
        _expired(data_dir, accounts, session)
    return len(ended)


def _expired(data_dir: Path, accounts: AccountStore, session: IdleSession) -> None:
    """Record a session ended by idleness (``session-expired``): whose, its last activity, the allowed idle time."""
    minutes = round(accounts.policy.idle.total_seconds() / 60)
    seen = session.last_seen.isoformat(timespec="seconds")
    audit.record_sign_in(
        data_dir,
        "session-expired",
        name=session.name,
        role=session.role,
        source=session.source,
        detail=f"no activity since {seen}; sessions end after {minutes} minute(s) without activity",
        clock=accounts.clock,
    )


def _failure(
    data_dir: Path, accounts: AccountStore, action: str, exc: SignInError, *, detail: str, limit: int | None = None
) -> None:
    """A local sign-in that started no session, under the account's name (else UNKNOWN_NAME) and no role;
    with ``limit``, at most that many such events per name within the lock-out period."""
    audit.record_sign_in(
        data_dir,
        action,
        name=exc.account or UNKNOWN_NAME,
        role=NO_ROLE,
        source="app",
        detail=detail,
        limit=limit,
        window=accounts.policy.lockout if limit is not None else None,
        clock=accounts.clock,
    )


def oidc_signed_in(data_dir: Path, accounts: AccountStore, identity: str, actor: Actor) -> None:
    """Record an organisation sign-in's activity; its first sight (a new sign-in) is audited.

    Raises :class:`lessons.accounts.SessionExpiredError` for a sign-in idle too long (audited as
    ``session-expired`` when this finds it so).
    """
    with _expiry_audited(data_dir, accounts):
        new = accounts.oidc_session(identity, actor.name, actor.role)
    if new:
        audit.record_sign_in(
            data_dir, "sign-in", name=actor.name, role=actor.role.value, source="oidc", clock=accounts.clock
        )
    end_idle(data_dir, accounts)


def oidc_refused(data_dir: Path, name: str, reason: str, *, window: timedelta, clock: Clock = utc_now) -> None:
    """Record an organisation sign-in that maps to no role (``sign-in-refused``), once per ``window`` per name.

    The app sees such a sign-in on every page run; the cap keeps that from filling the log.
    """
    audit.record_sign_in(
        data_dir,
        "sign-in-refused",
        name=name,
        role=NO_ROLE,
        source="oidc",
        detail=reason,
        limit=1,
        window=window,
        clock=clock,
    )


def sign_out(
    data_dir: Path,
    accounts: AccountStore,
    actor: Actor | None,
    *,
    token: str | None = None,
    oidc_identity: str | None = None,
) -> None:
    """End a local session and/or an organisation sign-in; a session that was open is audited as ``sign-out``."""
    ended = False
    if token:
        ended = accounts.end_session(token) or ended
    if oidc_identity:
        ended = accounts.end_oidc_session(oidc_identity) or ended
    if ended and actor is not None:
        audit.record_sign_in(
            data_dir, "sign-out", name=actor.name, role=actor.role.value, source=actor.source, clock=accounts.clock
        )
    end_idle(data_dir, accounts)
