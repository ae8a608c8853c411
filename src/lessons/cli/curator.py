"""Curator commands of the `lessons` CLI: add, edit, approve, withdraw, retire, drafts, show, ingest.

The CLI runs on the server: whoever can run it can write the corpus (the operating system is the
trust boundary). Each change is recorded under the OS user, or ``$LESSONS_CURATOR`` acting through
the OS user ("alice (via root)"), goes through :mod:`lessons.workflow` (audited), and approval follows
the same four-eyes rule as the app.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from lessons.cli.common import CURATE, app, err, errors, load_settings, out
from lessons.errors import LessonsError

if TYPE_CHECKING:
    from lessons.curation import FieldChange, Match
    from lessons.models import Entry

# --- options shared by add and edit ---------------------------------------------------------------

Kind = Annotated[str | None, typer.Option("--kind", help="project, evaluation, handling, advice, finding")]
Title = Annotated[str | None, typer.Option("--title", help="A short title (ours, not the report's).")]
Summary = Annotated[str | None, typer.Option("--summary", help="One or two sentences (ours).")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="A search tag; repeat for several.")]
Areas = Annotated[
    list[str] | None,
    typer.Option("--area", help="data, infrastructure, law, ethics, organisation, vendors, competencies; repeat"),
]
Sector = Annotated[str | None, typer.Option("--sector", help="municipality, region, cross")]
Domain = Annotated[
    str | None, typer.Option("--domain", help="administration, employment, climate, social-care, health")
]
Project = Annotated[str | None, typer.Option("--project", help="The project's title as in the report.")]
Orgs = Annotated[list[str] | None, typer.Option("--organisation", help="An organisation named; repeat for several.")]
Location = Annotated[str | None, typer.Option("--location", help="The municipality or region.")]
Grant = Annotated[float | None, typer.Option("--grant", help="Grant in million kroner, e.g. 3.9.")]
Period = Annotated[str | None, typer.Option("--period", help="e.g. 'primo 2020 – medio 2023'.")]
Status = Annotated[str | None, typer.Option("--status", help="Project status: ongoing, completed.")]
Text = Annotated[str | None, typer.Option(help="Text field, in the source's own wording.")]
SourceReport = Annotated[str | None, typer.Option("--source-report", help="The report the wording comes from.")]
SourceSection = Annotated[str | None, typer.Option("--source-section", help="The heading it sits under.")]
SourcePage = Annotated[int | None, typer.Option("--source-page", help="The page, when known.")]

# option name -> entry field, for the fields given directly
_PLAIN = {
    "kind": "kind",
    "title": "title",
    "summary": "summary",
    "tag": "tags",
    "area": "areas",
    "sector": "sector",
    "domain": "domain",
    "project": "project",
    "organisation": "organisations",
    "location": "location",
    "grant": "grant_mio_kr",
    "period": "period",
    "status": "project_status",
    "purpose": "purpose",
    "solution": "solution",
    "description": "description",
    "prerequisites": "prerequisites",
    "direct_gains": "direct_gains",
    "derived_gains": "derived_gains",
    "ending": "ending",
    "challenge": "challenge",
    "handling": "handling",
    "outcome": "outcome",
    "body": "body",
    "as_of": "as_of",
    "superseded_by": "superseded_by",
}
_SOURCE = {"source_report": "report", "source_section": "section", "source_page": "page"}


# The entry-field options of add and edit, in the order --help lists them: (parameter, its option type).
_FIELD_OPTIONS: tuple[tuple[str, Any], ...] = (
    ("kind", Kind),
    ("title", Title),
    ("summary", Summary),
    ("tag", Tags),
    ("area", Areas),
    ("sector", Sector),
    ("domain", Domain),
    ("project", Project),
    ("organisation", Orgs),
    ("location", Location),
    ("grant", Grant),
    ("period", Period),
    ("status", Status),
    *((name, Text) for name in ("purpose", "solution", "description", "prerequisites", "direct_gains")),
    *((name, Text) for name in ("derived_gains", "ending", "challenge", "handling", "outcome", "body")),
    ("source_report", SourceReport),
    ("source_section", SourceSection),
    ("source_page", SourcePage),
)

_Command = TypeVar("_Command", bound=Callable[..., None])


def _with_entry_fields(after: str) -> Callable[[_Command], _Command]:
    """Give a command the entry-field options (``--title``, ``--challenge`` ...) after its parameter ``after``.

    The command receives them in ``**fields``, by parameter name; Typer reads them from the signature.
    """

    def decorate(command: _Command) -> _Command:
        signature = inspect.signature(command, eval_str=True)
        params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        at = [p.name for p in params].index(after) + 1
        extra = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=option)
            for name, option in _FIELD_OPTIONS
        ]
        command.__signature__ = signature.replace(parameters=[*params[:at], *extra, *params[at:]])  # type: ignore[attr-defined]
        return command

    return decorate


def _given(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(entry fields, source fields) from the options that were given."""
    fields = {_PLAIN[k]: v for k, v in options.items() if k in _PLAIN and v is not None and v != []}
    source = {_SOURCE[k]: v for k, v in options.items() if k in _SOURCE and v is not None}
    return fields, source


