"""The curator page: add, review, edit and retire entries, ingest a report, and work through the gap log.

Everything goes through :mod:`lessons.curation` and :mod:`lessons.ingest`, the same
code as the CLI. Saving happens in button callbacks (before the rerun), so a
saved form can be cleared and a gap can prefill the form. All corpus and user
text is shown through :func:`~lessons.ui.render.safe`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lessons import audit, workflow
from lessons.corpus import Corpus
from lessons.curation import (
    CurationProblemsError,
    EntryError,
    FieldChange,
    FourEyesError,
    Match,
    NearDuplicateError,
    RevisionError,
    Thresholds,
    awaiting_review,
    closest_entries,
    prepare_entry,
    revision_changes,
)
from lessons.errors import LessonsError, ProblemsError
from lessons.feedback import FeedbackRecord, Gap
from lessons.models import KIND_FIELDS, Area, Domain, Entry, Kind, ReviewState, Sector
from lessons.roles import Action, Actor, PermissionDeniedError, person, require
from lessons.settings import Settings
from lessons.ui import auth
from lessons.ui.accounts_page import render_accounts
from lessons.ui.curator_upload import percent, render_ingest
from lessons.ui.render import KIND_COLORS, badges, render_entry_details, safe, say_later, show_said
from lessons.ui.resources import (
    complaint_markdown,
    current_language,
    gap_markdown,
    index_status_cached,
    load_corpus_cached,
    rebuild_button,
    settings_or_stop,
    show_built,
    show_gap_log,
    stale_text,
)
from lessons.words import label, t

__all__ = ["WIDGET_KEYS", "error_text", "form_values_to_raw", "match_reason", "nav_title", "render", "usual_kind"]

SECTION_KEY = "cur_section"
CONFIRM_KEY = "cur_confirm"
MESSAGE_KEY = "cur_message"
EDIT_KEY = "cur_edit_id"
PREFILLED_KEY = "cur_prefilled"  # what a gap put in the add form (replaced by the next gap unless changed)
GAP_ROWS = 30
DEFAULT_KIND = Kind.HANDLING  # what most additions are, until curators' own additions say otherwise
SECTIONS = ("add", "drafts", "edit", "ingest", "gaps")
EDITOR_SECTIONS = ("audit",)
ADMIN_SECTIONS = ("accounts",)
AUDIT_ROWS = 200
TEXT_FIELDS = tuple(dict.fromkeys(name for required, optional in KIND_FIELDS.values() for name in required + optional))
FORM_KEYS: dict[str, str] = {
    "kind": "cur_kind",
    "title": "cur_title",
    "areas": "cur_areas",
    "sector": "cur_sector",
    "domain": "cur_domain",
    "project": "cur_project",
    "organisations": "cur_orgs",
    **{name: f"cur_f_{name}" for name in TEXT_FIELDS},
    "source.report": "cur_src_report",
    "source.section": "cur_src_section",
    "source.page": "cur_src_page",
    "superseded_by": "cur_superseded_by",
}
WIDGET_KEYS: tuple[str, ...] = (SECTION_KEY, *FORM_KEYS.values())


def nav_title(lang: str) -> str:
    """The page's title in the navigation."""
    return t("cur_nav", lang)


# --- form values <-> entry fields -------------------------------------------------------------------


def form_values_to_raw(values: Mapping[str, Any]) -> dict[str, Any]:
    """Entry fields from the form's values (keys as in FORM_KEYS); empty values are left out.

    Only the text fields of the chosen kind are taken, so text typed for another
    kind does not make the entry invalid.
    """
    raw: dict[str, Any] = {}
    kind = values.get("kind")
    if kind:
        raw["kind"] = kind
    for name in ("title", "project", "sector", "domain"):
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            raw[name] = value.strip()
    if values.get("areas"):
        raw["areas"] = list(values["areas"])
    orgs = [part.strip() for part in str(values.get("organisations") or "").split(",") if part.strip()]
    if orgs:
        raw["organisations"] = orgs
    required, optional = KIND_FIELDS[Kind(kind)] if kind in {k.value for k in Kind} else ((), ())
    for name in required + optional:
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            raw[name] = value
    source: dict[str, Any] = {}
    for key in ("report", "section"):
        value = values.get(f"source.{key}")
        if isinstance(value, str) and value.strip():
            source[key] = value.strip()
    page = values.get("source.page")
    if page:
        source["page"] = int(page)
    if source:
        raw["source"] = source
    return raw


