"""The "projects like mine" page: a team describes its project and sees the most similar signature projects."""

from __future__ import annotations

import streamlit as st

from lessons.answering import CardSource, label, legal_note, shorten, source_line
from lessons.errors import QuestionError
from lessons.models import Domain, Entry, Kind
from lessons.similar import SimilarProject, find_similar_projects
from lessons.ui.render import KIND_COLORS, STATUS_COLORS, badges, render_entry_details, safe
from lessons.ui.resources import ensure_searcher, page_start
from lessons.words import t

__all__ = ["WIDGET_KEYS", "render", "render_project"]

DESCRIPTION_KEY = "projects_description"
DOMAIN_KEY = "projects_domain"
RESULTS_KEY = "projects_results"
WIDGET_KEYS: tuple[str, ...] = (DESCRIPTION_KEY, DOMAIN_KEY)
SUMMARY_WORDS = 60


def _source(entry: Entry, lang: str) -> str:
    source = CardSource(report=entry.source.report, section=entry.source.section, page=entry.source.page)
    return f"{t('source', lang)}: {safe(source_line(source, lang))}"


def _facts(project: SimilarProject, lang: str) -> list[str]:
    facts = list(project.organisations)
    main = project.main
    if main.period:
        facts.append(f"{t('period', lang)}: {main.period}")
    if main.grant_mio_kr is not None:
        amount = f"{main.grant_mio_kr:g}" if lang == "en" else f"{main.grant_mio_kr:g}".replace(".", ",")
        facts.append(f"{t('grant', lang)}: {t('mio_kr', lang, amount=amount)}")
    return facts


def render_project(project: SimilarProject, lang: str) -> None:
    """One similar project: what it is, what happened to it, and the lessons attached to it."""
    with st.container(border=True):
        st.markdown(f"**{project.rank}. {safe(project.title)}**")
        items: list[tuple[str, str]] = []
        if project.status:
            items.append((label("status", project.status.value, lang), STATUS_COLORS[project.status]))
        if project.domain:
            items.append((label("domain", project.domain.value, lang), "gray"))
        if project.sector:
            items.append((label("sector", project.sector.value, lang), "gray"))
        if items:
            st.markdown(badges(items))
        facts = _facts(project, lang)
        if facts:
            st.caption(safe(" · ".join(facts)))
        if project.description is not None:
            render_entry_details(project.description, lang, max_words=SUMMARY_WORDS)
        st.markdown(f"**{t('what_happened', lang)}**")
        if project.evaluation is not None:
            st.markdown(badges([(label("kind", Kind.EVALUATION.value, lang), KIND_COLORS[Kind.EVALUATION])]))
            fields = dict(project.evaluation.text_fields())
            for name in ("direct_gains", "ending", "description"):
                if name in fields:
                    text = shorten(fields[name], SUMMARY_WORDS)
                    st.markdown(f"**{safe(label('field', name, lang))}:** {safe(text)}")
                    break
            with st.expander(t("whole_entry", lang), icon=":material/article:"):
                render_entry_details(project.evaluation, lang)
                st.caption(_source(project.evaluation, lang))
        else:
            st.caption(t("ongoing_at_report", lang))
        if not project.lessons:
            st.caption(t("no_lessons", lang))
        else:
            _lessons(project, lang)
        st.caption(_source(project.main, lang))


def _lessons(project: SimilarProject, lang: str) -> None:
    with st.expander(t("lessons", lang, n=len(project.lessons)), icon=":material/lightbulb:"):
        for lesson in project.lessons:
            st.markdown(f"**{safe(lesson.title)}**")
            render_entry_details(lesson, lang)
            st.caption(_source(lesson, lang))
            note = legal_note(lesson.areas, lesson.as_of, lang)
            if note:
                st.caption(f":material/history: {safe(note)}")


def render() -> None:
    """The projects-like-mine page."""
    lang, settings = page_start("projects_title", "projects_intro")
    with st.form("projects_form"):
        st.text_area(
            t("projects_description", lang),
            key=DESCRIPTION_KEY,
            placeholder=t("projects_placeholder", lang),
            max_chars=settings.max_question_chars,
            height=120,
        )
        st.multiselect(
            t("projects_domain", lang),
            list(Domain),
            key=DOMAIN_KEY,
            format_func=lambda value: label("domain", str(value), lang),
            placeholder=t("choose", lang),
            select_all=False,
        )
        submitted = st.form_submit_button(t("projects_submit", lang), icon=":material/search:")
    loaded = ensure_searcher(settings, lang)
    if loaded is None:
        return
    if submitted:
        description = str(st.session_state.get(DESCRIPTION_KEY) or "").strip()
        if not description:
            st.warning(t("projects_empty", lang))
            st.session_state.pop(RESULTS_KEY, None)
            return
        try:
            with st.spinner(t("searching", lang)):
                found = find_similar_projects(
                    loaded.searcher,
                    description,
                    loaded.entries,
                    k=5,
                    domains=st.session_state.get(DOMAIN_KEY) or (),
                )
        except QuestionError as exc:
            st.warning(t("projects_problem", lang, problem=safe(exc.said(lang))))
            return
        st.session_state[RESULTS_KEY] = found
    results: list[SimilarProject] | None = st.session_state.get(RESULTS_KEY)
    if results is None:
        return
    if not results:
        st.info(t("projects_none", lang))
        return
    st.markdown(t("projects_found", lang, n=len(results)))
    for project in results:
        render_project(project, lang)
