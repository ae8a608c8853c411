"""Sign-ins in the audit log: success, failure, lock-out, refusal and sign-out; never a password; floods capped."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lessons import audit, signin
from lessons.accounts import AccountLockedError, AccountStore, Policy, SessionExpiredError, SignInError
from lessons.cli import app
from lessons.roles import Actor, Role
from lessons.settings import Settings
from tests.conftest import TEST_PASSWORD, account_session, open_app, run
from tests.test_accounts import FAST, Clock

PASSWORD = "korrekt-hest-batteri-hæfteklamme"
WRONG = "forkert-Kodeord-7f3a9c"


@pytest.fixture
def clock() -> Clock:
    """A hand-moved clock."""
    return Clock()


@pytest.fixture
def accounts(tmp_path: Path, clock: Clock) -> AccountStore:
    """An accounts database with the editor edda, five failures to a 15-minute lock-out."""
    store = AccountStore(tmp_path / "var", clock=clock, hasher=FAST, create=True, policy=Policy())
    store.add("edda", Role.EDITOR, PASSWORD)
    return store


def _log(data_dir: Path) -> list[tuple[str, str, str, str]]:
    return [(e.actor, e.role, e.source, e.action) for e in audit.events(data_dir, limit=10_000)]


def _raw(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.glob("audit.sqlite3*"))


def test_success_failure_lock_out_refusal_and_sign_out_are_recorded(accounts: AccountStore, tmp_path: Path) -> None:
    """Each sign-in outcome is one event under the account's name, with its source and role when known."""
    data = tmp_path / "var"
    account, token = signin.sign_in(data, accounts, "Edda", PASSWORD)
    assert account.name == "edda" and accounts.resume(token).name == "edda"
    signin.sign_out(data, accounts, account.actor(), token=token)
    signin.sign_out(data, accounts, account.actor(), token=token)  # already ended: not recorded twice
    for _ in range(5):
        with pytest.raises(SignInError) as caught:
            signin.sign_in(data, accounts, "edda", WRONG)
        assert not isinstance(caught.value, AccountLockedError)
    with pytest.raises(AccountLockedError):
        signin.sign_in(data, accounts, "edda", PASSWORD)
    assert _log(data) == [
        ("edda", "editor", "app", "sign-in"),
        ("edda", "editor", "app", "sign-out"),
        *[("edda", "-", "app", "sign-in-failed")] * 5,
        ("edda", "-", "app", "lock-out"),
        ("edda", "-", "app", "sign-in-refused"),
    ]
    events = audit.events(data)
    assert events[2].detail == "wrong password" and "after 5 failed sign-ins" in (events[-2].detail or "")


def test_no_password_and_no_unknown_name_reaches_the_log(accounts: AccountStore, tmp_path: Path) -> None:
    """Neither a right nor a wrong password is stored; a name that is no account is recorded as unknown."""
    data = tmp_path / "var"
    signin.sign_in(data, accounts, "edda", PASSWORD)
    with pytest.raises(SignInError):
        signin.sign_in(data, accounts, "edda", WRONG)
    with pytest.raises(SignInError):
        signin.sign_in(data, accounts, PASSWORD, PASSWORD)  # a password typed into the name field
    raw = _raw(data)
    for secret in (PASSWORD, WRONG):
        assert secret.encode() not in raw
    assert _log(data)[-1] == (signin.UNKNOWN_NAME, "-", "app", "sign-in-failed")
    shown = CliRunner().invoke(app, ["audit"], env={"LESSONS_DATA_DIR": str(data)})
    assert shown.exit_code == 0, shown.output
    assert "edda (editor, app)  sign-in" in shown.output and "sign-in-failed: wrong password" in shown.output
    assert PASSWORD not in shown.output and WRONG not in shown.output


