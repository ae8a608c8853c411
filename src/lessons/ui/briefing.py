"""The "Projektbriefing" page: a team describes a project that has not started and gets the lessons that apply.

The form (or an uploaded profile YAML) is validated by the same model as the CLI's
profile file; the briefing is drawn from the loaded index and corpus, shown on screen,
and offered as Markdown and PDF. What the corpus lacks for the profile is logged as gaps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import TypedDict

import streamlit as st

from lessons.briefing.generate import Briefing, generate_briefing, log_gaps
from lessons.briefing.layout import Heading, Notice, sections
from lessons.briefing.profile import (
    MAX_PROFILE_BYTES,
    DataKind,
    Phase,
    ProfileError,
    ProfileSector,
    ProjectProfile,
    parse_profile,
    validate_profile,
)
from lessons.briefing.render_md import blocks_markdown, render_markdown
from lessons.briefing.rules import RulesError, RuleSet, check_rules, load_rules
from lessons.errors import LessonsError, QuestionError
from lessons.models import Domain, Entry
from lessons.search import Searcher
from lessons.ui.render import safe
from lessons.ui.resources import ensure_searcher, page_start
from lessons.ui.uploads import file_uploader
from lessons.words import label, t

__all__ = ["WIDGET_KEYS", "render"]

TITLE_KEY = "brief_title"
DESCRIPTION_KEY = "brief_description"
SECTOR_KEY = "brief_sector"
DOMAIN_KEY = "brief_domain"
DATA_KEY = "brief_data"
DECISION_KEY = "brief_decision_support"
CITIZEN_KEY = "brief_citizen_facing"
PHASE_KEY = "brief_phase"
VENDOR_KEY = "brief_vendor"
UPLOAD_KEY = "brief_upload"
RESULT_KEY = "brief_result"
PDF_KEY = "brief_pdf"
WIDGET_KEYS: tuple[str, ...] = (
    TITLE_KEY,
    DESCRIPTION_KEY,
    SECTOR_KEY,
    DOMAIN_KEY,
    DATA_KEY,
    DECISION_KEY,
    CITIZEN_KEY,
    PHASE_KEY,
    VENDOR_KEY,
)


@st.cache_resource(show_spinner=False, max_entries=1)
def _rules() -> RuleSet:
    """The shipped rules, parsed once per process."""
    return load_rules()


def _problems(exc: ProfileError | RulesError, lang: str) -> str:
    lines = [t("brief_form_problem", lang)]
    lines += [f"- {safe(p.where())}: {safe(p.describe(lang))}" for p in exc.problems]
    return "\n".join(lines)


class _Choices(TypedDict):
    options: list[str]
    format_func: Callable[[str], str]


def _choices(values: Iterable[StrEnum], vocabulary: str, lang: str) -> _Choices:
    """A vocabulary's values as a select box's options, shown by their labels."""
    return {"options": [v.value for v in values], "format_func": lambda v: label(vocabulary, v, lang)}


def _form(lang: str) -> dict[str, object] | None:
    """The profile form; the raw values when submitted, else None."""
    with st.form("brief_form"):
        st.text_input(t("brief_form_title", lang), key=TITLE_KEY, max_chars=200)
        st.text_area(
            t("brief_form_description", lang),
            key=DESCRIPTION_KEY,
            max_chars=2000,
            height=110,
            placeholder=t("brief_form_description_placeholder", lang),
        )
        left, right = st.columns(2)
        left.selectbox(t("brief_form_sector", lang), key=SECTOR_KEY, **_choices(ProfileSector, "profile_sector", lang))
        right.selectbox(t("brief_form_domain", lang), key=DOMAIN_KEY, **_choices(Domain, "domain", lang))
        st.multiselect(
            t("brief_form_data", lang),
            key=DATA_KEY,
            placeholder=t("choose", lang),
            select_all=False,
            **_choices(DataKind, "data_kind", lang),
        )
        left, right = st.columns(2)
        left.selectbox(t("brief_form_phase", lang), key=PHASE_KEY, **_choices(Phase, "phase", lang))
        with right:
            st.checkbox(t("brief_form_decision_support", lang), key=DECISION_KEY)
            st.checkbox(t("brief_form_citizen_facing", lang), key=CITIZEN_KEY)
            st.checkbox(t("brief_form_vendor", lang), key=VENDOR_KEY)
        if not st.form_submit_button(t("brief_form_submit", lang), icon=":material/assignment:"):
            return None
    state = st.session_state
    return {
        "title": str(state.get(TITLE_KEY) or "").strip() or None,
        "description": str(state.get(DESCRIPTION_KEY) or "").strip() or None,
        "sector": state.get(SECTOR_KEY),
        "domain": state.get(DOMAIN_KEY),
        "data": list(state.get(DATA_KEY) or []),
        "decision_support": bool(state.get(DECISION_KEY)),
        "citizen_facing": bool(state.get(CITIZEN_KEY)),
        "phase": state.get(PHASE_KEY),
        "vendor": bool(state.get(VENDOR_KEY)),
    }


def _uploaded(lang: str) -> ProjectProfile | None:
    """A profile from an uploaded YAML file, when one is given and valid (problems are shown)."""
    upload = file_uploader(
        t("brief_form_upload", lang), key=UPLOAD_KEY, lang=lang, max_bytes=MAX_PROFILE_BYTES, types=["yaml", "yml"]
    )
    if upload is None:
        return None
    if upload.size > MAX_PROFILE_BYTES:
        sizes = {"size": f"{upload.size:,}", "limit": f"{MAX_PROFILE_BYTES:,}"}
        if lang == "da":
            sizes = {key: value.replace(",", ".") for key, value in sizes.items()}
        st.error(safe(t("brief_form_too_large", lang, name=upload.name, **sizes)))
        return None
    try:
        profile = parse_profile(upload.getvalue(), upload.name)
    except ProfileError as exc:
        st.error(_problems(exc, lang))
        return None
    if st.button(t("brief_form_submit", lang) + f": {profile.title}", key="brief_from_file"):
        return profile
    return None


def _make(profile: ProjectProfile, searcher: Searcher, entries: dict[str, Entry], data_dir: Path, lang: str) -> None:
    try:
        rules = _rules()
    except RulesError as exc:
        st.error(t("brief_rules_problem", lang, problem=safe(exc.said(lang))))
        return
    problems = check_rules(rules, entries)
    if problems:  # entries retired since the rules were written: the briefing skips them
        st.caption(
            t(
                "brief_rules_problem",
                lang,
                problem=safe("; ".join(f"{p.where()}: {p.describe(lang)}" for p in problems[:3])),
            )
        )
    try:
        with st.spinner(t("brief_making", lang)):
            briefing = generate_briefing(profile, searcher, entries, rules)
    except QuestionError as exc:
        st.warning(t("question_problem", lang, problem=safe(exc.said(lang))))
        return
    logged = False
    if briefing.gaps:
        try:
            log_gaps(data_dir, briefing)
            logged = True
        except LessonsError as exc:
            st.warning(t("brief_gap_log_failed", lang, problem=safe(exc.said(lang))))
    st.session_state[RESULT_KEY] = (briefing, logged)
    st.session_state.pop(PDF_KEY, None)


def _pdf(briefing: Briefing, logged: bool, lang: str) -> bytes:
    """The briefing's PDF, made once per briefing and language (reruns of the page reuse it)."""
    cache: dict[str, bytes] = st.session_state.setdefault(PDF_KEY, {})  # emptied when a new briefing is made
    if lang not in cache:
        from lessons.briefing.render_pdf import render_pdf  # reportlab: loaded when a PDF is made, not at start

        cache[lang] = render_pdf(briefing, lang, gaps_logged=logged)
    return cache[lang]


