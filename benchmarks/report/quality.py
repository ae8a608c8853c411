"""The quality section: hit@5 and MRR@10 per question file and language, and no-match."""

from __future__ import annotations

from typing import Any

from benchmarks.common import shown_path
from benchmarks.report.format import SYSTEM_LABELS, fmt, get, table


def quality_section(results: dict[str, Any]) -> list[str]:
    quality = results.get("quality")
    lines = ["## Retrieval quality", ""]
    if not isinstance(quality, dict) or "systems" not in quality:
        return [*lines, f"Not measured: {get(quality, 'error') or 'section not run'}.", ""]
    lines += [
        "Answerable questions only; a passage is relevant when `lessons.evaluation.is_relevant` accepts the "
        "text the system returns (the rule of `lessons eval`). hit@5: a relevant passage among the first five; "
        "MRR@10: mean reciprocal rank of the first relevant passage within ten. *Top-5 chars*: how much text "
        "the first five passages hand the reader. Longer passages contain more keywords, so this rule favours "
        "long chunks (LlamaIndex's are about 1,024 tokens); read hit@5 together with it.",
        "",
    ]
    systems = quality["systems"]
    labels = list(next(iter(systems.values())).keys())
    for label in labels:
        meta = get(quality, "sets", label) or {}
        title = "All question files together" if label == "all" else f"`{label}` ({shown_path(meta.get('path', ''))})"
        lines += [f"### {title}", ""]
        rows = []
        for name, data in systems.items():
            scores = data.get(label)
            if not scores:
                continue
            overall = scores["overall"]
            da = scores["by_language"].get("da", {})
            en = scores["by_language"].get("en", {})
            rows.append(
                [
                    SYSTEM_LABELS.get(name, name),
                    overall["hit@5"],
                    overall["mrr@10"],
                    da.get("hit@5"),
                    da.get("mrr@10"),
                    en.get("hit@5"),
                    en.get("mrr@10"),
                    overall["top5_chars"],
                ]
            )
        n = get(systems, "hybrid", label, "overall", "n")
        n_da = get(systems, "hybrid", label, "by_language", "da", "n")
        n_en = get(systems, "hybrid", label, "by_language", "en", "n")
        lines += [
            table(
                [
                    f"system (n={n}: da {n_da}, en {n_en})",
                    "hit@5",
                    "MRR@10",
                    "da hit@5",
                    "da MRR",
                    "en hit@5",
                    "en MRR",
                    "top-5 chars",
                ],
                rows,
            ),
            "",
        ]
        no_match = get(systems, "hybrid", label, "no_match")
        if no_match and no_match.get("out_of_scope"):
            lines += [
                f"Out-of-scope questions ({no_match['out_of_scope']}): lessons says it has no matching experience "
                f"for {fmt(no_match['no_match_recall'])} of them (precision {fmt(no_match['no_match_precision'])}; "
                f"answerable questions wrongly flagged: {fmt(no_match['answerable_flagged'])}). The naive pipeline "
                "and LlamaIndex have no such notion: they always return their nearest passages.",
                "",
            ]
    pipelines = results.get("pipelines") or {}
    if pipelines.get("peer_problem"):
        lines += [f"LlamaIndex was not measured: {pipelines['peer_problem']}", ""]
    return lines
