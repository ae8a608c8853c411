"""Pending revisions: an edit of an approved entry waits for a second editor; the approved text is served meanwhile."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lessons import audit, workflow
from lessons.build import build_index
from lessons.cli import app
from lessons.corpus import load_corpus
from lessons.curation import (
    CurationError,
    EntryError,
    FourEyesError,
    NotYourRevisionError,
    RevisionError,
    awaiting_review,
    find_entry,
    revision_changes,
    revision_file_problems,
)
from lessons.embedding import FakeEmbedder
from lessons.errors import CorpusError
from lessons.models import ReviewState
from lessons.roles import Actor, Role
from lessons.serving import entry_to_json
from lessons.settings import Settings
from lessons.store import load_index

KAREN = Actor("karen", Role.CURATOR)
OLE = Actor("ole", Role.CURATOR)
EDDA = Actor("edda", Role.EDITOR)
LARS = Actor("lars", Role.EDITOR)
ID = "handling-api-data"
OLD = "Kommunen fik leverandøren til at udstille et API, så data kunne hentes automatisk."
NEW = "Kommunen fik leverandøren til at udstille et API; data hentes nu hver nat."
runner = CliRunner()


def _file(settings: Settings) -> Path:
    return settings.corpus_dir / "entries" / "handling" / f"{ID}.yaml"


def _served(settings: Settings) -> str:
    """The text the built index holds for the entry."""
    return "\n".join(c.text for c in load_index(settings.index_dir).chunks if c.entry_id == ID)


@pytest.mark.heavy
def test_edit_of_approved_entry_is_served_only_after_a_second_editor_approves(
    settings: Settings, fake: FakeEmbedder
) -> None:
    """The index keeps serving the approved text after an edit and a rebuild, until another editor approves."""
    build_index(settings, fake)
    entry = workflow.edit(settings, KAREN, ID, {"handling": NEW}, reason="opfølgning")
    assert entry.state is ReviewState.APPROVED and entry.handling == OLD
    assert entry.revision is not None and entry.revision.changes == {"handling": NEW}
    assert entry.revision.authors == ["karen"]
    assert "revision:" in _file(settings).read_text(encoding="utf-8")
    build_index(settings, fake)
    assert OLD in _served(settings) and NEW not in _served(settings)
    assert entry_to_json(entry).get("handling") == OLD and "revision" not in entry_to_json(entry)
    approved = workflow.approve(settings, EDDA, ID)
    assert approved.handling == NEW and approved.revision is None and approved.approved_by == "edda"
    assert "revision approved by edda: handling; written by karen" in approved.history[-1]
    build_index(settings, fake)
    assert NEW in _served(settings) and OLD not in _served(settings)


def test_the_author_cannot_approve_their_own_revision(settings: Settings) -> None:
    """Four-eyes holds for revisions; LESSONS_ALLOW_SELF_APPROVAL lets it through and is recorded."""
    workflow.edit(settings, EDDA, ID, {"title": "Data via leverandørens API"})
    before = _file(settings).read_bytes()
    with pytest.raises(FourEyesError, match="written by edda"):
        workflow.approve(settings, EDDA, ID)
    with pytest.raises(FourEyesError):
        workflow.approve(settings, Actor("edda (via root)", Role.ADMIN, source="cli"), ID)
    assert _file(settings).read_bytes() == before
    alone = settings.model_copy(update={"allow_self_approval": True})
    entry = workflow.approve(alone, EDDA, ID)
    assert entry.title == "Data via leverandørens API" and "revision self-approved by edda" in entry.history[-1]
    last = audit.events(settings.data_dir, entry_id=ID)[-1]
    assert last.action == "self-approve-revision" and "LESSONS_ALLOW_SELF_APPROVAL" in (last.detail or "")
    assert [(c.field, c.before, c.after) for c in last.changes()] == [
        ("approved_by", None, "edda"),
        ("title", "Adgang til data via API", "Data via leverandørens API"),
    ]


def test_a_second_edit_amends_the_revision_and_authors_accumulate(settings: Settings) -> None:
    """Two curators' edits make one revision; neither may approve it (nor an editor who amended it); a third may."""
    first = workflow.edit(settings, KAREN, ID, {"handling": NEW})
    second = workflow.edit(settings, LARS, ID, {"outcome": "Data hentes hver nat.", "areas": ["data"]})
    assert first.revision is not None and second.revision is not None
    assert second.revision.authors == ["karen", "lars"]
    assert second.revision.proposed_at == first.revision.proposed_at
    assert [c.field for c in revision_changes(second)] == ["areas", "handling", "outcome"]
    assert "revision amended by lars: outcome, areas" in second.history[-1]
    with pytest.raises(FourEyesError, match="karen, lars"):
        workflow.approve(settings, LARS, ID)
    entry = workflow.approve(settings, EDDA, ID)
    assert (entry.handling, entry.outcome, [a.value for a in entry.areas]) == (NEW, "Data hentes hver nat.", ["data"])


