"""`lessons users ...` and `lessons audit`: accounts from the command line, passwords never as arguments."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from lessons import accounts
from lessons.accounts import AccountStore
from lessons.cli import app
from lessons.roles import Role
from lessons.settings import Settings

pytestmark = pytest.mark.heavy

runner = CliRunner()
PASSWORD = "a long enough password"


@pytest.fixture
def admin_cli(env_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI with temporary folders, run by OS user 'root', with a cheap Argon2id for speed."""
    monkeypatch.setattr("lessons.roles._os_user", lambda: "root")
    monkeypatch.delenv("LESSONS_CURATOR", raising=False)
    fast = accounts.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    original = AccountStore.__init__

    def init(self: AccountStore, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("hasher", fast)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AccountStore, "__init__", init)
    return env_settings


def test_add_reads_the_password_from_stdin_and_stores_only_a_hash(admin_cli: Settings) -> None:
    """`users add NAME --role editor` with the password piped in; the database holds no clear password."""
    result = runner.invoke(app, ["users", "add", "Edda", "--role", "editor"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "added edda (editor)" in result.output and PASSWORD not in result.output
    raw = accounts.db_path(admin_cli.data_dir).read_bytes()
    assert PASSWORD.encode() not in raw
    assert AccountStore(admin_cli.data_dir).authenticate("edda", PASSWORD).role is Role.EDITOR


def test_there_is_no_password_option(admin_cli: Settings) -> None:
    """A password cannot be given as an argument (it would sit in shell history and `ps`)."""
    result = runner.invoke(app, ["users", "add", "edda", "--role", "editor", "--password", PASSWORD])
    assert result.exit_code != 0 and "No such option" in result.output
    assert not accounts.db_path(admin_cli.data_dir).exists()


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["users", "add", "edda", "--role", "boss"], PASSWORD, "is not a role"),
        (["users", "add", "Edda Redaktør", "--role", "editor"], PASSWORD, "is not valid"),
        (["users", "add", "edda", "--role", "editor"], "", "no password on standard input"),
        (["users", "add", "edda", "--role", "editor"], "short", "too short"),
        (["users", "passwd", "nobody"], PASSWORD, "there is no accounts database"),
        (["users", "list"], "", "lessons users add NAME --role editor"),
    ],
)
def test_bad_input_gets_a_clear_message(admin_cli: Settings, argv: list[str], stdin: str, message: str) -> None:
    """Bad role, bad name, no or weak password, no database: one clear line, exit 1, no traceback."""
    result = runner.invoke(app, argv, input=stdin + "\n" if stdin else "")
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output


def test_list_passwd_role_unlock_remove_and_their_audit(admin_cli: Settings) -> None:
    """The account commands work end to end, and each change is in `lessons audit` under the OS user."""
    runner.invoke(app, ["users", "add", "karen", "--role", "curator"], input=PASSWORD + "\n")
    listed = json.loads(runner.invoke(app, ["users", "list", "--json"]).output)
    assert [(a["name"], a["role"]) for a in listed] == [("karen", "curator")]
    assert runner.invoke(app, ["users", "passwd", "karen"], input="another good password\n").exit_code == 0
    assert AccountStore(admin_cli.data_dir).authenticate("karen", "another good password")
    assert runner.invoke(app, ["users", "role", "karen", "editor"]).exit_code == 0
    assert runner.invoke(app, ["users", "unlock", "karen"]).exit_code == 0
    refused = runner.invoke(app, ["users", "remove", "karen"])
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert runner.invoke(app, ["users", "remove", "karen", "--yes"]).exit_code == 0
    assert runner.invoke(app, ["users", "list"]).output.startswith("no accounts")
    log = [json.loads(line) for line in runner.invoke(app, ["audit", "--json"]).output.splitlines()]
    assert [(e["actor"], e["action"]) for e in log] == [
        ("root", "account-add"),
        ("root", "account-passwd"),
        ("root", "account-role"),
        ("root", "account-unlock"),
        ("root", "account-remove"),
    ]
    assert all("password" not in json.dumps(e).replace("account-passwd", "") for e in log)


def test_audit_prints_entry_changes_and_filters(admin_cli: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lessons audit --entry ID` shows who changed which field from what to what; --since filters by date."""
    monkeypatch.setenv("LESSONS_CURATOR", "alice")
    runner.invoke(app, ["edit", "advice-data", "--title", "Overblik over data først", "--reason", "klarere"])
    shown = runner.invoke(app, ["audit", "--entry", "advice-data"])
    assert shown.exit_code == 0, shown.output
    assert "alice (via root) (admin, cli)  revise advice-data: pending revision by alice (via root)" in shown.output
    assert "waiting for another editor; klarere" in shown.output
    assert "title: Skab overblik over data -> Overblik over data først" in shown.output
    assert runner.invoke(app, ["audit", "--since", "2999-01-01"]).output.strip() == "no audit events for that selection"
    bad = runner.invoke(app, ["audit", "--since", "yesterday"])
    assert bad.exit_code == 1 and "is not a date" in bad.output


def test_audit_of_a_damaged_log_is_a_message(admin_cli: Settings) -> None:
    """A damaged audit database gives a one-line error, not a traceback."""
    admin_cli.data_dir.mkdir(parents=True, exist_ok=True)
    path = admin_cli.data_dir / "audit.sqlite3"
    path.write_bytes(b"garbage" * 1000)
    result = runner.invoke(app, ["audit"])
    assert result.exit_code == 1 and "audit log" in result.output and "Traceback" not in result.output
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(path).execute("SELECT 1 FROM audit").fetchall()


def test_cli_four_eyes_and_named_colleague(admin_cli: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry added by 'alice (via root)' cannot be approved by alice, even through another OS user."""
    monkeypatch.setenv("LESSONS_CURATOR", "alice")
    added = runner.invoke(
        app,
        ["add", "--kind", "advice", "--title", "Test fire øjne", "--body", "Lad en anden godkende din tekst.",
         "--source-report", "Test", "--id", "advice-four-eyes"],
    )  # fmt: skip
    assert "by alice (via root)" in added.output, added.output
    monkeypatch.setattr("lessons.roles._os_user", lambda: "ops")
    refused = runner.invoke(app, ["approve", "advice-four-eyes"])
    assert refused.exit_code == 1 and "four-eyes" in refused.output
    monkeypatch.setenv("LESSONS_ALLOW_SELF_APPROVAL", "1")
    allowed = runner.invoke(app, ["approve", "advice-four-eyes"])
    assert allowed.exit_code == 0 and "self-approved by alice (via ops)" in allowed.output
