"""The target verdicts: latency against the floor, quality against the naive pipeline and the peer, and issue 13's."""

from __future__ import annotations

from benchmarks.records import LatencyRecord, QualityRecord, Results, Target
from benchmarks.report.fastquery import fast_query_targets
from benchmarks.report.format import COMPARATORS, LATENCY_TARGET, SYSTEM_LABELS, fmt

__all__ = ["targets"]


def _floor_target(results: Results) -> Target:
    name = f"query latency within {LATENCY_TARGET}x of the floor"
    latency = results.latency
    if not isinstance(latency, LatencyRecord):
        return Target(name=name, met=None, detail="not measured")
    ours, floor = latency.systems["lessons"], latency.systems["floor"]
    value = ours.median_ms / floor.median_ms
    paired = latency.paired_ratio_to_floor.get("lessons")
    per_question = fmt(paired.median if paired else None)
    detail = (
        f"median {ours.median_ms:.1f} ms vs floor {floor.median_ms:.1f} ms: {value:.2f}x "
        f"(p95 {fmt(ours.p95_ms / floor.p95_ms)}x; per-question paired median {per_question}x)"
    )
    return Target(name=name, met=value <= LATENCY_TARGET, detail=detail)


def _comparisons(quality: QualityRecord, other: str) -> tuple[int, list[str], list[str]]:
    """(comparisons made, those not better, those tied at the 1.00 ceiling) of hybrid against ``other``."""
    ours, theirs = quality.systems["hybrid"], quality.systems[other]
    checked, misses, ceiling = 0, [], []
    for label, scores in ours.items():
        for language, mine in scores.by_language.items():
            rival = theirs[label].by_language.get(language) if label in theirs else None
            if rival is None or not mine.n:
                continue
            for metric, a, b in (("hit@5", mine.hit5, rival.hit5), ("mrr@10", mine.mrr10, rival.mrr10)):
                if a is None or b is None:
                    continue
                checked += 1
                cell = f"{label}/{language} {metric} {a:.2f} vs {b:.2f}"
                if a == b == 1.0:
                    ceiling.append(cell)  # both perfect: nothing left to be better at
                elif not a > b:
                    misses.append(cell)
    return checked, misses, ceiling


def _quality_targets(results: Results) -> list[Target]:
    quality = results.quality
    if not isinstance(quality, QualityRecord):
        return [
            Target(name="better hit@5 and MRR@10 than the naive pipeline and the peer", met=None, detail="not measured")
        ]
    out = []
    for other in (c for c in COMPARATORS if c in quality.systems):
        checked, misses, ceiling = _comparisons(quality, other)
        detail = (
            f"{checked - len(misses) - len(ceiling)} of {checked} comparisons (each question file and language, "
            "and all files) better"
            + (f", {len(ceiling)} tied at the 1.00 ceiling" if ceiling else "")
            + ("; **not better**: " + "; ".join(misses) if misses else "")
        )
        gap = (
            "look at the questions where the other system ranks a relevant passage higher "
            "(results.json, quality.questions)"
            if misses
            else None
        )
        out.append(
            Target(
                name=f"better hit@5 and MRR@10 than {SYSTEM_LABELS[other]}, in both languages",
                met=not misses and checked > 0,
                detail=detail,
                close_gap=gap,
            )
        )
    return out


def targets(results: Results) -> list[Target]:
    """Each target of issues 7 and 13 with met (None when not measured), the figures, and a way forward."""
    return [_floor_target(results), *_quality_targets(results), *fast_query_targets(results)]
