"""What the pages share: settings, language, and the model and index loaded once per index version.

The model is cached with ``st.cache_resource`` per model setting; the searcher per
index version (``CURRENT``), so a rebuild by the CLI or another session is picked
up on the next interaction without a restart. A missing index is built on first
start with a progress bar; a stale one is announced with a rebuild button.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from lessons import embedding, engine
from lessons.answering import escape_markdown
from lessons.build import build_index
from lessons.corpus import Corpus, load_corpus
from lessons.embedding import Embedder
from lessons.engine import IndexStatus
from lessons.errors import CorpusError, LessonsError, ModelNotFoundError
from lessons.models import Entry
from lessons.search import Searcher
from lessons.settings import Settings
from lessons.settings import load as load_settings
from lessons.store import read_current
from lessons.words import t

__all__ = [
    "LoadedIndex",
    "build_with_progress",
    "corpus_signature",
    "current_language",
    "ensure_searcher",
    "get_settings",
    "index_status_cached",
    "keep_widget_state",
    "language_switch",
    "load_corpus_cached",
    "settings_or_stop",
]

LANG_KEY = "lang_en"
VERSION_KEY = "index_version"


def current_language() -> str:
    """'en' when the English switch is on, else 'da'."""
    return "en" if st.session_state.get(LANG_KEY) else "da"


def _language_changed() -> None:
    if st.session_state.get(LANG_KEY):
        st.query_params["lang"] = "en"
    else:
        st.query_params.pop("lang", None)


def language_switch() -> str:
    """The sidebar's English switch; the choice is kept in the URL (?lang=en) so a reload keeps it."""
    if LANG_KEY not in st.session_state:
        st.session_state[LANG_KEY] = st.query_params.get("lang") == "en"
    st.sidebar.toggle(
        "English",
        key=LANG_KEY,
        on_change=_language_changed,
        help="Skift grænsefladen til engelsk / switch the interface to English",
    )
    return current_language()