def _form_values() -> dict[str, Any]:
    return {field: st.session_state.get(key) for field, key in FORM_KEYS.items()}


def _clear_form() -> None:
    """Empty the add form, keeping the chosen kind (the next entry is most likely of the same kind)."""
    for name, key in FORM_KEYS.items():
        if name != "kind":
            st.session_state.pop(key, None)
    st.session_state.pop(CONFIRM_KEY, None)
    st.session_state.pop(PREFILLED_KEY, None)


def usual_kind(entries: Iterable[Entry]) -> str:
    """The kind curators add most often by hand (not by ingesting a report); handling examples when none yet."""
    tally = Counter(e.kind.value for e in entries if e.created_by and e.history and "ingested from" not in e.history[0])
    return tally.most_common(1)[0][0] if tally else DEFAULT_KIND.value


def match_reason(match: Match, lang: str, limits: Thresholds | None = None) -> str:
    """Why an existing entry looks like the new one, in the interface language (mirrors curation's judgement)."""
    limits = limits or Thresholds()
    if match.near_duplicate:
        if match.jaccard >= limits.jaccard:
            return t("reason_shared", lang, share=percent(match.jaccard, lang))
        if match.contained >= limits.contained:
            return t("reason_contained", lang, share=percent(match.contained, lang))
        if match.covers >= limits.covers:
            return t("reason_covers", lang, share=percent(match.covers, lang))
        if match.dense is not None:
            cosine = f"{match.dense:.3f}" if lang == "en" else f"{match.dense:.3f}".replace(".", ",")
            return t("reason_meaning", lang, cosine=cosine)
    share = max(match.jaccard, match.contained, match.covers)
    return t("reason_overlap", lang, share=percent(share, lang))


def _say(kind: str, text: str) -> None:
    """Show a message on the next run (callbacks cannot draw)."""
    say_later(MESSAGE_KEY, kind, text)


def _actor(settings: Settings, lang: str) -> Actor | None:
    """Who is acting, checked again now (inside the handler, not from what the page showed)."""
    return auth.current_actor(settings, lang)


def _refused(exc: LessonsError, lang: str) -> bool:
    """Say why an action was refused by role or four-eyes; False for other errors."""
    if isinstance(exc, PermissionDeniedError):
        _say("error", auth.denied_message(exc, lang))
        return True
    if isinstance(exc, FourEyesError):
        _say("error", t("auth_four_eyes", lang))
        return True
    return False


def _problems(exc: EntryError, lang: str) -> str:
    """Why an entry cannot be saved, one line per problem, in the words the ingest's skip reasons use
    (:meth:`~lessons.errors.Problem.describe`: which field, what is wrong, in ``lang``)."""
    lines = [t("cur_problems", lang)]
    lines += dict.fromkeys(f"- {safe(problem.describe(lang))}" for problem in exc.problems)  # once each
    return "\n".join(lines)


def error_text(exc: LessonsError, lang: str) -> str:
    """A domain error as the page shows it, in ``lang`` and made literal: a list of problems (a corpus that does
    not validate, a revision that no longer applies) as a list, each problem after its file and field."""
    if not isinstance(exc, ProblemsError | CurationProblemsError):
        return safe(exc.said(lang))
    lines = [safe(exc.head(lang))]
    lines += [f"- {safe(p.where())}: {safe(p.describe(lang))}" for p in exc.problems]
    tail = exc.tail(lang) if isinstance(exc, CurationProblemsError) else ""
    return "\n".join(lines) + (f"\n\n{safe(tail)}" if tail else "")


# --- callbacks (run before the rerun) ---------------------------------------------------------------


