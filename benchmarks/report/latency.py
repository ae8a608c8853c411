"""The latency section: medians and p95, phases, ratios to the floor and the peer."""

from __future__ import annotations

from typing import Any

from benchmarks.report.format import fmt, get, table


def latency_section(results: dict[str, Any]) -> list[str]:
    latency = results.get("latency")
    lines = ["## Query latency", ""]
    if not isinstance(latency, dict) or "systems" not in latency:
        return [*lines, f"Not measured: {get(latency, 'error') or 'section not run'}.", ""]
    lines += [
        f"{latency['questions']} questions x {latency['repetitions']} repetitions = "
        f"{latency['questions'] * latency['repetitions']} timed queries per system, top-{latency['k']}, one "
        "process, interleaved: each question runs through every system in rotating order. The *floor* is the "
        "model embedding the question plus a FAISS search of the same index, nothing else. *Paired* ratio: "
        "median over questions of (system time / floor time for the same question and repetition), robust "
        "to load drifting during the run.",
        "",
    ]
    paired = latency.get("paired_ratio_to_floor", {})
    floor = latency["systems"]["floor"]
    rows = []
    for name, stats in latency["systems"].items():
        rows.append(
            [
                name,
                stats["median_ms"],
                stats["p95_ms"],
                fmt(stats["median_ms"] / floor["median_ms"]),
                fmt(stats["p95_ms"] / floor["p95_ms"]),
                fmt(get(paired, name, "median")),
            ]
        )
    lines += [table(["system", "median ms", "p95 ms", "median / floor", "p95 / floor", "paired / floor"], rows), ""]
    if floor["p95_ms"] > 5 * floor["median_ms"]:
        lines += [
            f"The p95 of every system, the floor included, is far above its median ({floor['p95_ms']:.0f} vs "
            f"{floor['median_ms']:.0f} ms for the floor): bursts of other work on the shared machine stalled the "
            "2-thread model for everyone alike. The medians and the paired ratios are the figures to read.",
            "",
        ]
    phases = latency.get("phases") or {}
    if phases:
        total = sum(p["median_ms"] for p in phases.values())
        rows = [
            [name, p["median_ms"], p["p95_ms"], f"{p['median_ms'] / total:.0%}" if total else "–"]
            for name, p in phases.items()
        ]
        lines += [
            "Phases inside one `Searcher.search` call (timed with proxies around the embedder, the FAISS "
            "index and the BM25 index; *fusion* is the rest: normalisation, language detection, glossary "
            "expansion, candidate pool, min-max fusion, ranking, one chunk per entry, no-match margin):",
            "",
            table(["phase", "median ms", "p95 ms", "share of summed medians"], rows),
            "",
        ]
    return lines