def keep_widget_state(keys: Iterable[str]) -> None:
    """Keep widget values alive while their page is not shown (Streamlit drops unrendered widgets' state)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def get_settings() -> Settings:
    """Settings from the LESSONS_* environment; raises LessonsError naming a bad value."""
    return load_settings()


def settings_or_stop(lang: str) -> Settings:
    """The settings; on a bad LESSONS_* value, show what is wrong and stop the page."""
    try:
        return get_settings()
    except LessonsError as exc:
        st.error(t("settings_problem", lang, problem=escape_markdown(str(exc))))
        st.stop()
    raise AssertionError("unreachable")  # pragma: no cover - st.stop() raises


def _key(settings: Settings) -> str:
    return settings.model_dump_json()


def corpus_signature(corpus_dir: Path) -> str:
    """A cheap fingerprint of the corpus files (count, sizes, newest change), to notice edits."""
    count = size = newest = 0
    for root, _dirs, files in os.walk(corpus_dir / "entries"):
        for name in files:
            try:
                stat = (Path(root) / name).stat()
            except OSError:
                continue
            count += 1
            size += stat.st_size
            newest = max(newest, stat.st_mtime_ns)
    return f"{count}:{size}:{newest}"


@dataclass
class LoadedIndex:
    """A searcher for one index version, with the corpus entries its cards are drawn from."""

    searcher: Searcher
    entries: dict[str, Entry]
    warnings: list[str] = field(default_factory=list)
    corpus_problem: str | None = None

    @property
    def version(self) -> str:
        """The index version answering."""
        return self.searcher.version


@st.cache_resource(show_spinner=False, max_entries=2)
def _embedder(settings_key: str, _settings: Settings) -> Embedder:
    """The embedding model, loaded once per process and model setting."""
    return embedding.load_embedder(_settings)


@st.cache_resource(show_spinner=False, max_entries=2)
def _loaded(settings_key: str, version: str | None, _settings: Settings) -> LoadedIndex:
    """The searcher for one index version (CURRENT), loaded once per process."""
    embedder = _embedder(settings_key, _settings)
    searcher, warnings = engine.open_searcher(_settings, embedder)
    entries: dict[str, Entry] = {}
    problem = None
    try:
        entries = {e.id: e for e in load_corpus(_settings.corpus_dir).retrievable()}
    except CorpusError as exc:
        problem = f"{len(exc.problems)} problem(s), e.g. {exc.problems[0] if exc.problems else '?'}"
    return LoadedIndex(searcher=searcher, entries=entries, warnings=warnings, corpus_problem=problem)


@st.cache_resource(show_spinner=False, max_entries=8)
def _status(settings_key: str, version: str | None, signature: str, _settings: Settings) -> IndexStatus:
    return engine.index_status(_settings)


def index_status_cached(settings: Settings) -> IndexStatus:
    """engine.index_status, recomputed only when CURRENT or the corpus files change."""
    return _status(_key(settings), read_current(settings.index_dir), corpus_signature(settings.corpus_dir), settings)


@st.cache_resource(show_spinner=False, max_entries=4)
def _corpus(corpus_dir: str, signature: str) -> Corpus:
    return load_corpus(Path(corpus_dir))


def load_corpus_cached(settings: Settings) -> Corpus:
    """The corpus, reloaded when its files change. Raises CorpusError."""
    return _corpus(str(settings.corpus_dir), corpus_signature(settings.corpus_dir))


def build_with_progress(settings: Settings, lang: str) -> bool:
    """Build a new index version with a progress bar; True on success (errors are shown)."""
    try:
        with st.spinner(t("loading_model", lang)):
            embedder = _embedder(_key(settings), settings)
        bar = st.progress(0.0, text=t("building", lang))
        weights = {"chunk": (0.0, 0.05), "embed": (0.05, 0.95), "write": (0.95, 1.0)}

        def progress(phase: str, done: int, total: int) -> None:
            start, end = weights.get(phase, (0.0, 1.0))
            share = done / total if total else 1.0
            value = min(1.0, start + (end - start) * share)
            bar.progress(value, text=f"{t('building', lang)}: {t('phase_' + phase, lang)} ({done}/{total})")

        report = build_index(settings, embedder, progress=progress)
    except LessonsError as exc:
        st.error(t("build_failed", lang, problem=escape_markdown(str(exc))))
        return False
    bar.empty()
    st.success(t("built", lang, version=escape_markdown(report.manifest.version)))
    return True


def _rebuild_button(settings: Settings, lang: str, key: str) -> None:
    if st.button(t("rebuild", lang), key=key, icon=":material/refresh:") and build_with_progress(settings, lang):
        st.rerun()


def ensure_searcher(settings: Settings, lang: str, *, announce_stale: bool = True) -> LoadedIndex | None:
    """The searcher for the current index, building a missing index first.

    Shows what goes wrong (no model, unusable index) with the fix, and returns None
    then; the caller stops the page.
    """
    status = index_status_cached(settings)
    if not status.exists:
        st.info(t("no_index", lang))
        if build_with_progress(settings, lang):
            st.rerun()
        return None
    version = read_current(settings.index_dir)
    try:
        with st.spinner(t("loading_model", lang)):
            loaded = _loaded(_key(settings), version, settings)
    except ModelNotFoundError as exc:
        st.error(t("model_problem", lang, problem=escape_markdown(str(exc))))
        return None
    except LessonsError as exc:  # IndexUnusableError: damaged, or built with another model
        st.error(t("index_problem", lang, problem=escape_markdown(str(exc))))
        _rebuild_button(settings, lang, "rebuild_unusable")
        return None
    previous = st.session_state.get(VERSION_KEY)
    if previous is not None and previous != loaded.version:
        st.toast(t("new_version", lang, version=escape_markdown(loaded.version)), icon=":material/update:")
    st.session_state[VERSION_KEY] = loaded.version
    if announce_stale and status.stale:
        st.warning(t("stale", lang, details=escape_markdown("; ".join(status.differences))), icon=":material/warning:")
        _rebuild_button(settings, lang, "rebuild_stale")
    if loaded.corpus_problem:
        st.warning(t("corpus_problem", lang, problem=escape_markdown(loaded.corpus_problem)))
    return loaded
