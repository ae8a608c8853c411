"""Shared rendering: experience cards, the cited overview, badges. All corpus and user text is escaped.

Streamlit's ``st.markdown`` (and captions, expander labels, alerts) interpret
Markdown, so every piece of corpus or user text goes through :func:`safe` first.
Nothing here uses ``unsafe_allow_html``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import streamlit as st

from lessons.answering import (
    Answer,
    Card,
    CardSource,
    OverviewSentence,
    escape_markdown,
    filter_summary,
    freshness_note,
    label,
    shorten,
)
from lessons.models import Entry, Kind, ProjectStatus
from lessons.words import field_label, t

__all__ = [
    "KIND_COLORS",
    "STATUS_COLORS",
    "badges",
    "card_anchor",
    "card_meta",
    "highlight",
    "overview_markdown",
    "render_card",
    "render_entry_details",
    "render_overview",
    "safe",
    "say_later",
    "section_path",
    "show_said",
    "source_markdown",
]

CARD_FIELD_WORDS = 70
CARD_MAX_FIELDS = 3

KIND_COLORS: dict[Kind, str] = {
    Kind.HANDLING: "orange",
    Kind.EVALUATION: "green",
    Kind.PROJECT: "blue",
    Kind.ADVICE: "violet",
    Kind.FINDING: "gray",
}
STATUS_COLORS: dict[ProjectStatus, str] = {ProjectStatus.COMPLETED: "green", ProjectStatus.ONGOING: "blue"}


def safe(text: str) -> str:
    """User or corpus text made literal for st.markdown and its relatives."""
    return escape_markdown(text)


def say_later(key: str, kind: str, text: str) -> None:
    """Keep a message (``kind`` is st.error, st.success …) under ``key`` for the next run: callbacks cannot draw."""
    st.session_state[key] = (kind, text)


def show_said(key: str) -> None:
    """Show, once, the message kept under ``key``."""
    message = st.session_state.pop(key, None)
    if message:
        kind, text = message
        getattr(st, kind)(text)


def _badge(text: str, color: str) -> str:
    # Badge labels are our own vocabulary labels; escaping keeps them inert anyway.
    return f":{color}-badge[{safe(text)}]"


def badges(items: Sequence[tuple[str, str]]) -> str:
    """A Markdown line of Streamlit badges from (label, colour) pairs."""
    return " ".join(_badge(text, color) for text, color in items)


def card_meta(card: Card, lang: str) -> list[str]:
    """Project, organisations, sector, domain and status of a card, as plain strings."""
    meta: list[str] = []
    if card.project_name:
        meta.append(f"{t('project', lang)}: {card.project_name}")
    meta.extend(card.organisations)
    if card.sector:
        meta.append(label("sector", card.sector.value, lang))
    if card.domain:
        meta.append(label("domain", card.domain.value, lang))
    if card.project_status:
        meta.append(label("status", card.project_status.value, lang))
    return meta


def card_anchor(answer_id: str, number: int) -> str:
    """The HTML id of card ``number`` of an answer, the target of its citations."""
    return f"kort-{answer_id[:12]}-{number}"


def overview_markdown(sentences: Sequence[OverviewSentence], anchor: Callable[[int], str] | None = None) -> str:
    """The cited overview as a Markdown list: '- sentence [1]', each citation a link to its card when anchored."""
    lines = []
    for s in sentences:
        cite = f"\\[{s.card}\\]"
        if anchor is not None:
            cite = f"[{cite}](#{anchor(s.card)})"
        lines.append(f"- {safe(s.text)} {cite}")
    return "\n".join(lines)


def render_overview(answer: Answer, lang: str) -> None:
    """The short extractive overview that opens an answer; each citation scrolls to its card."""
    st.markdown(f"**{t('overview', lang)}**")
    if answer.overview:
        st.markdown(overview_markdown(answer.overview, lambda n: card_anchor(answer.id, n)))
        st.caption(t("overview_note", lang))
    else:
        st.caption(t("no_overview", lang))


def _field_label(name: str, lang: str, position: int, arrows: bool, *, kind: Kind, status: ProjectStatus | None) -> str:
    text = field_label(name, lang, kind=kind.value, status=status.value if status else None)
    return f"→ {text}" if arrows and position > 0 else text


# Starting only where a run of white space starts: tried inside a long run, '\s+' backtracks quadratically.
_SECTION_SEPARATOR = re.compile(r"(?<!\s)\s+[–—]\s+")


def section_path(section: str | None) -> list[str]:
    """A source section as its path: 'Udfordringer – Jura – MDR' → ['Udfordringer', 'Jura', 'MDR']."""
    if not section:
        return []
    return [part.strip() for part in _SECTION_SEPARATOR.split(section) if part.strip()]


def source_markdown(source: CardSource, lang: str) -> str:
    """'Kilde: *Report* › Part › Section · s. 12' (escaped Markdown)."""
    parts = [f"*{safe(source.report)}*", *(safe(p) for p in section_path(source.section))]
    line = f"{t('source', lang)}: " + " › ".join(parts)
    if source.page:
        line += f" · {t('page', lang)} {source.page}"
    return line


def _plain(text: str) -> str:
    return " ".join(text.split())


def highlight(text: str, quoted: Sequence[str]) -> tuple[str, bool]:
    """``text`` escaped, with each quoted sentence in it marked; and whether any was found."""
    body = safe(text)
    found = False
    for sentence in quoted:
        target = safe(_plain(sentence).removesuffix(" …").removesuffix("…").strip())
        if target and target in body:
            body = body.replace(target, f":orange-background[{target}]", 1)
            found = True
    return body, found


def _field_text(text: str, quoted: Sequence[str]) -> tuple[str, bool]:
    """A card field, shortened unless that would cut a quoted sentence, with the quotes marked."""
    short, found = highlight(shorten(text, CARD_FIELD_WORDS), quoted)
    if found or not quoted:
        return short, found
    full, found_full = highlight(_plain(text), quoted)
    return (full, True) if found_full else (short, False)


def render_card(card: Card, lang: str, *, anchor: str | None = None, quoted: Sequence[str] = ()) -> None:
    """One experience card: number and title, badges, project, key fields (quoted sentences marked), source."""
    with st.container(border=True, key=f"card-{anchor}" if anchor else None):
        if anchor:
            st.html(f'<span id="{anchor}"></span>')  # the target of the overview's citation links
        st.markdown(f"**\\[{card.number}\\] {safe(card.title)}**")
        items = [(label("kind", card.kind.value, lang), KIND_COLORS[card.kind])]
        items += [(label("area", a.value, lang), "gray") for a in card.areas]
        st.markdown(badges(items))
        meta = card_meta(card, lang)
        if meta:
            st.caption(safe(" · ".join(meta)))
        arrows = card.kind is Kind.HANDLING
        marked = False
        for position, (name, text) in enumerate(card.key_fields[:CARD_MAX_FIELDS]):
            body, found = _field_text(text, quoted)
            marked = marked or found
            if name == "body" and card.kind is not Kind.PROJECT:  # advice and findings: one unlabelled text
                st.markdown(body)
            else:
                field = _field_label(name, lang, position, arrows, kind=card.kind, status=card.project_status)
                st.markdown(f"**{safe(field)}:** {body}")
        if marked:
            st.caption(t("quoted_note", lang))
        left, right = st.columns([5, 1], vertical_alignment="center")
        left.caption(source_markdown(card.source, lang))
        with right.popover(t("open_source", lang), icon=":material/menu_book:", type="tertiary"):
            render_source(card, lang)
        note = freshness_note(card, lang)
        if note:
            st.caption(f":material/history: {safe(note)}")
        with st.expander(t("whole_entry", lang), icon=":material/article:"):
            render_card_details(card, lang)


def render_source(card: Card, lang: str) -> None:
    """The full source of a card: report, the section's path, page, and the entry it comes from."""
    st.markdown(f"**{t('source_report', lang)}:** {safe(card.source.report)}")
    path = section_path(card.source.section)
    if path:
        st.markdown(f"**{t('source_section_path', lang)}:**")
        st.markdown("\n".join(f"{'  ' * depth}- {safe(part)}" for depth, part in enumerate(path)))
    page = str(card.source.page) if card.source.page else t("source_page_unknown", lang)
    st.markdown(f"**{t('source_page', lang)}:** {safe(page)}")
    st.markdown(f"**{t('source_entry', lang)}:** `{card.entry_id}` · {safe(label('kind', card.kind.value, lang))}")


