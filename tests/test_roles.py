"""Roles, actions and the actor a change is recorded under."""

from __future__ import annotations

import pytest

from lessons.errors import LessonsError
from lessons.roles import Action, Actor, PermissionDeniedError, Role, allows, check_name, cli_actor, person, require

EXPECTED = {
    Role.READER: {Action.READ},
    Role.CURATOR: {Action.READ, Action.DRAFT, Action.SEE_GAPS},
    Role.EDITOR: {Action.READ, Action.DRAFT, Action.SEE_GAPS, Action.APPROVE, Action.REBUILD, Action.SEE_AUDIT},
    Role.ADMIN: set(Action),
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_allows_exactly_its_actions(role: Role) -> None:
    """The full role x action table: each role allows what the issue lists and nothing more."""
    assert {action for action in Action if allows(role, action)} == EXPECTED[role]


def test_nobody_signed_in_may_do_nothing_guarded() -> None:
    """None (anonymous) is refused every guarded action with a message saying to sign in."""
    assert not any(allows(None, action) for action in Action)
    with pytest.raises(PermissionDeniedError, match="sign in first: approve needs the editor role"):
        require(None, Action.APPROVE)


def test_require_names_who_and_what_is_missing() -> None:
    """A curator asking to approve is told their role and the role needed."""
    curator = Actor("karen", Role.CURATOR)
    assert require(curator, Action.DRAFT) is curator
    with pytest.raises(PermissionDeniedError, match="karen is curator; approve needs the editor role"):
        require(curator, Action.APPROVE)


def test_cli_actor_is_the_os_user_or_a_named_colleague_via_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI records the OS user; LESSONS_CURATOR is recorded as acting through the OS user."""
    monkeypatch.setattr("lessons.roles._os_user", lambda: "root")
    assert str(cli_actor({})) == "root"
    actor = cli_actor({"LESSONS_CURATOR": "alice"})
    assert str(actor) == "alice (via root)" and actor.name == "alice" and actor.via == "root"
    assert str(cli_actor({"LESSONS_CURATOR": "  Søren   Kurator "})) == "Søren Kurator (via root)"
    assert str(cli_actor({"LESSONS_CURATOR": "root"})) == "root"
    for bad in ("a: b", "x (via y)", "-x", "x" * 101, "a\tb\x00"):
        with pytest.raises(LessonsError, match="LESSONS_CURATOR"):
            cli_actor({"LESSONS_CURATOR": bad})


def test_person_strips_the_operator_and_case() -> None:
    """'Alice (via root)' and 'alice' are the same person for four-eyes."""
    assert person("Alice (via root)") == person("alice") == "alice"
    assert person(None) == ""
    assert person("x" * 5000 + " (via root)") == "x" * 5000 + " (via root)"  # too long to be an operator note


@pytest.mark.parametrize("bad", ["", " ", "-x", "a b", "a:b", "x" * 101, "æble", "a\nb"])
def test_check_name_refuses_bad_names(bad: str) -> None:
    """Account names are short, lowercase and plain; anything else is refused by name."""
    with pytest.raises(LessonsError, match="is not valid"):
        check_name(bad)


def test_check_name_lowercases() -> None:
    """Names are stored lower-case, so 'Karen' and 'karen' are one account."""
    assert check_name(" Karen@Example.org ") == "karen@example.org"
