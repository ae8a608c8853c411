"""Admin commands of the `lessons` CLI: local accounts (`lessons users ...`) and the audit log (`lessons audit`).

Passwords are read from a hidden prompt with confirmation on a terminal, or from the first line of
standard input in a script; never from an argument, where they would sit in the shell history and
the process list. Each account change is written to the audit log under the OS user.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lessons.cli.common import app, err, errors, load_settings, out

if TYPE_CHECKING:
    from lessons.accounts import AccountStore
    from lessons.roles import Role

__all__ = ["users"]

ADMIN = "Accounts and audit (admins)"

users = typer.Typer(
    name="users",
    help="Local accounts for the app's sign-in: add, list, passwd, role, unlock, remove.",
    no_args_is_help=True,
)
app.add_typer(users, rich_help_panel=ADMIN)

RoleArg = Annotated[str, typer.Option("--role", help="reader, curator, editor or admin")]


def _role(value: str) -> Role:
    from lessons.errors import LessonsError
    from lessons.roles import Role

    try:
        return Role(value.strip().lower())
    except ValueError:
        raise LessonsError(f"--role {value[:40]!r} is not a role: use reader, curator, editor or admin") from None


def _read_password() -> str:
    """A new password: a hidden prompt with confirmation on a terminal, else the first line of stdin."""
    from lessons.accounts import MAX_PASSWORD_CHARS, check_password
    from lessons.errors import LessonsError

    if sys.stdin.isatty():
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))
    else:
        line = sys.stdin.readline(MAX_PASSWORD_CHARS + 2)
        password = line.removesuffix("\n").removesuffix("\r")
        if not password:
            raise LessonsError("no password on standard input: pipe one line, e.g. `... < password-file`")
    return check_password(password)


def _store(*, create: bool = False) -> AccountStore:
    from lessons.accounts import AccountStore, Policy

    settings = load_settings()
    policy = Policy(max_attempts=settings.sign_in_attempts)
    return AccountStore(settings.data_dir, create=create, policy=policy)


def _audit(action: str, detail: str) -> None:
    from lessons import audit
    from lessons.roles import cli_actor

    audit.record(load_settings().data_dir, cli_actor(), action, detail=detail)


@users.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The account name (lowercase letters, digits, . _ @ + -).")],
    role: RoleArg,
) -> None:
    """Create an account; the password is prompted for twice (or read from stdin in a script)."""
    with errors():
        from lessons.roles import check_name

        name = check_name(name)
        chosen = _role(role)
        password = _read_password()
        store = _store(create=True)
        account = store.add(name, chosen, password)
        _audit("account-add", f"{account.name} as {account.role.value}")
        out.print(f"added {account.name} ({account.role.value}) to {store.path}")


@users.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the accounts with role, last sign-in and lock-out."""
    with errors():
        from lessons.accounts import utc_now

        store = _store()
        accounts = store.accounts()
        now = utc_now()
        if as_json:
            rows = [
                {
                    "name": a.name,
                    "role": a.role.value,
                    "created_at": a.created_at.isoformat(),
                    "last_sign_in": a.last_sign_in.isoformat() if a.last_sign_in else None,
                    "locked_until": a.locked_until.isoformat() if a.locked(now) and a.locked_until else None,
                }
                for a in accounts
            ]
            sys.stdout.write(json.dumps(rows, indent=2) + "\n")
            return
        if not accounts:
            out.print("no accounts; add one with `lessons users add NAME --role editor`")
            return
        table = Table("name", "role", "created", "last sign-in", "locked until")
        for a in accounts:
            table.add_row(
                escape(a.name),
                a.role.value,
                a.created_at.isoformat(timespec="minutes"),
                a.last_sign_in.isoformat(timespec="minutes") if a.last_sign_in else "never",
                a.locked_until.isoformat(timespec="minutes") if a.locked(now) and a.locked_until else "",
            )
        out.print(table)


@users.command("passwd")
def users_passwd(name: Annotated[str, typer.Argument(help="The account name.")]) -> None:
    """Set a new password (prompted twice, or from stdin); this unlocks the account and ends its sessions."""
    with errors():
        store = _store()
        account = store.get(name)
        store.set_password(account.name, _read_password())
        _audit("account-passwd", account.name)
        out.print(f"new password set for {account.name}; its sessions have ended")


@users.command("role")
def users_role(
    name: Annotated[str, typer.Argument(help="The account name.")],
    role: Annotated[str, typer.Argument(help="reader, curator, editor or admin")],
) -> None:
    """Change an account's role; it applies to open sessions at their next step."""
    with errors():
        chosen = _role(role)
        store = _store()
        before = store.get(name)
        account = store.set_role(name, chosen)
        _audit("account-role", f"{account.name}: {before.role.value} -> {account.role.value}")
        out.print(f"{account.name} is now {account.role.value}")


@users.command("unlock")
def users_unlock(name: Annotated[str, typer.Argument(help="The account name.")]) -> None:
    """Lift a lock-out after failed sign-ins."""
    with errors():
        store = _store()
        store.unlock(name)
        _audit("account-unlock", name.strip().lower())
        out.print(f"unlocked {name.strip().lower()}")


@users.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The account name.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account and end its sessions (what it did stays in the history and the audit log)."""
    with errors():
        from lessons.errors import LessonsError

        store = _store()
        account = store.get(name)
        if not yes:
            if not sys.stdin.isatty():
                raise LessonsError("removing an account needs --yes when not run at a terminal")
            if not typer.confirm(f"Remove {account.name} ({account.role.value})?", default=False, err=True):
                raise typer.Exit(1)
        store.remove(account.name)
        _audit("account-remove", f"{account.name} ({account.role.value})")
        out.print(f"removed {account.name}")


def _value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(str(text).split())
    return text if len(text) <= 160 else text[:157] + "…"


@app.command("audit", rich_help_panel=ADMIN)
def audit_log(
    entry: Annotated[str | None, typer.Option("--entry", help="Only events of this entry id.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only events since a date, YYYY-MM-DD.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="The newest N events.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, one event per line.")] = False,
) -> None:
    """Print the audit log: who did what, when, to which entry, with the fields before and after."""
    with errors():
        from lessons import audit

        settings = load_settings()
        when = audit.parse_since(since) if since else None
        events = audit.events(settings.data_dir, entry_id=entry, since=when, limit=limit)
        if as_json:
            for event in events:
                row = {
                    "at": event.at.isoformat(),
                    "actor": event.actor,
                    "role": event.role,
                    "source": event.source,
                    "action": event.action,
                    "entry_id": event.entry_id,
                    "detail": event.detail,
                    "before": event.before,
                    "after": event.after,
                }
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            return
        if not events:
            err.print("no audit events" + (" for that selection" if entry or since else " yet"))
            return
        for event in events:
            target = f" {event.entry_id}" if event.entry_id else ""
            line = f"{event.at.isoformat(timespec='seconds')}  {event.actor} ({event.role}, {event.source})"
            out.print(f"{line}  {event.action}{target}" + (f": {event.detail}" if event.detail else ""))
            for change in event.changes():
                out.print(f"    {change.field}: {_value(change.before)} -> {_value(change.after)}")
