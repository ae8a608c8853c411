"""The briefing laid out as a list of plain blocks (headings, paragraphs, quotes, items, notices).

Markdown, PDF and the app render the same blocks, so the three never drift apart.
Block texts are plain (unescaped); each renderer escapes for its format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lessons.abstention import Confidence
from lessons.answering import shorten, source_line
from lessons.briefing.generate import Briefing, Challenge, Cited, GapKind, Outcome, SimilarBrief
from lessons.briefing.rules import Reason
from lessons.models import Kind
from lessons.words import label, t

__all__ = [
    "SECTIONS",
    "Block",
    "Heading",
    "Item",
    "Notice",
    "Para",
    "Quote",
    "gap_texts",
    "layout",
    "sections",
    "value_label",
    "years_text",
]

QUOTE_WORDS = 70


@dataclass(frozen=True)
class Heading:
    """A heading; level 1 is the title."""

    level: int
    text: str


@dataclass(frozen=True)
class Para:
    """A paragraph, optionally with a bold label before it and citations after it."""

    text: str
    label: str | None = None
    cites: tuple[int, ...] = ()
    italic: bool = False


@dataclass(frozen=True)
class Quote:
    """Words quoted from the corpus, with the field they come from and their citation."""

    text: str
    label: str | None = None
    cites: tuple[int, ...] = ()


@dataclass(frozen=True)
class Item:
    """A list item: a bullet, a checklist box or a numbered item, with an optional note under it."""

    text: str
    kind: Literal["bullet", "check", "number"] = "bullet"
    label: str | None = None
    cites: tuple[int, ...] = ()
    note: str | None = None
    number: int | None = None

    def mark(self, *, bullet: str, check: str, number: str) -> str:
        """The mark before the item in one format; ``number`` is a template with ``{n}`` for the number."""
        if self.kind == "number":
            return number.format(n=self.number)
        return check if self.kind == "check" else bullet


@dataclass(frozen=True)
class Notice:
    """A note the reader must not miss (the freshness of legal lessons)."""

    text: str


Block = Heading | Para | Quote | Item | Notice


def years_text(years: Sequence[int]) -> str:
    """'2022', or '2021–2022' when the sources describe several years."""
    if not years:
        return "?"
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _profile(briefing: Briefing, lang: str) -> list[Block]:
    profile = briefing.profile
    blocks: list[Block] = [Heading(2, t("brief_profile", lang))]
    fields = ("description", "sector", "domain", "data", "decision_support", "phase", "vendor", "citizen_facing")
    for name in fields:
        values = profile.values_of(name)
        if not values:
            continue
        text = ", ".join(values) if name == "description" else ", ".join(value_label(name, v, lang) for v in values)
        blocks.append(Item(text=text, label=_field(name, lang)))
    if profile.systems:
        blocks.append(Item(text=", ".join(profile.systems), label=_field("systems", lang)))
    return blocks


_VOCABULARY = {
    "sector": "profile_sector",
    "data": "data_kind",
    "phase": "phase",
    "decision_support": "yes_no",
    "vendor": "yes_no",
    "citizen_facing": "yes_no",
}


def _field(name: str, lang: str) -> str:
    return label("profile_field", name, lang)


def value_label(field: str, value: str, lang: str) -> str:
    """A profile value in words: ('data', 'health_records') -> 'journaldata/sundhedsdata'."""
    if field == "domain":
        return label("domain", value, lang).lower()
    vocabulary = _VOCABULARY.get(field)
    return label(vocabulary, value, lang) if vocabulary else value


def _reasons(reasons: Sequence[Reason], lang: str) -> str:
    return "; ".join(
        f"{_field(r.field, lang).lower()}: {', '.join(value_label(r.field, v, lang) for v in r.values)}"
        for r in reasons
    )


def _quotes(cited: Cited, lang: str) -> list[Block]:
    card = cited.card
    fields = card.key_fields if card.kind is Kind.HANDLING else card.fields[:1]
    return [
        Quote(
            text=shorten(text, QUOTE_WORDS),
            label=None if name == "body" else label("field", name, lang),
            cites=(cited.number,),
        )
        for name, text in fields
    ]


def _challenge(challenge: Challenge, years: str, lang: str, quoted: set[int]) -> list[Block]:
    rule = challenge.rule
    blocks: list[Block] = [
        Heading(4, rule.title.get(lang)),
        Para(rule.why.get(lang), label=t("brief_why", lang)),
        Para(_reasons(challenge.reasons, lang), label=t("brief_because_profile", lang), italic=True),
    ]
    if challenge.lesson is not None:
        blocks.append(
            Para(challenge.lesson.entry.title, label=t("brief_lesson", lang), cites=(challenge.lesson.number,))
        )
    if challenge.legal:
        blocks.append(Notice(t("brief_legal_note", lang, years=years)))
    if not challenge.examples:
        blocks.append(Para(t("brief_no_examples", lang), italic=True))
        return blocks
    blocks.append(Para("", label=t("brief_what_others_did", lang)))
    for example in challenge.examples:
        entry = example.cited.entry
        where = (
            [f"{t('brief_project', lang)}: {entry.project}"] if entry.project and entry.project != entry.title else []
        )
        where += list(entry.organisations)
        if example.cited.number in quoted:  # quoted in full under an earlier challenge
            blocks.append(Item(text=t("brief_see_above", lang), label=entry.title, cites=(example.cited.number,)))
            continue
        quoted.add(example.cited.number)
        blocks.append(Item(text=" · ".join(where), label=entry.title, cites=(example.cited.number,)))
        blocks += _quotes(example.cited, lang)
    return blocks


def _outcome(outcome: Outcome, lang: str) -> str:
    return t(f"brief_outcome_{outcome.value}", lang)


def _similar(number: int, brief: SimilarBrief, lang: str) -> list[Block]:
    project = brief.project
    facts = [_outcome(brief.outcome, lang)]
    if project.domain:
        facts.append(label("domain", project.domain.value, lang))
    if project.sector:
        facts.append(label("sector", project.sector.value, lang))
    facts += project.organisations
    if project.main.period:
        facts.append(project.main.period)
    alike = [t("brief_alike_completed", lang)] if brief.nearest_completed else [t("brief_alike_text", lang)]
    if brief.same_domain:
        alike.append(t("brief_alike_domain", lang))
    if brief.same_sector:
        alike.append(t("brief_alike_sector", lang))
    blocks: list[Block] = [
        Heading(3, f"{number}. {project.title}"),
        Para(" · ".join(facts), italic=True, cites=(brief.cited.number,)),
        Para(", ".join(alike), label=t("brief_alike", lang)),
        Para(_outcome(brief.outcome, lang), label=t("brief_what_happened", lang)),
    ]
    if brief.evaluation is not None:
        blocks += [Quote(text=shorten(s, QUOTE_WORDS), cites=(brief.evaluation.number,)) for s in brief.evidence]
    else:
        purpose = project.main.purpose or project.main.description
        if purpose:
            blocks.append(
                Quote(text=shorten(purpose, 40), label=label("field", "purpose", lang), cites=(brief.cited.number,))
            )
    if brief.lessons:
        blocks.append(
            Para(
                "; ".join(f"{c.entry.title} [{c.number}]" for c in brief.lessons),
                label=t("brief_project_lessons", lang),
            )
        )
    return blocks


def _gap_text(briefing: Briefing, kind: GapKind, value: str, rule_title: str, lang: str) -> str:
    profile = briefing.profile
    if kind is GapKind.SECTOR:
        return t("brief_gap_sector", lang, value=value_label("sector", profile.sector.value, lang))
    if kind is GapKind.DOMAIN_SECTOR:
        return t(
            "brief_gap_domain_sector",
            lang,
            domain=value_label("domain", profile.domain.value, lang),
            sector=value_label("sector", profile.sector.value, lang),
        )
    if kind is GapKind.DESCRIPTION:
        return t("brief_gap_description", lang)
    return t("brief_gap_examples", lang, rule=rule_title)


def gap_texts(briefing: Briefing, lang: str) -> list[str]:
    """Each gap of the briefing as a sentence."""
    return [
        _gap_text(briefing, gap.kind, gap.value, gap.rule.title.get(lang) if gap.rule else "", lang)
        for gap in briefing.gaps
    ]


def _source(cited: Cited, lang: str) -> Item:
    card = cited.card
    note = source_line(card.source, lang)
    if cited.as_of is not None:
        note += " · " + t("brief_as_described", lang, years=str(cited.as_of.year))
    if cited.replaces:
        note += " · " + t("brief_replaces", lang, ids=", ".join(cited.replaces))
    return Item(text=card.title, kind="number", number=cited.number, note=note)


def _header(briefing: Briefing, years: str, lang: str) -> list[Block]:
    profile = briefing.profile
    facts = [profile.organisation] if profile.organisation else []
    when = briefing.generated_at.replace("T", " ")[:16]
    facts.append(t("brief_generated", lang, when=when, version=briefing.index_version))
    return [
        Heading(1, t("brief_title", lang, title=profile.title)),
        Para(" · ".join(facts), italic=True),
        Para(t("brief_intro", lang)),
        Notice(t("brief_freshness", lang, years=years)),
        *_profile(briefing, lang),
    ]


def _challenges(briefing: Briefing, years: str, lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(2, t("brief_challenges", lang))]
    order = briefing.order_lesson
    if order is not None:
        blocks.append(Para(order.entry.title, label=t("brief_order_note", lang), cites=(order.number,)))
    if not briefing.challenges:
        blocks.append(Para(t("brief_no_challenges", lang), italic=True))
    current_area = None
    quoted: set[int] = set()
    for challenge in briefing.challenges:
        if challenge.area is not current_area:
            current_area = challenge.area
            blocks.append(Heading(3, label("area", challenge.area.value, lang)))
        blocks += _challenge(challenge, years, lang, quoted)
    return blocks


def _advice(briefing: Briefing, lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(2, t("brief_advice", lang))]
    if not briefing.advice:
        blocks.append(Para(t("brief_no_advice", lang), italic=True))
    for item in briefing.advice:
        because = ", ".join(rule.title.get(lang) for rule in item.because)
        note = f"{t('brief_applies_because', lang)}: {because}"
        blocks.append(Item(text=item.cited.entry.title, kind="check", cites=(item.cited.number,), note=note))
    return blocks


def _similar_projects(briefing: Briefing, lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(2, t("brief_similar", lang))]
    if briefing.similar and briefing.description_confidence is Confidence.WEAK:
        blocks.append(Para(t("brief_weak_match", lang), italic=True))
    if not briefing.similar:
        blocks.append(Para(t("brief_no_similar", lang), italic=True))
    for number, brief in enumerate(briefing.similar, start=1):
        blocks += _similar(number, brief, lang)
    return blocks


def _questions(briefing: Briefing, lang: str) -> list[Block]:
    blocks: list[Block] = [Heading(2, t("brief_questions", lang))]
    if not briefing.questions:
        blocks.append(Para(t("brief_no_questions", lang), italic=True))
    for number, question in enumerate(briefing.questions, start=1):
        note = None
        if question.lesson is not None:
            note = f"{t('brief_from_lesson', lang)}: {question.lesson.entry.title} [{question.lesson.number}]"
        blocks.append(Item(text=question.question.get(lang), kind="number", number=number, note=note))
    return blocks


def _gaps(briefing: Briefing, lang: str, gaps_logged: bool) -> list[Block]:
    blocks: list[Block] = [Heading(2, t("brief_gaps", lang))]
    texts = gap_texts(briefing, lang)
    if not texts:
        blocks.append(Para(t("brief_no_gaps", lang), italic=True))
    blocks += [Item(text=text) for text in texts]
    if texts and gaps_logged:
        blocks.append(Para(t("brief_gaps_logged", lang), italic=True))
    return blocks


SECTIONS = ("header", "challenges", "advice", "similar", "questions", "gaps", "sources")


def sections(briefing: Briefing, lang: str = "da", *, gaps_logged: bool = False) -> dict[str, list[Block]]:
    """The briefing's sections as blocks, by name (see :data:`SECTIONS`), in reading order."""
    years = years_text(briefing.as_of_years)
    return {
        "header": _header(briefing, years, lang),
        "challenges": _challenges(briefing, years, lang),
        "advice": _advice(briefing, lang),
        "similar": _similar_projects(briefing, lang),
        "questions": _questions(briefing, lang),
        "gaps": _gaps(briefing, lang, gaps_logged),
        "sources": [Heading(2, t("brief_sources", lang)), *(_source(c, lang) for c in briefing.sources)],
    }


def layout(briefing: Briefing, lang: str = "da", *, gaps_logged: bool = False) -> list[Block]:
    """The whole briefing as blocks, in reading order."""
    return [block for part in sections(briefing, lang, gaps_logged=gaps_logged).values() for block in part]