@pytest.mark.heavy
def test_a_flood_of_failures_adds_no_more_than_the_lock_out_allows(accounts: AccountStore, tmp_path: Path) -> None:
    """Hundreds of wrong passwords and made-up names within one lock-out period add a bounded number of events."""
    data = tmp_path / "var"
    for i in range(300):
        for name in ("edda", f"angriber-{i}"):
            with pytest.raises(SignInError):
                signin.sign_in(data, accounts, name, WRONG)
    actions = [(actor, action) for actor, _, _, action in _log(data)]
    assert actions.count(("edda", "sign-in-failed")) == 5
    assert actions.count(("edda", "lock-out")) == 1
    assert actions.count(("edda", "sign-in-refused")) == 1
    assert actions.count((signin.UNKNOWN_NAME, "sign-in-failed")) == 5
    assert actions.count((signin.UNKNOWN_NAME, "sign-in-failed-not-recorded")) == 1
    assert actions.count(("edda", "sign-in-refused-not-recorded")) == 1
    assert len(actions) == 14


def test_the_cap_opens_again_after_the_lock_out_period(accounts: AccountStore, tmp_path: Path, clock: Clock) -> None:
    """After the lock-out period new failures are recorded again (the cap is a rate, not a silence)."""
    data = tmp_path / "var"
    for _ in range(7):
        with pytest.raises(SignInError):
            signin.sign_in(data, accounts, "nemo", WRONG)
    clock.advance(minutes=16)
    with pytest.raises(SignInError):
        signin.sign_in(data, accounts, "nemo", WRONG)
    actions = [action for _, _, _, action in _log(data)]
    assert actions == [*["sign-in-failed"] * 5, "sign-in-failed-not-recorded", "sign-in-failed"]


def test_organisation_sign_in_is_recorded_once_per_sign_in(accounts: AccountStore, tmp_path: Path) -> None:
    """An OIDC sign-in is recorded when first seen, not at every page run; its sign-out too."""
    data = tmp_path / "var"
    actor = Actor("ida@example.org", Role.CURATOR, source="oidc")
    for _ in range(3):
        signin.oidc_signed_in(data, accounts, "issuer|sub|123", actor)
    signin.sign_out(data, accounts, actor, oidc_identity="issuer|sub|123")
    assert _log(data) == [
        ("ida@example.org", "curator", "oidc", "sign-in"),
        ("ida@example.org", "curator", "oidc", "sign-out"),
    ]


