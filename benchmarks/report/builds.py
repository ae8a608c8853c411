"""The builds section: full and incremental builds, and each pipeline's build."""

from __future__ import annotations

from benchmarks.records import BuildRun, BuildSeries, BuildsRecord, PipelinesRecord, Results
from benchmarks.report.format import SYSTEM_LABELS, fmt, section, table, unmeasured

TITLE = "Index build"


def _series_row(label: str, series: BuildSeries) -> list[object]:
    return [
        label,
        series.build.median_s,
        series.build.min_s,
        series.build.max_s,
        series.build.n,
        series.runs[0].embedded,
    ]


def _single_row(label: str, run: BuildRun) -> list[object]:
    return [label, run.build_s, run.build_s, run.build_s, 1, run.embedded]


def _builds(builds: BuildsRecord) -> list[str]:
    unchanged = builds.incremental_no_change
    one_entry = builds.incremental_one_entry.build.median_s
    rows = [
        _series_row("full", builds.full),
        _series_row("incremental, one entry added", builds.incremental_one_entry),
        _single_row("incremental, nothing changed", unchanged),
    ]
    fixed_cost = (
        ", more than half of an incremental build: caching the background vectors by content hash would "
        "leave an incremental build little more than its new chunks."
        if unchanged.build_s > 0.5 * one_entry
        else "."
    )
    return section(
        TITLE,
        f"`build_index` on a temporary copy of the corpus ({builds.entries} entries, {builds.chunks} chunks), "
        "each build in a new process; times exclude loading the model "
        f"(median {fmt(builds.model_load.median_s)} s).",
        table(["build", "median s", "min s", "max s", "runs", "chunks embedded"], rows),
        f"**Full / incremental = {fmt(builds.full_over_incremental)}x.** An incremental build still embeds the "
        "background phrases used for no-match detection, reads the previous version and writes a whole new "
        f"one; with nothing changed that fixed cost is {fmt(unchanged.build_s)} s" + fixed_cost,
    )


def build_section(results: Results) -> list[str]:
    """Full and incremental builds, then every pipeline's build from scratch."""
    builds = results.builds
    lines = _builds(builds) if isinstance(builds, BuildsRecord) else unmeasured(TITLE, builds)
    pipelines = results.pipelines
    if not isinstance(pipelines, PipelinesRecord):
        return lines
    rows: list[list[object]] = []
    ours = pipelines.systems.get("lessons")
    if isinstance(builds, BuildsRecord) and ours is not None:
        rows.append(["lessons (full build)", ours.chunks, ours.chars_embedded, builds.full.build.median_s])
    for name, built in pipelines.systems.items():
        if name != "lessons":
            rows.append([SYSTEM_LABELS.get(name, name), built.chunks, built.chars_embedded, built.build_s])
    return [
        *lines,
        "Building each pipeline from scratch (model already loaded):",
        "",
        table(["pipeline", "chunks", "characters embedded", "build s"], rows),
        "",
        "The e5 model reads at most 512 tokens per passage: LlamaIndex's 1,024-token chunks are cut, "
        "so part of each chunk's text is never embedded.",
        "",
    ]
