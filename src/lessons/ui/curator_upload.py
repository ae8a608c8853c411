"""The curator page's upload section: a report becomes drafts, and the page says what was added, what was
skipped and why, in the interface language (the uploader itself in our words too, see :mod:`lessons.ui.uploads`)."""

from __future__ import annotations

import streamlit as st

from lessons import workflow
from lessons.errors import LessonsError, size_text
from lessons.ingest import SUPPORTED, IngestLimits
from lessons.ingest.saving import IngestResult, SkipCause, Skipped
from lessons.settings import Settings
from lessons.ui import auth
from lessons.ui.render import safe
from lessons.ui.uploads import file_uploader
from lessons.words import label, t

__all__ = ["UPLOAD_KEY", "percent", "render_ingest", "skip_reason"]

UPLOAD_KEY = "cur_upload"
RESULT_KEY = "cur_ingest_result"  # an ingest's result, kept for the redraw after it saved drafts
KNOWN = frozenset(
    {SkipCause.ALREADY_INGESTED, SkipCause.ALREADY_INGESTED_MEANWHILE, SkipCause.REPEAT, SkipCause.REPEAT_MEANWHILE}
)


def percent(share: float, lang: str) -> str:
    """A share as the language writes a percentage: '73 %' in Danish, '73%' in English."""
    return f"{share * 100:.0f} %" if lang == "da" else f"{share:.0%}"


def skip_reason(skipped: Skipped, lang: str) -> str:
    """Why a recognised entry was skipped, in the interface language."""
    return skipped.describe(lang, share=percent(skipped.share or 0.0, lang))


def render_ingest(settings: Settings, lang: str, limits: IngestLimits | None = None) -> None:
    """The upload form; on 'Ingest' the report's drafts, what was skipped and why, or why nothing was found."""
    limits = limits or IngestLimits()
    upload = file_uploader(
        t("cur_upload", lang),
        key=UPLOAD_KEY,
        lang=lang,
        max_bytes=limits.max_bytes,
        types=list(SUPPORTED),
        help_text=t("cur_upload_help", lang, limit=size_text(limits.max_bytes, lang)),
    )
    report = st.text_input(t("cur_report_name", lang), key="cur_report_name")
    dry_run = st.checkbox(t("cur_dry_run", lang), key="cur_dry_run")
    kept = st.session_state.pop(RESULT_KEY, None)
    if not st.button(t("cur_ingest", lang), key="cur_ingest", type="primary", icon=":material/upload_file:"):
        if kept is not None:  # the result of the ingest before the redraw that counted its drafts
            _show_result(kept[0], kept[1], lang, dry_run=False)
        return
    actor = auth.current_actor(settings, lang)  # checked again now, not taken from what the page showed
    if upload is None:
        st.warning(t("cur_no_file", lang))
        return
    try:
        with st.spinner(t("cur_ingesting", lang)):
            result = workflow.ingest(
                settings,
                actor,
                upload.getvalue(),
                upload.name,
                report=report.strip() or None,
                limits=limits,
                dry_run=dry_run,
            )
    except LessonsError as exc:
        st.error(auth.failure_message(exc, lang, "cur_ingest_failed"))
        return
    if result.created and not dry_run:  # redraw the whole page, so the section list counts the new drafts
        st.session_state[RESULT_KEY] = (result, upload.name)
        st.rerun()
    _show_result(result, upload.name, lang, dry_run)


def _show_result(result: IngestResult, name: str, lang: str, dry_run: bool) -> None:
    kinds = ", ".join(f"{n} {label('kind', k, lang)}" for k, n in sorted(result.counts().items())) or "–"
    verb = t("cur_would_add" if dry_run else "cur_added", lang)
    (st.success if result.created else st.caption)(
        t(
            "cur_ingested",
            lang,
            name=safe(name),
            verb=verb,
            n=len(result.created),
            kinds=safe(kinds),
            skipped=len(result.skipped),
            why=f" ({safe(result.skip_summary(lang))})" if result.skipped else "",
        )
    )
    for entry in result.created:
        page = f" · {t('page', lang)} {entry.source.page}" if entry.source.page else ""
        st.markdown(f"- {safe(label('kind', entry.kind.value, lang))}{page}: **{safe(entry.title)}**")
    if not result.created:  # say why, and show what the parser recognises
        if not result.skipped:
            st.warning(t("cur_nothing_found", lang, name=safe(name), pages=result.pages))
        elif all(s.cause in KNOWN for s in result.skipped):
            st.info(t("cur_all_known", lang, name=safe(name), n=len(result.skipped)))
        else:
            st.warning(t("cur_all_skipped", lang, name=safe(name), n=len(result.skipped)))
    if result.skipped:
        with st.expander(t("cur_skipped_list", lang, n=len(result.skipped)), expanded=not result.created):
            for skipped in result.skipped:
                page = f" · {t('page', lang)} {skipped.page}" if skipped.page else ""
                st.markdown(f"- **{safe(skipped.title)}**{page}: {safe(skip_reason(skipped, lang))}")
    if not result.created:
        st.markdown(t("cur_expected_shape", lang))
        st.code(t("cur_example_report", lang), language=None, wrap_lines=True)