def _succeeded(action: Callable[[], object], lang: str) -> bool:
    """Run a curator action; on a domain error, show it (an entry's problems as a list) and say False."""
    try:
        action()
    except EntryError as exc:
        _say("error", _problems(exc, lang))
        return False
    except LessonsError as exc:
        if not _refused(exc, lang):
            _say("error", error_text(exc, lang))
        return False
    return True


def _save_new(settings: Settings, lang: str) -> None:
    actor = _actor(settings, lang)
    raw = form_values_to_raw(_form_values())
    try:
        entry, _ = workflow.add(settings, actor, raw, force=bool(st.session_state.get(CONFIRM_KEY)))
    except EntryError as exc:
        _say("error", _problems(exc, lang))
        return
    except NearDuplicateError as exc:
        ids = ", ".join(m.entry.id for m in exc.matches)
        _say("warning", t("cur_near_refused", lang, ids=safe(ids)))
        return
    except LessonsError as exc:
        if not _refused(exc, lang):
            _say("error", error_text(exc, lang))
        return
    _clear_form()
    _say("success", t("cur_saved", lang, id=safe(entry.id)))


def _approve(settings: Settings, lang: str, entry_id: str) -> None:
    actor = _actor(settings, lang)
    if _succeeded(lambda: workflow.approve(settings, actor, entry_id), lang):
        _say("success", t("cur_approved", lang, id=safe(entry_id)))


def _withdraw(settings: Settings, lang: str, entry_id: str, reason_key: str) -> None:
    actor = _actor(settings, lang)
    reason = str(st.session_state.get(reason_key) or "") or None
    if not _succeeded(lambda: workflow.withdraw(settings, actor, entry_id, reason=reason), lang):
        return
    st.session_state.pop(reason_key, None)
    for key in _edit_keys(entry_id).values():  # the edit form shows the approved text again
        st.session_state.pop(key, None)
    _say("success", t("rev_withdrawn", lang, id=safe(entry_id)))


def _retire(settings: Settings, lang: str, entry_id: str, reason_key: str) -> None:
    actor = _actor(settings, lang)
    reason = str(st.session_state.get(reason_key) or "")
    if not _succeeded(lambda: workflow.retire(settings, actor, entry_id, reason=reason), lang):
        return
    st.session_state.pop(reason_key, None)
    _say("success", t("cur_retired", lang, id=safe(entry_id)))


def _open_edit(entry_id: str) -> None:
    st.session_state[SECTION_KEY] = "edit"
    st.session_state[EDIT_KEY] = entry_id


def _unsaved_typing() -> bool:
    """Whether the add form holds something the curator typed (beyond the kind and what a gap prefilled)."""
    prefilled = st.session_state.get(PREFILLED_KEY) or {}
    return any(
        value not in (None, "", []) and value != prefilled.get(key)
        for name, key in FORM_KEYS.items()
        if name != "kind" and (value := st.session_state.get(key)) is not None
    )


def _prefill(question: str, lang: str) -> None:
    """Start a new entry from a gap's question; never over what the curator has typed and not saved."""
    st.session_state[SECTION_KEY] = "add"
    if _unsaved_typing():
        _say("warning", t("cur_form_in_use", lang))
        return
    _clear_form()
    st.session_state[FORM_KEYS["kind"]] = Kind.HANDLING.value
    prefilled = {FORM_KEYS["title"]: question[:300], FORM_KEYS["challenge"]: question}
    st.session_state.update(prefilled)
    st.session_state[PREFILLED_KEY] = prefilled
    _say("info", t("cur_started", lang))


# --- sections ----------------------------------------------------------------------------------


def _optional_select(label_text: str, values: list[str], vocabulary: str, key: str, lang: str) -> None:
    options: list[str | None] = [None, *values]
    st.selectbox(
        label_text,
        options,
        key=key,
        format_func=lambda v: t("cur_none", lang) if v is None else label(vocabulary, v, lang),
    )