def render_card_details(card: Card, lang: str) -> None:
    """Everything a card holds, unabridged."""
    if card.summary:
        st.markdown(f"**{t('summary', lang)}:** {safe(card.summary)}")
    status = card.project_status.value if card.project_status else None
    for name, text in card.fields:
        st.markdown(f"**{safe(field_label(name, lang, kind=card.kind.value, status=status))}**")
        st.markdown(safe(text))
    facts = []
    if card.period:
        facts.append(f"{t('period', lang)}: {card.period}")
    if card.grant_mio_kr is not None:
        facts.append(f"{t('grant', lang)}: {t('mio_kr', lang, amount=_amount(card.grant_mio_kr, lang))}")
    if card.tags:
        facts.append(f"{t('tags', lang)}: {', '.join(card.tags)}")
    facts.append(f"{t('entry_id', lang)}: {card.entry_id}")
    st.caption(safe(" · ".join(facts)))


def render_entry_details(entry: Entry, lang: str, *, max_words: int | None = None) -> None:
    """An entry's text fields with their labels (challenge → handling → outcome for a handling example)."""
    arrows = entry.kind is Kind.HANDLING
    for position, (name, text) in enumerate(entry.text_fields()):
        body = safe(shorten(text, max_words) if max_words else text)
        if name == "body" and entry.kind is not Kind.PROJECT:  # free text (advice, findings): no label
            st.markdown(body)
        else:
            field = _field_label(name, lang, position, arrows, kind=entry.kind, status=entry.project_status)
            st.markdown(f"**{safe(field)}:** {body}")


def _amount(value: float, lang: str) -> str:
    text = f"{value:g}"
    return text if lang == "en" else text.replace(".", ",")


def filters_caption(answer: Answer, lang: str) -> str | None:
    """'Filtre: Jura, Region' for an answer searched with filters, else None (kinds a follow-up's focus set are
    shown as the focus, not again as filters)."""
    filters = replace(answer.filters, kinds=frozenset()) if answer.kinds_from_question else answer.filters
    if not filters.active:
        return None
    return t("filters_used", lang, filters=safe(", ".join(filter_summary(filters, lang))))
