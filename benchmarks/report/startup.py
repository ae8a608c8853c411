"""The start-up and memory sections: cold start to a first answer, and peak memory."""

from __future__ import annotations

from typing import Any

from benchmarks.report.format import fmt, get, table


def startup_section(results: dict[str, Any]) -> list[str]:
    startup = results.get("startup")
    lines = ["## Start-up: cold start to a first answer", ""]
    if not isinstance(startup, dict) or "cli" not in startup:
        return [*lines, f"Not measured: {get(startup, 'error') or 'section not run'}.", ""]
    lines += [f"Each run is a new process (the OS file cache stays warm). Question: “{startup['question']}”.", ""]
    rows = [
        [
            "`lessons ask --json`",
            startup["cli"]["wall"]["median_s"],
            startup["cli"]["wall"]["min_s"],
            startup["cli"]["wall"]["max_s"],
            startup["cli"]["max_rss_mb"],
        ],
        [
            "floor (import sentence-transformers + FAISS, load, answer)",
            startup["floor"]["wall"]["median_s"],
            startup["floor"]["wall"]["min_s"],
            startup["floor"]["wall"]["max_s"],
            startup["floor"]["max_rss_mb"],
        ],
    ]
    if startup.get("llamaindex"):
        peer = startup["llamaindex"]
        rows.append(
            [
                "LlamaIndex (load persisted index + model, answer)",
                peer["wall"]["median_s"],
                peer["wall"]["min_s"],
                peer["wall"]["max_s"],
                peer["max_rss_mb"],
            ]
        )
    lines += [table(["process", "median s", "min s", "max s", "peak RSS MB"], rows), ""]
    ratios = startup.get("ratios", {})
    lines += [
        f"CLI / floor = **{fmt(ratios.get('cli/floor'))}x**"
        + (f"; LlamaIndex / CLI = {fmt(ratios.get('llamaindex/cli'))}x." if ratios.get("llamaindex/cli") else "."),
        "",
    ]
    app = startup.get("app") or {}
    if app.get("skipped"):
        lines += [f"**The app:** skipped. {app['skipped']}", ""]
    elif app.get("error"):
        lines += [f"**The app:** failed: {app['error']}", ""]
    elif app.get("runs"):
        first = app["runs"][0]
        how = "headless chromium (Selenium)" if app["method"] == "browser" else "AppTest in a new process"
        lines += [
            f"**The app** (`streamlit run app.py` headless on a free port; the question asked through {how}"
            + (f"; {app['problem']}" if app.get("problem") else "")
            + "):",
            "",
        ]
        rows = [
            [
                i + 1,
                r.get("health_s"),
                r.get("page_s"),
                r.get("ready_s"),
                r["first_answer_s"],
                r["answer_after_ask_s"],
                r.get("peak_rss_mb"),
            ]
            for i, r in enumerate(app["runs"])
        ]
        lines += [
            table(
                [
                    "run",
                    "health s",
                    "chat input s",
                    "model+index loaded s",
                    "first answer s",
                    "answer after asking s",
                    "peak RSS MB",
                ],
                rows,
            ),
            "",
        ]
        cli_median = get(startup, "cli", "wall", "median_s")
        ready = [r["ready_s"] for r in app["runs"] if r.get("ready_s") is not None]
        if cli_median and ready:
            ready_median = sorted(ready)[len(ready) // 2]
            lines += [
                f"The app is ready to answer after {ready_median:.1f} s (median), {ready_median / cli_median:.1f}x "
                f"the {cli_median:.1f} s the CLI needs for a whole cold answer; the model and index are the same, "
                "so the difference is the app's own start-up work.",
                "",
            ]
        if first.get("health_s") is not None:
            lines += [
                "Times are from starting the process. *health*: /_stcore/health answers; *chat input*: the page "
                "shows the input; *loaded*: the page finished its first run (model and index loaded); *first "
                "answer*: the answer is rendered after typing the question.",
                "",
            ]
    return lines


def memory_section(results: dict[str, Any]) -> list[str]:
    memory = results.get("memory")
    lines = ["## Memory", ""]
    if not isinstance(memory, dict) or "query_process" not in memory:
        return [*lines, f"Not measured: {get(memory, 'error') or 'section not run'}.", ""]
    rows = [
        ["lessons query process (open index + model, answer every question)", memory["query_process"]["max_rss_mb"]]
    ]
    if "llamaindex_query_process" in memory:
        rows.append(["LlamaIndex query process (same questions)", memory["llamaindex_query_process"]["max_rss_mb"]])
    if "build_process" in memory:
        rows.append(["lessons build process (largest of all builds)", memory["build_process"]["max_rss_mb"]])
    startup = results.get("startup") or {}
    if get(startup, "cli", "max_rss_mb"):
        rows.append(["`lessons ask --json` (one question)", startup["cli"]["max_rss_mb"]])
    if get(startup, "floor", "max_rss_mb"):
        rows.append(["floor process (model + FAISS only)", startup["floor"]["max_rss_mb"]])
    runs = get(startup, "app", "runs") or []
    peaks = [r.get("peak_rss_mb") for r in runs if r.get("peak_rss_mb")]
    if peaks:
        rows.append(["Streamlit app after its first answer", max(peaks)])
    lines += [
        "Peak resident memory (VmHWM) of each process, read from /proc while it runs and by the process itself "
        "at its end. (Not `ru_maxrss`: on Linux a child inherits its parent's high-water mark.)",
        "",
        table(["process", "peak RSS MB"], rows),
        "",
    ]
    return lines
