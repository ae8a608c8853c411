"""Answers for the chat: an extractive overview with citations, experience cards, follow-ups, export.

No language model writes anything here. An answer is

1. the question, put in the context of the previous turn when it is a short or
   elliptic follow-up (:mod:`~lessons.answering.followups`);
2. the retrieved experiences as :class:`Card` objects, numbered from 1 (:mod:`~lessons.answering.cards`);
3. an overview of the two to four sentences from those experiences that best
   answer the question, each citing its card (:mod:`~lessons.answering.overview`).

An :class:`Answerer` holds one searcher and the caches its answers share. A conversation of
answers can be exported as Markdown (:mod:`~lessons.answering.export`); every piece of user or
corpus text in it is escaped (:mod:`~lessons.answering.escaping`).
"""

from __future__ import annotations

from lessons.answering.answerer import Answer, Answerer
from lessons.answering.cards import Card, CardSource, build_cards, card_from_entry
from lessons.answering.escaping import escape_markdown
from lessons.answering.export import export_markdown, freshness_note, legal_note, source_line
from lessons.answering.followups import Context, contextualise, detect_sectors, is_followup
from lessons.answering.labels import filter_summary, shorten
from lessons.answering.overview import OverviewSentence, SentenceVectors, common_sentences, extract_overview
from lessons.words import label

__all__ = [
    "Answer",
    "Answerer",
    "Card",
    "CardSource",
    "Context",
    "OverviewSentence",
    "SentenceVectors",
    "build_cards",
    "card_from_entry",
    "common_sentences",
    "contextualise",
    "detect_sectors",
    "escape_markdown",
    "export_markdown",
    "extract_overview",
    "filter_summary",
    "freshness_note",
    "is_followup",
    "label",
    "legal_note",
    "shorten",
    "source_line",
]
