"""The overview page: what the corpus holds, the index status, and what curators should look at."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import streamlit as st

from lessons.answering import label
from lessons.errors import CorpusError, say
from lessons.feedback import FeedbackRecord, Gap
from lessons.models import Area, Domain, Entry, Kind
from lessons.roles import Action
from lessons.settings import Settings
from lessons.ui import auth
from lessons.ui.render import safe
from lessons.ui.resources import (
    complaint_markdown,
    gap_markdown,
    index_status_cached,
    load_corpus_cached,
    page_start,
    rebuild_button,
    show_built,
    show_gap_log,
    stale_text,
)
from lessons.words import t

__all__ = ["counts", "render"]

CURATOR_ROWS = 20


def counts(entries: Iterable[Entry], vocabulary: str, lang: str) -> dict[str, int]:
    """Entries per kind, area or domain, labelled, in the vocabulary's own order (zeros included).

    An entry with several areas counts once in each.
    """
    tally: Counter[str] = Counter()
    order: list[str]
    for entry in entries:
        if vocabulary == "kind":
            tally[entry.kind.value] += 1
        elif vocabulary == "area":
            tally.update(a.value for a in entry.areas)
        elif vocabulary == "domain" and entry.domain:
            tally[entry.domain.value] += 1
    if vocabulary == "kind":
        order = [k.value for k in Kind]
    elif vocabulary == "area":
        order = [a.value for a in Area]
    elif vocabulary == "domain":
        order = [d.value for d in Domain]
    else:
        raise ValueError(f"unknown vocabulary {vocabulary!r}; use kind, area or domain")
    return {label(vocabulary, value, lang): tally[value] for value in order}


def _chart(title: str, data: dict[str, int], lang: str) -> None:
    """Counts as labelled bars: plain elements, drawn at once (no chart library to load first)."""
    st.markdown(f"**{title}**")
    most = max(data.values(), default=0) or 1
    for name, n in data.items():
        st.progress(n / most, text=t("bar_row", lang, label=safe(name), n=n))


def _index_section(settings: Settings, lang: str) -> None:
    st.subheader(t("index_status", lang))
    status = index_status_cached(settings)
    if status.manifest is None:
        st.warning(t("index_missing", lang, problem=safe(say(status.problem, lang) if status.problem else "?")))
        rebuild_button(settings, lang, "overview_build")
        return
    m = status.manifest
    rows = [
        (t("index_built", lang), m.built_at.replace("T", " ")),
        (t("index_model", lang), m.model),
        (t("index_version", lang), m.version),
        (t("index_size", lang), t("index_counts", lang, entries=m.entry_count, chunks=m.chunk_count)),
    ]
    st.markdown("\n".join(f"- **{name}:** {safe(value)}" for name, value in rows))
    show_built(lang)
    for warning in status.warnings:
        st.warning(safe(say(warning, lang)))
    if status.stale:
        st.warning(t("stale", lang, details=safe(stale_text(status.changes, lang))), icon=":material/warning:")
        rebuild_button(settings, lang, "overview_rebuild")
    else:
        st.success(t("index_fresh", lang), icon=":material/check_circle:")


def _complaint_row(_: int, record: FeedbackRecord) -> None:
    st.markdown(f"- {complaint_markdown(record)}")
    st.caption(safe(", ".join(record.entry_ids)))


def _curator_section(settings: Settings, lang: str) -> None:
    if not auth.this_run().may(Action.SEE_GAPS):  # gaps and feedback comments are for curators
        return

    def gap_row(_: int, gap: Gap) -> None:
        st.markdown(f"- {gap_markdown(gap, lang)}")

    with st.expander(t("curators", lang), icon=":material/rate_review:"):
        show_gap_log(settings, CURATOR_ROWS, lang, gap_row=gap_row, complaint_row=_complaint_row)


def render() -> None:
    """The overview page."""
    lang, settings = page_start("overview_title", "overview_intro")
    holder = st.empty()  # a skeleton while the corpus is read on a first visit, replaced by the counts
    holder.caption(t("loading_page", lang))
    try:
        entries = load_corpus_cached(settings).retrievable()
    except CorpusError as exc:
        holder.error(safe(exc.said(lang)))
        entries = None
    if entries:
        with holder.container():
            st.metric(t("entries_total", lang), len(entries))
            columns = st.columns(3)
            for column, (vocabulary, title) in zip(
                columns, (("kind", "per_kind"), ("area", "per_area"), ("domain", "per_domain")), strict=True
            ):
                with column:
                    _chart(t(title, lang), counts(entries, vocabulary, lang), lang)
    elif entries is not None:
        holder.empty()
    _index_section(settings, lang)
    _curator_section(settings, lang)