def _show(briefing: Briefing, logged: bool, lang: str) -> None:
    """The briefing on screen, section by section, with the downloads."""
    name = "".join(ch if ch.isalnum() else "-" for ch in briefing.profile.title.lower()).strip("-")[:60] or "briefing"
    left, right = st.columns(2)
    left.download_button(
        t("brief_download_md", lang),
        render_markdown(briefing, lang, gaps_logged=logged),
        file_name=f"briefing-{name}.md",
        mime="text/markdown",
        icon=":material/download:",
    )
    try:
        pdf = _pdf(briefing, logged, lang)
    except Exception as exc:  # ReportLab layout failures must not take the page down
        said = exc.said(lang) if isinstance(exc, LessonsError) else t("in_english", lang, message=str(exc))
        right.warning(t("brief_pdf_failed", lang, problem=safe(said)))
    else:
        right.download_button(
            t("brief_download_pdf", lang),
            pdf,
            file_name=f"briefing-{name}.pdf",
            mime="application/pdf",
            icon=":material/picture_as_pdf:",
        )
    for section, blocks in sections(briefing, lang, gaps_logged=logged).items():
        notices = [b for b in blocks if isinstance(b, Notice)]
        rest = [b for b in blocks if not isinstance(b, Notice)] if section == "header" else blocks
        with st.container(border=section not in ("header", "sources")):
            if section == "header":
                heading = rest[0]
                if isinstance(heading, Heading):
                    st.subheader(safe(heading.text))
                    rest = rest[1:]
                for notice in notices:
                    st.warning(safe(notice.text), icon=":material/history:")
            if section == "gaps" and briefing.gaps:
                st.info(blocks_markdown(rest), icon=":material/search_off:")
            elif section == "sources":
                with st.expander(t("brief_sources", lang), icon=":material/menu_book:"):
                    st.markdown(blocks_markdown(rest[1:]))
            else:
                st.markdown(blocks_markdown(rest))


def render() -> None:
    """The briefing page."""
    lang, settings = page_start("brief_nav", "brief_page_intro")
    raw = _form(lang)
    from_file = _uploaded(lang)
    profile: ProjectProfile | None = from_file
    if raw is not None:
        try:
            profile = validate_profile({k: v for k, v in raw.items() if v is not None}, t("brief_nav", lang))
        except ProfileError as exc:
            st.error(_problems(exc, lang))
            st.session_state.pop(RESULT_KEY, None)
            return
    loaded = ensure_searcher(settings, lang, announce_stale=False)
    if loaded is None:
        return
    if profile is not None:
        _make(profile, loaded.searcher, loaded.entries, settings.data_dir, lang)
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        briefing, logged = result
        _show(briefing, logged, lang)