def test_an_edit_back_to_the_approved_text_drops_the_revision(settings: Settings) -> None:
    """When an amendment restores the approved text, nothing waits for review any more."""
    workflow.edit(settings, KAREN, ID, {"handling": NEW})
    entry = workflow.edit(settings, KAREN, ID, {"handling": OLD})
    assert entry.revision is None and "revision withdrawn by karen" in entry.history[-1]
    assert ID not in {e.id for e in awaiting_review(load_corpus(settings.corpus_dir))}
    assert audit.events(settings.data_dir, entry_id=ID)[-1].action == "withdraw-revision"


def test_withdraw_own_revision_or_as_editor_but_not_someone_elses(settings: Settings) -> None:
    """A curator withdraws their own revision, not another's; an editor may withdraw any; the text stays approved."""
    workflow.edit(settings, KAREN, ID, {"handling": NEW})
    with pytest.raises(NotYourRevisionError, match="written by karen"):
        workflow.withdraw(settings, OLE, ID)
    entry = workflow.withdraw(settings, KAREN, ID, reason="forkert afsnit")
    assert entry.revision is None and entry.handling == OLD and entry.state is ReviewState.APPROVED
    assert entry.history[-1].endswith("revision withdrawn by karen: forkert afsnit")
    with pytest.raises(CurationError, match="no pending revision"):
        workflow.withdraw(settings, KAREN, ID)
    workflow.edit(settings, OLE, ID, {"handling": NEW})
    assert workflow.withdraw(settings, EDDA, ID).revision is None
    events = [e for e in audit.events(settings.data_dir, entry_id=ID) if e.action == "withdraw-revision"]
    assert [e.actor for e in events] == ["karen", "edda"]
    assert [(c.field, c.before, c.after) for c in events[0].changes()] == [("handling", NEW, OLD)]


def test_retire_drops_a_pending_revision(settings: Settings) -> None:
    """Retiring an entry with a pending revision works, drops the revision and says so; reinstating works."""
    workflow.edit(settings, KAREN, ID, {"handling": NEW})
    retired = workflow.retire(settings, KAREN, ID, reason="forældet")
    assert retired.state is ReviewState.RETIRED and retired.revision is None
    assert "pending revision by karen was dropped" in retired.history[-1]
    back = workflow.approve(settings, EDDA, ID)
    assert back.state is ReviewState.APPROVED and back.handling == OLD


def test_drafts_keep_todays_behaviour(settings: Settings) -> None:
    """A draft is edited in place (no revision), and is approved by another editor as before."""
    draft, _ = workflow.add(
        settings,
        KAREN,
        {"kind": "advice", "title": "Tal med juristen", "body": "Tal med juristen tidligt.", "source": {"report": "R"}},
    )
    edited = workflow.edit(settings, OLE, draft.id, {"body": "Tal med juristen i første uge."})
    assert edited.revision is None and edited.body == "Tal med juristen i første uge."
    assert edited.state is ReviewState.DRAFT
    with pytest.raises(FourEyesError):
        workflow.approve(settings, Actor("ole", Role.EDITOR), draft.id)
    assert workflow.approve(settings, EDDA, draft.id).state is ReviewState.APPROVED


def test_a_bad_edit_of_an_approved_entry_names_the_field_and_writes_nothing(settings: Settings) -> None:
    """The proposed entry is validated like any entry: a bad value or a cleared required field is named."""
    before = _file(settings).read_bytes()
    with pytest.raises(EntryError) as caught:
        workflow.edit(settings, KAREN, ID, {"domain": "space"})
    assert caught.value.problems[0].field == "domain"
    assert "handling-api-data.yaml" in caught.value.problems[0].file
    with pytest.raises(EntryError, match="needs the field"):
        workflow.edit(settings, KAREN, ID, {"handling": None})
    with pytest.raises(EntryError, match="revision"):
        workflow.edit(settings, KAREN, ID, {"revision": {"changes": {}}})
    assert _file(settings).read_bytes() == before


def test_a_revision_that_no_longer_applies_is_reported_and_refused(settings: Settings) -> None:
    """A hand edit of the approved text after a revision: validate names file, field and line; approve refuses."""
    workflow.edit(settings, KAREN, ID, {"handling": NEW})
    path = _file(settings)
    path.write_text(path.read_text(encoding="utf-8").replace("title: Adgang", "title: Rettet adgang"), "utf-8")
    problems = revision_file_problems(load_corpus(settings.corpus_dir))
    assert len(problems) == 1 and problems[0].field == "revision.base" and problems[0].line is not None
    assert "changed after this revision was proposed" in problems[0].message
    with pytest.raises(RevisionError, match="no longer applies"):
        workflow.approve(settings, EDDA, ID)
    with pytest.raises(RevisionError, match="lessons withdraw"):
        workflow.edit(settings, KAREN, ID, {"outcome": "x"})
    assert workflow.withdraw(settings, KAREN, ID).revision is None
    assert revision_file_problems(load_corpus(settings.corpus_dir)) == []


