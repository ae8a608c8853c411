"""The `lessons brief` command: a briefing for a project that has not started, from a profile file."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lessons.cli.common import USE, app, err, errors, load_settings, out
from lessons.errors import LessonsError

if TYPE_CHECKING:
    from lessons.briefing.generate import Briefing


class Format(StrEnum):
    """Output formats of a briefing."""

    MD = "md"
    PDF = "pdf"
    JSON = "json"


class Language(StrEnum):
    """Languages of the briefing's own words (quotes stay in the report's Danish)."""

    DA = "da"
    EN = "en"


@app.command(rich_help_panel=USE)
def brief(
    profile: Annotated[Path, typer.Argument(help="The project profile (YAML); see docs/briefing.md.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="md (Markdown), pdf or json.")] = Format.MD,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file (needed for pdf).")] = None,
    lang: Annotated[Language, typer.Option("--lang", help="da or en for the briefing's own words.")] = Language.DA,
    rules_file: Annotated[
        Path | None, typer.Option("--rules", help="Another rules file (default: the rules shipped with lessons).")
    ] = None,
    log: Annotated[bool, typer.Option("--log/--no-log", help="Log what the corpus lacks in the gap log.")] = True,
) -> None:
    """Make the briefing for a project profile: likely challenges, advice, similar projects, questions, gaps."""
    with errors():
        from lessons.briefing.generate import generate_briefing, log_gaps
        from lessons.briefing.profile import load_profile
        from lessons.briefing.rules import check_rules, load_rules
        from lessons.corpus import load_corpus
        from lessons.engine import open_searcher

        if fmt is Format.PDF and output is None:
            raise LessonsError("a PDF needs an output file: add -o FILE.pdf")
        settings = load_settings()
        project = load_profile(profile)  # before the model loads, so a bad profile fails at once
        rules = load_rules(rules_file)
        corpus = load_corpus(settings.corpus_dir)
        for problem in check_rules(rules, corpus.by_id(), str(rules_file or "lessons/data/briefing_rules.yaml")):
            err.print(f"warning: {problem} (skipped)")
        with err.status("loading the index and model…"):
            searcher, warnings = open_searcher(settings)
        for warning in warnings:
            err.print(f"warning: {warning}")
        entries = {e.id: e for e in corpus.retrievable()}
        briefing = generate_briefing(project, searcher, entries, rules)
        logged = False
        if log and briefing.gaps:
            try:
                log_gaps(settings.data_dir, briefing)
                logged = True
            except LessonsError as exc:
                err.print(f"warning: the gaps could not be logged: {exc}")
        _emit(briefing, fmt, output, lang.value, logged)


def _emit(briefing: Briefing, fmt: Format, output: Path | None, lang: str, logged: bool) -> None:
    from lessons.briefing.files import write_output
    from lessons.briefing.render_json import briefing_to_json
    from lessons.briefing.render_md import render_markdown
    from lessons.briefing.render_pdf import render_pdf

    if fmt is Format.PDF:
        data = render_pdf(briefing, lang, gaps_logged=logged)
    elif fmt is Format.JSON:
        data = (json.dumps(briefing_to_json(briefing, lang), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    else:
        data = render_markdown(briefing, lang, gaps_logged=logged).encode("utf-8")
    if output is None:
        sys.stdout.write(data.decode("utf-8"))
        return
    path = write_output(output, data)
    areas = len(briefing.areas)
    out.print(
        f"wrote {path} ({len(data):,} bytes): {len(briefing.challenges)} challenges in {areas} areas, "
        f"{len(briefing.advice)} pieces of advice, {len(briefing.similar)} similar projects, "
        f"{len(briefing.questions)} questions, {len(briefing.gaps)} gap(s), {len(briefing.sources)} sources"
    )