def _print_matches(matches: list[Match], heading: str) -> None:
    if not matches:
        return
    out.print(heading)
    for m in matches:
        flag = "NEAR-DUPLICATE " if m.near_duplicate else ""
        out.print(f"  {flag}{m.entry.id} ({m.entry.state.value}, {m.score:.0%}): {m.entry.title} [{m.reason}]")


def _text(value: object) -> str:
    if value is None:
        return "(empty)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return " ".join(str(text).split())


def _print_changes(changes: list[FieldChange], indent: str = "  ") -> None:
    """A revision field by field: the approved value (-) and the proposed one (+)."""
    for change in changes:
        out.print(f"{indent}{change.field}:")
        out.print(f"{indent}  - {_text(change.before)}")
        out.print(f"{indent}  + {_text(change.after)}")


def _print_revision(entry: Entry) -> None:
    """Who wrote an entry's pending revision, and what it changes (or why it no longer applies)."""
    from lessons.curation import RevisionError, revision_changes

    revision = entry.revision
    if revision is None:
        return
    updated = revision.updated_at.isoformat(timespec="minutes")
    out.print(f"pending revision of {entry.id} by {', '.join(revision.authors)} (last changed {updated}):")
    try:
        _print_changes(revision_changes(entry))
    except RevisionError as exc:
        out.print(f"  {exc}")


def _confirm_near_duplicate(exc: LessonsError) -> bool:
    """Ask on a terminal whether to save a near-duplicate; never on a pipe or in a script."""
    if not sys.stdin.isatty():
        return False
    err.print(str(exc).rsplit("\n", 1)[0])
    return typer.confirm("Save it anyway?", default=False, err=True)


@app.command(rich_help_panel=CURATE)
@_with_entry_fields(after="entry_id")
def add(
    file: Annotated[
        Path | None, typer.Argument(help="A YAML file, or Markdown with YAML front matter and '## Udfordring' etc.")
    ] = None,
    *,
    entry_id: Annotated[str | None, typer.Option("--id", help="The id (default: made from kind and title).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Save even if it looks like an existing entry.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and show the closest entries only.")] = False,
    **fields: Any,
) -> None:
    """Add a draft entry from a YAML/Markdown file and/or options; it is served after `lessons approve`."""
    with errors():
        from lessons import workflow
        from lessons.corpus import load_corpus
        from lessons.curation import (
            NearDuplicateError,
            closest_entries,
            parse_entry_file,
            prepare_entry,
            read_entry_upload,
        )
        from lessons.roles import cli_actor

        settings = load_settings()
        raw: dict[str, Any] = {}
        lines: dict[str, int] = {}
        name = "<options>"
        if file is not None:
            raw, lines = parse_entry_file(read_entry_upload(file), str(file))
            name = str(file)
        given, source = _given(fields)
        raw.update(given)
        if entry_id:
            raw["id"] = entry_id
        if source:
            base: dict[str, Any] = raw["source"] if isinstance(raw.get("source"), dict) else {}
            raw["source"] = {**base, **source}
        actor = cli_actor()
        who = str(actor)
        if dry_run:
            corpus = load_corpus(settings.corpus_dir)
            entry = prepare_entry(raw, corpus.by_id(), by=who, file=name, lines=lines)
            out.print(f"valid: {entry.id} ({entry.kind.value}) would be saved as a draft by {who}")
            _print_matches(closest_entries(corpus.entries, entry), "closest existing entries:")
            return
        try:
            entry, matches = workflow.add(settings, actor, raw, force=force, file=name, lines=lines)
        except NearDuplicateError as exc:
            if not _confirm_near_duplicate(exc):
                raise
            entry, matches = workflow.add(settings, actor, raw, force=True, file=name, lines=lines)
        out.print(f"saved draft {entry.id} ({entry.kind.value}) by {who}")
        _print_matches(matches[:3], "closest existing entries:")
        out.print(f"review it, then: lessons approve {entry.id}")


