"""Curator actions as the app and the CLI call them: role-checked, named and audited.

Each function takes the acting :class:`~lessons.roles.Actor`, checks that its role
allows the action (:func:`~lessons.roles.require`) before anything is read or
written, records the actor's name in the entry (its ``history``), and appends an
event with the entry before and after to the audit log. Four-eyes approval is
enforced by :func:`lessons.curation.approve_entry` itself, with the setting
``allow_self_approval``. The audit log is opened before the change, so an action
whose record could not be written is refused rather than done unrecorded.

An edit of an approved entry is audited as ``revise`` (before: the approved text,
after: the text the revision proposes); its approval as ``approve-revision`` (or
``self-approve-revision``), its withdrawal as ``withdraw-revision``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lessons import audit
from lessons.curation import (
    Match,
    add_entry,
    approve_entry,
    edit_entry,
    find_entry,
    retire_entry,
    withdraw_revision,
)
from lessons.models import Entry
from lessons.roles import Action, Actor, allows, require
from lessons.settings import Settings

if TYPE_CHECKING:
    from lessons.build import BuildProgress, BuildReport
    from lessons.embedding import Embedder
    from lessons.ingest import IngestLimits
    from lessons.ingest.saving import IngestResult

__all__ = ["add", "approve", "edit", "ingest", "rebuild", "retire", "withdraw"]


def _dump(entry: Entry) -> dict[str, Any]:
    """The entry as served (its pending revision, if any, is recorded as its own before/after)."""
    return entry.model_dump(mode="json", exclude_none=True, exclude={"revision"})


def _current(settings: Settings, entry_id: str) -> Entry | None:
    try:
        return find_entry(settings.corpus_dir, entry_id)[1]
    except Exception:  # the core call that follows reports the real problem
        return None


def _before(settings: Settings, entry_id: str) -> dict[str, Any] | None:
    entry = _current(settings, entry_id)
    return None if entry is None else _dump(entry)


def _proposed(entry: Entry) -> dict[str, Any] | None:
    """The entry as its pending revision would make it (None when it has none or it no longer applies)."""
    try:
        return _dump(entry.proposed()) if entry.revision is not None else None
    except ValueError:
        return None


def add(
    settings: Settings,
    actor: Actor | None,
    raw: Mapping[str, Any],
    *,
    force: bool = False,
    file: str = "<input>",
    lines: Mapping[str, int] | None = None,
) -> tuple[Entry, list[Match]]:
    """Save a new draft as ``actor`` (curator or above), compared with the default near-duplicate
    thresholds; see :func:`lessons.curation.add_entry`."""
    actor = require(actor, Action.DRAFT)
    audit.writable(settings.data_dir)
    entry, matches = add_entry(settings.corpus_dir, raw, by=str(actor), force=force, file=file, lines=lines)
    near = [m.entry.id for m in matches if m.near_duplicate]
    detail = f"saved despite near-duplicates {', '.join(near)}" if near else None
    audit.record(settings.data_dir, actor, "add", entry_id=entry.id, after=_dump(entry), detail=detail)
    return entry, matches


def edit(
    settings: Settings,
    actor: Actor | None,
    entry_id: str,
    changes: Mapping[str, Any],
    *,
    reason: str | None = None,
) -> Entry:
    """Change an entry as ``actor`` (curator or above); see :func:`lessons.curation.edit_entry`."""
    actor = require(actor, Action.DRAFT)
    audit.writable(settings.data_dir)
    before = _before(settings, entry_id)
    entry = edit_entry(settings.corpus_dir, entry_id, changes, by=str(actor), reason=reason)
    if entry.revision is not None:
        writers = ", ".join(entry.revision.authors)
        detail = f"pending revision by {writers}, waiting for another editor" + (f"; {reason}" if reason else "")
        after = _proposed(entry)
        audit.record(settings.data_dir, actor, "revise", entry_id=entry.id, before=before, after=after, detail=detail)
    elif before is not None and entry.history and " revision withdrawn by " in entry.history[-1]:
        audit.record(
            settings.data_dir,
            actor,
            "withdraw-revision",
            entry_id=entry.id,
            after=_dump(entry),
            detail="the edit restores the approved text",
        )
    else:
        audit.record(
            settings.data_dir, actor, "edit", entry_id=entry.id, before=before, after=_dump(entry), detail=reason
        )
    return entry


def approve(settings: Settings, actor: Actor | None, entry_id: str) -> Entry:
    """Approve a draft or reinstate a retired entry as ``actor`` (editor or above), four-eyes unless allowed."""
    actor = require(actor, Action.APPROVE)
    audit.writable(settings.data_dir)
    current = _current(settings, entry_id)
    before = None if current is None else _dump(current)
    entry = approve_entry(settings.corpus_dir, entry_id, by=str(actor), allow_self=settings.allow_self_approval)
    last = entry.history[-1] if entry.history else ""
    if current is not None and current.revision is not None:
        own = " revision self-approved by " in last
        writers = ", ".join(current.revision.authors)
        audit.record(
            settings.data_dir,
            actor,
            "self-approve-revision" if own else "approve-revision",
            entry_id=entry.id,
            before=before,
            after=_dump(entry),
            detail=f"revision by {writers}" + (" (self-approval allowed: LESSONS_ALLOW_SELF_APPROVAL)" if own else ""),
        )
        return entry
    action = next((word for word in ("self-approved", "reinstated") if f" {word} by " in last), "approved")
    audit.record(
        settings.data_dir,
        actor,
        {"approved": "approve", "reinstated": "reinstate", "self-approved": "self-approve"}[action],
        entry_id=entry.id,
        before=before,
        after=_dump(entry),
    )
    return entry


def withdraw(settings: Settings, actor: Actor | None, entry_id: str, *, reason: str | None = None) -> Entry:
    """Withdraw an approved entry's pending revision as ``actor``: a curator their own, an editor anyone's."""
    actor = require(actor, Action.DRAFT)
    audit.writable(settings.data_dir)
    current = _current(settings, entry_id)
    proposed = _proposed(current) if current is not None else None
    authors_only = not allows(actor.role, Action.APPROVE)
    entry = withdraw_revision(settings.corpus_dir, entry_id, by=str(actor), reason=reason, authors_only=authors_only)
    audit.record(
        settings.data_dir,
        actor,
        "withdraw-revision",
        entry_id=entry.id,
        before=proposed,
        after=_dump(entry),
        detail=reason,
    )
    return entry


def retire(settings: Settings, actor: Actor | None, entry_id: str, *, reason: str) -> Entry:
    """Retire an entry as ``actor`` (curator or above); see :func:`lessons.curation.retire_entry`."""
    actor = require(actor, Action.DRAFT)
    audit.writable(settings.data_dir)
    before = _before(settings, entry_id)
    entry = retire_entry(settings.corpus_dir, entry_id, reason=reason, by=str(actor))
    audit.record(
        settings.data_dir, actor, "retire", entry_id=entry.id, before=before, after=_dump(entry), detail=reason
    )
    return entry


def ingest(
    settings: Settings,
    actor: Actor | None,
    data: bytes | Path,
    name: str,
    *,
    report: str | None = None,
    limits: IngestLimits | None = None,
    dry_run: bool = False,
    keep_near_duplicates: bool = False,
) -> IngestResult:
    """Split a report (its bytes, or a file whose size is checked first) into drafts as ``actor`` (curator or
    above); each saved draft is audited."""
    from lessons.ingest.saving import ingest_bytes, ingest_file

    actor = require(actor, Action.DRAFT)
    if not dry_run:
        audit.writable(settings.data_dir)
    options: dict[str, Any] = {
        "by": str(actor),
        "report": report,
        "limits": limits,
        "dry_run": dry_run,
        "keep_near_duplicates": keep_near_duplicates,
    }
    if isinstance(data, Path):
        result = ingest_file(settings.corpus_dir, data, **options)
    else:
        result = ingest_bytes(settings.corpus_dir, data, name, **options)
    if not dry_run:
        for entry in result.created:
            detail = f"ingested from {Path(name).name}"
            audit.record(settings.data_dir, actor, "ingest", entry_id=entry.id, after=_dump(entry), detail=detail)
    return result


def rebuild(
    settings: Settings,
    actor: Actor | None,
    embedder: Embedder,
    *,
    full: bool = False,
    progress: BuildProgress | None = None,
) -> BuildReport:
    """Build a new index version as ``actor`` (editor or above); the build is audited with its version."""
    from lessons.build import build_index

    actor = require(actor, Action.REBUILD)
    audit.writable(settings.data_dir)
    report = build_index(settings, embedder, full=full, progress=progress)
    manifest = report.manifest
    audit.record(
        settings.data_dir,
        actor,
        "build",
        detail=f"index version {manifest.version}: {manifest.entry_count} entries, {manifest.chunk_count} chunks",
    )
    return report
