"""The quality section: hit@5 and MRR@10 per question file and language, and no-match."""

from __future__ import annotations

from benchmarks.common import shown_path
from benchmarks.records import PipelinesRecord, QualityRecord, Results
from benchmarks.report.format import SYSTEM_LABELS, fmt, paragraphs, reports, section, table

TITLE = "Retrieval quality"
INTRO = (
    "Answerable questions only; a passage is relevant when `lessons.evaluation.is_relevant` accepts the "
    "text the system returns (the rule of `lessons eval`). hit@5: a relevant passage among the first five; "
    "MRR@10: mean reciprocal rank of the first relevant passage within ten. *Top-5 chars*: how much text "
    "the first five passages hand the reader. Longer passages contain more keywords, so this rule favours "
    "long chunks (LlamaIndex's are about 1,024 tokens); read hit@5 together with it."
)


def _file_table(quality: QualityRecord, label: str) -> list[str]:
    """Every system on one question file (or ``all``)."""
    rows = []
    for name, files in quality.systems.items():
        scores = files.get(label)
        if scores is None:
            continue
        da, en = scores.by_language.get("da"), scores.by_language.get("en")
        rows.append(
            [
                SYSTEM_LABELS.get(name, name),
                scores.overall.hit5,
                scores.overall.mrr10,
                da.hit5 if da else None,
                da.mrr10 if da else None,
                en.hit5 if en else None,
                en.mrr10 if en else None,
                scores.overall.top5_chars,
            ]
        )
    ours = quality.systems["hybrid"][label]
    counts = {lang: m.n for lang, m in ours.by_language.items()}
    first = f"system (n={ours.overall.n}: da {counts.get('da')}, en {counts.get('en')})"
    headers = [first, "hit@5", "MRR@10", "da hit@5", "da MRR", "en hit@5", "en MRR", "top-5 chars"]
    lines = [table(headers, rows), ""]
    no_match = ours.no_match
    if no_match is not None and no_match.out_of_scope:
        lines += paragraphs(
            f"Out-of-scope questions ({no_match.out_of_scope}): lessons says it has no matching experience "
            f"for {fmt(no_match.no_match_recall)} of them (precision {fmt(no_match.no_match_precision)}; "
            f"answerable questions wrongly flagged: {fmt(no_match.answerable_flagged)}"
            + (
                f"; answerable questions answered only as weak: {fmt(no_match.weak_share)}; out-of-scope questions "
                f"answered as a match: {fmt(no_match.oos_as_match)}"
                if no_match.weak_share is not None
                else ""
            )
            + "). The naive pipeline and LlamaIndex have no such notion: they always return their nearest passages."
        )
    return lines


@reports("quality", QualityRecord, TITLE)
def quality_section(results: Results, quality: QualityRecord) -> list[str]:
    """Per question file: every system's hit@5 and MRR@10, overall and per language."""
    lines = section(TITLE, INTRO)
    for label in quality.systems["hybrid"]:
        meta = quality.sets.get(label)
        title = (
            "All question files together" if label == "all" else f"`{label}` ({shown_path(meta.path if meta else '')})"
        )
        lines += [f"### {title}", "", *_file_table(quality, label)]
    pipelines = results.pipelines
    if isinstance(pipelines, PipelinesRecord) and pipelines.peer_problem:
        lines += [f"LlamaIndex was not measured: {pipelines.peer_problem}", ""]
    return lines