@app.command(rich_help_panel=CURATE)
@_with_entry_fields(after="entry_id")
def edit(
    entry_id: Annotated[str, typer.Argument(help="The entry's id.")],
    *,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The date the source describes, YYYY-MM-DD (e.g. 2022-04-01).")
    ] = None,
    superseded_by: Annotated[
        str | None, typer.Option("--superseded-by", help="A newer entry that replaces this one (its id).")
    ] = None,
    clear: Annotated[
        list[str] | None, typer.Option("--clear", help="Remove a field, e.g. --clear outcome; repeat for several.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the entry's history.")] = None,
    **fields: Any,
) -> None:
    """Change fields of an entry (lists such as --area are replaced); the change is kept in its history."""
    with errors():
        from lessons import workflow
        from lessons.roles import cli_actor

        settings = load_settings()
        given, source = _given({**fields, "as_of": as_of, "superseded_by": superseded_by})
        changes: dict[str, Any] = dict(given)
        changes.update({f"source.{k}": v for k, v in source.items()})
        for name in clear or []:
            field = _PLAIN.get(name.replace("-", "_"), name.replace("-", "_"))
            changes[field] = None
        if not changes:
            raise LessonsError("nothing to change: give a field option such as --title, or --clear FIELD")
        entry = workflow.edit(settings, cli_actor(), entry_id, changes, reason=reason)
        out.print(f"{entry.id} ({entry.state.value}): {entry.history[-1]}")
        if entry.revision is not None:
            out.print(
                "saved as a pending revision: the approved text is still what users get, until another editor "
                f"runs `lessons approve {entry.id}` (and then `lessons build`)"
            )
            _print_revision(entry)
        elif entry.retrievable:
            out.print("the approved text is unchanged; nothing waits for review")


@app.command(rich_help_panel=CURATE)
def approve(
    entry_ids: Annotated[list[str], typer.Argument(help="One or more entry ids.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be approved (a revision field by field).")
    ] = False,
) -> None:
    """Approve drafts, pending revisions of approved entries, or reinstate retired entries.

    They are served after the next `lessons build`. A revision is shown field by field (- approved, + proposed)
    as it is approved. Four-eyes: nobody approves a draft or revision they wrote or changed, unless
    LESSONS_ALLOW_SELF_APPROVAL=1.
    """
    with errors():
        from lessons import workflow
        from lessons.curation import find_entry
        from lessons.roles import cli_actor

        settings = load_settings()
        actor = cli_actor()
        for entry_id in entry_ids:
            _, current = find_entry(settings.corpus_dir, entry_id)
            if current.revision is not None:
                _print_revision(current)
            elif dry_run:
                out.print(f"{entry_id} ({current.state.value}): {current.title}")
            if dry_run:
                continue
            entry = workflow.approve(settings, actor, entry_id)
            out.print(f"{entry.history[-1].split(' ', 1)[1]}: {entry.id}")
        if not dry_run:
            out.print("run `lessons build` to serve them")


@app.command(rich_help_panel=CURATE)
def withdraw(
    entry_id: Annotated[str, typer.Argument(help="The entry whose pending revision is withdrawn.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, for the entry's history.")] = None,
) -> None:
    """Withdraw the pending revision of an approved entry (your own; an editor may withdraw anyone's)."""
    with errors():
        from lessons import workflow
        from lessons.roles import cli_actor

        settings = load_settings()
        entry = workflow.withdraw(settings, cli_actor(), entry_id, reason=reason)
        out.print(f"{entry.history[-1].split(' ', 1)[1]}: {entry.id}; its approved text stays as it is")


@app.command(rich_help_panel=CURATE)
def retire(
    entry_id: Annotated[str, typer.Argument(help="The entry's id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is retired (kept in its history).")],
) -> None:
    """Retire an entry: it stays in the corpus with its history but is no longer retrieved."""
    with errors():
        from lessons import workflow
        from lessons.roles import cli_actor

        settings = load_settings()
        entry = workflow.retire(settings, cli_actor(), entry_id, reason=reason)
        out.print(f"retired {entry.id}; run `lessons build` to stop serving it")