def _metadata_inputs(lang: str, keys: Mapping[str, str]) -> None:
    st.text_input(t("cur_required", lang, label=t("cur_entry_title", lang)), key=keys["title"], max_chars=300)
    st.multiselect(
        t("cur_areas", lang),
        [a.value for a in Area],
        key=keys["areas"],
        format_func=lambda v: label("area", v, lang),
        placeholder=t("choose", lang),
        select_all=False,
    )
    left, right = st.columns(2)
    with left:
        _optional_select(t("cur_sector", lang), [s.value for s in Sector], "sector", keys["sector"], lang)
    with right:
        _optional_select(t("cur_domain", lang), [d.value for d in Domain], "domain", keys["domain"], lang)
    st.text_input(t("cur_project", lang), key=keys["project"], max_chars=300)
    st.text_input(t("cur_organisations", lang), key=keys["organisations"])


def _text_inputs(kind: Kind, lang: str, keys: Mapping[str, str]) -> None:
    required, optional = KIND_FIELDS[kind]
    for name in required + optional:
        text = label("field", name, lang)
        st.text_area(t("cur_required", lang, label=text) if name in required else text, key=keys[name])


def _source_inputs(lang: str, keys: Mapping[str, str]) -> None:
    st.text_input(t("cur_source_report", lang), key=keys["source.report"], max_chars=300)
    left, right = st.columns([3, 1])
    left.text_input(t("cur_source_section", lang), key=keys["source.section"], max_chars=300)
    initial: dict[str, Any] = {} if keys["source.page"] in st.session_state else {"value": None}
    right.number_input(
        t("cur_source_page", lang), min_value=1, max_value=10_000, step=1, key=keys["source.page"], **initial
    )


def _show_matches(matches: list[Match], lang: str) -> None:
    st.markdown(f"**{t('cur_closest', lang)}**")
    if not matches:
        st.caption(t("cur_no_closest", lang))
    for match in matches:
        flag = f":red-badge[{t('cur_near_duplicate', lang)}] " if match.near_duplicate else ""
        state = label("state", match.entry.state, lang)
        st.markdown(
            f"- {flag}**{safe(match.entry.title)}** · {safe(match.entry.id)} · {safe(state)} · "
            f"{percent(match.score, lang)} ({safe(match_reason(match, lang))})"
        )


def _add_section(settings: Settings, corpus: Corpus | None, lang: str) -> None:
    st.session_state.setdefault(FORM_KEYS["kind"], usual_kind(corpus.entries if corpus is not None else ()))
    kind = st.selectbox(
        t("cur_kind", lang),
        [k.value for k in Kind],
        key=FORM_KEYS["kind"],
        format_func=lambda v: label("kind", v, lang),
    )
    _metadata_inputs(lang, FORM_KEYS)
    _text_inputs(Kind(kind), lang, FORM_KEYS)
    _source_inputs(lang, FORM_KEYS)
    st.checkbox(t("cur_confirm", lang), key=CONFIRM_KEY)
    left, right = st.columns(2)
    check = left.button(t("cur_check", lang), key="cur_check", icon=":material/search:")
    right.button(
        t("cur_save", lang),
        key="cur_save",
        type="primary",
        on_click=_save_new,
        args=(settings, lang),
        icon=":material/save:",
    )
    if check and corpus is not None:
        try:
            entry = prepare_entry(form_values_to_raw(_form_values()), corpus.by_id(), by="?")
        except EntryError as exc:
            st.error(_problems(exc, lang))
            return
        st.success(t("cur_valid", lang, id=safe(entry.id)))
        _show_matches(closest_entries(corpus.entries, entry), lang)


def _entry_header(entry: Entry, lang: str) -> None:
    items = [(label("kind", entry.kind.value, lang), KIND_COLORS[entry.kind])]
    items += [(label("area", a.value, lang), "gray") for a in entry.areas]
    st.markdown(f"**{safe(entry.title)}** · {safe(entry.id)}")
    st.markdown(badges(items))
    where = " · ".join(str(x) for x in (entry.source.report, entry.source.section, entry.source.page) if x)
    st.caption(safe(where))


