"""The latency section: medians and p95, phases, ratios to the floor and the peer."""

from __future__ import annotations

from benchmarks.records import LatencyRecord, Results
from benchmarks.report.format import fmt, reports, section, table

TITLE = "Query latency"


def _phases(latency: LatencyRecord) -> list[str]:
    total = sum(p.median_ms for p in latency.phases.values())
    rows = [
        [name, p.median_ms, p.p95_ms, f"{p.median_ms / total:.0%}" if total else "–"]
        for name, p in latency.phases.items()
    ]
    return [
        "Phases inside one `Searcher.search` call (timed with proxies around the embedder, the FAISS "
        "index and the BM25 index; *fusion* is the rest: normalisation, language detection, glossary "
        "expansion, candidate pool, min-max fusion, ranking, one chunk per entry, no-match margin):",
        "",
        table(["phase", "median ms", "p95 ms", "share of summed medians"], rows),
        "",
    ]


@reports("latency", LatencyRecord, TITLE)
def latency_section(results: Results, latency: LatencyRecord) -> list[str]:
    """Every system's median and p95, its ratios to the floor, and our phases."""
    embedded_by = results.provenance.get("latency")
    runtime = embedded_by.query_runtime_used if embedded_by else results.query_runtime_used
    lines = section(
        TITLE,
        f"{latency.questions} questions x {latency.repetitions} repetitions = "
        f"{latency.questions * latency.repetitions} timed queries per system, top-{latency.k}, one "
        "process, interleaved: each question runs through every system in rotating order. The *floor* is "
        "sentence-transformers embedding the question plus a FAISS search of the same index, nothing else; "
        f"*lessons* embeds questions with `{runtime or 'sentence-transformers'}`. *Paired* ratio: median over "
        "questions of (system time / other time for the same question and repetition), robust to load "
        "drifting during the run.",
    )
    floor = latency.systems["floor"]
    rows = [
        [
            name,
            stats.median_ms,
            stats.p95_ms,
            fmt(stats.median_ms / floor.median_ms),
            fmt(stats.p95_ms / floor.p95_ms),
            fmt(p.median if (p := latency.paired_ratio_to_floor.get(name)) else None),
        ]
        for name, stats in latency.systems.items()
    ]
    lines += [table(["system", "median ms", "p95 ms", "median / floor", "p95 / floor", "paired / floor"], rows), ""]
    for peer, paired in latency.paired_ratio_lessons_to.items():
        lines += [
            f"lessons / {peer}, paired per question: median **{fmt(paired.median)}**, p95 {fmt(paired.p95)}.",
            "",
        ]
    if floor.p95_ms > 5 * floor.median_ms:
        lines += [
            f"The p95 of every system, the floor included, is far above its median ({floor.p95_ms:.0f} vs "
            f"{floor.median_ms:.0f} ms for the floor): bursts of other work on the shared machine stalled the "
            "model for everyone alike. The medians and the paired ratios are the figures to read.",
            "",
        ]
    return lines + (_phases(latency) if latency.phases else [])
