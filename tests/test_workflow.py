"""Curator actions through lessons.workflow: role checks, four-eyes approval, and the audit log."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lessons import audit, workflow
from lessons.curation import FourEyesError, authors, find_entry
from lessons.embedding import FakeEmbedder
from lessons.models import ReviewState
from lessons.roles import Actor, PermissionDeniedError, Role
from lessons.settings import Settings

LESSON = {
    "kind": "handling",
    "title": "Tidlig inddragelse af DPO",
    "areas": ["law"],
    "challenge": "Projektet var usikkert på, om databehandlingen havde hjemmel.",
    "handling": "Projektet inddrog den databeskyttelsesansvarlige i første uge af projektet.",
    "source": {"report": "Testrapport"},
}
READER = Actor("rita", Role.READER)
KAREN = Actor("karen", Role.CURATOR)
EDDA = Actor("edda", Role.EDITOR)
LARS = Actor("lars", Role.EDITOR)
ADMIN = Actor("root", Role.ADMIN, source="cli")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


@pytest.mark.parametrize("actor", [None, READER])
def test_readers_and_anonymous_cannot_write_anything(settings: Settings, actor: Actor | None) -> None:
    """Every write action refuses a reader and nobody, and the corpus and audit log stay untouched."""
    before = _files(settings.corpus_dir)
    calls = [
        lambda: workflow.add(settings, actor, LESSON),
        lambda: workflow.edit(settings, actor, "advice-data", {"title": "x"}),
        lambda: workflow.retire(settings, actor, "advice-data", reason="x"),
        lambda: workflow.approve(settings, actor, "advice-data"),
        lambda: workflow.ingest(settings, actor, b"# Rapport\n\ntekst", "r.md"),
        lambda: workflow.rebuild(settings, actor, FakeEmbedder()),
    ]
    for call in calls:
        with pytest.raises(PermissionDeniedError):
            call()
    assert _files(settings.corpus_dir) == before
    assert audit.events(settings.data_dir) == []
    assert not (settings.index_dir / "CURRENT").exists()


def test_a_curator_drafts_but_cannot_approve_or_rebuild(settings: Settings) -> None:
    """A curator's draft is saved under their name; approving and rebuilding are refused."""
    entry, _ = workflow.add(settings, KAREN, LESSON)
    assert entry.state is ReviewState.DRAFT and entry.created_by == "karen"
    with pytest.raises(PermissionDeniedError, match="approve needs the editor role"):
        workflow.approve(settings, KAREN, entry.id)
    with pytest.raises(PermissionDeniedError, match="rebuild needs the editor role"):
        workflow.rebuild(settings, KAREN, FakeEmbedder())
    assert find_entry(settings.corpus_dir, entry.id)[1].state is ReviewState.DRAFT


def test_four_eyes_another_editor_approves(settings: Settings) -> None:
    """The author cannot approve their own draft; another editor can, and both are recorded."""
    entry, _ = workflow.add(settings, EDDA, LESSON)
    with pytest.raises(FourEyesError, match="another editor must approve it"):
        workflow.approve(settings, EDDA, entry.id)
    approved = workflow.approve(settings, LARS, entry.id)
    assert approved.state is ReviewState.APPROVED and approved.approved_by == "lars"
    assert " approved by lars" in approved.history[-1]


def test_four_eyes_counts_editors_of_the_draft_too(settings: Settings) -> None:
    """An editor who changed someone else's draft is one of its authors and cannot approve it."""
    entry, _ = workflow.add(settings, KAREN, LESSON)
    workflow.edit(settings, LARS, entry.id, {"outcome": "Hjemlen blev afklaret på to uger."})
    assert authors(find_entry(settings.corpus_dir, entry.id)[1]) == {"karen", "lars"}
    with pytest.raises(FourEyesError):
        workflow.approve(settings, LARS, entry.id)
    assert workflow.approve(settings, EDDA, entry.id).state is ReviewState.APPROVED


def test_four_eyes_sees_through_the_operator(settings: Settings) -> None:
    """A draft by 'alice (via root)' cannot be approved by alice through the app."""
    entry, _ = workflow.add(settings, Actor("alice", Role.ADMIN, source="cli", via="root"), LESSON)
    assert entry.created_by == "alice (via root)"
    with pytest.raises(FourEyesError):
        workflow.approve(settings, Actor("alice", Role.EDITOR), entry.id)


def test_self_approval_when_allowed_is_recorded_as_such(settings: Settings) -> None:
    """With allow_self_approval the author may approve; history and audit say self-approved."""
    one_person = settings.model_copy(update={"allow_self_approval": True})
    entry, _ = workflow.add(one_person, EDDA, LESSON)
    approved = workflow.approve(one_person, EDDA, entry.id)
    assert " self-approved by edda" in approved.history[-1]
    assert audit.events(one_person.data_dir, entry_id=entry.id)[-1].action == "self-approve"