def _value_text(name: str, value: Any, lang: str) -> str:
    """A field's value as a reviewer reads it: vocabulary values in the interface language, lists joined."""
    if value is None or value in ("", []):
        return t("cur_none", lang)
    vocabulary = {"kind": "kind", "areas": "area", "sector": "sector", "domain": "domain", "project_status": "status"}
    if name in vocabulary:
        values = value if isinstance(value, list) else [value]
        return ", ".join(label(vocabulary[name], str(v), lang) for v in values)
    if name == "source" and isinstance(value, dict):
        return " · ".join(str(value[k]) for k in ("report", "section", "page") if value.get(k))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}" if lang == "en" else f"{value:g}".replace(".", ",")
    return str(value)


def _show_changes(changes: list[FieldChange], lang: str) -> None:
    """A pending revision field by field: the approved value beside the proposed one."""
    for change in changes:
        st.markdown(f"**{safe(label('entry_field', change.field, lang))}**")
        left, right = st.columns(2)
        left.caption(t("rev_before", lang))
        left.markdown(safe(_value_text(change.field, change.before, lang)))
        right.caption(t("rev_after", lang))
        right.markdown(safe(_value_text(change.field, change.after, lang)))


def _approve_button(
    column: DeltaGenerator, settings: Settings, entry_id: str, text: str, lang: str, *, disabled: bool = False
) -> None:
    """The review queue's approve button (a draft, or an approved entry's pending revision)."""
    column.button(
        text,
        key=f"cur_approve_{entry_id}",
        type="primary",
        on_click=_approve,
        args=(settings, lang, entry_id),
        disabled=disabled,
    )


def _with_reason(
    field: DeltaGenerator,
    button: DeltaGenerator,
    text: str,
    lang: str,
    *,
    reason_key: str,
    key: str,
    on_click: Callable[[Settings, str, str, str], None],
    args: tuple[Settings, str, str],
) -> None:
    """A reason field and the button that acts with it (retire a draft, withdraw a pending revision);
    the callback gets ``args`` and the reason field's key."""
    field.text_input(
        t("cur_reason", lang), key=reason_key, label_visibility="collapsed", placeholder=t("cur_reason", lang)
    )
    button.button(text, key=key, on_click=on_click, args=(*args, reason_key))


def _revision_card(settings: Settings, entry: Entry, lang: str, state: auth.AuthState) -> None:
    """An approved entry's pending revision: who, what changes (before/after), approve or withdraw."""
    revision = entry.revision
    if revision is None:
        return
    _entry_header(entry, lang)
    at = revision.updated_at.isoformat(timespec="minutes")
    st.caption(safe(t("rev_by", lang, by=", ".join(revision.authors), at=at)))
    try:
        changes = revision_changes(entry)
    except RevisionError as exc:
        st.warning(error_text(exc, lang))
        changes = []
    _show_changes(changes, lang)
    me = person(str(state.actor)) if state.actor is not None else ""
    mine = me in {person(name) for name in revision.authors}
    columns = st.columns([1, 1, 2, 1])
    if state.may(Action.APPROVE) and (not mine or settings.allow_self_approval):
        _approve_button(columns[0], settings, entry.id, t("rev_approve", lang), lang, disabled=not changes)
    else:
        columns[0].caption(t("rev_own" if mine and state.may(Action.APPROVE) else "auth_needs_editor", lang))
    columns[1].button(t("cur_edit", lang), key=f"cur_open_{entry.id}", on_click=_open_edit, args=(entry.id,))
    if mine or state.may(Action.APPROVE):
        _with_reason(
            columns[2],
            columns[3],
            t("rev_withdraw", lang),
            lang,
            reason_key=f"cur_withdraw_reason_{entry.id}",
            key=f"cur_withdraw_{entry.id}",
            on_click=_withdraw,
            args=(settings, lang, entry.id),
        )


