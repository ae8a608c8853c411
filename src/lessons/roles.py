"""Who may do what: the four roles, the actions they allow, and the actor a change is recorded under.

Roles are ordered: each includes everything the one below may do.

- ``reader`` asks questions, finds similar projects, sees the overview, gives feedback;
- ``curator`` also drafts: adds, edits and retires entries, ingests reports, sees gaps and feedback;
- ``editor`` also approves drafts (four-eyes: not their own) and rebuilds the index;
- ``admin`` also manages accounts and sees everything an editor sees.

Every write goes through :mod:`lessons.workflow`, which calls :func:`require` with the
signed-in :class:`Actor` before touching the corpus. The CLI runs on the server, so
its trust boundary is the operating system: :func:`cli_actor` is the OS user (or a
colleague named in ``LESSONS_CURATOR``, recorded as acting through the OS user).
"""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from lessons.errors import LessonsError

__all__ = [
    "NAME_PATTERN",
    "Action",
    "Actor",
    "PermissionDeniedError",
    "Role",
    "allows",
    "check_name",
    "cli_actor",
    "person",
    "require",
]

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,99}")
PERSON_PATTERN = re.compile(r"[^\W_][\w .@+'-]{0,99}")  # a colleague's name as written: 'Karen Kurator', 'Søren'

_VIA = re.compile(r"\A(.{1,200}?) \(via [^()]{1,200}\)\Z")


class Role(StrEnum):
    """A role, lowest first."""

    READER = "reader"
    CURATOR = "curator"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Its place in the order reader < curator < editor < admin."""
        return list(Role).index(self)


class Action(StrEnum):
    """Something a role may be allowed to do."""

    READ = "read"  # ask, projects like mine, overview, feedback
    DRAFT = "draft"  # add, edit, retire, ingest a report
    SEE_GAPS = "see-gaps"  # the gap log and feedback comments
    APPROVE = "approve"  # approve a draft or reinstate a retired entry
    REBUILD = "rebuild"  # rebuild the index
    SEE_AUDIT = "see-audit"  # the audit log
    MANAGE_ACCOUNTS = "manage-accounts"


REQUIRED: Mapping[Action, Role] = {
    Action.READ: Role.READER,
    Action.DRAFT: Role.CURATOR,
    Action.SEE_GAPS: Role.CURATOR,
    Action.APPROVE: Role.EDITOR,
    Action.REBUILD: Role.EDITOR,
    Action.SEE_AUDIT: Role.EDITOR,
    Action.MANAGE_ACCOUNTS: Role.ADMIN,
}


class PermissionDeniedError(LessonsError):
    """The actor's role does not allow the action (or nobody is signed in)."""

    def __init__(self, action: Action, actor: Actor | None) -> None:
        self.action = action
        self.actor = actor
        needed = REQUIRED[action]
        if actor is None:
            message = f"sign in first: {action.value} needs the {needed.value} role"
        else:
            message = f"{actor} is {actor.role.value}; {action.value} needs the {needed.value} role"
        super().__init__(message)


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (app), or the OS user (CLI), with their role.

    ``via`` is the OS user when an operator acts for a named colleague
    (``LESSONS_CURATOR``); the record then says "alice (via root)".
    """

    name: str
    role: Role
    source: str = "app"  # "app" (local account), "oidc" (organisation sign-in) or "cli"
    via: str | None = None

    def __str__(self) -> str:
        return f"{self.name} (via {self.via})" if self.via else self.name


def allows(role: Role | None, action: Action) -> bool:
    """Whether ``role`` may do ``action``; None (not signed in) may do nothing here."""
    return role is not None and role.rank >= REQUIRED[action].rank


def require(actor: Actor | None, action: Action) -> Actor:
    """The actor, if their role allows ``action``; else :class:`PermissionDeniedError`."""
    if actor is None or not allows(actor.role, action):
        raise PermissionDeniedError(action, actor)
    return actor


def person(recorded: str | None) -> str:
    """The person behind a recorded name: 'alice (via root)' -> 'alice'; compared case-insensitively."""
    text = (recorded or "").strip()
    match = _VIA.match(text)
    return (match.group(1) if match else text).strip().casefold()


def check_name(name: str) -> str:
    """A valid account name (lowercase letters, digits and . _ @ + -, at most 100), else an error."""
    cleaned = name.strip().lower()
    if not NAME_PATTERN.fullmatch(cleaned):
        raise LessonsError.worded("acc_name_invalid", name=repr(name[:120]))
    return cleaned


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "unknown"


def cli_actor(environ: Mapping[str, str] | None = None) -> Actor:
    """The CLI's actor: the OS user, or ``LESSONS_CURATOR`` acting through the OS user.

    The CLI is trusted as far as the operating system trusts whoever runs it, so it
    acts with the admin role; four-eyes still applies (see :mod:`lessons.curation`).
    """
    env = os.environ if environ is None else environ
    os_user = _os_user()
    named = (env.get("LESSONS_CURATOR") or "").strip()
    if not named:
        return Actor(name=os_user, role=Role.ADMIN, source="cli")
    name = " ".join(named.split())
    if not PERSON_PATTERN.fullmatch(name):
        raise LessonsError(
            f"LESSONS_CURATOR {named[:120]!r} is not valid: use a name of at most 100 letters, digits, spaces "
            "and . _ @ + ' -"
        )
    return Actor(name=name, role=Role.ADMIN, source="cli", via=None if name == os_user else os_user)