def test_a_revision_that_would_make_an_invalid_entry_is_named_with_its_line(tiny_corpus: Path) -> None:
    """A revision edited by hand into nonsense: unknown fields fail loading, bad values fail validate."""
    path = tiny_corpus / "entries" / "advice" / "advice-data.yaml"
    text = path.read_text(encoding="utf-8")
    base = load_corpus(tiny_corpus).by_id()["advice-data"].content_digest()
    revision = (
        f"revision:\n  base: '{base}'\n  changes:\n    domain: space\n  authors: [karen]\n"
        "  proposed_at: 2026-11-30T06:00:00Z\n  updated_at: 2026-11-30T06:00:00Z\n"
    )
    path.write_text(text + revision, encoding="utf-8")
    problems = revision_file_problems(load_corpus(tiny_corpus))
    assert [(p.field, p.line) for p in problems] == [("revision.changes.domain", text.count("\n") + 4)]
    path.write_text(text + revision.replace("domain: space", "state: draft"), encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        load_corpus(tiny_corpus)
    assert caught.value.problems[0].field == "revision"
    assert "cannot change the field(s): state" in caught.value.problems[0].message


def test_the_review_list_holds_drafts_and_revisions(settings: Settings) -> None:
    """awaiting_review lists drafts and approved entries with a pending revision, oldest first."""
    workflow.edit(settings, KAREN, ID, {"handling": NEW})
    draft, _ = workflow.add(
        settings,
        KAREN,
        {"kind": "advice", "title": "Tal med juristen", "body": "Tal med juristen tidligt.", "source": {"report": "R"}},
    )
    waiting = awaiting_review(load_corpus(settings.corpus_dir))
    assert {e.id for e in waiting} == {ID, draft.id}
    assert find_entry(settings.corpus_dir, ID)[1].revision is not None


@pytest.fixture
def cli(env_settings: Settings, use_fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI over the tiny corpus as curator karen (through the OS user root)."""
    monkeypatch.setenv("LESSONS_CURATOR", "karen")
    monkeypatch.setattr("lessons.roles._os_user", lambda: "root")
    return env_settings


@pytest.mark.heavy
def test_cli_edit_drafts_approve_withdraw_and_validate(cli: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI says an edit is pending, lists it, shows it field by field, and refuses the author's approval."""
    edited = runner.invoke(app, ["edit", ID, "--handling", NEW, "--reason", "ny"])
    assert edited.exit_code == 0, edited.output
    assert "revision proposed by karen (via root): handling (ny)" in edited.output
    assert "the approved text is still what users get" in edited.output
    assert f"  - {OLD}" in edited.output and f"  + {NEW}" in edited.output
    listed = runner.invoke(app, ["drafts"])
    assert "0 draft(s) and 1 revision(s) waiting for review" in listed.output
    assert "revision by karen (via root)" in listed.output
    shown = runner.invoke(app, ["show", ID])
    assert "revision:" in shown.output and f"  + {NEW}" in shown.output
    own = runner.invoke(app, ["approve", ID])
    assert own.exit_code == 1 and "another editor must approve it" in own.output
    dry = runner.invoke(app, ["approve", "--dry-run", ID])
    assert dry.exit_code == 0 and f"  + {NEW}" in dry.output
    assert find_entry(cli.corpus_dir, ID)[1].revision is not None
    assert runner.invoke(app, ["validate"]).exit_code == 0
    path = _file(cli)
    path.write_text(path.read_text(encoding="utf-8").replace("title: Adgang", "title: Rettet adgang"), "utf-8")
    stale = runner.invoke(app, ["validate"])
    assert stale.exit_code == 2 and "[revision.base]" in stale.output and "handling-api-data.yaml:" in stale.output
    withdrawn = runner.invoke(app, ["withdraw", ID, "--reason", "forældet"])
    assert withdrawn.exit_code == 0 and "revision withdrawn by karen (via root): forældet" in withdrawn.output
    runner.invoke(app, ["edit", ID, "--outcome", "Data hentes hver nat."])
    monkeypatch.setenv("LESSONS_CURATOR", "edda")
    approved = runner.invoke(app, ["approve", ID])
    assert approved.exit_code == 0, approved.output
    assert "outcome:" in approved.output and "revision approved by edda (via root)" in approved.output
    assert "nothing waits for review" in runner.invoke(app, ["drafts"]).output