def _drafts_section(settings: Settings, corpus: Corpus | None, lang: str, state: auth.AuthState) -> None:
    """The review queue: drafts, and approved entries with a pending revision, oldest first."""
    waiting = awaiting_review(corpus) if corpus is not None else []
    if corpus is None or not waiting:
        st.info(t("cur_no_drafts", lang))
        return
    for entry in waiting:
        if entry.revision is not None:
            with st.container(border=True):
                _revision_card(settings, entry, lang, state)
            continue
        with st.container(border=True):
            _entry_header(entry, lang)
            created = entry.created_at.isoformat(timespec="minutes") if entry.created_at else ""
            st.caption(safe(t("cur_created", lang, by=entry.created_by or "?", at=created)))
            with st.expander(t("whole_entry", lang)):
                render_entry_details(entry, lang)
            _show_matches([m for m in closest_entries(corpus.entries, entry, k=3) if m.near_duplicate], lang)
            columns = st.columns([1, 1, 2, 1])
            if state.may(Action.APPROVE):
                _approve_button(columns[0], settings, entry.id, t("cur_approve", lang), lang)
            else:
                columns[0].caption(t("auth_needs_editor", lang))
            columns[1].button(t("cur_edit", lang), key=f"cur_open_{entry.id}", on_click=_open_edit, args=(entry.id,))
            _with_reason(
                columns[2],
                columns[3],
                t("cur_retire", lang),
                lang,
                reason_key=f"cur_reason_{entry.id}",
                key=f"cur_retire_{entry.id}",
                on_click=_retire,
                args=(settings, lang, entry.id),
            )


def _edit_keys(entry_id: str) -> dict[str, str]:
    return {field: f"cur_e_{entry_id}_{field}" for field in FORM_KEYS}


def _entry_values(entry: Entry) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "title": entry.title,
        "areas": [a.value for a in entry.areas],
        "sector": entry.sector.value if entry.sector else None,
        "domain": entry.domain.value if entry.domain else None,
        "project": entry.project or "",
        "organisations": ", ".join(entry.organisations),
        **{name: getattr(entry, name) or "" for name in TEXT_FIELDS},
        "source.report": entry.source.report,
        "source.section": entry.source.section or "",
        "source.page": entry.source.page,
        "superseded_by": entry.superseded_by or "",
    }


def edit_changes(entry: Entry, values: Mapping[str, Any]) -> dict[str, Any]:
    """The fields whose form values differ from the entry (None clears a field), for :func:`edit_entry`."""
    before = _entry_values(entry)
    changes: dict[str, Any] = {}
    for name, value in values.items():
        old = before.get(name)
        new = value
        if name == "organisations":
            old_list = [p.strip() for p in str(old or "").split(",") if p.strip()]
            new_list = [p.strip() for p in str(new or "").split(",") if p.strip()]
            if old_list != new_list:
                changes[name] = new_list or None
            continue
        if isinstance(new, str):
            new = new.strip()
            old = (old or "").strip() if isinstance(old, str) else old
        if (new or None) != (old or None):
            changes[name] = new if new not in ("", []) else None
    kind = changes.get("kind")
    if kind in {k.value for k in Kind}:  # a new kind: clear the text fields it does not use
        required, optional = KIND_FIELDS[Kind(kind)]
        for name in TEXT_FIELDS:
            if name not in required + optional and before.get(name):
                changes[name] = None
    return changes


def _save_edit(settings: Settings, lang: str, entry: Entry, reason_key: str) -> None:
    actor = _actor(settings, lang)
    keys = _edit_keys(entry.id)
    values = {field: st.session_state.get(key) for field, key in keys.items()}
    changes = edit_changes(entry, values)
    reason = st.session_state.get(reason_key)
    saved: list[Entry] = []
    if not _succeeded(lambda: saved.append(workflow.edit(settings, actor, entry.id, changes, reason=reason)), lang):
        return
    for key in keys.values():  # show the saved values next time
        st.session_state.pop(key, None)
    st.session_state.pop(reason_key, None)
    pending = bool(saved) and saved[0].revision is not None
    _say("success", t("rev_saved" if pending else "cur_edited", lang, id=safe(entry.id)))


