"""The briefing as plain JSON data: for `lessons brief --format json` and the HTTP API's `POST /brief`.

Citations are numbers into ``sources``; texts quoted from the corpus are the entries' own
fields. The briefing's own words (titles, why, questions, gap texts) are in ``lang``.
"""

from __future__ import annotations

from typing import Any

from lessons.briefing.generate import Briefing, Cited
from lessons.briefing.layout import gap_texts, years_text
from lessons.words import label, t

__all__ = ["briefing_to_json"]


def _source(cited: Cited) -> dict[str, Any]:
    entry = cited.entry
    return {
        "number": cited.number,
        "entry_id": entry.id,
        "kind": entry.kind.value,
        "title": entry.title,
        "areas": [a.value for a in entry.areas],
        "project": entry.project,
        "organisations": list(entry.organisations),
        "as_of": entry.as_of.isoformat() if entry.as_of else None,
        "legal": cited.legal,
        "replaces": list(cited.replaces),
        "fields": dict(entry.text_fields()),
        "source": {"report": entry.source.report, "section": entry.source.section, "page": entry.source.page},
    }


def briefing_to_json(briefing: Briefing, lang: str = "da") -> dict[str, Any]:
    """The whole briefing as JSON-ready data."""
    years = years_text(briefing.as_of_years)
    gaps = gap_texts(briefing, lang)
    return {
        "title": t("brief_title", lang, title=briefing.profile.title),
        "profile": briefing.profile.model_dump(mode="json", exclude_none=True),
        "language": lang,
        "index_version": briefing.index_version,
        "generated_at": briefing.generated_at,
        "as_of_years": briefing.as_of_years,
        "description_confidence": briefing.description_confidence.value,
        "freshness": t("brief_freshness", lang, years=years),
        "order_lesson": briefing.order_lesson.number if briefing.order_lesson else None,
        "challenges": [
            {
                "rule": c.rule.id,
                "area": c.area.value,
                "area_label": label("area", c.area.value, lang),
                "title": c.rule.title.get(lang),
                "why": c.rule.why.get(lang),
                "reasons": [{"field": r.field, "values": list(r.values)} for r in c.reasons],
                "lesson": c.lesson.number if c.lesson else None,
                "legal": c.legal,
                "examples": [e.cited.number for e in c.examples],
            }
            for c in briefing.challenges
        ],
        "advice": [
            {"source": a.cited.number, "title": a.cited.entry.title, "because": [r.id for r in a.because]}
            for a in briefing.advice
        ],
        "similar": [
            {
                "title": s.project.title,
                "source": s.cited.number,
                "evaluation": s.evaluation.number if s.evaluation else None,
                "outcome": s.outcome.value,
                "outcome_label": t(f"brief_outcome_{s.outcome.value}", lang),
                "evidence": list(s.evidence),
                "lessons": [c.number for c in s.lessons],
                "same_domain": s.same_domain,
                "same_sector": s.same_sector,
                "nearest_completed": s.nearest_completed,
            }
            for s in briefing.similar
        ],
        "questions": [
            {"text": q.question.get(lang), "lesson": q.lesson.number if q.lesson else None, "rule": q.rule.id}
            for q in briefing.questions
        ],
        "gaps": [
            {"kind": g.kind.value, "field": g.field, "value": g.value, "text": text}
            for g, text in zip(briefing.gaps, gaps, strict=True)
        ],
        "sources": [_source(c) for c in briefing.sources],
    }
