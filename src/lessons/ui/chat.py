"""The chat page: questions in, a cited overview and experience cards out, with follow-ups and feedback."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

import streamlit as st

from lessons import answering
from lessons.answering import Answer, escape_markdown, filter_summary, label
from lessons.errors import LessonsError, QuestionError
from lessons.feedback import record_feedback, record_gap
from lessons.models import Area, Domain, Kind, ProjectStatus, Sector
from lessons.roles import Action, allows
from lessons.search import Filters
from lessons.settings import Settings
from lessons.ui import auth
from lessons.ui.render import card_anchor, filters_caption, render_card, render_overview, safe
from lessons.ui.resources import LoadedIndex, current_language, ensure_searcher, get_settings, page_start
from lessons.words import EXAMPLE_QUESTIONS, t

__all__ = ["FILTER_KEYS", "WIDGET_KEYS", "current_filters", "render"]

TURNS_KEY = "turns"
PENDING_KEY = "pending_question"
RATED_KEY = "rated"
FILTER_KEYS: dict[str, tuple[str, type[Kind] | type[Area] | type[Sector] | type[Domain] | type[ProjectStatus]]] = {
    "f_kind": ("kind", Kind),
    "f_area": ("area", Area),
    "f_sector": ("sector", Sector),
    "f_domain": ("domain", Domain),
    "f_status": ("status", ProjectStatus),
}
WIDGET_KEYS: tuple[str, ...] = tuple(FILTER_KEYS)
EXPORT_FILE = "samtale-signaturprojekter.md"


def _turns() -> list[Answer]:
    turns: list[Answer] = st.session_state.setdefault(TURNS_KEY, [])
    return turns


def current_filters() -> Filters:
    """The filters chosen in the sidebar."""
    values = {key: frozenset(st.session_state.get(key) or ()) for key in FILTER_KEYS}
    return Filters(
        kinds=values["f_kind"],
        areas=values["f_area"],
        sectors=values["f_sector"],
        domains=values["f_domain"],
        statuses=values["f_status"],
    )


def _clear_filters() -> None:
    for key in FILTER_KEYS:
        st.session_state[key] = []


def _labeller(vocabulary: str, lang: str) -> Callable[[StrEnum | str], str]:
    def format_value(value: StrEnum | str) -> str:
        return label(vocabulary, str(value), lang)

    return format_value


def _sidebar_filters(lang: str) -> Filters:
    with st.sidebar:
        st.subheader(t("filters", lang), help=t("filters_help", lang))
        for key, (vocabulary, enum) in FILTER_KEYS.items():
            st.multiselect(
                t(f"filter_{vocabulary}", lang),
                list(enum),
                key=key,
                format_func=_labeller(vocabulary, lang),
                placeholder=t("choose", lang),
                select_all=False,
            )
        filters = current_filters()
        if filters.active:
            st.button(t("clear_filters", lang), on_click=_clear_filters, icon=":material/filter_alt_off:")
    return filters


def _ask_later(question: str) -> None:
    st.session_state[PENDING_KEY] = question


def _suggestions(lang: str, key: str) -> None:
    """Example questions, and one question per challenge area, as buttons that ask them."""
    st.markdown(t("covered_topics", lang))
    columns = st.columns(4)
    for i, area in enumerate(Area):
        name = label("area", area, lang)
        question = t("area_question", lang, area=name.lower() if lang == "da" else name)
        columns[i % 4].button(name, key=f"{key}_area_{area.value}", on_click=_ask_later, args=(question,))
    st.markdown(t("example_questions", lang))
    for i, question in enumerate(EXAMPLE_QUESTIONS[lang]):
        st.button(question, key=f"{key}_example_{i}", on_click=_ask_later, args=(question,), type="tertiary")


def _find(answer_id: str) -> Answer | None:
    return next((a for a in _turns() if a.id == answer_id), None)


def _save_feedback(answer_id: str, comment: str | None) -> None:
    answer = _find(answer_id)
    value = st.session_state.get(f"fb_{answer_id}")
    if answer is None or value is None:
        return
    lang = current_language()
    settings = get_settings()
    if settings.reading_requires_sign_in and not _may_read(settings, lang):
        return  # a page left open past sign-out or the idle time: the rerun shows the sign-in form and says why
    try:
        record_feedback(
            settings.data_dir,
            answer_id=answer.id,
            question=answer.question,
            query=answer.query,
            rating=1 if value == 1 else -1,
            comment=comment,
            entry_ids=answer.entry_ids,
            index_version=answer.index_version,
            language=answer.language,
        )
    except LessonsError as exc:
        st.toast(t("feedback_failed", lang, problem=escape_markdown(exc.said(lang))), icon=":material/error:")
        return
    st.session_state.setdefault(RATED_KEY, {})[answer_id] = comment is not None


def _may_read(settings: Settings, lang: str) -> bool:
    """Whether whoever clicked is signed in with a role that reads, checked now (a callback runs before the page
    checks the sign-in again)."""
    actor = auth.current_actor(settings, lang)
    return allows(actor.role if actor is not None else None, Action.READ)


def _on_rating(answer_id: str) -> None:
    _save_feedback(answer_id, None)


def _on_comment(answer_id: str) -> None:
    _save_feedback(answer_id, st.session_state.get(f"fbc_{answer_id}") or "")


def _feedback(answer: Answer, lang: str) -> None:
    st.caption(t("feedback_prompt", lang))
    rating = st.feedback("thumbs", key=f"fb_{answer.id}", on_change=_on_rating, args=(answer.id,))
    if rating is None:
        return
    rated: dict[str, bool] = st.session_state.get(RATED_KEY, {})
    if rated.get(answer.id):
        st.caption(t("feedback_thanks", lang))
        return
    columns = st.columns([4, 1], vertical_alignment="bottom")
    columns[0].text_input(t("feedback_comment", lang), key=f"fbc_{answer.id}", max_chars=2000)
    columns[1].button(t("feedback_send", lang), key=f"fbs_{answer.id}", on_click=_on_comment, args=(answer.id,))


def _render_answer(answer: Answer, lang: str) -> None:
    if answer.followup:
        st.caption(t("followup", lang, query=safe(answer.query)))
    if answer.sector_from_question:
        sectors = ", ".join(label("sector", s.value, lang) for s in sorted(answer.sector_from_question))
        st.caption(t("sector_from_question", lang, sectors=safe(sectors)))
    if answer.kinds_from_question:
        kinds = ", ".join(label("kind", k.value, lang) for k in Kind if k in answer.kinds_from_question)
        st.caption(t("focus_from_question", lang, kinds=safe(kinds)))
    caption = filters_caption(answer, lang)
    if caption:
        st.caption(caption)
    if answer.no_match:
        _render_no_match(answer, lang)
    else:
        if answer.weak:  # the nearest experiences, under a caution and without an overview that reads as an answer
            st.warning(t("weak", lang), icon=":material/help:")
        else:
            render_overview(answer, lang)
        st.markdown(f"**{t('experiences', lang)}**")
        for card in answer.cards:
            quoted = [s.text for s in answer.overview if s.card == card.number]
            render_card(card, lang, anchor=card_anchor(answer.id, card.number), quoted=quoted)
    _feedback(answer, lang)


def _search_without_filters(question: str) -> None:
    _clear_filters()
    _ask_later(question)


def _render_no_match(answer: Answer, lang: str) -> None:
    """The no-match message for its reason: no words, one character, nothing inside the filters, or off-topic."""
    if answer.reason in ("no_words", "too_short"):
        st.info(t(f"no_match_{answer.reason}", lang), icon=":material/edit_note:")
        return
    if answer.reason == "filters":
        st.info(t("no_match_filters", lang), icon=":material/filter_alt_off:")
        st.button(
            t("search_without_filters", lang),
            key=f"unfilter_{answer.id}",
            on_click=_search_without_filters,
            args=(answer.question,),
            icon=":material/search:",
        )
        return
    st.info(t("no_match", lang), icon=":material/search_off:")
    if answer.filters.active:
        st.caption(t("no_match_filtered", lang))
    _suggestions(lang, key=f"s_{answer.id}")


def _render_turn(answer: Answer, lang: str) -> None:
    with st.chat_message("user"):
        st.markdown(safe(answer.question))
    with st.chat_message("assistant"):
        _render_answer(answer, lang)


def _answer(question: str, loaded: LoadedIndex, settings: Settings, filters: Filters, lang: str) -> Answer | None:
    """Answer a question (in the context of the last turn), log it when nothing matches; None on a bad question."""
    turns = _turns()
    with st.spinner(t("searching", lang)):
        try:
            answer = loaded.answerer.answer(
                question,
                entries=loaded.entries,
                filters=filters,
                previous=turns[-1] if turns else None,
                k=settings.top_k,
            )
        except QuestionError as exc:
            st.warning(t("question_problem", lang, problem=safe(exc.said(lang))))
            return None
    if (answer.no_match or answer.weak) and answer.reason not in ("no_words", "too_short"):
        try:
            record_gap(
                settings.data_dir,
                answer.question,
                query=answer.query,
                language=answer.language,
                filters=answer.filters.describe(),
                index_version=answer.index_version,
                state=answer.confidence.value,
            )
        except LessonsError as exc:
            st.toast(t("gap_failed", lang, problem=safe(exc.said(lang))), icon=":material/error:")
    return answer


def _new_conversation() -> None:
    st.session_state[TURNS_KEY] = []
    st.session_state.pop(RATED_KEY, None)


def _sidebar_conversation(lang: str) -> None:
    turns = _turns()
    if not turns:
        return
    with st.sidebar:
        st.divider()
        st.download_button(
            t("export", lang),
            data=answering.export_markdown(turns, lang),
            file_name=EXPORT_FILE,
            mime="text/markdown",
            icon=":material/download:",
            on_click="ignore",
        )
        st.button(t("new_conversation", lang), on_click=_new_conversation, icon=":material/add_comment:")


def render() -> None:
    """The chat page."""
    lang, settings = page_start("app_title", "chat_intro")
    filters = _sidebar_filters(lang)
    if filters.active:
        st.caption(t("active_filters", lang, filters=safe(", ".join(filter_summary(filters, lang)))))
    prompt: Any = st.chat_input(t("chat_placeholder", lang), key="chat_input", max_chars=settings.max_question_chars)
    if prompt:
        _ask_later(str(prompt))
    notices = st.container()  # index notices and loading progress go above the conversation
    turns = _turns()
    for answer in turns:
        _render_turn(answer, lang)
    question = st.session_state.get(PENDING_KEY)
    if question:  # echoed at once, even while the model is still loading
        with st.chat_message("user"):
            st.markdown(safe(question))
        reply = st.chat_message("assistant")
        with notices:
            loaded = ensure_searcher(settings, lang, progress_area=reply)
        if loaded is None:
            reply.caption(t("question_waiting", lang))
            _sidebar_conversation(lang)
            st.stop()
        st.session_state.pop(PENDING_KEY, None)
        with reply:
            new = _answer(question, loaded, settings, filters, lang)
        if new is not None:
            turns.append(new)
            st.rerun()
        _sidebar_conversation(lang)
        return
    with notices:
        loaded = ensure_searcher(settings, lang)
    if loaded is None:
        st.stop()
    if not turns:
        st.markdown(t("try_asking", lang))
        _suggestions(lang, key="start")
    _sidebar_conversation(lang)