def _edit_section(settings: Settings, corpus: Corpus | None, lang: str, state: auth.AuthState) -> None:
    if corpus is None or not corpus.entries:
        return
    entries = corpus.by_id()
    ids = sorted(entries)
    if st.session_state.get(EDIT_KEY) not in entries:
        st.session_state[EDIT_KEY] = ids[0]
    entry_id = st.selectbox(
        t("cur_choose_entry", lang),
        ids,
        key=EDIT_KEY,
        format_func=lambda i: f"{entries[i].title} · {i} ({label('state', entries[i].state, lang)})",
    )
    live = entries[entry_id]
    entry = live
    if live.revision is not None:  # the form holds the proposed text: saving amends the revision
        try:
            entry = live.proposed()
            st.info(t("rev_pending", lang, by=safe(", ".join(live.revision.authors))))
        except ValueError:
            st.warning(t("rev_stale", lang, id=safe(live.id)))
    elif live.state is ReviewState.APPROVED:
        st.caption(t("rev_how", lang))
    keys = _edit_keys(entry.id)
    for field, value in _entry_values(entry).items():
        st.session_state.setdefault(keys[field], value)
    st.caption(t("cur_state", lang, state=label("state", entry.state, lang)))
    st.selectbox(
        t("cur_kind", lang), [k.value for k in Kind], key=keys["kind"], format_func=lambda v: label("kind", v, lang)
    )
    _metadata_inputs(lang, keys)
    _text_inputs(Kind(st.session_state[keys["kind"]]), lang, keys)
    _source_inputs(lang, keys)
    st.selectbox(  # a newer entry that replaces this one; the briefing shows the newer one instead
        t("cur_superseded_by", lang),
        ["", *(i for i in ids if i != entry.id)],
        key=keys["superseded_by"],
        format_func=lambda i: t("cur_not_superseded", lang) if not i else f"{entries[i].title} · {i}",
    )
    reason_key = f"cur_edit_reason_{entry.id}"
    st.text_input(t("cur_edit_reason", lang), key=reason_key)
    columns = st.columns(3)
    columns[0].button(
        t("cur_save_changes", lang),
        key=f"cur_save_edit_{entry.id}",
        type="primary",
        on_click=_save_edit,
        args=(settings, lang, entry, reason_key),
    )
    if entry.state is not ReviewState.APPROVED and state.may(Action.APPROVE):
        text = t("cur_approve", lang) if entry.state is ReviewState.DRAFT else t("cur_reinstate", lang)
        columns[1].button(text, key=f"cur_edit_approve_{entry.id}", on_click=_approve, args=(settings, lang, entry.id))
    if entry.state is not ReviewState.RETIRED:
        columns[2].button(
            t("cur_retire", lang),
            key=f"cur_edit_retire_{entry.id}",
            on_click=_retire,
            args=(settings, lang, entry.id, reason_key),
        )
    if live.revision is not None:
        columns[1].button(
            t("rev_withdraw", lang),
            key=f"cur_edit_withdraw_{entry.id}",
            on_click=_withdraw,
            args=(settings, lang, entry.id, reason_key),
        )
    if entry.history:
        with st.expander(t("cur_history", lang)):
            for line in entry.history:
                st.markdown(f"- {safe(line)}")


def _gaps_section(settings: Settings, lang: str) -> None:
    def gap_row(i: int, gap: Gap) -> None:
        left, right = st.columns([4, 1])
        left.markdown(gap_markdown(gap, lang))
        right.button(t("cur_start_entry", lang), key=f"cur_gap_{i}", on_click=_prefill, args=(gap.question, lang))

    def complaint_row(i: int, record: FeedbackRecord) -> None:
        left, right = st.columns([4, 1])
        left.markdown(complaint_markdown(record))
        if record.entry_ids:
            left.caption(safe(", ".join(record.entry_ids)))
        right.button(t("cur_start_entry", lang), key=f"cur_neg_{i}", on_click=_prefill, args=(record.question, lang))

    show_gap_log(settings, GAP_ROWS, lang, gap_row=gap_row, complaint_row=complaint_row)