def test_an_organisation_sign_in_without_a_role_is_recorded_once_per_period(tmp_path: Path, clock: Clock) -> None:
    """The app sees a role-less OIDC sign-in on every run; it is recorded once per lock-out period, plus one note."""
    data = tmp_path / "var"
    for _ in range(50):
        signin.oidc_refused(data, "ida@example.org", "no role claim", window=timedelta(minutes=15), clock=clock)
    clock.advance(minutes=16)
    signin.oidc_refused(data, "ida@example.org", "no role claim", window=timedelta(minutes=15), clock=clock)
    assert [(a, s, act) for a, _, s, act in _log(data)] == [
        ("ida@example.org", "oidc", "sign-in-refused"),
        ("ida@example.org", "oidc", "sign-in-refused-not-recorded"),
        ("ida@example.org", "oidc", "sign-in-refused"),
    ]


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_the_app_records_its_sign_ins_and_sign_outs(built: Settings) -> None:
    """The app's sign-in form and sign-out button go through the audited sign-in (AppTest, local account)."""
    account_session(built, "karen", "curator")
    before = len(audit.events(built.data_dir))
    at = open_app(page="kurator")
    at.text_input(key="auth_user").set_value("karen")
    at.text_input(key="auth_password").set_value(WRONG)
    at.button[0].click().run()
    at.text_input(key="auth_user").set_value("karen")
    at.text_input(key="auth_password").set_value(TEST_PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    at.button(key="auth_sign_out").click().run()
    new = [(e.actor, e.source, e.action) for e in audit.events(built.data_dir)[before:]]
    assert new == [("karen", "app", "sign-in-failed"), ("karen", "app", "sign-in"), ("karen", "app", "sign-out")]
    assert TEST_PASSWORD.encode() not in _raw(built.data_dir) and WRONG.encode() not in _raw(built.data_dir)


def test_an_idle_session_is_audited_when_its_user_comes_back(
    accounts: AccountStore, tmp_path: Path, clock: Clock
) -> None:
    """A local session idle past the limit ends with one session-expired event: who, role, and the last activity."""
    data = tmp_path / "var"
    _account, token = signin.sign_in(data, accounts, "edda", PASSWORD)
    clock.advance(minutes=10)
    assert signin.resume(data, accounts, token).name == "edda"  # activity: the idle time starts again
    clock.advance(minutes=31)
    with pytest.raises(SessionExpiredError) as caught:
        signin.resume(data, accounts, token)
    assert caught.value.idle is not None
    with pytest.raises(SessionExpiredError) as again:
        signin.resume(data, accounts, token)
    assert again.value.idle is None  # ended before: not a second expiry
    assert _log(data) == [("edda", "editor", "app", "sign-in"), ("edda", "editor", "app", "session-expired")]
    expired = audit.events(data)[-1]
    assert expired.at == clock.now
    assert expired.detail == (
        "no activity since 2026-11-30T09:10:00+00:00; sessions end after 30 minute(s) without activity"
    )


def test_sessions_nobody_came_back_to_are_expired_at_the_next_sign_in_step(
    accounts: AccountStore, tmp_path: Path, clock: Clock
) -> None:
    """A session left idle (tab closed) is ended and audited once, when anyone next signs in; live ones are not."""
    data = tmp_path / "var"
    accounts.add("karen", Role.CURATOR, PASSWORD)
    signin.sign_in(data, accounts, "edda", PASSWORD)
    actor = Actor("ida@example.org", Role.CURATOR, source="oidc")
    signin.oidc_signed_in(data, accounts, "issuer|sub|123", actor)
    clock.advance(minutes=20)
    _karen, token = signin.sign_in(data, accounts, "karen", PASSWORD)
    clock.advance(minutes=11)
    signin.resume(data, accounts, token)  # karen is active; edda and ida have been idle 31 minutes
    signin.resume(data, accounts, token)
    assert _log(data) == [
        ("edda", "editor", "app", "sign-in"),
        ("ida@example.org", "curator", "oidc", "sign-in"),
        ("karen", "curator", "app", "sign-in"),
        ("edda", "editor", "app", "session-expired"),
        ("ida@example.org", "curator", "oidc", "session-expired"),
    ]
    with pytest.raises(SessionExpiredError) as caught:  # the cookie cannot revive the ended organisation sign-in
        signin.oidc_signed_in(data, accounts, "issuer|sub|123", actor)
    assert caught.value.idle is None and len(_log(data)) == 5


def test_an_idle_organisation_sign_in_is_audited_when_seen_again(
    accounts: AccountStore, tmp_path: Path, clock: Clock
) -> None:
    """An OIDC sign-in seen again after the idle time is refused and recorded as session-expired."""
    data = tmp_path / "var"
    actor = Actor("ida@example.org", Role.CURATOR, source="oidc")
    signin.oidc_signed_in(data, accounts, "issuer|sub|123", actor)
    clock.advance(minutes=31)
    with pytest.raises(SessionExpiredError) as caught:
        signin.oidc_signed_in(data, accounts, "issuer|sub|123", actor)
    assert caught.value.idle is not None
    assert _log(data)[-1] == ("ida@example.org", "curator", "oidc", "session-expired")


@pytest.mark.heavy
@pytest.mark.usefixtures("fresh_streamlit")
def test_the_app_audits_an_idle_session_and_says_it_expired(built: Settings) -> None:
    """A signed-in curator idle past the limit is signed out by the page, told why, and the expiry is audited."""
    token = account_session(built, "karen", "curator")
    at = open_app(token, page="kurator")
    assert at.button(key="auth_sign_out")
    minutes = built.session_idle_minutes + 1
    with sqlite3.connect(built.data_dir / "accounts.sqlite3") as conn:  # the last activity, moved back
        conn.execute("UPDATE sessions SET last_seen = datetime(last_seen, ?)", (f"-{minutes} minutes",))
    before = len(audit.events(built.data_dir))
    run(at)
    assert [(e.actor, e.source, e.action) for e in audit.events(built.data_dir)[before:]] == [
        ("karen", "app", "session-expired")
    ]
    assert any(f"{built.session_idle_minutes:g} minutter" in w.value for w in at.warning), [w.value for w in at.warning]
    assert "auth_sign_out" not in {b.key for b in at.button}
