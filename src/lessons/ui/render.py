"""Shared rendering: experience cards, the cited overview, badges. All corpus and user text is escaped.

Streamlit's ``st.markdown`` (and captions, expander labels, alerts) interpret
Markdown, so every piece of corpus or user text goes through :func:`safe` first.
Nothing here uses ``unsafe_allow_html``.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from lessons.answering import (
    Answer,
    Card,
    OverviewSentence,
    escape_markdown,
    filter_summary,
    label,
    shorten,
    source_line,
)
from lessons.models import Entry, Kind, ProjectStatus
from lessons.words import t

__all__ = [
    "KIND_COLORS",
    "STATUS_COLORS",
    "badges",
    "card_meta",
    "overview_markdown",
    "render_card",
    "render_entry_details",
    "render_overview",
    "safe",
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


def overview_markdown(sentences: Sequence[OverviewSentence]) -> str:
    """The cited overview as a Markdown list: '- sentence [1]'."""
    return "\n".join(f"- {safe(s.text)} \\[{s.card}\\]" for s in sentences)


def render_overview(answer: Answer, lang: str) -> None:
    """The short extractive overview that opens an answer."""
    st.markdown(f"**{t('overview', lang)}**")
    if answer.overview:
        st.markdown(overview_markdown(answer.overview))
        st.caption(t("overview_note", lang))
    else:
        st.caption(t("no_overview", lang))


def _field_label(name: str, lang: str, position: int, arrows: bool) -> str:
    text = label("field", name, lang)
    return f"→ {text}" if arrows and position > 0 else text


def render_card(card: Card, lang: str) -> None:
    """One experience card: number and title, badges, project, key fields, source, the whole entry."""
    with st.container(border=True):
        st.markdown(f"**\\[{card.number}\\] {safe(card.title)}**")
        items = [(label("kind", card.kind.value, lang), KIND_COLORS[card.kind])]
        items += [(label("area", a.value, lang), "gray") for a in card.areas]
        st.markdown(badges(items))
        meta = card_meta(card, lang)
        if meta:
            st.caption(safe(" · ".join(meta)))
        arrows = card.kind is Kind.HANDLING
        for position, (name, text) in enumerate(card.key_fields[:CARD_MAX_FIELDS]):
            body = safe(shorten(text, CARD_FIELD_WORDS))
            if name == "body":  # advice and findings: one unlabelled text
                st.markdown(body)
            else:
                st.markdown(f"**{safe(_field_label(name, lang, position, arrows))}:** {body}")
        st.caption(f"{t('source', lang)}: {safe(source_line(card.source, lang))}")
        with st.expander(t("whole_entry", lang), icon=":material/article:"):
            render_card_details(card, lang)


def render_card_details(card: Card, lang: str) -> None:
    """Everything a card holds, unabridged."""
    if card.summary:
        st.markdown(f"**{t('summary', lang)}:** {safe(card.summary)}")
    for name, text in card.fields:
        st.markdown(f"**{safe(label('field', name, lang))}**")
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
        if name == "body":  # free text (advice, findings, a project's budget line): no label
            st.markdown(body)
        else:
            st.markdown(f"**{safe(_field_label(name, lang, position, arrows))}:** {body}")


def _amount(value: float, lang: str) -> str:
    text = f"{value:g}"
    return text if lang == "en" else text.replace(".", ",")


def filters_caption(answer: Answer, lang: str) -> str | None:
    """'Filtre: Jura, Region' for an answer searched with filters, else None."""
    if not answer.filters.active:
        return None
    return t("filters_used", lang, filters=safe(", ".join(filter_summary(answer.filters, lang))))