def _index_notice(settings: Settings, lang: str, state: auth.AuthState) -> None:
    show_built(lang)
    status = index_status_cached(settings)
    if status.manifest is not None and status.stale:
        st.warning(f"{t('cur_stale', lang)} {safe(stale_text(status.changes, lang))}", icon=":material/warning:")
        if state.may(Action.REBUILD):
            rebuild_button(settings, lang, "cur_rebuild")
        else:
            st.caption(t("auth_rebuild_editor", lang))


def _audit_section(settings: Settings, lang: str) -> None:
    """The audit log, newest last, for editors and admins."""
    left, right = st.columns(2)
    entry_id = left.text_input(t("audit_entry", lang), key="cur_audit_entry", max_chars=120).strip()
    since = right.date_input(t("audit_since", lang), value=None, key="cur_audit_since")
    actor = _actor(settings, lang)
    try:
        require(actor, Action.SEE_AUDIT)
        when = audit.parse_since(since.isoformat()) if since else None
        events = audit.events(settings.data_dir, entry_id=entry_id or None, since=when, limit=AUDIT_ROWS)
    except LessonsError as exc:
        st.error(auth.failure_message(exc, lang, "audit_problem"))
        return
    if not events:
        st.caption(t("audit_none", lang))
    for event in reversed(events):
        target = f" · `{safe(event.entry_id)}`" if event.entry_id else ""
        at = event.at.isoformat(timespec="minutes")
        head = f"{at} · **{safe(event.actor)}** ({safe(event.role)}) · {safe(event.action)}"
        lines = [head + target + (f" — {safe(event.detail)}" if event.detail else "")]
        for change in event.changes():
            before = safe(str(change.before))[:200]
            after = safe(str(change.after))[:200]
            lines.append(f"  - {safe(change.field)}: {before} → {after}")
        st.markdown("\n".join(lines))


def render() -> None:
    """The curator page: what the signed-in role allows, and a sign-in form for anyone else."""
    lang = current_language()
    settings = settings_or_stop(lang)
    state = auth.this_run()
    if not state.may(Action.DRAFT):  # reached without the role (a stale page): the sign-in form only
        auth.sign_in_page(settings, lang, state)
        return
    st.title(t("cur_title", lang))
    st.markdown(t("cur_intro", lang))
    if state.actor is not None:
        st.caption(t("auth_recorded_as", lang, name=safe(str(state.actor))))
    try:
        corpus: Corpus | None = load_corpus_cached(settings)
    except LessonsError as exc:
        st.error(error_text(exc, lang))
        corpus = None
    waiting = awaiting_review(corpus) if corpus is not None else []
    revisions = sum(1 for entry in waiting if entry.revision is not None)
    sections = SECTIONS + (EDITOR_SECTIONS if state.may(Action.SEE_AUDIT) else ())
    sections += ADMIN_SECTIONS if state.may(Action.MANAGE_ACCOUNTS) else ()
    if st.session_state.get(SECTION_KEY) not in sections:
        st.session_state[SECTION_KEY] = sections[0]
    section = st.radio(
        "section",
        sections,
        key=SECTION_KEY,
        horizontal=True,
        label_visibility="collapsed",
        format_func=lambda s: (
            t("cur_section_drafts_revisions", lang, n=len(waiting) - revisions, m=revisions)
            if s == "drafts" and revisions
            else t(f"cur_section_{s}", lang, n=len(waiting) - revisions)
        ),
    )
    show_said(MESSAGE_KEY)
    _index_notice(settings, lang, state)
    if section == "add":
        _add_section(settings, corpus, lang)
    elif section == "drafts":
        _drafts_section(settings, corpus, lang, state)
    elif section == "edit":
        _edit_section(settings, corpus, lang, state)
    elif section == "ingest":
        render_ingest(settings, lang)
    elif section == "audit":
        _audit_section(settings, lang)
    elif section == "accounts":
        render_accounts(settings, lang)
    else:
        _gaps_section(settings, lang)
