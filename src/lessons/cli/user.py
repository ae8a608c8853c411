"""User commands of the `lessons` CLI: ask, status, version."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from lessons import __version__
from lessons.cli.common import USE, app, err, errors, load_settings, out
from lessons.errors import LessonsError
from lessons.words import t

if TYPE_CHECKING:  # the search stack loads numpy, FAISS and bm25s: only when a command needs it
    from lessons.search import Filters, Searcher, SearchResult

KindOpt = Annotated[list[str] | None, typer.Option("--kind", help="project, evaluation, handling, advice, finding")]
AreaOpt = Annotated[
    list[str] | None,
    typer.Option("--area", help="data, infrastructure, law, ethics, organisation, vendors, competencies"),
]
SectorOpt = Annotated[list[str] | None, typer.Option("--sector", help="municipality, region, cross")]
DomainOpt = Annotated[
    list[str] | None, typer.Option("--domain", help="administration, employment, climate, social-care, health")
]
StatusOpt = Annotated[list[str] | None, typer.Option("--status", help="ongoing, completed")]


@app.command(rich_help_panel=USE)
def version() -> None:
    """Print the version."""
    out.print(__version__)


@app.command(rich_help_panel=USE)
def status() -> None:
    """Show the index: version, model, counts, and whether it is stale against the corpus."""
    with errors():
        from lessons.engine import index_status

        settings = load_settings()
        st = index_status(settings)
        if st.manifest is None:
            raise LessonsError(st.problem or "no index. Run `lessons build`.")
        m = st.manifest
        out.print(f"index {m.version} built {m.built_at} with {m.model} (dimension {m.dimension})")
        out.print(f"{m.entry_count} entries, {m.chunk_count} chunks, lessons {m.package_version}")
        light = f"{m.query_runtime} (weights {m.query_weights[:12]})" if m.query_runtime else "none"
        out.print(f"light query runtime recorded: {light}")
        if m.query_runtime == "onnx":
            from lessons.query_encoder import stamps_match

            if stamps_match(settings, m):
                out.print("ONNX export checked at each start by its file stamps (unchanged since the build hashed it)")
            else:
                out.print(
                    "ONNX export hashed in full at each start (about 0.2 s): its files are not the ones this build "
                    "stamped (copied, touched or exported again). Run `lessons build` to record them."
                )
        for warning in st.warnings:
            out.print(f"warning: {warning}")
        if st.stale:
            out.print("stale: " + "; ".join(st.differences) + ". Run `lessons build`.")
        else:
            out.print("up to date with the corpus")


def _print_result(result: SearchResult) -> None:
    if result.filters.active:
        out.print("filters: " + "; ".join(f"{k}={','.join(v)}" for k, v in result.filters.describe().items()))
    lang = result.language
    if result.no_match:
        key = {"no_words": "no_match_no_words", "too_short": "no_match_too_short", "filters": "no_match_filters"}
        out.print(t(key.get(result.reason or "", "export_no_match"), lang))
        if result.reason == "filters":
            out.print(t("cli_without_filters", lang))
        return
    if result.confidence.value == "weak":
        out.print(t("export_weak", lang))
    for hit in result.hits:
        meta = hit.chunk.meta
        title = escape(meta.title)
        out.print(f"\n[bold]{hit.rank}. {title}[/bold]  ({meta.kind.value}, score {hit.score:.3f})", markup=True)
        out.print(hit.chunk.body, markup=False)
        where = " · ".join(str(x) for x in (meta.source.report, meta.source.section, meta.source.page) if x)
        out.print(f"[dim]source: {escape(where)} · entry {hit.chunk.entry_id}[/dim]", markup=True)


@app.command(rich_help_panel=USE)
def ask(
    question: Annotated[str, typer.Argument(help="The question, or '-' to read one question per line from stdin.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=50, help="How many experiences to return.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (JSON Lines with '-').")] = False,
    kind: KindOpt = None,
    area: AreaOpt = None,
    sector: SectorOpt = None,
    domain: DomainOpt = None,
    status: StatusOpt = None,
    per_entry: Annotated[int, typer.Option(min=1, max=10, help="Chunks allowed per entry.")] = 1,
) -> None:
    """Ask a question in Danish or English; prints the most relevant experiences."""
    with errors():
        from lessons.engine import open_searcher
        from lessons.search import Filters, prepare_question

        settings = load_settings()
        filters = Filters.parse(
            kinds=kind or (), areas=area or (), sectors=sector or (), domains=domain or (), statuses=status or ()
        )
        if question != "-":
            prepare_question(question, settings.max_question_chars)  # fail fast, before loading the model
        with err.status("loading the index and model…") if not as_json else nullcontext():
            searcher, warnings = open_searcher(settings)
        for warning in warnings:
            err.print(f"warning: {warning}")
        if question == "-":
            _ask_batch(searcher, k, filters, per_entry)
            return
        result = searcher.search(question, k, filters=filters, per_entry=per_entry)
        if as_json:
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        else:
            _print_result(result)


def _ask_batch(searcher: Searcher, k: int, filters: Filters, per_entry: int) -> None:
    """JSON Lines: one object per input line; a bad line yields an object with an `error` field."""
    failures = 0
    for number, line in enumerate(sys.stdin, start=1):
        question = line.rstrip("\n")
        if not question.strip():
            continue
        try:
            payload = searcher.search(question, k, filters=filters, per_entry=per_entry).to_json()
        except LessonsError as exc:
            failures += 1
            payload = {
                "question": question,
                "no_match": True,
                "confidence": "no_match",
                "reason": "error",
                "hits": [],
                "error": f"line {number}: {exc}",
            }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failures:
        err.print(f"{failures} question(s) could not be answered; see the `error` fields")
