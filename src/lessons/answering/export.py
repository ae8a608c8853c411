"""The conversation as a Markdown document, every piece of user or corpus text escaped."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime

from lessons.answering.answerer import Answer
from lessons.answering.cards import Card, CardSource
from lessons.answering.escaping import escape_markdown
from lessons.answering.labels import filter_summary
from lessons.models import Area
from lessons.words import field_label, label, t

__all__ = ["export_markdown", "freshness_note", "legal_note", "source_line"]


def source_line(source: CardSource, lang: str) -> str:
    """'Status på signaturprojekterne 2022, afsnit …, s. 12' (plain text, not escaped)."""
    parts = [source.report]
    if source.section:
        parts.append(f"{t('section', lang)} {source.section}")
    if source.page:
        parts.append(f"{t('page', lang)} {source.page}")
    return ", ".join(p for p in parts if p)


def legal_note(areas: Collection[Area], as_of: date | None, lang: str) -> str | None:
    """For an experience about law: 'Som beskrevet i 2022; reglerne kan have ændret sig siden.' Else None."""
    if Area.LAW not in areas:
        return None
    if as_of is None:
        return t("card_legal_note_undated", lang)
    return t("card_legal_note", lang, year=as_of.year)


def freshness_note(card: Card, lang: str) -> str | None:
    """A card's :func:`legal_note`."""
    return legal_note(card.areas, card.as_of, lang)


def _card_markdown(card: Card, lang: str) -> list[str]:
    e = escape_markdown
    meta = [label("kind", card.kind.value, lang)]
    meta += [label("area", a.value, lang) for a in card.areas]
    if card.project_name:
        meta.append(f"{t('project', lang)}: {card.project_name}")
    meta += list(card.organisations)
    lines = [f"**\\[{card.number}\\] {e(card.title)}**  ", e(" · ".join(meta)) + "  "]
    lines.append(f"*{t('source', lang)}: {e(source_line(card.source, lang))}*")
    note = freshness_note(card, lang)
    if note:
        lines[-1] += "  "
        lines.append(f"*{e(note)}*")
    lines.append("")
    status = card.project_status.value if card.project_status else None
    for name, text in card.key_fields:
        field = field_label(name, lang, kind=card.kind.value, status=status)
        lines.append(f"> **{e(field)}:** {e(' '.join(text.split()))}")
        lines.append(">")
    if lines[-1] == ">":
        lines.pop()
    lines.append("")
    return lines


def export_markdown(answers: Sequence[Answer], lang: str = "da", *, now: datetime | None = None) -> str:
    """The conversation as a Markdown document: questions, cited overviews, cards with sources."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    versions = sorted({a.index_version for a in answers if a.index_version})
    header = f"{t('export_exported', lang)} {stamp}"
    if versions:
        header += f" · {t('export_index', lang)} {', '.join(versions)}"
    lines = [f"# {t('export_title', lang)}", "", header, ""]
    for number, answer in enumerate(answers, start=1):
        lines += [f"## {number}. {t('export_question', lang)}: {escape_markdown(answer.question)}", ""]
        if answer.followup:
            lines += [f"*{t('export_searched_as', lang)}: {escape_markdown(answer.query)}*", ""]
        if answer.filters.active:
            lines += [
                f"*{t('filters', lang)}: {escape_markdown(', '.join(filter_summary(answer.filters, lang)))}*",
                "",
            ]
        if answer.no_match:
            lines += [t("export_no_match", lang), ""]
            continue
        if answer.weak:
            lines += [f"*{t('export_weak', lang)}*", ""]
        if answer.overview:
            lines += [f"**{t('overview', lang)}**", ""]
            lines += [f"- {escape_markdown(s.text)} \\[{s.card}\\]" for s in answer.overview]
            lines.append("")
        lines += [f"### {t('experiences', lang)}", ""]
        for card in answer.cards:
            lines += _card_markdown(card, lang)
    return "\n".join(lines).rstrip() + "\n"