def test_reinstating_needs_four_eyes_only_for_unapproved_changes(settings: Settings) -> None:
    """An approved entry retired by its author may be reinstated by them; an edit since approval may not."""
    entry, _ = workflow.add(settings, KAREN, LESSON)
    workflow.approve(settings, EDDA, entry.id)
    workflow.retire(settings, EDDA, entry.id, reason="forældet")
    assert workflow.approve(settings, EDDA, entry.id).state is ReviewState.APPROVED  # reinstated
    workflow.retire(settings, LARS, entry.id, reason="forældet igen")
    workflow.edit(settings, LARS, entry.id, {"title": "Ny titel på erfaringen"})
    with pytest.raises(FourEyesError):
        workflow.approve(settings, LARS, entry.id)


def test_audit_records_who_what_when_which_and_before_after(settings: Settings) -> None:
    """Add, edit, approve, retire each append an event naming actor, action, entry, with before and after."""
    entry, _ = workflow.add(settings, KAREN, LESSON)
    workflow.edit(settings, KAREN, entry.id, {"title": "DPO med fra start"}, reason="kortere titel")
    workflow.approve(settings, EDDA, entry.id)
    workflow.retire(settings, EDDA, entry.id, reason="erstattet")
    log = audit.events(settings.data_dir, entry_id=entry.id)
    assert [(e.actor, e.role, e.action) for e in log] == [
        ("karen", "curator", "add"),
        ("karen", "curator", "edit"),
        ("edda", "editor", "approve"),
        ("edda", "editor", "retire"),
    ]
    add, edit, approve, retire = log
    assert add.before is None and add.after is not None and add.after["title"] == LESSON["title"]
    assert [(c.field, c.before, c.after) for c in edit.changes()] == [("title", LESSON["title"], "DPO med fra start")]
    assert edit.detail == "kortere titel"
    assert ("state", "draft", "approved") in [(c.field, c.before, c.after) for c in approve.changes()]
    assert ("state", "approved", "retired") in [(c.field, c.before, c.after) for c in retire.changes()]
    assert all(abs(e.at - datetime.now(UTC)) < timedelta(minutes=5) for e in log)


def test_a_refused_action_is_not_audited(settings: Settings) -> None:
    """A four-eyes refusal changes nothing and leaves no approve event."""
    entry, _ = workflow.add(settings, EDDA, LESSON)
    with pytest.raises(FourEyesError):
        workflow.approve(settings, EDDA, entry.id)
    assert [e.action for e in audit.events(settings.data_dir)] == ["add"]


def test_audit_filters_by_entry_and_since(tmp_path: Path) -> None:
    """--entry and --since select events; the newest `limit` come back oldest first."""
    times = iter(datetime(2026, 11, day, 12, tzinfo=UTC) for day in (1, 2, 3, 4))
    for entry_id in ("a", "b", "a", None):
        audit.record(tmp_path, KAREN, "edit", entry_id=entry_id, clock=lambda: next(times))
    assert [e.entry_id for e in audit.events(tmp_path, entry_id="a")] == ["a", "a"]
    since = audit.parse_since("2026-11-03")
    assert [e.at.day for e in audit.events(tmp_path, since=since)] == [3, 4]
    assert [e.at.day for e in audit.events(tmp_path, limit=2)] == [3, 4]
    with pytest.raises(audit.AuditError, match="is not a date"):
        audit.parse_since("last tuesday")


def test_audit_log_is_append_only(tmp_path: Path) -> None:
    """Updating or deleting a row is refused by the database itself."""
    audit.record(tmp_path, KAREN, "add", entry_id="a")
    with sqlite3.connect(audit.db_path(tmp_path)) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit SET actor = 'mallory'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM audit")
    assert [e.actor for e in audit.events(tmp_path)] == ["karen"]


def test_an_unwritable_audit_log_refuses_the_action_first(settings: Settings) -> None:
    """When the audit log cannot be opened, the draft is not saved (no unrecorded change)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    audit.db_path(settings.data_dir).mkdir()  # a folder where the file should be
    before = _files(settings.corpus_dir)
    with pytest.raises(audit.AuditError, match="not a regular file"):
        workflow.add(settings, KAREN, LESSON)
    assert _files(settings.corpus_dir) == before


def test_rebuild_by_an_editor_is_audited(settings: Settings) -> None:
    """An editor's rebuild writes an index and an audit event with its version."""
    report = workflow.rebuild(settings, EDDA, FakeEmbedder())
    (event,) = audit.events(settings.data_dir)
    assert event.action == "build" and report.manifest.version in (event.detail or "")


def test_authors_reads_hostile_history_lines_in_bounded_time(settings: Settings) -> None:
    """History lines of the largest allowed size, built to make a regex backtrack, are read quickly and safely."""
    from lessons.curation import authors
    from lessons.models import MAX_FIELD_CHARS

    entry, _ = workflow.add(settings, KAREN, LESSON)
    hostile = [
        "2026-11-30T09:00:00Z edited by " + "a: " * (MAX_FIELD_CHARS // 3),
        "2026-11-30T09:00:00Z edited by " + "x" * MAX_FIELD_CHARS,
        "2026-11-30T09:00:00Z approved by lars: " + "by: " * (MAX_FIELD_CHARS // 4),
    ]
    tampered = entry.model_copy(update={"history": [*entry.history, *hostile]})
    assert authors(tampered) == set()  # the last line is an approval with a long detail: nobody is an author since
    assert authors(tampered.model_copy(update={"history": [*entry.history, hostile[0]]})) == {"karen", "a"}
