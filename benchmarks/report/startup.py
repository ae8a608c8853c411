"""The start-up and memory sections: cold start to a first answer, and peak memory."""

from __future__ import annotations

from benchmarks.records import AppStartup, ColdStart, MemoryRecord, Results, StartupRecord
from benchmarks.report.format import fmt, median, paragraphs, reports, section, table

TITLE = "Start-up: cold start to a first answer"
MEMORY_TITLE = "Memory"


def _cold_row(label: str, start: ColdStart) -> list[object]:
    cpu = start.cpu.median_s if start.cpu else None
    return [label, start.wall.median_s, start.wall.min_s, start.wall.max_s, cpu, start.max_rss_mb]


def _app(app: AppStartup, cli_median: float) -> list[str]:
    if app.skipped:
        return [f"**The app:** skipped. {app.skipped}", ""]
    if app.error or not app.runs:
        return [f"**The app:** failed: {app.error or 'no run finished'}", ""]
    how = "headless chromium (Selenium)" if app.method == "browser" else "AppTest in a new process"
    rows = [
        [i + 1, r.health_s, r.page_s, r.ready_s, r.first_answer_s, r.answer_after_ask_s, r.peak_rss_mb]
        for i, r in enumerate(app.runs)
    ]
    headers = ["run", "health s", "chat input s", "ready s", "first answer s", "answer after asking s", "peak RSS MB"]
    lines = [
        f"**The app** (`{app.command or 'streamlit run app.py'}` headless on a free port; the question asked "
        f"through {how}" + (f"; {app.problem}" if app.problem else "") + "):",
        "",
        table(headers, rows),
        "",
    ]
    ready = median([r.ready_s for r in app.runs])
    if ready is not None:
        lines += [
            f"The app is ready to answer after {ready:.1f} s (median), {ready / cli_median:.1f}x the "
            f"{cli_median:.1f} s the CLI needs for a whole cold answer.",
            "",
        ]
    if app.runs[0].health_s is not None:
        lines += paragraphs(
            "Times are from starting the process. *health*: /_stcore/health answers; *chat input*: the page "
            "shows the input; *ready*: the page finished loading the query path and the index and invites a "
            "question; *first answer*: the answer is rendered after typing the question."
        )
    return lines


@reports("startup", StartupRecord, TITLE)
def startup_section(results: Results, startup: StartupRecord) -> list[str]:
    """Cold starts of the CLI, the floor and the peer, then the app's."""
    rows = [
        _cold_row("`lessons ask --json`", startup.cli),
        _cold_row("floor (import sentence-transformers + FAISS, load, answer)", startup.floor),
    ]
    if startup.llamaindex is not None:
        rows.append(_cold_row("LlamaIndex (load persisted index + model, answer)", startup.llamaindex))
    peer = startup.ratios.get("llamaindex/cli")
    return [
        *section(
            TITLE,
            f"Each run is a new process (the OS file cache stays warm). Question: “{startup.question}”.",
            table(["process", "median s", "min s", "max s", "CPU median s", "peak RSS MB"], rows),
            f"CLI / floor = **{fmt(startup.ratios.get('cli/floor'))}x**"
            + (f"; LlamaIndex / CLI = {fmt(peer)}x." if peer else "."),
        ),
        *_app(startup.app, startup.cli.wall.median_s),
    ]


@reports("memory", MemoryRecord, MEMORY_TITLE)
def memory_section(results: Results, memory: MemoryRecord) -> list[str]:
    """Peak resident memory of every kind of process measured."""
    rows: list[list[object]] = [
        ["lessons query process (open index + query path, answer every question)", memory.query_process.max_rss_mb]
    ]
    if memory.llamaindex_query_process is not None:
        rows.append(["LlamaIndex query process (same questions)", memory.llamaindex_query_process.max_rss_mb])
    if memory.build_process is not None:
        rows.append(["lessons build process (largest of all builds)", memory.build_process.max_rss_mb])
    startup = results.startup
    if isinstance(startup, StartupRecord):
        rows.append(["`lessons ask --json` (one question)", startup.cli.max_rss_mb])
        rows.append(["floor process (sentence-transformers + FAISS only)", startup.floor.max_rss_mb])
        peaks = [r.peak_rss_mb for r in startup.app.runs if r.peak_rss_mb]
        if peaks:
            rows.append(["Streamlit app after its first answer", max(peaks)])
    return section(
        MEMORY_TITLE,
        "Peak resident memory (VmHWM) of each process, read from /proc while it runs and by the process itself "
        "at its end. (Not `ru_maxrss`: on Linux a child inherits its parent's high-water mark.)",
        table(["process", "peak RSS MB"], rows),
    )
