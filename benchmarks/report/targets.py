"""The target verdicts: latency against the floor and the peer, quality against the naive pipeline and the peer."""

from __future__ import annotations

from typing import Any

from benchmarks.report.fastquery import fast_query_targets
from benchmarks.report.format import COMPARATORS, LATENCY_TARGET, PEER_SPEED_TARGET, SYSTEM_LABELS, fmt, get


def _latency_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    latency = results.get("latency")
    if not isinstance(latency, dict) or "systems" not in latency:
        return [{"name": f"query latency within {LATENCY_TARGET}x of the floor", "met": None, "detail": "not measured"}]
    ratios = latency["ratios"]
    phases = latency.get("phases") or {}
    systems = latency["systems"]
    out = []
    floor_ratio = ratios.get("lessons/floor median")
    paired = get(latency, "paired_ratio_to_floor", "lessons", "median")
    detail = (
        f"median {systems['lessons']['median_ms']:.1f} ms vs floor {systems['floor']['median_ms']:.1f} ms: "
        f"{fmt(floor_ratio)}x (p95 {fmt(ratios.get('lessons/floor p95'))}x; "
        f"per-question paired median {fmt(paired)}x)"
    )
    gap = None
    if floor_ratio is not None and floor_ratio > LATENCY_TARGET:
        extra = {p: get(phases, p, "median_ms") or 0.0 for p in ("dense", "bm25", "fusion")}
        worst = max(extra, key=lambda p: extra[p])
        gap = (
            f"the overhead above the model is {sum(extra.values()):.1f} ms median, mostly {worst} "
            f"({extra[worst]:.1f} ms). BM25 is scored twice per question (expanded query, then the question's own "
            "words for no-match); one scoring pass with both term sets would remove most of it."
        )
    out.append(
        {
            "name": f"query latency within {LATENCY_TARGET}x of the floor",
            "met": floor_ratio is not None and floor_ratio <= LATENCY_TARGET,
            "detail": detail,
            "close_gap": gap,
        }
    )
    peer_ratio = ratios.get("llamaindex-defaults/lessons median")
    if peer_ratio is None:
        out.append(
            {
                "name": f"at least {PEER_SPEED_TARGET}x faster per query than the peer",
                "met": None,
                "detail": "the peer was not measured: " + str(get(results, "pipelines", "peer_problem")),
            }
        )
    else:
        peer = systems["llamaindex-defaults"]
        embed = get(phases, "embedding", "median_ms") or 0.0
        detail = (
            f"LlamaIndex median {peer['median_ms']:.1f} ms vs ours {systems['lessons']['median_ms']:.1f} ms: "
            f"it is {peer_ratio:.2f}x our time (p95 {fmt(ratios.get('llamaindex-defaults/lessons p95'))}x)"
        )
        gap = None
        if peer_ratio < PEER_SPEED_TARGET:
            phased = get(systems, "lessons (phases)", "median_ms") or systems["lessons"]["median_ms"]
            share = embed / phased if phased else 0.0
            peer_over_floor = get(latency, "paired_ratio_to_floor", "llamaindex-defaults", "median")
            gap = (
                f"both pipelines spend most of a query in the same model embedding the same question "
                f"({embed:.1f} ms, {share:.0%} of our phase-timed median); the peer costs "
                f"{fmt(peer_over_floor)}x the floor (paired median). Being 2x faster than a "
                "pipeline that costs the floor plus a little is impossible with the same encoder: it would take a "
                "cheaper query encoder (an int8-quantised or distilled e5, or a static-embedding first stage with "
                "e5 only for re-ranking) or a cache of repeated questions' vectors."
            )
            at_scale = _peer_ratio_at_scale(results)
            if at_scale:
                factor, value = at_scale
                gap += (
                    f" The gap opens with size instead: at {factor}x the corpus, LlamaIndex's pure-Python vector "
                    f"store makes it an estimated {value:.1f}x our time (see Scaling)."
                )
            else:
                gap += " It should be restated as 'no slower than the peer'."
        out.append(
            {
                "name": f"at least {PEER_SPEED_TARGET}x faster per query than the peer",
                "met": peer_ratio >= PEER_SPEED_TARGET,
                "detail": detail,
                "close_gap": gap,
            }
        )
    return out


def _peer_ratio_at_scale(results: dict[str, Any]) -> tuple[str, float] | None:
    """The smallest corpus multiple at which the peer's estimated latency is at least twice ours."""
    store = get(results, "scaling", "llamaindex_vector_store", "factors") or {}
    peer_1x = get(results, "latency", "systems", "llamaindex-defaults", "median_ms")
    if not store or peer_1x is None:
        return None
    base = next(iter(store.values()))["median_ms"]
    for factor, stats in store.items():
        ours = get(results, "scaling", "factors", factor, "faiss_default_threads", "estimated_total_median_ms")
        if ours:
            value = (peer_1x + stats["median_ms"] - base) / ours
            if value >= PEER_SPEED_TARGET:
                return factor, value
    return None


def _quality_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    quality = results.get("quality")
    if not isinstance(quality, dict) or "systems" not in quality:
        return [
            {
                "name": "better hit@5 and MRR@10 than the naive pipeline and the peer",
                "met": None,
                "detail": "not measured",
            }
        ]
    systems = quality["systems"]
    ours = systems["hybrid"]
    out = []
    for other in COMPARATORS:
        if other not in systems:
            continue
        misses = []
        ceiling = []
        checked = 0
        for label in [s for s in ours if s != "all"] + ["all"]:
            for language in ("da", "en"):
                mine = get(ours, label, "by_language", language)
                theirs = get(systems[other], label, "by_language", language)
                if not mine or not theirs or not mine.get("n"):
                    continue
                for metric in ("hit@5", "mrr@10"):
                    checked += 1
                    cell = f"{label}/{language} {metric} {mine[metric]:.2f} vs {theirs[metric]:.2f}"
                    if mine[metric] == theirs[metric] == 1.0:
                        ceiling.append(cell)  # both perfect: nothing left to be better at
                    elif not mine[metric] > theirs[metric]:
                        misses.append(cell)
        detail = (
            f"{checked - len(misses) - len(ceiling)} of {checked} comparisons (each question file and language, "
            "and all files) better"
            + (f", {len(ceiling)} tied at the 1.00 ceiling" if ceiling else "")
            + ("; **not better**: " + "; ".join(misses) if misses else "")
        )
        gap = None
        if misses:
            gap = (
                "look at the questions where the other system ranks a relevant passage higher "
                "(results.json, quality.questions); small sets (the dev file has about 11 questions per "
                "language) turn one question into 0.09 of hit@5"
            )
        out.append(
            {
                "name": f"better hit@5 and MRR@10 than {SYSTEM_LABELS[other]}, in both languages",
                "met": not misses and checked > 0,
                "detail": detail,
                "close_gap": gap,
            }
        )
    return out


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issues #7 and 13 with met (True/False/None when not measured), the figures, a way forward."""
    return _latency_targets(results) + _quality_targets(results) + fast_query_targets(results)