@app.command(rich_help_panel=CURATE)
def drafts(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List what waits for review, oldest first: drafts, and approved entries with a pending revision."""
    with errors():
        from lessons.corpus import load_corpus
        from lessons.curation import awaiting_review

        settings = load_settings()
        waiting = awaiting_review(load_corpus(settings.corpus_dir))
        if as_json:
            payload = [
                {"review": "revision" if e.revision else "draft", **e.model_dump(mode="json", exclude_none=True)}
                for e in waiting
            ]
            sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
            return
        if not waiting:
            out.print("nothing waits for review: no drafts and no pending revisions")
            return
        revisions = sum(1 for e in waiting if e.revision is not None)
        out.print(f"{len(waiting) - revisions} draft(s) and {revisions} revision(s) waiting for review:")
        for e in waiting:
            where = " · ".join(str(x) for x in (e.source.report, e.source.section, e.source.page) if x)
            if e.revision is not None:
                at = e.revision.updated_at.isoformat(timespec="minutes")
                out.print(f"\n{e.id}  [{e.kind.value}]  revision by {', '.join(e.revision.authors)} at {at}")
                out.print(f"  {e.title}")
                fields = ", ".join(name for name in (*e.revision.changes, *e.revision.cleared))
                out.print(f"  changes: {fields} (`lessons approve --dry-run {e.id}` shows them)")
                continue
            created = e.created_at.isoformat(timespec="minutes") if e.created_at else "?"
            out.print(f"\n{e.id}  [{e.kind.value}]  draft by {e.created_by or '?'} at {created}")
            out.print(f"  {e.title}")
            out.print(f"  source: {where}")


@app.command(rich_help_panel=CURATE)
def show(entry_id: Annotated[str, typer.Argument(help="The entry's id.")]) -> None:
    """Print one entry's file (any state), with its history, and what its pending revision changes."""
    with errors():
        from lessons.corpus import read_entry_file
        from lessons.curation import find_entry

        settings = load_settings()
        path, entry = find_entry(settings.corpus_dir, entry_id)
        out.print(f"# {path}")
        out.print(read_entry_file(settings.corpus_dir, path).decode("utf-8"), end="")
        if entry.revision is not None:
            out.print("")
            _print_revision(entry)


@app.command(rich_help_panel=CURATE)
def ingest(
    report: Annotated[Path, typer.Argument(help="The report: .pdf, .txt or .md.")],
    *,
    title: Annotated[
        str | None, typer.Option("--report-title", help="The report's name for sources (default: its first line).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be added; save nothing.")] = False,
    keep_near_duplicates: Annotated[
        bool, typer.Option("--keep-near-duplicates", help="Also add entries whose text already exists.")
    ] = False,
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.001, help="Largest file accepted, in MB.")] = 25,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds allowed for the whole ingest.")] = 60,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every draft and every skip.")] = False,
) -> None:
    """Split a report into sections and recognised entries, and save them as drafts for review."""
    with errors():
        from lessons import workflow
        from lessons.ingest import MB, IngestLimits
        from lessons.roles import cli_actor

        settings = load_settings()
        limits = IngestLimits(max_bytes=int(max_mb * MB), seconds=timeout)
        with err.status(f"reading {report.name}…"):
            result = workflow.ingest(
                settings,
                cli_actor(),
                report,
                report.name,
                report=title,
                limits=limits,
                dry_run=dry_run,
                keep_near_duplicates=keep_near_duplicates,
            )
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(result.counts().items())) or "none"
        verb = "would add" if dry_run else "added"
        out.print(
            f"{report.name} ({result.report!r}, {result.pages} page(s)): {verb} {len(result.created)} draft(s) "
            f"({kinds}); skipped {len(result.skipped)}" + (f" ({result.skip_summary('en')})" if result.skipped else "")
        )
        if verbose:
            for entry in result.created:
                page = f" p. {entry.source.page}" if entry.source.page else ""
                out.print(f"  + {entry.id} [{entry.kind.value}{page}] {entry.title}")
            for skip in result.skipped:
                out.print(f"  = {skip.title}: {skip.reason}")
        if result.created and not dry_run:
            out.print("review them with `lessons drafts`, then `lessons approve ID ...`")
